"""Every file a run leaves that a user can damage is refused in one line naming it and
the fix (exit 2), or read around when it is not needed; never a traceback, never
another file's name.

The damage is what an editor, a crash on another program's part or a half copy leaves:
a config replaced by null, a list or a number, a family that names no command, an .npz
cut short or replaced by junk, a metrics.json that is not JSON. Each case runs the
commands that read the file: `--test`, `--resume` (models.twolayer) and `viz.redraw`.
"""

import json

import numpy as np
import pytest

from models.cli import command
from models.train.checkpoint import load_checkpoint, save_checkpoint
from tests.commands.test_command_errors import flags, one_line_error, run
from tests.fake_data import write_dataset
from viz import redraw


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    root = tmp_path_factory.mktemp("data")
    write_dataset(root)
    return root


@pytest.fixture(scope="module")
def finished(data, tmp_path_factory):
    """A finished two-epoch run with its figures; each test damages a copy."""
    out = tmp_path_factory.mktemp("finished") / "run"
    code, _, err = run([a for a in flags(data, "--out", str(out)) if a != "--no-plots"])
    assert code == 0, err
    return out


@pytest.fixture
def copy(finished, tmp_path):
    import shutil
    shutil.copytree(finished, tmp_path / "run")
    return tmp_path / "run"


def redraw_run(source, capsys):
    """viz.redraw of a run directory or its model.npz, into figures/ beside the run."""
    run_dir = source if source.is_dir() else source.parent
    code = redraw.main([str(source), "--out", str(run_dir.parent / "figures")])
    out, err = capsys.readouterr()
    return code, out, err


def set_saved(path, key, value):
    arrays, saved = load_checkpoint(path)
    saved[key] = value
    save_checkpoint(path, arrays, saved)


# ---- model.npz and last.npz: the saved config and family ------------------------------

DAMAGED_CONFIGS = [("config", None, "its config is damaged (it is null"),
                   ("config", [1, 2], "its config is damaged (it is a list"),
                   ("config", 3, "its config is damaged (it is the number 3"),
                   ("family", None, "its family is None, not one of twolayer, cnn"),
                   ("family", ["twolayer"], "its family is ['twolayer'], not one of")]


@pytest.mark.parametrize("key, value, message", DAMAGED_CONFIGS)
def test_test_on_a_damaged_config_or_family_is_one_line_naming_the_fix(copy, data, key,
                                                                      value, message):
    set_saved(copy / "model.npz", key, value)
    line = one_line_error(run(["--test", str(copy / "model.npz"), "--data-dir", str(data)]))
    assert f"{copy / 'model.npz'}" in line and message in line and "retrain" in line
    assert "models.None" not in line


@pytest.mark.parametrize("key, value, message", DAMAGED_CONFIGS)
def test_resume_on_a_damaged_config_or_family_is_one_line_naming_the_file(copy, data, key,
                                                                         value, message):
    set_saved(copy / "last.npz", key, value)
    line = one_line_error(run(["--resume", str(copy), "--epochs", "3",
                               "--data-dir", str(data)]))
    assert f"{copy / 'last.npz'}" in line and message in line


@pytest.mark.parametrize("key, value, _", DAMAGED_CONFIGS)
def test_redraw_draws_the_weights_of_a_model_whose_config_is_damaged(copy, capsys, key,
                                                                    value, _):
    """viz.redraw needs the config only for the class names: it draws without them."""
    set_saved(copy / "model.npz", key, value)
    code, out, err = redraw_run(copy / "model.npz", capsys)
    assert code == 0 and "Traceback" not in err, err
    assert (copy.parent / "figures" / "weights_W1.png").is_file()


# ---- the run's other files: history.npz, stats.npz, metrics.json ----------------------

def junk(path):
    path.write_bytes(b"this is not an npz file\n" * 4)


