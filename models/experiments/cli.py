"""What `models.search` and `models.compare` share on the command line: the training
flags of the chosen command (fixed for every trial), the study's name, folder and
storage, the worker processes, and the checks made before any trial starts."""

import argparse
import hashlib
import json
import sys
from pathlib import Path

import optuna

from models.data.datasets import locate
from models.experiments.searchspace import (corner_values, overrides_of, searchable_flags,
                                          varied_names)
from models.experiments.studies import (StudyError, check_study_name, cores, journal_path,
                                       load_study, open_storage, run, storage_url)
from models.experiments.training_commands import COMMANDS, CommandError
from models.experiments.trials import configurations_left, load_splits, train_config, work_left
from models.io.errors import EXIT_INTERRUPTED, OneLineParser, UsageError, is_user_error, report
from models.io.files import atomic_write, remove_stale_temporaries
from models.train.allocator import keep_freed_memory
from models.train.checkpoint import load_checkpoint


def model_name(argv):
    """--model is read first: it decides which training flags exist."""
    p = argparse.ArgumentParser(add_help=False)
    p.add_argument("--model", default="twolayer")
    known, _ = p.parse_known_args(argv)
    return known.model


def build_parser(prog, description, epilog=None):
    p = OneLineParser(prog=prog, description=description, epilog=epilog,
                      formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--model", choices=list(COMMANDS), default="twolayer",
                   help="the training command whose trials run (default: twolayer)")
    return p


def add_study_flags(p, kind):
    g = p.add_argument_group("study")
    g.add_argument("--study", metavar="NAME",
                   help="the study's name (default: the varied parameters and a short hash "
                        "of every flag, so the same command continues the same study)")
    g.add_argument("--out", metavar="DIR",
                   help=f"folder for the tables, figures and trial metrics "
                        f"(default: runs/{kind}/<study>)")
    g.add_argument("--storage", metavar="URL",
                   help="where the study lives (default: the journal file <out>/study.journal, "
                        "shared safely by processes on this machine); postgresql://user@host:"
                        "port/db or mysql://... to share it between machines: start the same "
                        "command on each")
    g.add_argument("--jobs", type=int, default=1, metavar="N",
                   help="worker processes on this machine, each with cores/N BLAS threads")
    g.add_argument("--keep-models", action="store_true",
                   help="keep every trial's model.npz in <out>/trials/NNNN/ (default: only "
                        "the best trial's, in <out>/best/)")
    g.add_argument("--no-progress", action="store_true", help="no progress bar")
    g.add_argument("--no-plots", action="store_true", help="do not draw the PNG figures")
    return g


def fixed_flags(args, command):
    return {a.dest: getattr(args, a.dest) for a in command.training_actions()}


def explicitly_given(argv, command):
    """The training flags typed on the command line (not left at their defaults)."""
    given = set()
    for action in command.training_actions():
        for flag in action.option_strings:
            if any(tok == flag or tok.startswith(flag + "=") for tok in argv):
                given.add(action.dest)
    return given


def check_experiment(command, args, argv, params, option):
    """Everything the trials will need, checked before any of them starts."""
    if args.jobs < 1:
        raise UsageError(f"--jobs must be at least 1, got {args.jobs}")
    both = sorted(varied_names(params) & explicitly_given(argv, command))
    if both:
        raise UsageError(f"{', '.join('--' + b.replace('_', '-') for b in both)} is both fixed "
                         f"and varied by {option}; give it in one place")
    fixed = fixed_flags(args, command)
    try:
        command.check(fixed)
    except CommandError as e:
        raise UsageError(str(e)) from None
    for overrides in corner_values(params):
        try:
            command.check(fixed, overrides)
        except CommandError as e:
            shown = " ".join(f"{k}={'x'.join(map(str, v)) if isinstance(v, list) else v}"
                             for k, v in overrides.items())
            raise UsageError(f"{option}: the training command refuses {shown}: {e}") from None
    return fixed


def default_study(experiment):
    digest = hashlib.sha1(json.dumps(experiment.identity(), sort_keys=True).encode())
    return "-".join(p.name for p in experiment.params) + "-" + digest.hexdigest()[:6]


def searchable(command):
    return searchable_flags(command.training_actions())


FOLDER_MARK = "study.json"      # in a study's folder: {"study": name}, whose files these are


def claim_folder(out, name):
    """A study's folder holds one study: its trials/NNNN, results.* and best/ are named
    by trial number, so a second study there would overwrite the first one's files (and
    take its best model for its own). Refused, with the fix, before anything is written."""
    mark = out / FOLDER_MARK
    other = None
    try:
        other = json.loads(mark.read_text()).get("study")
    except FileNotFoundError:
        if journal_path(out).exists():          # a folder of an older version: no mark yet
            names = optuna_study_names(journal_path(out))
            other = next((n for n in names if n != name), None)
    except (OSError, ValueError, AttributeError):
        other = None                            # an unreadable mark is written again
    if other is not None and other != name:
        raise StudyError(f"the folder {out} holds the study {other!r}; each "
                         f"study has a folder of its own: give another --out (e.g. --out "
                         f"{out / name}), or the flags of {other!r} to continue it")
    if other is None:
        atomic_write(mark, lambda f: f.write(json.dumps({"study": name}).encode() + b"\n"))


def optuna_study_names(path):
    return optuna.get_all_study_names(open_storage(str(path)))


