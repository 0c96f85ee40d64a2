"""`python -m models.search` on a tiny generated MNIST: resumable, parallel, nothing lost."""

import csv
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import optuna
import pytest
from optuna.trial import TrialState

from models import search, twolayer
from models.experiments.studies import open_storage
from tests.fake_data import write_data_dir

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory):
    return write_data_dir(tmp_path_factory.mktemp("tiny"))


def flags(data_dir, out, *more):
    return ["--data-dir", str(data_dir), "--no-download", "--val-size", "100", "--hidden", "16",
            "--no-progress", "--no-plots", "--out", str(out), *more]


def study_of(out):
    storage = open_storage(str(out / "study.journal"))
    (summary,) = optuna.get_all_study_summaries(storage)
    return optuna.load_study(study_name=summary.study_name, storage=storage)


def command(args, **kw):
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    return subprocess.Popen([sys.executable, "-m", "models.search", *args], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, **kw)


def configurations(study):
    return sorted((t.params["lr"], t.params["l2"]) for t in study.trials
                  if t.state == TrialState.COMPLETE)


def test_a_grid_run_twice_adds_no_trial_the_second_time(data_dir, tmp_path, capsys):
    args = flags(data_dir, tmp_path, "--epochs", "2", "--grid", "lr=0.05,0.2", "l2=0,0.001")
    assert search.main(args) == 0
    first = capsys.readouterr().out
    assert len(study_of(tmp_path).trials) == 4
    assert search.main(args) == 0
    again = capsys.readouterr().out
    study = study_of(tmp_path)
    assert len(study.trials) == 4
    assert configurations(study) == [(0.05, 0), (0.05, 0.001), (0.2, 0), (0.2, 0.001)]
    # the same tables, the same best trial, read back from the storage
    assert first.split("all 4 trials")[1] == again.split("all 4 trials")[1]


def test_every_trial_is_in_the_tables_and_csv_even_diverged_ones(data_dir, tmp_path, capsys):
    args = flags(data_dir, tmp_path, "--epochs", "2", "--optimizer", "sgd",
                 "--grid", "lr=0.1,1e6")
    assert search.main(args) == 0
    out = capsys.readouterr().out
    with open(tmp_path / "results.csv") as f:
        rows = {float(r["lr"]): r for r in csv.DictReader(f)}
    assert rows[0.1]["state"] == "COMPLETE" and rows[0.1]["outcome"] == "complete"
    assert rows[1e6]["outcome"] == "diverged" and "at epoch 1" in rows[1e6]["reason"]
    # diverged in its first epoch: no result (FAIL); later: the epochs before count
    assert (rows[1e6]["state"], rows[1e6]["val_acc"] == "") in (("FAIL", True),
                                                                ("COMPLETE", False))
    assert "diverged" in out.split("best validation accuracy for each")[0]    # trials table


def test_pruned_trials_are_recorded_with_their_epoch(data_dir, tmp_path, capsys):
    lrs = "0.3,0.2,0.1,0.05,0.0001,0.0002,0.0003,0.0004"
    args = flags(data_dir, tmp_path, "--epochs", "3", "--optimizer", "sgd", "--prune",
                 "--grid", f"lr={lrs}")
    assert search.main(args) == 0
    with open(tmp_path / "results.csv") as f:
        pruned = [r for r in csv.DictReader(f) if r["state"] == "PRUNED"]
    assert pruned, "the tiny learning rates should fall below the median and be pruned"
    for r in pruned:
        assert r["outcome"] == "pruned" and int(r["epochs"]) < 3
        assert f"after epoch {r['epochs']} is below the median" in r["reason"]


def test_the_best_model_is_kept_and_loads_with_twolayer_test(data_dir, tmp_path, capsys):
    args = flags(data_dir, tmp_path, "--epochs", "2", "--grid", "lr=0.05,0.2")
    assert search.main(args) == 0
    out = capsys.readouterr().out
    line = next(l for l in out.splitlines() if l.startswith("test accuracy"))
    acc, loss = line.split()[2], line.split()[5]
    assert (tmp_path / "best" / "model.npz").is_file()
    assert not list((tmp_path / "trials").glob("*/model.npz"))      # only the best is kept
    assert twolayer.main(["--test", str(tmp_path / "best" / "model.npz"),
                          "--data-dir", str(data_dir), "--no-download"]) == 0
    shown = capsys.readouterr().out.strip().splitlines()[-1]
    assert shown == f"test accuracy: {acc}  test loss: {loss}"


