"""The flags of the shared training command, and one validation for flags and saved configs.

`parser(family)` builds the command line; `check_config` checks a Config's every value
(the same function for command-line flags and for the config saved in a checkpoint);
`config_from(args, family)` and `config_from_dict` build the Config.
"""

import argparse
import math
from dataclasses import fields

import numpy as np

from models.cli.presets import PRESETS
from models.io.errors import OneLineParser
from models.optim import OPTIMIZERS
from models.optim.schedules import SCHEDULES
from models.train.checkpoint import CheckpointError
from models.train.losses import LOSSES
from models.train.monitor import Monitoring


DATASETS = ("mnist", "fashion-mnist")
DTYPES = ("float32", "float64")
TRAINING_IMAGES = 60000           # both datasets: 60,000 training and 10,000 test images
IMAGE_SHAPE, N_CLASSES = (28, 28), 10
MAX_PARAMETERS = 100_000_000      # 400 MB in float32: far beyond what a CPU course needs
MAX_SEED = 2 ** 63 - 1


class _Help(argparse.ArgumentDefaultsHelpFormatter):
    """Show defaults, but not the uninformative None / False of optional flags."""

    def _get_help_string(self, action):
        if action.default in (None, False):
            return action.help
        return super()._get_help_string(action)


# ---- the flags -----------------------------------------------------------------------

