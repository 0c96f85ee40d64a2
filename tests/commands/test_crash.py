"""A training run killed with SIGKILL at any moment leaves only whole files, and
`--resume` then ends bit-identical to a run that was never interrupted.

Each run is a real `python -m models.twolayer` process on a small generated dataset.
The kill moments are chosen from what the process prints (before training starts,
right after an epoch's row, a little later while the next epoch is being saved), so
they land inside training on a fast or a slow machine alike.
"""

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from models.train.checkpoint import load_checkpoint
from models.train.monitor import load_arrays
from tests.fake_data import write_dataset

ROOT = Path(__file__).resolve().parents[2]
EPOCHS = 4


def command(data, out, *more):
    return [sys.executable, "-u", "-m", "models.twolayer", "--data-dir", str(data),
            "--no-download", "--no-progress", "--val-size", "100", "--hidden", "32",
            "--batch-size", "32", "--epochs", str(EPOCHS), "--optimizer", "adam",
            "--lr", "0.002", "--out", str(out), *more]


def environment():
    return dict(os.environ, PYTHONPATH=str(ROOT))


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    root = tmp_path_factory.mktemp("data")
    write_dataset(root, n_train=700, n_test=100)
    return root


@pytest.fixture(scope="module")
def reference(data, tmp_path_factory):
    """The uninterrupted run: its directory and its last line."""
    out = tmp_path_factory.mktemp("reference") / "run"
    done = subprocess.run(command(data, out), capture_output=True, text=True,
                          env=environment(), cwd=ROOT, timeout=300)
    assert done.returncode == 0, done.stderr
    return out, done.stdout.strip().splitlines()[-1]


def kill_when(argv, after_line, delay):
    """Start the command; SIGKILL it `delay` s after it prints a line starting with
    `after_line` (None: `delay` s after starting). True if it was killed."""
    process = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                               text=True, env=environment(), cwd=ROOT)
    try:
        if after_line is not None:
            for line in process.stdout:
                if line.strip().startswith(after_line):
                    break
        time.sleep(delay)
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=60)
        return process.returncode == -signal.SIGKILL
    finally:
        if process.poll() is None:
            process.kill()
        process.stdout.close()


def assert_every_file_whole(run_dir):
    """Each file under its real name is complete; temporary files are hidden ones."""
    for path in run_dir.iterdir():
        if path.name.startswith("."):
            assert path.name == ".lock" or path.name.endswith(".tmp"), path.name
        elif path.name in ("history.npz", "stats.npz"):      # arrays, not checkpoints
            load_arrays(path)
        elif path.suffix == ".npz":
            load_checkpoint(path)
        elif path.suffix == ".json":
            json.loads(path.read_text())
        elif path.suffix == ".png":
            data = path.read_bytes()
            assert data[:8] == b"\x89PNG\r\n\x1a\n" and data[-8:-4] == b"IEND", path.name
        else:
            raise AssertionError(f"unexpected file {path.name}")


def finish(data, run_dir):
    """Resume if there is anything to resume, else start again as the message says."""
    if (run_dir / "last.npz").exists():
        argv = [sys.executable, "-m", "models.twolayer", "--resume", str(run_dir),
                "--data-dir", str(data), "--no-download", "--no-progress"]
    else:
        argv = command(data, run_dir)
    done = subprocess.run(argv, capture_output=True, text=True, env=environment(), cwd=ROOT,
                          timeout=300)
    assert done.returncode == 0, done.stderr
    return done.stdout.strip().splitlines()[-1]


def assert_identical(run_dir, reference_dir):
    for name in ("last.npz", "model.npz"):
        a, meta_a = load_checkpoint(run_dir / name)
        b, meta_b = load_checkpoint(reference_dir / name)
        assert sorted(a) == sorted(b)
        for k in a:
            np.testing.assert_array_equal(a[k], b[k], err_msg=f"{name}:{k}")
        assert meta_a["config"] == meta_b["config"]
    ours = json.loads((run_dir / "metrics.json").read_text())
    theirs = json.loads((reference_dir / "metrics.json").read_text())

    def without_times(history):
        return [{k: v for k, v in row.items() if k != "seconds"} for row in history]

    assert without_times(ours["history"]) == without_times(theirs["history"])
    assert ours["test_accuracy"] == theirs["test_accuracy"]
    assert not [p for p in run_dir.iterdir() if p.name.endswith(".tmp")]


MOMENTS = [(None, 0.2),          # while importing: before the run directory exists
           ("model", 0.0),       # training just started (epoch 0 saved)
           ("1 ", 0.0),          # right after epoch 1's row
           ("2 ", 0.03),         # early in epoch 3
           ("3 ", 0.0)]          # after epoch 3, with epoch 4 to go


def run_killed_at(data, reference, tmp_path, after_line, delay):
    reference_dir, reference_line = reference
    run_dir = tmp_path / "run"
    kill_when(command(data, run_dir), after_line, delay)
    if run_dir.exists():
        assert_every_file_whole(run_dir)
    assert finish(data, run_dir) == reference_line
    assert_identical(run_dir, reference_dir)


def test_a_run_killed_mid_training_resumes_bit_identical(data, reference, tmp_path):
    run_killed_at(data, reference, tmp_path, "2 ", 0.01)


@pytest.mark.slow
@pytest.mark.parametrize("after_line, delay", MOMENTS)
def test_a_run_killed_at_any_moment_resumes_bit_identical(data, reference, tmp_path,
                                                         after_line, delay):
    run_killed_at(data, reference, tmp_path, after_line, delay)


def run_killed_after_the_last_epoch(data, reference, tmp_path, delay):
    """Killed `delay` s after the last epoch's row: while the test set is evaluated,
    metrics.json is written or the figures are drawn. `--resume` finishes the run."""
    reference_dir, reference_line = reference
    run_dir = tmp_path / "run"
    assert kill_when(command(data, run_dir), f"{EPOCHS} ", delay)
    assert_every_file_whole(run_dir)
    assert not (run_dir / "metrics.json").exists() or (run_dir / "curves.png").exists()
    assert finish(data, run_dir) == reference_line
    assert_identical(run_dir, reference_dir)
    for name in ("curves.png", "weights.png", "stats.png", "history.npz", "stats.npz"):
        assert (run_dir / name).is_file(), name


def test_a_run_killed_while_drawing_its_figures_is_finished_by_resume(data, reference,
                                                                     tmp_path):
    run_killed_after_the_last_epoch(data, reference, tmp_path, 0.3)


@pytest.mark.slow
@pytest.mark.parametrize("delay", [0.0, 0.8, 1.5])
def test_a_run_killed_at_any_moment_after_its_last_epoch_is_finished_by_resume(
        data, reference, tmp_path, delay):
    run_killed_after_the_last_epoch(data, reference, tmp_path, delay)
