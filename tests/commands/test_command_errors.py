"""Every mistake a user can make with `python -m models.twolayer` ends as one line, exit 2.

All runs use a small generated dataset (tests/fake_data.py) through --data-dir, so each
takes a fraction of a second. A full disk and a read-only folder are real: a tiny tmpfs
mounted for the test (skipped where mounting is not allowed).
"""

import json
import os
import stat
import subprocess
from pathlib import Path

import numpy as np
import pytest

from models import twolayer
from models.cli import command
from models.train.checkpoint import load_checkpoint, save_checkpoint
from models.io.files import save_figure
from tests.fake_data import write_dataset


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    root = tmp_path_factory.mktemp("data")
    write_dataset(root)
    return root


def flags(data, *more):
    return ["--data-dir", str(data), "--no-download", "--no-progress", "--no-plots",
            "--val-size", "50", "--hidden", "16", "--epochs", "2", *more]


def run(argv):
    """(exit code, stdout, stderr) of twolayer.main(argv), in this process."""
    import contextlib
    import io
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            code = twolayer.main(argv)
        except SystemExit as e:
            code = e.code
    return code, out.getvalue(), err.getvalue()


def one_line_error(result, code=2):
    """The single `error: ...` line of a failed command (and no traceback)."""
    got, out, err = result
    assert got == code, (got, out, err)
    assert "Traceback" not in err
    lines = [line for line in err.splitlines() if line.startswith(("error:", "python -m"))]
    assert len(lines) == 1, err
    return lines[0]


@pytest.fixture
def trained(data, tmp_path):
    """A finished two-epoch run: its directory."""
    code, out, err = run(flags(data, "--out", str(tmp_path / "run")))
    assert code == 0, err
    return tmp_path / "run"


def mount_tmpfs(path, *options):
    path.mkdir(parents=True, exist_ok=True)
    result = subprocess.run(["mount", "-t", "tmpfs", "-o", ",".join(options), "tmpfs",
                             str(path)], capture_output=True)
    if result.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {result.stderr.decode().strip()}")
    return path


@pytest.fixture
def small_disk(tmp_path):
    path = mount_tmpfs(tmp_path / "small", "size=128k")
    yield path
    subprocess.run(["umount", str(path)], check=True)


@pytest.fixture
def read_only_dir(tmp_path):
    path = mount_tmpfs(tmp_path / "ro", "size=64k", "ro")
    yield path
    subprocess.run(["umount", str(path)], check=True)


# ---- the output directory ----------------------------------------------------------

@pytest.mark.parametrize("command, argv, message", [
    ("twolayer", ["--hidden", "abc"], "argument --hidden: invalid int value: 'abc'"),
    ("twolayer", ["--bogus"], "unrecognized arguments: --bogus"),
    ("cnn", ["--channels", "abc"], "argument --channels: invalid int value: 'abc'"),
    ("cnn", ["--bogus"], "unrecognized arguments: --bogus"),
])
def test_a_bad_flag_is_one_line_naming_it_without_the_usage_block(command, argv, message):
    import contextlib
    import importlib
    import io
    main = importlib.import_module(f"models.{command}").main
    err = io.StringIO()
    with contextlib.redirect_stderr(err), pytest.raises(SystemExit) as stop:
        main(argv)
    assert stop.value.code == 2
    assert err.getvalue() == f"python -m models.{command}: error: {message} (see --help)\n"


def test_an_existing_run_is_never_overwritten_silently(data, trained):
    before = (trained / "model.npz").read_bytes()
    line = one_line_error(run(flags(data, "--out", str(trained), "--seed", "3")))
    assert "already holds a run" in line and "--overwrite" in line and "--resume" in line
    assert (trained / "model.npz").read_bytes() == before


def test_overwrite_replaces_the_old_run_entirely(data, trained):
    code, _, err = run(flags(data, "--out", str(trained), "--seed", "3", "--epochs", "1",
                             "--overwrite"))
    assert code == 0, err
    saved = json.loads((trained / "metrics.json").read_text())
    assert saved["config"]["seed"] == 3 and len(saved["history"]) == 1