def parser(family):
    d = family.config_class()
    p = OneLineParser(prog=family.prog, description=family.description, formatter_class=_Help)
    mode = p.add_argument_group("what to do (default: train)")
    mode.add_argument("--test", metavar="MODEL.npz",
                      help="load a saved model and print its test accuracy and loss")
    mode.add_argument("--resume", metavar="RUN_DIR",
                      help="continue the run saved in RUN_DIR (its last.npz); flags that "
                           "contradict the saved run are refused, except a larger --epochs")
    mode.add_argument("--print-backward", action="store_true",
                      help="print the numpy source tape.compile writes for one training "
                           "step of the configured network (the forward, then the "
                           "backward pass) and exit; nothing is trained")
    if family.add_modes:
        family.add_modes(mode)
    presets = [n for n, r in PRESETS.items() if r.family == family.name]
    if presets:
        mode.add_argument("--preset", choices=presets,
                          help="a course report's whole recipe (architecture, optimiser, batch, "
                          "schedule, L2, epochs), printed in full before the run; flags "
                          "given as well override it: " + "; ".join(
                              f"{n}: {PRESETS[n].source}" for n in presets))

    data = p.add_argument_group("data")
    data.add_argument("--dataset", choices=DATASETS, default=d.dataset,
                      help="MNIST (downloaded once) or Fashion-MNIST (Debian's package "
                           "dataset-fashion-mnist, else downloaded)")
    data.add_argument("--data-dir", metavar="DIR",
                      help="where the dataset files are read from and cached (default: "
                           "$TAPE_DATA_DIR, else $XDG_CACHE_HOME/tape-autodiff); a folder "
                           "named here wins over Debian's installed copy")
    data.add_argument("--no-download", action="store_true",
                      help="never touch the network; fail if the files are not there")
    data.add_argument("--val-size", type=int, default=d.val_size,
                      help="images held out of the 60,000 training images for validation")
    data.add_argument("--train-size", type=int, default=d.train_size,
                      help="train on a seeded subset of this many images (0: all)")

    model = p.add_argument_group("model")
    family.add_model_arguments(model, d)
    model.add_argument("--loss", choices=LOSSES, default=d.loss,
                       help="softmax cross-entropy; or squared error against one-hot "
                            "targets: mse, the mean over all elements, or mse_half, "
                            "½·Σ(y − ŷ)²/N (report 002)")
    model.add_argument("--dtype", choices=DTYPES, default=d.dtype,
                       help="floating-point type of the data, parameters and gradients")

    opt = p.add_argument_group("optimisation")
    opt.add_argument("--optimizer", choices=OPTIMIZERS, default=d.optimizer,
                     help="momentum: SGD with momentum (v ← μv − ηg; θ ← θ + v); "
                          "momentum_damped: report 001's v ← βv − (1−β)g; θ ← θ + ηv")
    by_optimizer = family.lr_by_optimizer
    opt.add_argument("--lr", type=float, default=None if by_optimizer else d.lr,
                     help="initial learning rate" + (" (default: the optimiser's own: " + ", ".join(
                         f"{k} {v:g}" for k, v in by_optimizer.items()) + ")" if by_optimizer else ""))
    opt.add_argument("--momentum", type=float, default=d.momentum,
                     help="μ (or β) for --optimizer momentum, momentum_damped, nesterov")
    opt.add_argument("--l2", type=float, default=d.l2,
                     help="L2 strength λ: adds ½λΣ‖W‖² to the loss (biases not penalised)")
    opt.add_argument("--schedule", choices=SCHEDULES, default=d.schedule,
                     help="learning-rate schedule, applied per epoch")
    opt.add_argument("--gamma", type=float, default=d.gamma,
                     help="decay factor for the step and exponential schedules")
    opt.add_argument("--step-size", type=int, default=d.step_size,
                     help="epochs between decays for the step schedule")
    opt.add_argument("--decay", type=float, default=d.decay,
                     help="decay for the inverse_time schedule: lr / (1 + decay·epoch)")
    opt.add_argument("--epochs", type=int, default=None,
                     help=f"number of epochs (default {d.epochs}; with --resume: the saved "
                          f"run's, or more to extend it)")
    opt.add_argument("--batch-size", type=int, default=d.batch_size,
                     help="images per mini-batch")
    opt.add_argument("--patience", type=int, default=d.patience,
                     help="stop after this many epochs without a better validation "
                          "accuracy (0: never)")
    opt.add_argument("--seed", type=int, default=d.seed,
                     help="seeds the initial weights, the validation split and the batches")

    out = p.add_argument_group("output")
    out.add_argument("--out", metavar="RUN_DIR",
                     help="run directory (default: runs/<timestamp>); one that already "
                          "holds a run is refused unless --overwrite")
    out.add_argument("--overwrite", action="store_true",
                     help="replace the run already in --out (its outputs are deleted first)")
    out.add_argument("--no-progress", action="store_true", help="no progress bar")
    out.add_argument("--no-plots", action="store_true", help="do not draw the PNG plots")
    out.add_argument("--compile", action="store_true",
                     help="replay each training step as the numpy source tape.compile "
                          "writes for it (traced once per batch shape): the same results "
                          "to the last digit, less bookkeeping per step")
    add_monitoring_flags(p)
    return p


# flags that may differ from the saved run on --resume: where the data is, and the display
RESUME_MAY_CHANGE = {"resume", "epochs", "data_dir", "no_download", "no_progress", "no_plots",
                     "compile"}


# the flags --test reads: where the model and the data are, and the display
TEST_USES = {"test", "data_dir", "no_download", "no_progress"}


def flag(field):
    """The command-line flag of a Config field: train_size -> --train-size."""
    return "--" + field.replace("_", "-")


def key(field):
    """How a Config field is named inside a saved config: as itself."""
    return field


# ---- validation: one function for flags and for saved configs ------------------------

