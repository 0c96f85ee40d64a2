"""Every tutorial runs (fast setting) and writes valid, non-empty images."""

import os
import subprocess
import sys
from pathlib import Path

import matplotlib.image
import pytest

ROOT = Path(__file__).resolve().parents[2]
TUTORIALS = {
    "scalars": ["neuron.svg", "neuron.png", "neuron_sweep.html"],
    "backprop_by_hand": ["softplus.png"],
    "decision_boundaries": ["moons_activation_width.png", "moons_depth.png",
                            "blobs_activation.png", "moons_training.gif"],
    "mnist": ["curves.png", "weights.png", "weights_raw.png", "histograms.png", "heatmap_W2.png"],
    "convolution": ["convolution.png"],
    "layer_statistics": ["healthy.png", "diverging.png", "update_ratio.png"],
    "check_your_backward": ["check_your_backward.png"],
    "the_backward_pass_written": ["side_by_side.png"],
}


@pytest.mark.parametrize("name", TUTORIALS)
def test_tutorial_runs_and_writes_its_figures(name, tmp_path):
    result = subprocess.run([sys.executable, "-m", f"tutorials.{name}", "--fast",
                             "--out", str(tmp_path)], cwd=ROOT, capture_output=True,
                            text=True, timeout=120, env={**os.environ, "MPLBACKEND": "Agg"})
    assert result.returncode == 0, result.stderr[-3000:]
    assert f"figures written to {tmp_path}" in result.stdout
    for figure in TUTORIALS[name]:
        path = tmp_path / figure
        assert path.stat().st_size > 1000, figure
        if figure.endswith(".png"):
            assert matplotlib.image.imread(path).shape[0] > 100
        elif figure.endswith(".gif"):
            assert path.read_bytes()[:6] == b"GIF89a"
        else:
            assert "<svg" in path.read_text()


def test_tutorials_are_jupytext_percent_scripts():
    for name in TUTORIALS:
        text = (ROOT / "tutorials" / f"{name}.py").read_text()
        assert text.startswith("# %% [markdown]") and "\n# %%\n" in text


def test_default_output_folder_is_the_repositorys_whatever_the_current_folder(tmp_path,
                                                                              monkeypatch):
    from tutorials.output import output_dir
    monkeypatch.delenv("TUTORIALS_OUT", raising=False)
    expected = ROOT / "tutorials_out" / "scalars"
    for folder in (ROOT, ROOT / "tutorials", tmp_path):
        monkeypatch.chdir(folder)
        assert output_dir("scalars") == expected
    monkeypatch.setenv("TUTORIALS_OUT", str(tmp_path))
    assert output_dir("scalars") == tmp_path / "scalars"
    assert output_dir("scalars", out=tmp_path / "x") == tmp_path / "x"


def test_show_does_nothing_outside_a_notebook(capsys):
    from matplotlib.figure import Figure
    from tutorials.output import in_notebook, show
    assert not in_notebook()
    show(Figure())
    assert capsys.readouterr().out == ""


def test_thumbnail_is_360_pixels_wide_with_the_aspect_kept(tmp_path):
    from matplotlib.figure import Figure
    from tutorials.thumbnails import thumbnail
    fig = Figure(figsize=(8, 4))
    fig.add_subplot().plot([0, 1], [1, 0])
    fig.savefig(tmp_path / "big.png", dpi=100)                     # 800 × 400
    thumbnail(tmp_path / "big.png", tmp_path / "small.png")
    assert matplotlib.image.imread(tmp_path / "small.png").shape[:2] == (180, 360)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["big.png", "small.png"]


def test_every_thumbnail_in_the_readme_has_a_key_figure():
    from tutorials.thumbnails import KEY_FIGURES
    readme = (ROOT / "tutorials" / "README.md").read_text()
    for name in KEY_FIGURES:
        assert f"thumbnails/{name}.png" in readme
        assert (ROOT / "tutorials" / "thumbnails" / f"{name}.png").is_file()


def test_thumbnails_refuses_an_unknown_tutorial_in_one_line(capsys):
    from tutorials.thumbnails import main
    assert main(["nosuch"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "unknown tutorial nosuch" in err


def test_decision_boundaries_draws_the_same_figures_compiled_and_on_the_tape(tmp_path):
    """The lesson's training replays the compiled step; --no-compile takes every step on
    the tape: the same numbers to the last digit, so the same pixels."""
    figures = {}
    for flags in ([], ["--no-compile"]):
        out = tmp_path / ("eager" if flags else "compiled")
        result = subprocess.run([sys.executable, "-m", "tutorials.decision_boundaries", "--fast",
                                 "--out", str(out), *flags], cwd=ROOT, capture_output=True,
                                text=True, timeout=120, env={**os.environ, "MPLBACKEND": "Agg"})
        assert result.returncode == 0, result.stderr[-3000:]
        figures[bool(flags)] = [(out / f).read_bytes() for f in
                                ("moons_activation_width.png", "moons_depth.png",
                                 "blobs_activation.png")]
    assert figures[True] == figures[False]


def test_a_bad_flag_to_a_tutorial_or_thumbnails_is_one_line(capsys):
    from tutorials import output, thumbnails
    with pytest.raises(SystemExit) as stop:
        output.setup("scalars", ["--out"])                 # --out needs a folder
    assert stop.value.code == 2
    assert capsys.readouterr().err == ("python -m tutorials.scalars: error: argument --out: "
                                       "expected one argument (see --help)\n")
    with pytest.raises(SystemExit) as stop:
        thumbnails.main(["--bogus"])
    assert stop.value.code == 2
    assert capsys.readouterr().err == ("python -m tutorials.thumbnails: error: unrecognized "
                                       "arguments: --bogus (see --help)\n")