def test_space_draws_the_asked_number_of_trials_with_tpe(data_dir, tmp_path, capsys):
    args = flags(data_dir, tmp_path, "--epochs", "1", "--space", "lr=0.01:0.5:log",
                 "activation=relu,tanh", "--trials", "3")
    assert search.main(args) == 0
    study = study_of(tmp_path)
    assert isinstance(study.sampler, optuna.samplers.TPESampler)
    assert len(study.trials) == 3 and all(0.01 <= t.params["lr"] <= 0.5 for t in study.trials)


def running_mid_trial(out):
    """The trials of the study in `out` that are running and past their second epoch."""
    if not (out / "study.journal").exists() or not optuna.get_all_study_summaries(
            open_storage(str(out / "study.journal"))):
        return None
    trials = study_of(out).get_trials(states=(TrialState.RUNNING,))
    return [t for t in trials if len(t.intermediate_values) >= 2]


def wait_for(predicate, timeout=60):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = predicate()
        if found:
            return found
        time.sleep(0.05)
    raise AssertionError("timed out")


def test_a_killed_worker_fails_its_trial_and_the_rerun_completes_every_configuration(
        data_dir, tmp_path):
    # long enough trials that the signal always finds one running, on a fast machine too
    args = flags(data_dir, tmp_path, "--epochs", "300", "--grid", "lr=0.05,0.1", "l2=0,0.001")
    proc = command(args)
    try:
        victim = wait_for(lambda: running_mid_trial(tmp_path))[0]
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.communicate()
    assert study_of(tmp_path).trials[victim.number].state == TrialState.RUNNING

    rerun = command(args)
    out, err = rerun.communicate(timeout=300)
    assert rerun.returncode == 0, err
    study = study_of(tmp_path)
    killed = study.trials[victim.number]
    assert killed.state == TrialState.FAIL and killed.user_attrs["outcome"] == "killed"
    assert "died during epoch" in killed.user_attrs["reason"]
    # every configuration has exactly one result, the killed one included
    assert configurations(study) == [(0.05, 0), (0.05, 0.001), (0.1, 0), (0.1, 0.001)]
    retry = [t for t in study.trials if t.system_attrs.get("failed_trial") == victim.number]
    assert len(retry) == 1 and retry[0].params == victim.params
    assert f"re-run of trial {victim.number}" in out


def test_two_worker_processes_run_trials_of_one_study_at_once(data_dir, tmp_path):
    args = flags(data_dir, tmp_path, "--epochs", "15", "--jobs", "2",
                 "--grid", "lr=0.05,0.1,0.2", "l2=0,0.001")
    proc = command(args)
    out, err = proc.communicate(timeout=300)
    assert proc.returncode == 0, err
    study = study_of(tmp_path)
    assert len(configurations(study)) == 6 and len(study.trials) == 6
    pids = {t.user_attrs["worker"]["pid"] for t in study.trials}
    assert len(pids) == 2 and proc.pid not in pids
    # some trial of one worker started before a trial of the other had finished
    spans = {pid: [(t.datetime_start, t.datetime_complete) for t in study.trials
                   if t.user_attrs["worker"]["pid"] == pid] for pid in pids}
    a, b = spans.values()
    assert any(s1 < e2 and s2 < e1 for s1, e1 in a for s2, e2 in b)


def test_workers_limit_blas_threads_so_all_of_them_fit_the_cores():
    from models.experiments.studies import cores, worker_environment
    env = worker_environment(2, "x.journal", "s")
    assert int(env["OPENBLAS_NUM_THREADS"]) * 2 <= max(cores(), 2)
    assert env["OMP_NUM_THREADS"] == env["MKL_NUM_THREADS"] == env["OPENBLAS_NUM_THREADS"]