def check_config(config, family, label=flag):
    """Every problem with the values of `config`, as sentences naming label(field)."""
    problems = []
    c = config

    def need(ok, field, rule):
        if not ok:
            problems.append(f"{label(field)} {rule}, got {getattr(c, field)!r}")

    def is_int(v):
        return isinstance(v, (int, np.integer)) and not isinstance(v, bool)

    def is_real(v):
        return isinstance(v, (int, float, np.integer, np.floating)) and not isinstance(v, bool) \
            and math.isfinite(v)

    for field, choices in (("dataset", DATASETS), ("loss", LOSSES),
                           ("optimizer", OPTIMIZERS), ("schedule", SCHEDULES)):
        need(getattr(c, field) in choices, field, f"must be one of {', '.join(choices)}")
    if c.dtype == "float16":
        problems.append(f"{label('dtype')} float16 is not supported (its range ends at "
                        f"65504 and softmax overflows); use float32 or float64")
    else:
        need(c.dtype in DTYPES, "dtype", f"must be one of {', '.join(DTYPES)}")
    need(is_real(c.lr) and c.lr > 0, "lr", "must be a positive finite number")
    need(is_real(c.momentum) and 0 <= c.momentum < 1, "momentum", "must be in [0, 1)")
    if c.optimizer in ("nesterov", "momentum_damped") and c.momentum == 0:
        problems.append(f"{label('momentum')} must be positive for {label('optimizer')} "
                        f"{c.optimizer}, got 0 (with no momentum it is plain SGD: use "
                        f"{label('optimizer')} sgd)")
    need(is_real(c.l2) and c.l2 >= 0, "l2", "must be a non-negative finite number")
    need(is_real(c.gamma) and c.gamma > 0, "gamma", "must be a positive finite number")
    need(is_real(c.decay) and c.decay >= 0, "decay", "must be a non-negative finite number")
    need(is_int(c.step_size) and c.step_size >= 1, "step_size", "must be at least 1")
    need(is_int(c.epochs) and 1 <= c.epochs <= 100_000, "epochs",
         "must be between 1 and 100,000")
    need(is_int(c.batch_size) and 1 <= c.batch_size <= TRAINING_IMAGES, "batch_size",
         f"must be between 1 and {TRAINING_IMAGES:,}")
    need(is_int(c.patience) and c.patience >= 0, "patience", "must be non-negative")
    need(is_int(c.seed) and 0 <= c.seed <= MAX_SEED, "seed",
         "must be a non-negative integer (numpy seeds cannot be negative)")
    val_ok = is_int(c.val_size) and 0 <= c.val_size < TRAINING_IMAGES
    need(val_ok, "val_size", f"must be between 0 and {TRAINING_IMAGES - 1:,} (the training "
                             f"set has {TRAINING_IMAGES:,} images)")
    if val_ok:
        most = TRAINING_IMAGES - c.val_size
        need(is_int(c.train_size) and 0 <= c.train_size <= most, "train_size",
             f"must be between 0 (all) and {most} ({TRAINING_IMAGES:,} minus "
             f"{label('val_size')})")
    problems += family.check_config(c, label)
    if not problems:
        shapes = family.parameter_shapes(c, IMAGE_SHAPE, N_CLASSES)
        count = sum(math.prod(s) for s in shapes.values())
        if count > MAX_PARAMETERS:
            problems.append(f"the model would have {count:,} parameters, more than "
                            f"{MAX_PARAMETERS:,}; choose smaller layers")
    return problems


def config_from_dict(d, family, source):
    """A Config from a saved dict, refusing unknown names and absurd values (one line)."""
    cls = family.config_class
    if not isinstance(d, dict):
        raise CheckpointError(f"{source}: its config is damaged (it is {_json_kind(d)}, not "
                              f"the settings of a run); retrain to write a new one")
    known = {f.name for f in fields(cls)}
    unknown = sorted(set(d) - known)
    if unknown:
        raise CheckpointError(f"{source}: its config has settings this command does not "
                              f"know: {', '.join(unknown)}")
    config = cls(**d)
    problems = check_config(config, family, label=key)
    if problems:
        raise CheckpointError(f"{source}: its config is invalid: {problems[0]}"
                              + (f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""))
    return config


def _json_kind(value):
    """What a JSON value is, in words: null, a list, a number, a string."""
    if value is None:
        return "null"
    if isinstance(value, (bool, int, float)):
        return f"the number {value!r}" if not isinstance(value, bool) else f"{value!r}".lower()
    return "a list" if isinstance(value, list) else f"a {type(value).__name__}"


