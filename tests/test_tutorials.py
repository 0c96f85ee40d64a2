"""Every tutorial runs (fast setting) and writes valid, non-empty images."""

import os
import subprocess
import sys
from pathlib import Path

import matplotlib.image
import pytest

ROOT = Path(__file__).resolve().parent.parent
TUTORIALS = {
    "scalars": ["neuron.svg", "neuron.png"],
    "backprop_by_hand": ["softplus.png"],
    "decision_boundaries": ["moons_activation_width.png", "moons_depth.png",
                            "blobs_activation.png", "moons_training.gif"],
    "mnist": ["curves.png", "weights.png", "histograms.png", "heatmap_W2.png"],
    "convolution": ["convolution.png"],
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
