"""`python -m models.search` under faults and bad input: two studies in one folder, a torn
or damaged journal, --jobs beyond the work or the cores, a --study that is a path, and a
search killed at random moments."""

import json
import os
import random
import signal
import time
from pathlib import Path

import optuna
import pytest
from optuna.trial import TrialState

from models import search
from models.experiments import studies
from models.experiments.cli import worker_count
from models.train.checkpoint import load_checkpoint
from tests.experiments.test_search import command, flags, study_of
from tests.fake_data import write_data_dir


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory):
    return write_data_dir(tmp_path_factory.mktemp("tiny"))


def grid(data_dir, out, *more):
    return flags(data_dir, out, "--epochs", "2", "--grid", "lr=0.05,0.2", *more)


def one_line_error(err):
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), err
    return lines[0]


# ---- 1. one folder, one study -------------------------------------------------------------

def test_a_second_study_with_other_flags_is_refused_from_the_first_ones_folder(
        data_dir, tmp_path, capsys):
    assert search.main(grid(data_dir, tmp_path)) == 0
    capsys.readouterr()
    kept = {p: p.read_bytes() for p in tmp_path.rglob("*") if p.is_file()}
    assert search.main(grid(data_dir, tmp_path, "--optimizer", "sgd")) == 2
    line = one_line_error(capsys.readouterr().err)
    assert f"the folder {tmp_path} holds the study" in line and "give another --out" in line
    # nothing of the first study was touched, nothing was added
    assert {p: p.read_bytes() for p in tmp_path.rglob("*") if p.is_file()} == kept


def test_the_best_model_of_another_study_is_not_taken_for_this_ones(data_dir, tmp_path, capsys):
    first, second = tmp_path / "a", tmp_path / "b"
    assert search.main(grid(data_dir, first)) == 0
    assert search.main(grid(data_dir, second, "--optimizer", "sgd")) == 0
    capsys.readouterr()
    # a best/model.npz copied from the other study (same trial numbers) is replaced
    (second / "best" / "model.npz").write_bytes((first / "best" / "model.npz").read_bytes())
    assert search.main(grid(data_dir, second, "--optimizer", "sgd")) == 0
    out = capsys.readouterr().out
    saved = load_checkpoint(second / "best" / "model.npz")[1]
    assert saved["config"]["optimizer"] == "sgd"
    assert saved["study"] == study_of(second).study_name
    assert "test accuracy" in out


def test_a_search_whose_every_trial_diverged_exits_1_saying_so(data_dir, tmp_path, capsys):
    args = flags(data_dir, tmp_path, "--epochs", "1", "--optimizer", "sgd",
                 "--grid", "lr=1e6,1e7")
    assert search.main(args) == 1
    captured = capsys.readouterr()
    assert "every trial diverged" in one_line_error(captured.err)
    assert "diverged" in (tmp_path / "results.csv").read_text()      # still recorded


# ---- 2. the journal -----------------------------------------------------------------------

def test_a_journal_whose_last_line_was_cut_is_repaired_with_a_backup_and_continues(
        data_dir, tmp_path, capsys):
    args = grid(data_dir, tmp_path)
    assert search.main(args) == 0
    journal = tmp_path / "study.journal"
    whole = journal.read_bytes()
    journal.write_bytes(whole[:-20])             # a process killed while appending
    capsys.readouterr()
    for _ in range(2):                           # repaired once, whole from then on
        assert search.main(args) == 0
    err = capsys.readouterr().err
    assert err.count("repaired the study journal") == 1, err
    assert len(err.strip().splitlines()) == 1
    assert Path(f"{journal}.bak").read_bytes() == whole[:-20]
    study = study_of(tmp_path)
    assert sorted(t.params["lr"] for t in study.trials if t.state == TrialState.COMPLETE) \
        == [0.05, 0.2]


def _lines(path):
    return path.read_bytes().split(b"\n")