STALE_SECONDS = 30     # a temporary file this old has no writer left (a write takes < 1 s)
WRITTEN = ("results.csv", "results.md", "experiment.json", FOLDER_MARK, "model.npz",
           "metrics.json", "val_acc_by_param.png", "heatmaps.png", "contour.png",
           "importances.png", "curves.png")


def remove_leftovers(out):
    """The temporary files that a killed command or worker left in the study's folder."""
    for folder in (out, out / "best", *sorted((out / "trials").glob("[0-9]*"))):
        remove_stale_temporaries(folder, WRITTEN, older_than=STALE_SECONDS)


def prepare(args, experiment, kind):
    """Name, folder and storage of the study; the study itself (created if new)."""
    name = (check_study_name(args.study) if args.study is not None
            else default_study(experiment))
    out = Path(args.out) if args.out else Path("runs") / kind / name
    experiment.out, experiment.study = out, name
    url = storage_url(args.storage, out)
    claim_folder(out, name)
    remove_leftovers(out)
    study = load_study(url, name, experiment, create=True)
    return study, url


def worker_count(args, study, experiment):
    """--jobs, but no more workers than configurations left or than this machine's cores."""
    jobs, left, have = args.jobs, configurations_left(study, experiment), cores()
    if jobs > left:
        print(f"--jobs {args.jobs}: {left} {'configuration is' if left == 1 else 'configurations are'}"
              f" left to run, so {left} {'worker' if left == 1 else 'workers'}")
        jobs = left
    if jobs > have:
        print(f"--jobs {args.jobs}: this machine has {have} {'core' if have == 1 else 'cores'}; "
              f"running {have} workers (more would only share the same cores)")
        jobs = have
    return max(1, jobs)


def check_data(experiment, jobs):
    """Missing data files stop the command here, before a trial. With one worker (this
    process) the data is loaded now, for its trials; with several, the files are only
    found (or downloaded once), and each worker loads its own copy."""
    config = experiment.command.config(experiment.fixed)
    try:
        if jobs == 1:
            load_splits(experiment.command, config, experiment.data)
        else:
            locate(config.dataset, experiment.data.get("data_dir"),
                   download=experiment.data.get("download", True))
    except (OSError, ValueError, ConnectionError, UsageError) as e:
        if not is_user_error(e) and not isinstance(e, ConnectionError):
            raise
        raise UsageError(" ".join(str(e).split())) from None


def start(args, experiment, kind):
    """Open the study and run its remaining trials; returns (study, worker exit codes)."""
    study, url = prepare(args, experiment, kind)
    print(f"study {study.study_name}: {experiment.size} "
          f"{'configurations' if experiment.mode == 'grid' else 'trials'}; "
          f"storage {url if '://' not in url else url.split('@')[-1]}; folder {experiment.out}")
    codes = [0]
    if work_left(study, experiment):
        jobs = worker_count(args, study, experiment)
        check_data(experiment, jobs)
        codes = run(study, experiment, url, jobs, progress=not args.no_progress, what=kind)
    return study, codes


def main_guard(body, argv):
    """Run a front end: bad input → one line and exit code 2; Ctrl-C → 130."""
    keep_freed_memory()
    try:
        return body(argv)
    except KeyboardInterrupt:
        print("\ninterrupted: finished trials are saved; run the same command again to "
              "continue", file=sys.stderr)
        return EXIT_INTERRUPTED
    except Exception as error:          # noqa: BLE001 (only the user's mistakes, below)
        if not is_user_error(error):
            raise
        report(error)
        return 2


# ---- the best trial's model ---------------------------------------------------------------

def keep_best_model(experiment, best, rows):
    """<out>/best/model.npz: the best trial's model (copied from its trial folder, or
    trained again from its configuration if it ran on another machine); the other
    trials' models are removed unless --keep-models."""
    target = experiment.out / "best" / "model.npz"
    source = experiment.trial_dir(best["trial"]) / "model.npz"
    have = None
    if target.exists():
        try:
            saved = load_checkpoint(target)[1]
            have = (saved.get("study"), saved.get("trial"))
        except Exception:
            have = None
    if have != (experiment.study, best["trial"]):
        if source.exists():
            data = source.read_bytes()
            atomic_write(target, lambda f: f.write(data))
        else:
            print(f"the best trial {best['trial']} ran elsewhere: training its configuration "
                  f"again here for {target}")
            config = experiment.command.config(
                experiment.fixed, overrides_of(experiment.params, best["params"]))
            run_ = train_config(experiment.command, config, experiment.data)
            experiment.command.save_model(target, run_, config, experiment.data,
                                          trial=best["trial"], study=experiment.study)
    if not experiment.keep_models:
        for r in rows:
            stale = experiment.trial_dir(r["trial"]) / "model.npz"
            if stale.exists():
                stale.unlink()
    return target


def flags_text(fixed, values, params, defaults):
    """The twolayer command line that trains this configuration alone."""
    merged = dict(fixed)
    merged.update(overrides_of(params, values))
    parts = []
    for key, value in merged.items():
        if value == defaults.get(key) or value is None or value is False:
            continue
        flag = "--" + key.replace("_", "-")
        if isinstance(value, bool):
            parts.append(flag)
        elif isinstance(value, list):
            parts.append(f"{flag} {' '.join(map(str, value))}")
        else:
            parts.append(f"{flag} {value}")
    return " ".join(parts)
