"""The monitoring flags of `python -m models.twolayer`, on a tiny generated MNIST."""

import json
import re

import numpy as np
import pytest

from models import twolayer
from models.cli import command
from models.train.monitor import load_arrays
from tests.fake_data import write_dataset

N_TRAIN, N_VAL, BATCH = 300, 60, 32
STEPS = -(-(N_TRAIN - N_VAL) // BATCH)          # 8 steps per epoch


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory):
    """A generated MNIST of 300 training and 100 test images (tests/fake_data.py)."""
    folder = tmp_path_factory.mktemp("data")
    write_dataset(folder, n_train=N_TRAIN)
    return folder


def tiny(data_dir, out, *flags):
    return ["--data-dir", str(data_dir), "--no-download", "--no-progress", "--hidden", "16",
            "--val-size", str(N_VAL), "--batch-size", str(BATCH), "--epochs", "3",
            "--optimizer", "adam", "--lr", "0.01", "--out", str(out), *flags]


def test_a_watched_run_logs_like_the_solver_and_leaves_every_file(data_dir, tmp_path, capsys):
    pytest.importorskip("tensorboardX")
    code = twolayer.main(tiny(data_dir, tmp_path, "--log-every", "5", "--eval-every", "6",
                              "--stats-every", "4", "--eval-test", "--tensorboard"))
    out = capsys.readouterr().out
    assert code == 0, out
    lines = out.splitlines()
    total = 3 * STEPS
    assert f"(Iteration 1 / {total}) loss:" in out and f"(Iteration 21 / {total}) loss:" in out
    epochs = [line for line in lines if line.startswith("(Epoch ")]
    assert [line.split(")")[0] for line in epochs] == [f"(Epoch {e} / 3" for e in range(4)]
    assert re.fullmatch(r"\(Epoch 1 / 3\) train acc: \d\.\d{6}; val_acc: \d\.\d{6}; "
                        r"running train acc: \d\.\d{6}; lr: \S+; \d+\.\d s", epochs[1])
    assert any("not allowed" in line for line in lines)
    assert not any(line.split()[:2] == ["epoch", "lr"] for line in lines)      # no table

    metrics = json.loads((tmp_path / "metrics.json").read_text())
    assert metrics["monitoring"]["settings"]["log_every"] == 5
    assert [e["iteration"] for e in metrics["monitoring"]["evaluations"]] == [6, 12, 18, 24]
    history = load_arrays(tmp_path / "history.npz")
    assert len(history["loss"]) == len(history["lr"]) == total
    stats = load_arrays(tmp_path / "stats.npz")
    np.testing.assert_array_equal(stats["iteration"], [4, 8, 12, 16, 20, 24])
    for name in ("curves.png", "stats.png", "weights.png"):
        assert (tmp_path / name).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert list((tmp_path / "tensorboard").glob("events.out.tfevents.*"))


def test_defaults_keep_the_table_and_record_statistics_once_per_epoch(data_dir, tmp_path, capsys):
    assert twolayer.main(tiny(data_dir, tmp_path, "--no-plots")) == 0
    lines = capsys.readouterr().out.splitlines()
    header = next(i for i, line in enumerate(lines) if line.split()[:2] == ["epoch", "lr"])
    assert [line.split()[0] for line in lines[header + 1:header + 4]] == ["1", "2", "3"]
    assert not any(line.startswith("(Iteration") for line in lines)
    stats = load_arrays(tmp_path / "stats.npz")
    np.testing.assert_array_equal(stats["iteration"], [STEPS, 2 * STEPS, 3 * STEPS])
    assert not (tmp_path / "tensorboard").exists()


def test_resumed_run_has_the_same_history_as_an_uninterrupted_one(
        data_dir, tmp_path, capsys, interrupted_after_epoch):
    assert twolayer.main(tiny(data_dir, tmp_path / "straight", "--no-plots")) == 0
    with interrupted_after_epoch(2):
        assert twolayer.main(tiny(data_dir, tmp_path / "split", "--no-plots")) == 130
    assert twolayer.main(["--resume", str(tmp_path / "split"), "--data-dir", str(data_dir),
                          "--no-download", "--no-progress", "--no-plots"]) == 0
    for name in ("history.npz", "stats.npz"):
        a, b = load_arrays(tmp_path / "straight" / name), load_arrays(tmp_path / "split" / name)
        assert sorted(a) == sorted(b)
        for key in a:
            np.testing.assert_array_equal(a[key], b[key], err_msg=f"{name}: {key}")


@pytest.mark.parametrize("flags, message", [
    (["--log-every", "-1"], "--log-every must be"),
    (["--eval-every", "-5"], "--eval-every must be"),
    (["--stats-every", "-2"], "--stats-every must be"),
    (["--eval-test"], "--eval-test needs --eval-every"),
])
def test_bad_monitoring_flags_fail_before_any_data_is_loaded(flags, message, capsys, monkeypatch):
    def no_data(*args, **kwargs):
        raise AssertionError("data was loaded")
    monkeypatch.setattr(command, "load_data", no_data)
    with pytest.raises(SystemExit) as exit:
        twolayer.main(flags)
    assert exit.value.code == 2
    assert message in capsys.readouterr().err


def test_tensorboard_flag_without_tensorboardx_is_one_line_and_exit_2(data_dir, tmp_path,
                                                                     capsys, monkeypatch):
    import sys
    monkeypatch.setitem(sys.modules, "tensorboardX", None)
    assert twolayer.main(tiny(data_dir, tmp_path, "--tensorboard")) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "pip install" in err[0]


def test_the_cnn_command_is_watched_the_same_way(data_dir, tmp_path, capsys):
    from models import cnn
    code = cnn.main(["--data-dir", str(data_dir), "--no-download", "--no-progress",
                     "--val-size", str(N_VAL), "--batch-size", str(BATCH), "--epochs", "1",
                     "--channels", "2", "4", "--fc", "8", "--log-every", "4",
                     "--stats-every", "4", "--no-plots", "--out", str(tmp_path)])
    out = capsys.readouterr().out
    assert code == 0, out
    assert f"(Iteration 5 / {STEPS}) loss:" in out and "(Epoch 1 / 1) train acc:" in out
    stats = load_arrays(tmp_path / "stats.npz")
    np.testing.assert_array_equal(stats["iteration"], [4, 8])
    assert stats["conv1.W/hist_counts"].shape[0] == 2
    assert len(load_arrays(tmp_path / "history.npz")["loss"]) == STEPS