def test_a_journal_cut_after_a_trials_last_epoch_says_so_and_runs_it_again(
        data_dir, tmp_path, capsys):
    args = grid(data_dir, tmp_path)
    p = command(args)              # another process: its worker is gone when the rerun looks
    assert p.wait(timeout=300) == 0
    journal = tmp_path / "study.journal"
    lines = _lines(journal)
    # cut half-way through the record that ends trial 0, after its two epochs were reported
    ends = [i for i, line in enumerate(lines) if line and json.loads(line).get("op_code") ==
            optuna.storages.journal._storage.JournalOperation.SET_TRIAL_STATE_VALUES
            and json.loads(line).get("state") == TrialState.COMPLETE.value]
    cut = b"\n".join(lines[:ends[0]]) + b"\n" + lines[ends[0]][:len(lines[ends[0]]) // 2]
    journal.write_bytes(cut)
    capsys.readouterr()
    assert search.main(args) == 0
    assert "repaired the study journal" in capsys.readouterr().err
    study = study_of(tmp_path)
    first = study.trials[0]
    assert first.user_attrs["outcome"] == "killed"
    assert "after its last epoch (2)" in first.user_attrs["reason"]
    assert "epoch 3" not in first.user_attrs["reason"]
    assert sorted(t.params["lr"] for t in study.trials if t.state == TrialState.COMPLETE) \
        == [0.05, 0.2]


@pytest.mark.parametrize("damage", ["garbage line", "binary junk", "half a line inside"])
def test_a_journal_damaged_before_its_end_is_refused_in_one_line_and_left_unchanged(
        data_dir, tmp_path, capsys, damage):
    args = grid(data_dir, tmp_path)
    assert search.main(args) == 0
    journal = tmp_path / "study.journal"
    lines = _lines(journal)
    middle = len(lines) // 2
    bad = {"garbage line": b"this is not json",
           "binary junk": bytes(range(256)).replace(b"\n", b""),
           "half a line inside": lines[middle][:7]}[damage]
    journal.write_bytes(b"\n".join(lines[:middle] + [bad] + lines[middle:]))
    damaged = journal.read_bytes()
    capsys.readouterr()
    assert search.main(args) == 2
    line = one_line_error(capsys.readouterr().err)
    assert f"damaged at line {middle + 1}" in line and "mv " in line
    assert journal.read_bytes() == damaged            # never made worse
    assert not Path(f"{journal}.bak").exists()


# ---- 5. how many workers ---------------------------------------------------------------

def test_jobs_beyond_the_configurations_left_start_one_worker_each(
        data_dir, tmp_path, capsys, monkeypatch):
    started = []
    real = studies.subprocess.Popen

    def counted(args, *a, **kw):
        if "models.experiments.worker" in args:
            started.append(args)
        return real(args, *a, **kw)

    monkeypatch.setattr(studies.subprocess, "Popen", counted)
    assert search.main(grid(data_dir, tmp_path, "--jobs", "6")) == 0
    out = capsys.readouterr().out
    assert 1 <= len(started) <= min(2, studies.cores())
    assert "--jobs 6: 2 configurations are left to run, so 2 workers" in out
    assert sorted(t.params["lr"] for t in study_of(tmp_path).trials) == [0.05, 0.2]


def test_jobs_are_capped_at_the_cores_and_at_one_configuration(data_dir, tmp_path, capsys):
    args = search.parser(search.TrainingCommand("twolayer")).parse_args(
        flags(data_dir, tmp_path, "--epochs", "1", "--grid", "lr=0.1", "--jobs", "100000"))
    experiment = search.experiment_from(args, [], search.TrainingCommand("twolayer"))
    experiment.out = tmp_path
    study = studies.load_study(str(tmp_path / "study.journal"), "s", experiment, create=True)
    assert worker_count(args, study, experiment) == 1
    assert "1 configuration is left to run, so 1 worker" in capsys.readouterr().out
    args.jobs = 64
    experiment = search.experiment_from(
        search.parser(search.TrainingCommand("twolayer")).parse_args(
            flags(data_dir, tmp_path / "b", "--epochs", "1", "--grid",
                  "lr=" + ",".join(f"0.{k}" for k in range(1, 10)),
                  "hidden=" + ",".join(str(h) for h in range(4, 14)))),
        [], search.TrainingCommand("twolayer"))
    experiment.out = tmp_path / "b"
    study = studies.load_study(str(tmp_path / "b" / "study.journal"), "s", experiment,
                               create=True)
    assert worker_count(args, study, experiment) == min(64, studies.cores())
    if studies.cores() < 64:
        assert f"this machine has {studies.cores()} core" in capsys.readouterr().out


# ---- 7. the study's name ------------------------------------------------------------------

@pytest.mark.parametrize("name", ["../../../escaped", "<absolute>", "a/b", ".hidden", ""])
def test_a_study_name_that_is_a_path_is_refused_in_one_line(data_dir, tmp_path, capsys,
                                                            monkeypatch, name):
    work = tmp_path / "cwd" / "x" / "y"
    work.mkdir(parents=True)
    monkeypatch.chdir(work)
    name = name.replace("<absolute>", str(tmp_path / "elsewhere"))
    args = [a for a in grid(data_dir, "unused") if a not in ("--out", "unused")]
    before = set(tmp_path.rglob("*"))
    assert search.main([*args, "--study", name]) == 2
    line = one_line_error(capsys.readouterr().err)
    assert "a study name is one folder name" in line
    assert set(tmp_path.rglob("*")) == before


# ---- the family: killed at any moment -----------------------------------------------------

def test_a_search_killed_at_random_moments_finishes_whole_on_the_next_run(data_dir, tmp_path):
    """SIGKILL a real 4-point search (two workers) at random moments, rerun it each time;
    every run either continues the study or repairs it in one line, and the last one
    leaves every file whole: journal, trial metrics, results.*, the best model."""
    args = flags(data_dir, tmp_path, "--epochs", "2", "--jobs", "2",
                 "--grid", "lr=0.05,0.2", "l2=0,0.001")
    rng = random.Random(0)
    for delay in (rng.uniform(1.0, 6.0) for _ in range(4)):
        p = command(args, start_new_session=True)
        time.sleep(delay)
        os.killpg(p.pid, signal.SIGKILL)          # the command and its workers, at once
        _, err = p.communicate()
        assert "Traceback" not in err
    p = command(args)
    out, err = p.communicate(timeout=300)
    assert p.returncode == 0, err
    assert "Traceback" not in err
    study = study_of(tmp_path)
    done = sorted((t.params["lr"], t.params["l2"]) for t in study.trials
                  if t.state == TrialState.COMPLETE)
    assert done == [(0.05, 0), (0.05, 0.001), (0.2, 0), (0.2, 0.001)]
    for t in study.trials:
        if t.state == TrialState.COMPLETE:
            json.loads((tmp_path / "trials" / f"{t.number:04d}" / "metrics.json").read_text())
    assert len((tmp_path / "results.csv").read_text().splitlines()) == 1 + len(study.trials)
    assert "## All trials" in (tmp_path / "results.md").read_text()
    assert load_checkpoint(tmp_path / "best" / "model.npz")[1]["config"]["epochs"] == 2


def test_temporary_files_left_by_a_killed_writer_are_removed_on_the_next_run(
        data_dir, tmp_path, capsys):
    args = grid(data_dir, tmp_path)
    assert search.main(args) == 0
    left = [tmp_path / ".results.md.k1ll3d.tmp", tmp_path / "trials" / "0000" /
            ".metrics.json.x.tmp", tmp_path / "best" / ".model.npz.y.tmp"]
    for path in left:
        path.write_bytes(b"half a file")
        os.utime(path, (time.time() - 3600,) * 2)
    young = tmp_path / ".heatmaps.png.z.tmp"        # may be another writer's, at work
    young.write_bytes(b"being written")
    assert search.main(args) == 0
    assert not any(p.exists() for p in left) and young.exists()
