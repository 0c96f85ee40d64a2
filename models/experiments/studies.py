"""Where a study lives, and the worker processes of `--jobs N`.

Storage (`--storage`):
- default: Optuna's journal file `<out>/study.journal`: an append-only log that several
  processes on one machine share safely (a file lock around each append; SQLite is not
  safe under concurrent writers);
- `postgresql://user@host:port/db` or `mysql://...`: a database server, so that the same
  command started on several machines shares one study. Those workers send a heartbeat;
  a trial whose heartbeat stops (a machine or process died) is failed and queued again.

Workers: `--jobs N` starts N processes (`python -m models.experiments.worker`), each with BLAS
limited to cores // N threads, set in its environment before numpy loads: N processes
with all the cores' threads each would fight over the same cores.
"""

import importlib.util
import json
import os
import re
import subprocess
import sys
import time
import warnings
from pathlib import Path

import optuna

from models.experiments import journal
from models.experiments.claims import fill_queue, sweep, work
from models.experiments.trials import finished_count, work_left
from models.io.files import atomic_write
from models.io.progress import progress_bar

HEARTBEAT_SECONDS = 20          # database workers write a heartbeat this often
BLAS_VARIABLES = ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS",
                  "BLIS_NUM_THREADS", "VECLIB_MAXIMUM_THREADS", "NUMEXPR_NUM_THREADS")

optuna.logging.set_verbosity(optuna.logging.ERROR)


class StudyError(ValueError):
    """The storage cannot be used, or the study holds another experiment (one line)."""

    user_error = True


def journal_path(out):
    return Path(out) / "study.journal"


def storage_url(storage, out):
    """The --storage value as given, or the default journal file of the study folder."""
    return storage if storage else str(journal_path(out))


def hide_password(url):
    return re.sub(r"(://[^:/@]+:)[^@]*@", r"\1***@", url)


def open_storage(url):
    """An Optuna storage for a database URL or a journal file path; StudyError if it
    cannot be reached, with the reason in one line."""
    if "://" not in url:
        path = Path(url)
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            # a process killed while appending leaves the lock file behind; Optuna breaks
            # such a lock after its grace period (an append takes milliseconds)
            lock = optuna.storages.journal.JournalFileSymlinkLock(str(path), grace_period=10)
            journal.check(path, lock, say=lambda line: print(line, file=sys.stderr))
            backend = optuna.storages.journal.JournalFileBackend(str(path), lock_obj=lock)
            return optuna.storages.JournalStorage(backend)
        except OSError as e:
            raise StudyError(f"cannot open the journal file {path}: {e.strerror}") from None
        except journal.JournalDamaged:
            raise
        except Exception as e:      # whole JSON lines that Optuna cannot replay
            raise StudyError(f"the study journal {path} cannot be read back ({e}); it was "
                             f"not changed: move it aside (mv {path} {path}.damaged) to start "
                             f"the study afresh") from None
    scheme = url.split("://", 1)[0].split("+", 1)[0]
    if scheme not in ("postgresql", "mysql", "sqlite"):
        raise StudyError(f"--storage {hide_password(url)}: unknown kind of storage {scheme!r}; "
                         f"give postgresql://user@host:port/database, mysql://..., or a "
                         f"journal file path")
    engine = {"pool_pre_ping": True}
    if scheme == "postgresql":
        engine["connect_args"] = {"connect_timeout": 10}
    try:
        for attempt in range(5):
            try:
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
                    return optuna.storages.RDBStorage(
                        with_installed_driver(url), engine_kwargs=engine,
                        heartbeat_interval=HEARTBEAT_SECONDS,
                        grace_period=3 * HEARTBEAT_SECONDS,
                        heartbeat_stale_trial_callback=(
                            optuna.storages.RetryHeartbeatStaleTrialCallback()))
            except Exception as e:
                # workers started at once on a new database race to create Optuna's
                # tables; the loser finds them made a moment later
                if "duplicate" not in str(e).lower() or attempt == 4:
                    raise
                time.sleep(0.5 + attempt)
    except ImportError as e:
        cause = e.__cause__ or e
        raise StudyError(f"--storage {scheme}: the database driver is missing ({cause}); "
                         f"install one, e.g. pip install psycopg2-binary (PostgreSQL) or "
                         f"pymysql (MySQL)") from None
    except Exception as e:          # sqlalchemy's errors: bad URL, refused, unknown host
        reason = str(getattr(e, "orig", None) or e).strip().splitlines()[0]
        raise StudyError(f"cannot reach the storage {hide_password(url)}: {reason}") from None


DRIVERS = {"postgresql": ("psycopg", "psycopg2"), "mysql": ("MySQLdb", "pymysql")}


def with_installed_driver(url):
    """postgresql://... names no driver and SQLAlchemy picks its default (psycopg 3);
    use whichever of the usual drivers is installed (psycopg2-binary is the usual one)."""
    scheme, rest = url.split("://", 1)
    if scheme not in DRIVERS:
        return url
    for module in DRIVERS[scheme]:
        if importlib.util.find_spec(module) is not None:
            driver = {"MySQLdb": "mysqldb"}.get(module, module)
            return f"{scheme}+{driver}://{rest}"
    return url