def test_a_file_as_out_is_refused_before_reading_data(data, tmp_path, monkeypatch):
    (tmp_path / "notes.txt").write_text("mine")
    monkeypatch.setattr(command, "load_data", lambda *a: pytest.fail("data was read"))
    line = one_line_error(run(flags(data, "--out", str(tmp_path / "notes.txt"))))
    assert "is a file, not a directory" in line
    assert (tmp_path / "notes.txt").read_text() == "mine"


def test_a_read_only_out_is_refused_before_reading_data(data, read_only_dir, monkeypatch):
    monkeypatch.setattr(command, "load_data", lambda *a: pytest.fail("data was read"))
    line = one_line_error(run(flags(data, "--out", str(read_only_dir / "run"))))
    assert f"cannot write into {read_only_dir}" in line and "Read-only file system" in line


def test_a_full_disk_is_one_line_and_leaves_no_partial_file(data, small_disk):
    # 784·64 float32 weights do not fit in 128 kB twice (model.npz and last.npz)
    line = one_line_error(run(flags(data, "--out", str(small_disk / "run"),
                                    "--hidden", "64")))
    assert "no space left on the device" in line
    for name in os.listdir(small_disk / "run"):
        assert not name.endswith(".tmp"), name
        if name.endswith(".npz"):
            load_checkpoint(small_disk / "run" / name)         # whole, or absent


def test_two_runs_into_one_directory_cannot_both_proceed(data, tmp_path):
    from models.cli.rundir import RunDirectory
    with RunDirectory.create(tmp_path / "run"):               # another run holds it
        line = one_line_error(run(flags(data, "--out", str(tmp_path / "run"))))
    assert "another process is writing to" in line


def test_outputs_get_ordinary_permissions_from_the_umask(data, tmp_path):
    old = os.umask(0o002)
    try:
        code, _, err = run(flags(data, "--out", str(tmp_path / "run"), "--epochs", "1"))
    finally:
        os.umask(old)
    assert code == 0, err
    for name in ("model.npz", "last.npz", "metrics.json"):
        assert stat.S_IMODE(os.stat(tmp_path / "run" / name).st_mode) == 0o664, name


def test_metrics_json_is_strict_json_with_null_for_nan(data, tmp_path):
    code, _, err = run(flags(data, "--out", str(tmp_path / "run"), "--val-size", "0"))
    assert code == 0, err

    def refuse(name):
        raise AssertionError(f"{name} in metrics.json")

    metrics = json.loads((tmp_path / "run" / "metrics.json").read_text(), parse_constant=refuse)
    assert metrics["history"][0]["val_loss"] is None and metrics["best_val_acc"] is None


def test_a_figure_is_never_left_half_written(tmp_path):
    from matplotlib.figure import Figure
    fig = Figure()
    fig.add_subplot().plot([1, 2, 3])
    save_figure(fig, tmp_path / "curves.png")
    good = (tmp_path / "curves.png").read_bytes()

    def crash(f, **kwargs):
        f.write(b"\x89PNG half")
        raise KeyboardInterrupt

    fig.savefig = crash
    with pytest.raises(KeyboardInterrupt):
        save_figure(fig, tmp_path / "curves.png")
    assert (tmp_path / "curves.png").read_bytes() == good
    assert os.listdir(tmp_path) == ["curves.png"]


# ---- flags and saved configs: one validation -------------------------------------------

@pytest.mark.parametrize("field, value, message", [
    ("train_size", -5, "train_size must be between 0 (all) and 59950 (60,000 minus "
                       "val_size), got -5"),
    ("batch_size", 0, "batch_size must be between 1 and 60,000, got 0"),
    ("lr", "fast", "lr must be a positive finite number, got 'fast'"),
    ("hidden", [0], "hidden sizes must be at least 1"),
    ("hidden", [10 ** 6], "hidden sizes must be at least 1 (and at most 100,000), got "
                          "[1000000]"),
    ("dtype", "float16", "dtype float16 is not supported"),
])
def test_a_saved_config_is_validated_like_the_flags(trained, data, field, value, message):
    for name, mode in (("model.npz", "--test"), ("last.npz", "--resume")):
        arrays, saved = load_checkpoint(trained / name)
        saved["config"][field] = value
        save_checkpoint(trained / name, arrays, saved)
    line = one_line_error(run(["--test", str(trained / "model.npz"), "--data-dir", str(data)]))
    assert f"model.npz: its config is invalid: {message}" in line
    line = one_line_error(run(["--resume", str(trained), "--data-dir", str(data)]))
    assert f"last.npz: its config is invalid: {message}" in line


