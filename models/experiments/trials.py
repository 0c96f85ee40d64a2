"""The trial runner shared by `models.search` and `models.compare`.

A trial is one training run with some flags varied. Optuna's study (in its storage)
holds every trial; a worker process runs trials until the study has no work left:

    repeat:
        fail the trials whose worker process died (and queue their configuration again)
        grid: claim a WAITING trial (every configuration was queued once, claims.py;
              the WAITING → RUNNING change is atomic in the storage); none left: stop
        sample: if every trial has a result: stop; else study.optimize(objective,
              n_trials=1), the sampler (TPE) picking the next configuration

The objective trains with the command's own functions, reports the validation accuracy
of every epoch (which `--prune`'s median pruner reads), and records how the trial ended:

    outcome      Optuna state   meaning
    complete     COMPLETE       trained every epoch (or stopped early by --patience)
    diverged     COMPLETE       the loss became NaN/inf; the best epoch before that counts
    diverged     FAIL           the loss became NaN/inf in the first epoch: no result
    pruned       PRUNED         stopped by the median pruner after `epoch` epochs
    error        FAIL           an exception in training (its message is the reason)
    killed       FAIL           its worker process died; the configuration runs again
    interrupted  FAIL           Ctrl-C; the configuration runs again on the next start

Trials are ranked by their best validation accuracy; the test set is not looked at,
except by `models.compare` (which tests every configuration) and for the best trial.
"""

import itertools
import math
import statistics
import time
import warnings
from pathlib import Path

import numpy as np
import optuna
from optuna.trial import TrialState

from models.experiments.processes import this_worker
from models.experiments.searchspace import Param, overrides_of
from models.experiments.training_commands import TrainingCommand
from models.io.files import write_json
from models.train.divergence import Diverged
from models.train.losses import evaluate
from models.train.monitor import Monitor, Monitoring

RETRYABLE = ("killed", "interrupted")
warnings.filterwarnings("ignore", category=optuna.exceptions.ExperimentalWarning)


class TrialFailed(Exception):
    """Ends a trial as FAIL; its reason is already recorded on the trial."""


# ---- the experiment's description, shared by every worker --------------------------------

class Experiment:
    """What every trial of a study shares: the command, the fixed flags, the varied ones."""

    def __init__(self, command, fixed, params, mode, trials=None, prune=False,
                 test_each=False, keep_models=False, data=None, out=".", monitoring=None):
        self.command = command if isinstance(command, TrainingCommand) else TrainingCommand(command)
        self.fixed = fixed              # {dest: value} of the training flags, as parsed
        self.params = params            # [Param]
        self.mode = mode                # "grid" (every combination) or "sample" (TPE)
        self.trials = trials            # how many trials in "sample" mode
        self.prune = prune
        self.test_each = test_each      # compare: evaluate every trial on the test set
        self.keep_models = keep_models
        self.data = data or {"data_dir": None, "download": True}
        self.out = Path(out)
        self.study = None               # the study's name, once it is opened
        self.monitoring = monitoring    # {Monitoring field: value} watched in every trial, or None

    @property
    def size(self):
        """How many configurations make the experiment complete."""
        if self.mode == "grid":
            return math.prod(len(p.values) for p in self.params)
        return self.trials

    def identity(self):
        """What must match for a rerun to continue the same study (not paths, not jobs)."""
        fixed = {k: v for k, v in self.fixed.items() if k not in ("data_dir", "no_download")}
        return {"command": self.command.name, "mode": self.mode, "trials": self.trials,
                "prune": self.prune, "test_each": self.test_each, "fixed": fixed,
                "params": [p.to_dict() for p in self.params]}

    def to_dict(self):
        return {**self.identity(), "fixed": self.fixed, "keep_models": self.keep_models,
                "data": self.data, "out": str(self.out), "monitoring": self.monitoring}

    @classmethod
    def from_dict(cls, d):
        return cls(d["command"], d["fixed"], [Param.from_dict(p) for p in d["params"]],
                   d["mode"], d["trials"], d["prune"], d["test_each"], d["keep_models"],
                   d["data"], d["out"], d.get("monitoring"))

    def sampler(self):
        if self.mode == "grid":
            return OrderedGridSampler({p.name: list(p.values) for p in self.params})
        # constant liar: a running trial counts as a poor result, so parallel workers spread out
        return optuna.samplers.TPESampler(constant_liar=True)

    def pruner(self):
        if self.prune:
            return optuna.pruners.MedianPruner(n_startup_trials=5)
        return optuna.pruners.NopPruner()

    def trial_dir(self, number):
        return self.out / "trials" / f"{number:04d}"

    def tensorboard_dir(self, number, values):
        """<out>/tensorboard/<trial> <configuration>: one TensorBoard run per trial, named
        so that `tensorboard --logdir <out>/tensorboard` tells them apart."""
        label = " ".join(f"{p.name}={p.show(values[p.name])}" if p.kind != "config"
                         else values[p.name] for p in self.params)
        return self.out / "tensorboard" / f"{number:04d} {label.replace('/', '_')}"