STUDY_NAME = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.=+-]{0,99}")


def check_study_name(name):
    """A study name becomes a folder name (runs/search/<study>): one plain name, no path."""
    if not STUDY_NAME.fullmatch(name):
        raise StudyError(f"--study {name!r}: a study name is one folder name of letters, "
                         f"digits and . _ - = + (at most 100, not starting with a dot), not "
                         f"a path; to put the study's files elsewhere give --out DIR")
    return name


def load_study(url, name, experiment, create=False):
    """The study `name` in the storage at `url`; with create, made if missing. A study
    that holds a different experiment (other flags) is refused rather than mixed in.
    A grid's configurations are queued in the study once, by the process that creates
    it (claims.fill_queue); workers then claim them from the storage."""
    storage = open_storage(url)
    kwargs = dict(study_name=name, storage=storage, sampler=experiment.sampler(),
                  pruner=experiment.pruner())
    created = False
    if create:
        try:
            study = optuna.create_study(direction="maximize", **kwargs)
            created = True
        except optuna.exceptions.DuplicatedStudyError:
            study = optuna.load_study(**kwargs)
    else:
        study = optuna.load_study(**kwargs)
    identity = json.loads(json.dumps(experiment.identity()))
    saved = study.user_attrs.get("experiment")
    if saved is None:
        study.set_user_attr("experiment", identity)
    elif saved != identity:
        changed = sorted(_differences(saved, identity))
        raise StudyError(f"the study {name!r} in {hide_password(url)} was run with other "
                         f"settings ({', '.join(changed)} differ); rerun with the same flags, "
                         f"or give a new --study")
    if create and experiment.mode == "grid":
        fill_queue(study, experiment, created)
    return study


def _differences(a, b):
    for key in sorted(set(a) | set(b)):
        if key == "fixed":
            yield from (f"--{k.replace('_', '-')}" for k in set(a[key]) | set(b[key])
                        if a[key].get(k) != b[key].get(k))
        elif a.get(key) != b.get(key):
            yield {"params": "the varied parameters"}.get(key, key)


# ---- progress and workers -----------------------------------------------------------------

def trials_bar(total, initial, enabled, what="trials"):
    """The bar of finished trials: always a bar (hidden if not `enabled`), kept when done."""
    return progress_bar(total, what, "trial", initial=min(initial, total), leave=True,
                        disable=not enabled or None)


def _best_text(study):
    values = [t.value for t in study.get_trials(deepcopy=False,
                                                states=(optuna.trial.TrialState.COMPLETE,))]
    return f"{max(values):.4f}" if values else "–"


def cores():
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:
        return os.cpu_count() or 1


def worker_environment(jobs, url, name):
    env = dict(os.environ)
    threads = max(1, cores() // jobs)
    env.update({v: str(threads) for v in BLAS_VARIABLES})
    env.update(TAPE_STUDY_STORAGE=url, TAPE_STUDY_NAME=name)
    # the workers import this checkout of the project, wherever they are started from
    root = str(Path(__file__).resolve().parent.parent)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [root, env.get("PYTHONPATH")]))
    return env


def run(study, experiment, url, jobs, progress=True, what="trials"):
    """Run the experiment's remaining trials in this process (jobs = 1) or in `jobs`
    worker processes; returns the worker exit codes (all 0 when nothing went wrong)."""
    sweep(study, requeue_failed=True)
    trials = study.get_trials(deepcopy=False)
    bar = trials_bar(experiment.size, finished_count(trials), progress, what)
    bar.set_postfix(best=_best_text(study))

    def update(study, _trial=None):
        bar.n = min(finished_count(study.get_trials(deepcopy=False)), experiment.size)
        bar.set_postfix(best=_best_text(study))

    try:
        if jobs == 1:
            work(study, experiment, after_trial=update)
            return [0]
        return _run_processes(study, experiment, url, jobs, update)
    finally:
        bar.close()


def _run_processes(study, experiment, url, jobs, update):
    spec = Path(experiment.out) / "experiment.json"
    atomic_write(spec, lambda f: f.write(json.dumps(experiment.to_dict(), indent=2).encode()))
    env = worker_environment(jobs, url, study.study_name)
    codes = []
    for _round in range(3):             # again if a worker died with work still left
        workers = [subprocess.Popen([sys.executable, "-m", "models.experiments.worker",
                                     str(spec)], env=env)
                   for _ in range(jobs)]
        try:
            while any(w.poll() is None for w in workers):
                time.sleep(0.5)
                update(study)
        except KeyboardInterrupt:
            for w in workers:           # they got the Ctrl-C too; let them record it
                try:
                    w.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    w.kill()
            raise
        codes = [w.returncode for w in workers]
        sweep(study, requeue_failed=True)
        update(study)
        if not work_left(study, experiment) or all(c != 0 for c in codes):
            break
    return codes