def cut_in_half(path):
    path.write_bytes(path.read_bytes()[:len(path.read_bytes()) // 2])


def single_array(path):
    with open(path, "wb") as f:
        np.save(f, np.arange(3.0))


def without_steps(path):
    with np.load(path) as d:
        kept = {k: d[k] for k in d.files if k != "steps_per_epoch"}
    with open(path, "wb") as f:
        np.savez(f, **kept)


def write_text(text):
    return lambda path: path.write_text(text)


@pytest.mark.parametrize("name, damage, reason", [
    ("history.npz", junk, "it is not an .npz archive of arrays"),
    ("history.npz", cut_in_half, "damaged"),
    ("history.npz", single_array, "a single array, not an .npz archive"),
    ("history.npz", without_steps, "it lacks steps_per_epoch"),
    ("stats.npz", junk, "it is not an .npz archive of arrays"),
    ("stats.npz", cut_in_half, "damaged"),
    ("metrics.json", write_text('{"history": [,]}'), "damaged (Expecting value"),
    ("metrics.json", write_text("null"), "it holds no per-epoch history"),
    ("metrics.json", write_text('{"config": null}'), "it holds no per-epoch history"),
])
def test_redraw_names_the_damaged_file_and_the_fix(copy, capsys, name, damage, reason):
    damage(copy / name)
    code, out, err = redraw_run(copy, capsys)
    assert code == 2 and "Traceback" not in err, err
    line, = err.splitlines()
    assert line.startswith(f"error: {copy / name}") and reason in line, line
    assert "delete it" in line and "allow_pickle" not in line and "model.npz" not in line


def test_redraw_of_a_run_whose_metrics_config_is_null_still_draws_its_curves(copy, capsys):
    metrics = json.loads((copy / "metrics.json").read_text())
    (copy / "metrics.json").write_text(json.dumps({**metrics, "config": None}))
    code, out, err = redraw_run(copy, capsys)
    assert code == 0, err
    assert (copy.parent / "figures" / "curves.png").is_file()


# ---- flags that only fail once the data has loaded, or once the run has diverged ------

@pytest.mark.parametrize("optimizer", ["nesterov", "momentum_damped"])
def test_a_momentum_optimiser_without_momentum_is_refused_before_the_data_is_read(
        tmp_path, optimizer):
    missing = tmp_path / "no-data-here"
    line = one_line_error(run(["--data-dir", str(missing), "--no-download", "--out",
                               str(tmp_path / "run"), "--optimizer", optimizer,
                               "--momentum", "0"]))
    assert f"--momentum must be positive for --optimizer {optimizer}, got 0" in line
    assert "--optimizer sgd" in line
    assert not (tmp_path / "run").exists()


@pytest.mark.parametrize("more", [["--stats-every", "1"], ["--optimizer", "adam"],
                                  ["--stats-every", "1", "--dtype", "float64",
                                   "--lr", "1e308"]])
def test_a_learning_rate_beyond_the_dtype_stops_with_the_divergence_message(data, tmp_path,
                                                                            more):
    """lr 1e39 > float32's largest number: a step makes the weights ±inf, which the layer
    statistics must record without crashing, so that the divergence check reports it."""
    code, out, err = run(flags(data, "--out", str(tmp_path / "run"), "--lr", "1e39",
                               "--l2", "0", *more))
    assert code == 1, err
    assert "Traceback" not in err and "training diverged: the loss became nan" in err
    assert "The learning rate" in err and "is probably too large" in err


# ---- a run stopped after its last epoch is finished by --resume -----------------------

def test_ctrl_c_while_drawing_the_figures_is_finished_by_resume(data, tmp_path,
                                                               monkeypatch):
    out = tmp_path / "run"
    draw = command.draw_plots

    def interrupted(*args):
        raise KeyboardInterrupt
    monkeypatch.setattr(command, "draw_plots", interrupted)
    code, _, err = run([a for a in flags(data, "--out", str(out)) if a != "--no-plots"])
    assert code == 130 and f"continue with python -m models.twolayer --resume {out}" in err
    assert not (out / "metrics.json").exists()       # written last: the run is unfinished
    monkeypatch.setattr(command, "draw_plots", draw)

    code, stdout, err = run(["--resume", str(out), "--data-dir", str(data), "--no-download",
                             "--no-progress"])
    assert code == 0, err
    assert f"finishing {out}: its 2 epochs were trained" in stdout
    assert stdout.splitlines()[-1].startswith("test accuracy: ")
    for name in ("metrics.json", "curves.png", "weights.png", "stats.png"):
        assert (out / name).is_file(), name
    assert len(json.loads((out / "metrics.json").read_text())["history"]) == 2
    line = one_line_error(run(["--resume", str(out), "--data-dir", str(data)]))
    assert "already trained all its 2 epochs" in line       # finished now: nothing to do


def test_finishing_a_run_still_refuses_flags_that_contradict_it(data, tmp_path,
                                                               monkeypatch):
    out = tmp_path / "run"
    code, _, _ = run(flags(data, "--out", str(out)))
    assert code == 0
    (out / "metrics.json").unlink()
    line = one_line_error(run(["--resume", str(out), "--lr", "0.5", "--data-dir", str(data)]))
    assert "--lr 0.5 (saved: 0.05) contradicts the saved run" in line