class OrderedGridSampler(optuna.samplers.GridSampler):
    """Optuna's grid in the order the values were listed: trial k (of the first, one per
    cell) is the k-th configuration, so trials/0000, 0001, ... follow the table. Optuna
    shuffles its grid so that workers on several machines collide less; every worker
    here takes cells under a lock (ClaimLock), and the first trials' cells follow their
    trial numbers whatever the order (GridSampler.before_trial), so nothing is lost."""

    def __init__(self, search_space):
        super().__init__(search_space, seed=0)
        # the product of the values in the order the parameters and values were listed;
        # each cell's values in Optuna's order of the names (sorted)
        names = list(search_space)
        self._all_grids = [tuple(dict(zip(names, combo))[n] for n in self._param_names)
                           for combo in itertools.product(*search_space.values())]


# ---- which trials count --------------------------------------------------------------------

def outcome(trial):
    """How the trial ended (see the module docstring); a FAIL without a recorded outcome
    was failed from outside (a dead worker found by the heartbeat): killed."""
    recorded = trial.user_attrs.get("outcome")
    if trial.state == TrialState.RUNNING:
        return "running"
    if trial.state == TrialState.WAITING:
        return "waiting"
    if trial.state == TrialState.FAIL and recorded in (None, "running"):
        return "killed"
    return recorded or trial.state.name.lower()


def is_final(trial):
    """A trial whose result stands: it will not be run again."""
    return trial.state.is_finished() and outcome(trial) not in RETRYABLE


def retried_numbers(trials):
    return {n for t in trials for n in t.system_attrs.get("retry_history", [])}


def work_left(study, experiment):
    """True while some configuration has neither a result nor a worker on it."""
    trials = study.get_trials(deepcopy=False)
    if any(t.state == TrialState.WAITING for t in trials):
        return True
    if experiment.mode == "grid" and study.user_attrs.get(QUEUED):
        return False            # every configuration was queued: what is left is waiting
    active = [t for t in trials if is_final(t) or t.state == TrialState.RUNNING]
    if experiment.mode == "grid":
        taken = {t.system_attrs.get("grid_id") for t in active}
        return len(taken - {None}) < experiment.size
    return len(active) < experiment.size


def finished_count(trials):
    return sum(is_final(t) for t in trials)


def configurations_left(study, experiment):
    """How many configurations are waiting or not yet started: how many workers have work."""
    trials = study.get_trials(deepcopy=False)
    waiting = sum(t.state == TrialState.WAITING for t in trials)
    if experiment.mode == "grid" and study.user_attrs.get(QUEUED):
        return waiting
    active = [t for t in trials if is_final(t) or t.state == TrialState.RUNNING]
    return max(waiting, experiment.size - len(active))   # a waiting retry is one of those


# ---- the grid's queue: each configuration once, claimed through the storage

QUEUED = "queued"       # study user attribute: every grid configuration has been queued


# ---- one trial -------------------------------------------------------------------------------

_SPLITS = {}


def load_splits(command, config, data):
    """The data of a trial, loaded once per worker for each dataset/split/subset."""
    key = (config.dataset, data.get("data_dir"), config.val_size, config.seed, config.dtype,
           config.train_size)
    if key not in _SPLITS:
        if len(_SPLITS) >= 2:
            _SPLITS.clear()
        _SPLITS[key] = command.load_data(config, data)
    return _SPLITS[key]


def train_config(command, config, data):
    """Train one configuration outside any study (the best trial, again, elsewhere)."""
    splits = load_splits(command, config, data)
    run = command.new_run(config)
    run.fit(splits, progress=False, log=lambda *_: None)
    return run


def test_model(command, path, data):
    """(test loss, test accuracy) of a saved model: the one look at the test set."""
    model, config, _ = command.load_model(path)
    splits = load_splits(command, config, data)
    return evaluate(model, splits.x_test, splits.y_test, config.loss)


def best_value(study, exclude):
    values = [t.value for t in study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,))
              if t.number != exclude and t.value is not None]
    return max(values, default=-math.inf)


