"""`python -m models.compare`: every configuration trained and tested, one table, one figure."""

import csv

import pytest

from models import compare
from tests.experiments.test_search import study_of
from tests.fake_data import write_data_dir


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory):
    return write_data_dir(tmp_path_factory.mktemp("tiny"))


def flags(data_dir, out, *more):
    hidden = [] if any(m.startswith("hidden=") for m in more) else ["--hidden", "16"]
    return ["--data-dir", str(data_dir), "--no-download", "--val-size", "100", *hidden,
            "--epochs", "3", "--no-progress", "--out", str(out), *more]


def table_rows(out):
    lines = out.strip().splitlines()
    start = next(i for i, l in enumerate(lines) if l.startswith("trial"))
    end = next((i for i in range(start + 2, len(lines)) if not lines[i].strip()), len(lines))
    return [" ".join(l.split()[2:]) for l in lines[start + 2:end]]   # without trial, folder


def test_every_configuration_is_trained_and_tested_in_the_order_given(data_dir, tmp_path, capsys):
    args = flags(data_dir, tmp_path, "--vary", "activation=tanh,relu,sigmoid")
    assert compare.main(args) == 0
    rows = table_rows(capsys.readouterr().out)
    assert [r.split()[0] for r in rows] == ["activation=tanh", "activation=relu",
                                            "activation=sigmoid"]
    with open(tmp_path / "results.csv") as f:
        tested = list(csv.DictReader(f))
    assert len(tested) == 3
    for row in tested:
        assert 0 <= float(row["test_acc"]) <= 1 and float(row["test_loss"]) > 0
        assert row["state"] == "COMPLETE" and int(row["epoch"]) >= 1
    md = (tmp_path / "results.md").read_text()
    assert md.count("| activation=") == 3 and "| test acc |" in md
    assert (tmp_path / "curves.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert compare.main(args) == 0                       # resumable: nothing runs again
    assert len(study_of(tmp_path).trials) == 3


def test_two_varied_flags_compare_every_combination(data_dir, tmp_path, capsys):
    args = flags(data_dir, tmp_path, "--no-plots", "--vary", "optimizer=sgd,adam",
                 "--vary", "hidden=8,8x8", "--lr", "0.01")
    assert compare.main(args) == 0
    rows = table_rows(capsys.readouterr().out)
    assert [" ".join(r.split()[:2]) for r in rows] == [
        "optimizer=sgd hidden=8", "optimizer=sgd hidden=8x8",
        "optimizer=adam hidden=8", "optimizer=adam hidden=8x8"]


@pytest.mark.parametrize("args, message", [
    ([], "nothing to compare"),
    (["--vary", "lr=0.1,0.2", "--config", "lr=0.1"], "give one of them"),
    (["--config", "lr=0.1", "--config", "lr=0.1"], "given twice"),
    (["--config", "width=3"], "unknown parameter 'width'"),
    (["--config", "lr"], "write NAME=VALUE pairs"),
    (["--config", "activation=relu,activation=tanh"], "activation is set twice"),
    (["--config", "optimizer=lbfgs"], "'lbfgs' is not a choice of --optimizer"),
    (["--config", "lr=0.1", "--lr", "0.2"], "--lr is both fixed and varied by --config"),
    (["--config", "lr=0.1", "--eval-test"], "--eval-test needs --eval-every"),
    (["--config", "lr=0.1", "--stats-every", "-1"], "--stats-every must be"),
    (["--config-file", "/nonexistent/configs.txt"], "cannot read it"),
    (["--vary", "lr=0.1,0.2", "--vary", "l2=0,0.1", "--vary", "seed=0,1"], "compare one or two"),
    (["--vary", "lr=0.01:0.1"], "ranges LO:HI belong to --space"),
    (["--vary", "hidden=8,0"], "--hidden sizes must be at least 1"),
    (["--vary", "optimizer=sgd,lbfgs"], "'lbfgs' is not a choice of --optimizer"),
])
def test_bad_input_is_one_line_and_exit_2(data_dir, tmp_path, capsys, args, message):
    assert compare.main(flags(data_dir, tmp_path / "out", *args)) == 2
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1 and message in err, err
    assert not (tmp_path / "out").exists()


def test_the_cnn_is_one_model_name_away(data_dir, tmp_path, capsys):
    args = ["--model", "cnn", "--data-dir", str(data_dir), "--no-download", "--val-size", "100",
            "--epochs", "1", "--channels", "4", "--fc", "16", "--no-progress", "--no-plots",
            "--out", str(tmp_path), "--vary", "kernel=3,5"]
    assert compare.main(args) == 0
    rows = table_rows(capsys.readouterr().out)
    assert [r.split()[0] for r in rows] == ["kernel=3", "kernel=5"]
    assert study_of(tmp_path).trials[0].user_attrs["test_acc"] is not None