BAD = [
    (["--grid", "learning_rate=0.1"], "unknown parameter 'learning_rate'"),
    (["--grid", "lr=0.1,-0.5"], "refuses lr=-0.5: --lr must be a positive finite number"),
    (["--grid", "hidden=64,abc"], "'abc' is not layer sizes such as 600x400"),
    (["--grid", "activation=relu,swish"], "'swish' is not a choice of --activation"),
    (["--grid", "lr="], "no values given"),
    (["--grid", "lr=0.1,0.1"], "listed more than once"),
    (["--lr", "0.1", "--grid", "lr=0.1,0.2"], "--lr is both fixed and varied"),
    (["--epochs", "0", "--grid", "lr=0.1"], "--epochs must be between 1 and 100,000"),
    (["--space", "lr=0.1:0.01"], "LO must be less than HI"),
    (["--space", "lr=0.01:0.1"], "--space needs --trials N"),
    ([], "nothing to search"),
    (["--grid", "lr=0.1", "--storage", "postgresql://nobody@127.0.0.1:9/none"],
     "cannot reach the storage postgresql://nobody@127.0.0.1:9/none"),
    (["--grid", "lr=0.1", "--storage", "ftp://x/y"], "unknown kind of storage 'ftp'"),
]


@pytest.mark.parametrize("args, message", BAD, ids=[m for _, m in BAD])
def test_bad_input_is_one_line_and_exit_2_before_any_trial(data_dir, tmp_path, capsys,
                                                           args, message):
    code = search.main(flags(data_dir, tmp_path / "out", "--epochs", "1") + args
                       if "--epochs" not in args else
                       flags(data_dir, tmp_path / "out") + args)
    err = capsys.readouterr().err
    assert code == 2
    assert len(err.strip().splitlines()) == 1 and message in err, err
    assert not (tmp_path / "out" / "trials").exists()


def test_a_study_is_not_mixed_with_other_fixed_flags(data_dir, tmp_path, capsys):
    base = flags(data_dir, tmp_path, "--study", "mine", "--grid", "lr=0.1")
    assert search.main(base + ["--epochs", "1"]) == 0
    capsys.readouterr()
    assert search.main(base + ["--epochs", "2"]) == 2
    err = capsys.readouterr().err
    assert "was run with other settings (--epochs differ)" in err


def test_ctrl_c_marks_the_trial_interrupted_and_the_rerun_runs_it_again(data_dir, tmp_path):
    args = flags(data_dir, tmp_path, "--epochs", "300", "--grid", "lr=0.05,0.1")
    proc = command(args)

    victim = wait_for(lambda: running_mid_trial(tmp_path))[0]
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 130 and "run the same command again to continue" in err
    interrupted = study_of(tmp_path).trials[victim.number]
    assert interrupted.state == TrialState.FAIL
    assert interrupted.user_attrs["outcome"] == "interrupted"

    rerun = command(args)
    out, err = rerun.communicate(timeout=300)
    assert rerun.returncode == 0, err
    study = study_of(tmp_path)
    assert sorted(t.params["lr"] for t in study.trials if t.state == TrialState.COMPLETE) == [0.05, 0.1]


def test_every_search_and_compare_flag_is_in_the_readme():
    from models import compare
    from models.experiments.training_commands import TrainingCommand
    readme = (ROOT / "README.md").read_text()
    twolayer_flags = {f for a in TrainingCommand("twolayer").training_actions()
                      for f in a.option_strings}
    for front_end in (search, compare):
        for action in front_end.parser(TrainingCommand("twolayer"))._actions:
            for flag in set(action.option_strings) - twolayer_flags - {"-h", "--help"}:
                assert flag in readme, f"{front_end.__name__} {flag}"


@pytest.mark.parametrize("jobs", ["1", "2"])
def test_missing_data_is_one_line_and_exit_2_before_any_trial(tmp_path, capsys, jobs):
    empty = tmp_path / "empty"
    empty.mkdir()
    code = search.main(flags(empty, tmp_path / "out", "--epochs", "1", "--jobs", jobs,
                             "--grid", "lr=0.1,0.2"))
    err = capsys.readouterr().err
    assert code == 2 and len(err.strip().splitlines()) == 1, err
    assert "not available offline" in err
    assert not (tmp_path / "out" / "trials").exists()