class Objective:
    """Train one trial; its return value (best validation accuracy) is what Optuna ranks."""

    def __init__(self, experiment, claimed=lambda: None):
        self.experiment = experiment
        self.command = experiment.command
        self.claimed = claimed          # called once the trial has its configuration

    def __call__(self, trial):
        e = self.experiment
        trial.set_user_attr("worker", this_worker())
        trial.set_user_attr("outcome", "running")
        values = {p.name: p.suggest(trial) for p in e.params}
        self.claimed()
        overrides = overrides_of(e.params, values)
        config = self.command.config(e.fixed, overrides)
        trial.set_user_attr("planned_epochs", config.epochs)
        started = time.perf_counter()
        record = {"trial": trial.number, "params": values, "config": config.to_dict()}
        run, diverged, monitor = None, None, None
        try:
            splits = load_splits(self.command, config, e.data)
            if e.monitoring:
                monitor = Monitor(Monitoring(**e.monitoring), e.trial_dir(trial.number),
                                  e.tensorboard_dir(trial.number, values))
            run = self.command.new_run(config, monitor.callbacks() if monitor else ())
            try:
                with np.errstate(over="ignore", invalid="ignore"):   # divergence is recorded
                    run.fit(splits, on_epoch=self._on_epoch(trial), progress=False,
                            log=lambda *_: None)
            except Diverged as error:
                diverged = str(error)
        except optuna.TrialPruned as pruned:
            self._finish(trial, record, "pruned", str(pruned), started, run)
            raise
        except KeyboardInterrupt:
            trial.set_user_attr("outcome", "interrupted")
            trial.set_user_attr("reason", "interrupted (Ctrl-C); it runs again on the next start")
            raise
        except Exception as error:          # recorded with its reason; the study goes on
            reason = f"{type(error).__name__}: {error}".splitlines()[0]
            self._finish(trial, record, "error", reason, started, run)
            raise TrialFailed(reason) from error
        if run.best is None:
            self._finish(trial, record, "diverged", diverged, started, run)
            raise TrialFailed(diverged)
        if monitor is not None:     # history.npz, stats.npz beside metrics.json
            monitor.save(e.trial_dir(trial.number), run)
            record["monitoring"] = monitor.summary()
        self._finish(trial, record, "diverged" if diverged else "complete", diverged, started,
                     run, config)
        return run.best["val_acc"]

    def _on_epoch(self, trial):
        def report(run, improved):
            row = run.history[-1]
            if math.isnan(row["val_acc"]):
                return
            trial.report(row["val_acc"], row["epoch"])
            if self.experiment.prune and trial.should_prune():
                median = _median_at(trial, row["epoch"])
                raise optuna.TrialPruned(
                    f"median pruner: validation accuracy {row['val_acc']:.4f} after epoch "
                    f"{row['epoch']} is below the median {median:.4f} of earlier trials")
        return report

    def _finish(self, trial, record, how, reason, started, run, config=None):
        e = self.experiment
        seconds = time.perf_counter() - started
        best = run.best if run is not None else None
        attrs = {"outcome": how, "reason": reason, "seconds": round(seconds, 3),
                 "epochs": len(run.history) if run is not None else 0,
                 "best_val_acc": best["val_acc"] if best else None,
                 "best_epoch": best["epoch"] if best else None,
                 "history": run.history if run is not None else []}
        if config is not None and best is not None:
            folder = e.trial_dir(trial.number)
            if e.test_each:
                run.model.load_state_dict(best["params"])
                splits = load_splits(self.command, config, e.data)
                attrs["test_loss"], attrs["test_acc"] = evaluate(
                    run.model, splits.x_test, splits.y_test, config.loss)
            # keep the model of a trial that is the best so far: the best trial's model
            # is then on disk when the study ends (the others are removed then)
            if e.keep_models or best["val_acc"] >= best_value(trial.study, trial.number):
                self.command.save_model(folder / "model.npz", run, config, e.data,
                                        trial=trial.number, study=trial.study.study_name)
        for key, value in attrs.items():
            trial.set_user_attr(key, value)
        record.update(attrs)
        write_json(e.trial_dir(trial.number) / "metrics.json", record)


def _median_at(trial, epoch):
    others = [t.intermediate_values[epoch] for t in trial.study.get_trials(deepcopy=False)
              if t.number != trial.number and epoch in t.intermediate_values
              and t.state == TrialState.COMPLETE]
    return statistics.median(others) if others else math.nan