def test_a_config_that_is_not_json_is_refused(trained, data):
    arrays, _ = load_checkpoint(trained / "model.npz")
    payload = {f"{k}": v for k, v in arrays.items()}
    payload["__config__"] = np.array('{"config": {"lr": 0.1,,}')
    np.savez(trained / "model.npz", **payload)
    line = one_line_error(run(["--test", str(trained / "model.npz")]))
    assert "its config is not valid JSON" in line


# ---- checkpoints in --test and --resume -----------------------------------------------

def edit(path, change):
    arrays, saved = load_checkpoint(path)
    change(arrays)
    save_checkpoint(path, arrays, saved)


@pytest.mark.parametrize("change, message", [
    (lambda a: a.pop("W2"), "does not match its config: missing W2"),
    (lambda a: a.update(extra=np.zeros(3)), "does not match its config: unexpected extra"),
    (lambda a: a.update(W1=np.zeros((784, 17), np.float32)),
     "W1 is float32 of shape (784, 17) but its config implies float32 of shape (784, 16)"),
    (lambda a: a.update(b1=np.zeros(16, np.float64)),
     "b1 is float64 of shape (16,) but its config implies float32 of shape (16,)"),
])
def test_a_damaged_model_is_refused_by_test(trained, change, message):
    edit(trained / "model.npz", change)
    line = one_line_error(run(["--test", str(trained / "model.npz")]))
    assert message in line


@pytest.mark.parametrize("change, message", [
    (lambda a: a.pop("optim/velocity.1"), "missing optim/velocity.1"),
    (lambda a: a.update({"best/W9": np.zeros(2, np.float32)}), "unexpected best/W9"),
    (lambda a: a.update({"param/W2": np.zeros((16, 11), np.float32)}),
     "param/W2 is float32 of shape (16, 11)"),
    (lambda a: a["param/W1"].__setitem__((0, 0), np.nan), "holds NaN or inf in param/W1"),
])
def test_a_damaged_resume_checkpoint_is_refused(trained, data, change, message):
    edit(trained / "last.npz", change)
    line = one_line_error(run(["--resume", str(trained), "--epochs", "3",
                               "--data-dir", str(data)]))
    assert message in line


def test_an_extra_member_is_refused_without_reading_it(trained):
    import tracemalloc
    import zipfile
    # a member whose header claims 1 GiB: refused from the names alone
    import io
    header = io.BytesIO()
    np.lib.format.write_array_header_1_0(header, {"descr": "<f4", "fortran_order": False,
                                                  "shape": (1 << 28,)})
    with zipfile.ZipFile(trained / "model.npz", "a") as z:
        z.writestr("huge.npy", header.getvalue() + b"\x00" * 1000)
    tracemalloc.start()
    line = one_line_error(run(["--test", str(trained / "model.npz")]))
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert "unexpected huge" in line and peak < 50e6


def test_test_on_non_finite_weights_warns_and_exits_non_zero(trained, data):
    edit(trained / "model.npz", lambda a: a["W2"].__setitem__((0, 0), np.inf))
    code, out, err = run(["--test", str(trained / "model.npz"), "--data-dir", str(data)])
    assert code == 1 and "warning:" in err and "NaN or inf in W2" in err
    assert "test accuracy" in out


def test_last_npz_and_model_npz_are_not_confused(trained):
    line = one_line_error(run(["--test", str(trained / "last.npz")]))
    assert "is a resume checkpoint (last.npz), not a model" in line
    assert f"--test {trained / 'model.npz'}" in line
    line = one_line_error(run(["--resume", str(trained / "model.npz")]))
    assert f"--resume takes a run directory, not a file: use --resume {trained}" in line
    line = one_line_error(run(["--test", str(trained)]))
    assert f"is a directory: use --test {trained / 'model.npz'}" in line


# ---- resuming ---------------------------------------------------------------------

