"""A run remembers the data folder it was trained from (--data-dir): --test, --resume and
the commands the tools print read it from there, as printed."""

import json
import shutil

from models import twolayer
from tests.fake_data import write_data_dir


def train(data_dir, out, *more):
    return twolayer.main(["--data-dir", str(data_dir), "--no-download", "--val-size", "100",
                          "--hidden", "8", "--epochs", "1", "--no-progress", "--no-plots",
                          "--out", str(out), *more])


def test_a_run_records_its_data_folder_in_its_files(tmp_path, capsys):
    data = write_data_dir(tmp_path / "data")
    assert train(data, tmp_path / "run") == 0
    metrics = json.loads((tmp_path / "run" / "metrics.json").read_text())
    assert metrics["data_dir"] == str(data.resolve())


def test_test_reads_the_recorded_folder_without_data_dir(tmp_path, capsys, monkeypatch):
    data = write_data_dir(tmp_path / "data")
    assert train(data, tmp_path / "run") == 0
    capsys.readouterr()
    monkeypatch.chdir(tmp_path)          # from elsewhere too: the folder is saved absolute
    assert twolayer.main(["--test", str(tmp_path / "run" / "model.npz"), "--no-download"]) == 0
    assert "test accuracy:" in capsys.readouterr().out


def test_resume_reads_the_recorded_folder_without_data_dir(tmp_path, capsys):
    data = write_data_dir(tmp_path / "data")
    assert train(data, tmp_path / "run") == 0
    capsys.readouterr()
    assert twolayer.main(["--resume", str(tmp_path / "run"), "--epochs", "2", "--no-download",
                          "--no-progress", "--no-plots"]) == 0
    assert "resuming" in capsys.readouterr().out


def test_a_data_dir_given_wins_over_the_recorded_one(tmp_path, capsys):
    data = write_data_dir(tmp_path / "data")
    assert train(data, tmp_path / "run") == 0
    moved = tmp_path / "elsewhere"
    shutil.move(data, moved)
    capsys.readouterr()
    assert twolayer.main(["--test", str(tmp_path / "run" / "model.npz"), "--data-dir",
                          str(moved), "--no-download"]) == 0


def test_a_recorded_folder_that_is_gone_is_named_with_the_fix(tmp_path, capsys):
    data = write_data_dir(tmp_path / "data")
    assert train(data, tmp_path / "run") == 0
    shutil.rmtree(data)
    capsys.readouterr()
    assert twolayer.main(["--test", str(tmp_path / "run" / "model.npz"), "--no-download"]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1, err
    assert f"from the folder {data.resolve()}" in err and "--data-dir DIR" in err
    assert "--dataset fashion-mnist" not in err
