"""How workers share a study: the grid queued once, trials claimed, dead workers' trials
queued again, and the worker's loop (`work`).

    grid:   fill_queue puts every configuration in the study once (a WAITING trial);
            a worker claims one by the storage's atomic WAITING → RUNNING change, so
            workers on any number of machines run each configuration once
    sample: the sampler (TPE) picks the next configuration, under a file lock on this
            machine (ClaimLock) so that two workers never both take the last one
    always: sweep fails the trials whose worker process died and queues them again

The trial itself (the objective, its outcomes) is `trials.py`'s.
"""

import itertools
import json
import time
from pathlib import Path

import optuna
# Optuna's own heartbeat around a trial that this module claims itself (run_claimed);
# study.optimize uses the same two functions, which Optuna does not export
from optuna.storages._heartbeat import get_heartbeat_thread, is_heartbeat_enabled
from optuna.trial import TrialState

from models.experiments.processes import is_dead
from models.experiments.trials import (QUEUED, RETRYABLE, Objective, TrialFailed, is_final,
                                       outcome, retried_numbers, work_left)


def grid_points(experiment):
    names = [p.name for p in experiment.params]
    return [dict(zip(names, values))
            for values in itertools.product(*(p.values for p in experiment.params))]


def _key(params):
    return json.dumps(params, sort_keys=True)


def fill_queue(study, experiment, created, wait=10.0):
    """Queue each configuration of the grid once (Optuna's enqueue_trial: a WAITING trial
    with fixed parameters). Workers take WAITING trials with an atomic WAITING → RUNNING
    change in the storage, so workers on any number of machines run each one once.

    The process that created the study queues them; another one started at the same
    moment waits for that (up to `wait` seconds), then queues only what is missing (the
    creator died, or the study was made by an older version that did not queue)."""
    if study.user_attrs.get(QUEUED):
        return
    if not created:
        deadline = time.monotonic() + wait
        while time.monotonic() < deadline and not any(
                is_final(t) for t in study.get_trials(deepcopy=False)):
            time.sleep(0.2)
            if study.user_attrs.get(QUEUED):
                return
    have = set()
    for t in study.get_trials(deepcopy=False):
        if is_final(t) or t.state in (TrialState.RUNNING, TrialState.WAITING):
            have.add(_key(t.params or t.system_attrs.get("fixed_params", {})))
    for point in grid_points(experiment):
        if _key(point) not in have:
            study.enqueue_trial(point)
    study.set_user_attr(QUEUED, True)


def claim(study):
    """The id of a WAITING trial this worker now holds (RUNNING), or None if none is left.
    The state change is atomic in the storage: of two workers, one gets each trial."""
    for t in study.get_trials(deepcopy=False, states=(TrialState.WAITING,)):
        if study._storage.set_trial_state_values(t._trial_id, TrialState.RUNNING):
            return t._trial_id
    return None


def run_claimed(study, trial_id, objective, callbacks=()):
    """Run the objective on a claimed trial and record its end, as study.optimize does for
    the trials it creates (with the database heartbeat while it runs)."""
    trial = optuna.Trial(study, trial_id)
    value, state, error = None, None, None
    with get_heartbeat_thread(trial_id, study._storage):
        try:
            value = objective(trial)
        except optuna.TrialPruned:
            state = TrialState.PRUNED
        except (Exception, KeyboardInterrupt) as e:
            state, error = TrialState.FAIL, e
    frozen = study.tell(trial, value if state is None else None, state=state,
                        skip_if_finished=True)
    for callback in callbacks:
        callback(study, frozen)
    if error is not None and not isinstance(error, TrialFailed):
        raise error


# ---- dead workers: which one is alive is asked of processes.py

def requeue(study, trial):
    """Queue the configuration of a trial that did not finish, as Optuna's retry
    callback does: same parameters (and grid cell), linked to the failed trial."""
    system_attrs = {k: v for k, v in trial.system_attrs.items()
                    if k in ("grid_id", "search_space")}
    history = list(trial.system_attrs.get("retry_history", [])) + [trial.number]
    system_attrs.update(failed_trial=history[0], retry_history=history)
    study.add_trial(optuna.trial.create_trial(
        state=TrialState.WAITING, params=trial.params, distributions=trial.distributions,
        system_attrs=system_attrs))


def sweep(study, requeue_failed=False):
    """Fail the running trials whose worker died on this machine and queue their
    configurations again; with requeue_failed, also queue again the interrupted and
    killed trials that have no retry yet (done once, before the workers start).
    Returns the numbers of the trials found dead."""
    dead = []
    for t in study.get_trials(deepcopy=False, states=(TrialState.RUNNING,)):
        worker = t.user_attrs.get("worker")
        if not is_dead(worker):
            continue
        try:
            study._storage.set_trial_user_attr(
                t._trial_id, "reason", f"its worker (pid {worker['pid']}) died {_when(t)}")
            study._storage.set_trial_user_attr(t._trial_id, "outcome", "killed")
            study._storage.set_trial_state_values(t._trial_id, TrialState.FAIL)
        except optuna.exceptions.UpdateFinishedTrialError:
            continue            # another worker got there first and re-queued it
        dead.append(t.number)
        requeue(study, study._storage.get_trial(t._trial_id))
    if requeue_failed:
        trials = study.get_trials(deepcopy=False)
        retried = retried_numbers(trials)
        for t in trials:
            if t.state == TrialState.FAIL and outcome(t) in RETRYABLE and t.number not in retried:
                requeue(study, t)
    return dead


def _when(trial):
    """When in its training a trial's worker died, from the epochs it reported."""
    done, planned = len(trial.intermediate_values), trial.user_attrs.get("planned_epochs")
    if planned is not None and done >= planned:
        return f"after its last epoch ({done}), before its result was recorded"
    return f"during epoch {done + 1}" + (f" of {planned}" if planned is not None else "")


# ---- a worker ------------------------------------------------------------------------------------

class ClaimLock:
    """A file lock held from "is there work left?" until the new trial has its
    configuration, so that two workers on this machine never both take the last one
    (the grid sampler would then hand the second a configuration already running)."""

    def __init__(self, folder):
        Path(folder).mkdir(parents=True, exist_ok=True)
        self.path = Path(folder) / ".claim.lock"
        self.file = None

    def acquire(self):
        import fcntl            # POSIX only: imported where the lock is taken
        self.file = open(self.path, "a")
        fcntl.flock(self.file, fcntl.LOCK_EX)

    def release(self):
        if self.file is not None:
            self.file.close()            # closing the file releases the lock
            self.file = None


def work(study, experiment, after_trial=None):
    """Run trials until the study has no work left; returns how many this worker ran."""
    callbacks = [lambda study, trial: after_trial(study, trial)] if after_trial else []
    ran = 0
    if experiment.mode == "grid" and study.user_attrs.get(QUEUED):
        objective = Objective(experiment)
        while True:
            sweep(study)
            if is_heartbeat_enabled(study._storage):
                optuna.storages.fail_stale_trials(study)   # another machine's dead worker
            trial_id = claim(study)
            if trial_id is None:
                return ran
            run_claimed(study, trial_id, objective, callbacks)
            ran += 1
    claim_lock = ClaimLock(experiment.out)
    objective = Objective(experiment, claimed=claim_lock.release)
    while True:
        sweep(study)
        claim_lock.acquire()
        try:
            if not work_left(study, experiment):
                return ran
            study.optimize(objective, n_trials=1, catch=(TrialFailed,), callbacks=callbacks,
                           gc_after_trial=False)
        finally:
            claim_lock.release()
        ran += 1