def test_resume_with_contradicting_flags_names_them(trained, data):
    line = one_line_error(run(["--resume", str(trained), "--lr", "0.1", "--hidden", "32",
                               "--data-dir", str(data)]))
    assert "--lr 0.1 (saved: 0.05), --hidden 32 (saved: 16) contradict the saved run" in line


def test_resume_may_extend_the_epochs_and_says_what_happens_to_the_schedule(trained, data):
    code, out, err = run(["--resume", str(trained), "--epochs", "3", "--data-dir", str(data),
                          "--no-progress", "--no-plots"])
    assert code == 0, err
    assert "cosine schedule is recomputed over 3 epochs from epoch 3 on" in out
    assert len(json.loads((trained / "metrics.json").read_text())["history"]) == 3


def test_resume_of_a_finished_run_asks_for_more_epochs(trained, data):
    line = one_line_error(run(["--resume", str(trained), "--data-dir", str(data)]))
    assert "already trained all its 2 epochs; pass a larger --epochs" in line


def test_a_run_stopped_before_training_says_it_must_restart(tmp_path):
    (tmp_path / "run").mkdir()
    (tmp_path / "run" / ".lock").touch()
    line = one_line_error(run(["--resume", str(tmp_path / "run")]))
    assert "stopped before training started" in line and f"--out {tmp_path / 'run'}" in line