def validate_flags(args, p, family, argv):
    """Reject bad flag values before any data is read (argparse's one line, exit 2)."""
    extra = [*(family.modes or {}), "print_backward"]
    modes = [m for m in ("test", "resume", *extra) if getattr(args, m)]
    if len(modes) > 1:
        p.error("choose at most one of " + ", ".join(flag(m) for m in ("test", "resume", *extra)))
    if args.overwrite and args.resume:
        p.error("--overwrite replaces a run and --resume continues one; choose one")
    if args.resume and args.out:
        p.error("--resume continues in its own run directory; --out cannot be used with it")
    if args.test:
        useless = sorted(set(given_flags(argv, family)) - TEST_USES)
        if useless:
            p.error(f"{', '.join(flag(d) for d in useless)} cannot be used with --test: the "
                    f"model is rebuilt from the config saved with it")
        return
    check_monitoring_flags(args, p.error)
    problems = check_config(config_from(args, family), family)
    if args.resume:          # the saved values are checked when last.npz is read
        typed = {flag(dest) for dest in given_flags(argv, family)}
        problems = [m for m in problems if m.split(" ", 1)[0] in typed]
    if problems:
        p.error(problems[0])


def config_from(args, family):
    cls = family.config_class
    values = {f.name: getattr(args, f.name) for f in fields(cls) if hasattr(args, f.name)}
    values["epochs"] = args.epochs if args.epochs is not None else cls().epochs
    if values.get("lr") is None and family.lr_by_optimizer:     # --lr not given
        values["lr"] = family.lr_by_optimizer.get(values["optimizer"], cls().lr)
    return cls(**values)


def given_flags(argv, family):
    """The dests of the flags actually typed (argparse fills in the rest with defaults)."""
    p = parser(family)
    for action in p._actions:
        action.default = argparse.SUPPRESS
    return vars(p.parse_args(argv))


# ---- the command-line flags (registered once, for every training command) --------------

def add_monitoring_flags(parser):
    """Add the monitoring flags to an argparse parser (a group of their own)."""
    g = parser.add_argument_group("watching the training")
    g.add_argument("--log-every", type=int, default=0, metavar="N",
                   help="Solver-style lines: the mini-batch loss every N iterations, and "
                        "per epoch the accuracy on 1000 training images after the epoch "
                        "(train acc) next to the mean during it (running train acc), "
                        "instead of the per-epoch table (0: the table)")
    g.add_argument("--eval-every", type=int, default=0, metavar="N",
                   help="also evaluate on the validation set every N iterations (printed, "
                        "drawn on curves.png); 0: only after each epoch")
    g.add_argument("--eval-test", action="store_true",
                   help="add the test set to the --eval-every evaluations, to draw its "
                        "curve; choosing anything by it is not allowed (the model kept is "
                        "chosen on validation)")
    g.add_argument("--stats-every", type=int, default=None, metavar="N",
                   help="layer statistics (min, max, mean, std of each parameter and its "
                        "gradient, update/weight ratio, histogram) every N iterations, saved "
                        "in stats.npz and drawn in stats.png (default: once per epoch; "
                        "0: off)")
    g.add_argument("--tensorboard", action="store_true",
                   help="also write TensorBoard event files to RUN_DIR/tensorboard (needs "
                        "tensorboardX: pip install -e \".[tensorboard]\")")
    return g


def check_monitoring_flags(args, fail):
    """Reject bad monitoring flags (fail(message) exits) before any data is loaded."""
    for flag in ("log_every", "eval_every", "stats_every"):
        value = getattr(args, flag)
        if value is not None and value < 0:
            fail(f"--{flag.replace('_', '-')} must be a number of iterations ≥ 0 (0: off), "
                 f"got {value}")
    if args.eval_test and not args.eval_every:
        fail("--eval-test needs --eval-every N (the test set is evaluated with the "
             "validation set every N iterations)")


def monitoring_from(args):
    return Monitoring(log_every=args.log_every, eval_every=args.eval_every,
                      eval_test=args.eval_test, stats_every=args.stats_every,
                      tensorboard=args.tensorboard)