def test_a_run_killed_in_its_first_epoch_resumes_from_the_start(data, tmp_path, monkeypatch):
    from models.train import loop as training
    original = training.train_epoch

    def interrupt(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(training, "train_epoch", interrupt)
    code, _, err = run(flags(data, "--out", str(tmp_path / "run")))
    assert code == 130
    assert "interrupted before the first epoch finished: no trained epoch was saved" in err
    assert f"--resume {tmp_path / 'run'}" in err
    monkeypatch.setattr(training, "train_epoch", original)
    (tmp_path / "run" / ".last.npz.abc123.tmp").write_bytes(b"half")   # a killed write
    code, out, err = run(["--resume", str(tmp_path / "run"), "--data-dir", str(data),
                          "--no-progress", "--no-plots"])
    assert code == 0, err
    assert "resuming" in out and "after epoch 0" in out
    assert not (tmp_path / "run" / ".last.npz.abc123.tmp").exists()


def test_ctrl_c_names_the_saved_epochs_and_the_directory(
        data, tmp_path, interrupted_after_epoch):
    with interrupted_after_epoch(1):
        code, _, err = run(flags(data, "--out", str(tmp_path / "run")))
    assert code == 130
    assert f"interrupted: epoch 1 is saved in {tmp_path / 'run' / 'last.npz'}" in err
    assert f"python -m models.twolayer --resume {tmp_path / 'run'}" in err


# ---- divergence -----------------------------------------------------------------------

def test_a_huge_learning_rate_stops_with_exit_1_and_blames_the_learning_rate(data, tmp_path):
    code, _, err = run(flags(data, "--out", str(tmp_path / "run"), "--lr", "100"))
    assert code == 1
    assert "training diverged" in err and "learning rate 100 is probably too large" in err
    assert not (tmp_path / "run" / "model.npz").exists()
    arrays, _ = load_checkpoint(tmp_path / "run" / "last.npz")
    assert all(np.isfinite(a).all() for a in arrays.values())


def test_a_huge_l2_is_blamed_on_l2_and_the_kept_model_is_finite(data, tmp_path):
    code, _, err = run(flags(data, "--out", str(tmp_path / "run"), "--optimizer", "sgd",
                             "--lr", "0.5", "--l2", "5", "--epochs", "4"))
    assert code == 1
    assert "L2 strength is too large" in err and "try a smaller --lr" not in err
    params, _ = load_checkpoint(tmp_path / "run" / "model.npz")
    assert all(np.isfinite(a).all() for a in params.values())


def test_non_finite_data_is_named_as_the_cause():
    from types import SimpleNamespace
    from models.train.config import Config
    from models.train.loop import Run
    config = Config(hidden=[4])
    x = np.zeros((4, 784), np.float32)
    x[1, 2] = np.nan
    splits = SimpleNamespace(x_train=x, x_val=x[:0])
    assert "training images contain NaN or inf" in command.likely_cause(config, Run(config),
                                                                        splits)


# ---- data files ------------------------------------------------------------------------

def test_labels_that_are_not_integers_are_refused_naming_the_file(tmp_path):
    write_dataset(tmp_path, files={"train_labels": np.zeros(300, np.float32)})
    line = one_line_error(run(flags(tmp_path, "--out", str(tmp_path / "run"))))
    assert "train-labels-idx1-ubyte.gz: labels must be integers" in line


def test_images_that_are_not_finite_are_refused_naming_the_file(tmp_path):
    images = np.zeros((100, 28, 28), np.float32)
    images[3, 4, 5] = np.inf
    write_dataset(tmp_path, files={"test_images": images})
    line = one_line_error(run(flags(tmp_path, "--out", str(tmp_path / "run"))))
    assert "t10k-images-idx3-ubyte.gz: 1 pixel values are NaN or infinite" in line


def test_a_malformed_idx_file_is_one_line(tmp_path):
    folder = write_dataset(tmp_path)
    (folder / "train-images-idx3-ubyte.gz").write_bytes(b"\x00\x00\x08\xc8" + b"\x00" * 64)
    line = one_line_error(run(flags(tmp_path, "--out", str(tmp_path / "run"))))
    assert "the header claims 200 dimensions" in line


def test_an_unreadable_data_file_is_one_line(tmp_path):
    folder = write_dataset(tmp_path)
    (folder / "t10k-labels-idx1-ubyte.gz").unlink()
    (folder / "t10k-labels-idx1-ubyte.gz").mkdir()          # a folder where a file should be
    line = one_line_error(run(flags(tmp_path, "--out", str(tmp_path / "run"))))
    assert "t10k-labels-idx1-ubyte.gz" in line


def test_an_explicit_data_dir_wins_over_debians_copy(tmp_path, monkeypatch):
    from models.data import datasets
    system = tmp_path / "system"
    write_dataset(system, name="fashion-mnist", n_train=200)
    for f in (system / "fashion-mnist").iterdir():
        f.rename(system / f.name)
    mine = tmp_path / "mine"
    write_dataset(mine, name="fashion-mnist", n_train=120)
    monkeypatch.setitem(datasets.SYSTEM_DIRS, "fashion-mnist", system)
    monkeypatch.setattr(datasets, "_check_installed", lambda *a: None)
    splits = datasets.load_dataset("fashion-mnist", data_dir=mine, val_size=20, download=False)
    assert len(splits.x_train) == 100                        # 120 − 20: the user's files
    monkeypatch.setenv("TAPE_DATA_DIR", str(mine))
    assert len(datasets.load_dataset("fashion-mnist", val_size=20).x_train) == 100
    monkeypatch.delenv("TAPE_DATA_DIR")
    assert len(datasets.load_dataset("fashion-mnist", val_size=20).x_train) == 180


# ---- the model: empty batches, float16, integer inputs ---------------------------------

def test_an_empty_batch_is_a_clear_error_not_a_division_by_zero():
    from models.nn import MLP
    from models.train.losses import data_loss, evaluate
    model = MLP([784, 8, 10])
    with pytest.raises(ValueError, match="the batch is empty"):
        data_loss(model(np.zeros((0, 784), np.float32)), np.zeros(0, int), "cross_entropy")
    loss, acc = evaluate(model, np.zeros((0, 784), np.float32), np.zeros(0, int))
    assert np.isnan(loss) and np.isnan(acc)


def test_float16_models_are_refused_with_the_reason():
    from models.nn import MLP
    with pytest.raises(ValueError, match="dtype float16 is not supported.*65504"):
        MLP([784, 8, 10], dtype=np.float16)


def test_integer_inputs_are_converted_to_the_models_dtype():
    import tape
    from models.nn import MLP
    model = MLP([784, 8, 10])
    pixels = np.random.default_rng(0).integers(0, 256, (3, 784)).astype(np.uint8)
    assert model(pixels).dtype == np.float32
    np.testing.assert_array_equal(model(pixels).data, model(pixels.astype(np.float32)).data)
    assert model(pixels.astype(np.float64)).dtype == np.float32
    with pytest.raises(TypeError, match="the input Tensor is float64 but the model is float32"):
        model(tape.tensor(pixels.astype(np.float64)))


# ---- the other commands -----------------------------------------------------------------

@pytest.mark.parametrize("argv, message", [
    (["--out", "graph.txt"], "unknown format '.txt'; use one of .svg, .png, .pdf, .jpg"),
    (["--out", "/"], "is a directory; give a file name"),
])
def test_viz_graph_bad_out_is_one_line(argv, message, capsys):
    from viz import graph
    with pytest.raises(SystemExit) as exit:
        graph.main(argv)
    assert exit.value.code == 2 and message in capsys.readouterr().err


def test_viz_graph_into_a_read_only_folder_is_one_line(read_only_dir, capsys):
    from viz import graph
    assert graph.main(["--out", str(read_only_dir / "g.svg")]) == 2
    assert f"cannot write into {read_only_dir}" in capsys.readouterr().err


def test_benchmark_out_is_checked_before_benchmarking(tmp_path, capsys):
    from benchmarks import run as bench
    (tmp_path / "f").write_text("")
    assert bench.main(["--out", str(tmp_path / "f" / "r.json")]) == 2
    assert "is a file" in capsys.readouterr().err
    with pytest.raises(SystemExit) as exit:
        bench.main(["--out", str(tmp_path), "--rounds", "1"])
    assert exit.value.code == 2 and "is a directory" in capsys.readouterr().err


def test_test_refuses_flags_it_would_ignore(trained):
    line = one_line_error(run(["--test", str(trained / "model.npz"), "--hidden", "64",
                               "--lr", "0.1"]))
    assert "--hidden, --lr cannot be used with --test" in line


def test_ctrl_c_while_the_data_loads_says_nothing_was_saved(data, tmp_path, monkeypatch):
    def interrupt(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(command, "load_data", interrupt)
    code, _, err = run(flags(data, "--out", str(tmp_path / "run")))
    assert code == 130
    assert "interrupted before training started: nothing was saved" in err
    monkeypatch.undo()
    code, _, err = run(flags(data, "--out", str(tmp_path / "run")))     # no --overwrite
    assert code == 0, err


def test_old_partial_downloads_are_cleaned_up_recent_ones_kept(tmp_path):
    from models.data import datasets
    folder = tmp_path / "mnist"
    folder.mkdir()
    old = folder / ".train-images-idx3-ubyte.gz.x1.part"
    recent = folder / ".train-images-idx3-ubyte.gz.x2.part"
    for path in (old, recent):
        path.write_bytes(b"partial")
    os.utime(old, (0, 0))
    with pytest.raises(FileNotFoundError, match="not available offline"):
        datasets.locate("mnist", tmp_path, download=False)
    assert not old.exists() and recent.exists()


def test_os_errors_become_one_line_naming_the_file_and_what_to_do():
    import errno
    from models.io.errors import describe
    denied = PermissionError(errno.EACCES, "Permission denied", "/data/train.gz")
    assert describe(denied) == ("/data/train.gz: permission denied; choose a file or folder "
                                "you may use, or change its permissions")
    full = OSError(errno.ENOSPC, "No space left on device", "runs/a/last.npz")
    assert describe(full).startswith("runs/a/last.npz: no space left on the device")
    assert describe(MemoryError()).startswith("out of memory; use smaller sizes")
    assert describe(ValueError("first line\nsecond line")) == "first line; second line"


def test_a_validation_set_larger_than_the_data_is_one_line(data, tmp_path):
    line = one_line_error(run(flags(data, "--out", str(tmp_path / "run"), "--val-size", "5000")))
    assert "val_size must be between 0 and 299 (the training set has 300 images)" in line


@pytest.mark.skipif(not Path("/usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz")
                    .exists(), reason="apt-get install dataset-fashion-mnist")
def test_a_named_folder_without_the_files_says_which_copy_was_read(tmp_path, capsys):
    from types import SimpleNamespace
    from models.train.config import Config
    args = SimpleNamespace(data_dir=str(tmp_path), no_download=True)
    config = Config(dataset="fashion-mnist", train_size=100)
    command.load_data(config, args, twolayer.FAMILY)
    err = capsys.readouterr().err
    assert f"note: {tmp_path} holds no fashion-mnist files, so the installed copy in " \
           f"/usr/share/datasets/fashion-mnist was read" in err
