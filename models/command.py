"""The training command shared by every model family (`python -m models.twolayer`, ...).

A model family says only what is particular to it — its flags, how to check them, the
shapes of its parameters, how to build the model — in a `Family`. Everything else lives
here once: the flags for data, optimisation and output, the validation of every value
(the same function checks command-line flags and a saved config), the run directory,
and the three flows:

    train            flags -> Config -> run directory -> data -> Run.fit -> outputs
    --resume RUN_DIR last.npz -> Config (checked) -> Run.restore -> Run.fit -> outputs
    --test MODEL.npz model.npz -> Config (checked) -> model -> test accuracy

A run directory holds model.npz (the best-validation parameters and the config),
last.npz (everything needed to resume; first written before epoch 1), metrics.json
(strict JSON) and the plots. Mistakes a user can make end as one line, exit code 2
(`models.errors`); a diverging run ends with exit code 1.
"""

import argparse
import math
import platform
import sys
import time
from dataclasses import dataclass, fields
from typing import Callable

import numpy as np

import tape
from . import monitor as monitoring
from .allocator import keep_freed_memory
from .checkpoint import CheckpointError, load_checkpoint, save_checkpoint
from .errors import EXIT_INTERRUPTED, UsageError, run_command
from .files import check_writable_dir, write_json
from .optim import OPTIMIZERS, SLOTS
from .rundir import RunDirectory
from .schedules import SCHEDULES
from .training import COLUMNS, LOSSES, Diverged, Run, compiled_step, evaluate

DATASETS = ("mnist", "fashion-mnist")
DTYPES = ("float32", "float64")
TRAINING_IMAGES = 60000           # both datasets: 60,000 training and 10,000 test images
IMAGE_SHAPE, N_CLASSES = (28, 28), 10
MAX_PARAMETERS = 100_000_000      # 400 MB in float32: far beyond what a CPU course needs
MAX_SEED = 2 ** 63 - 1


@dataclass
class Family:
    """What a model family adds to the shared command.

    config_class:         a `training.Config` (or a subclass with the family's fields)
    add_model_arguments:  (argparse group, defaults) -> None: the family's own flags
    check_config:         (config, label) -> [problem, ...], each naming label(field)
    parameter_shapes:     (config, input_shape, n_classes) -> {name: shape}, in the
                          order of model.named_parameters(); no memory is allocated
    build_model:          (config, input_shape, n_classes) -> a models.nn.Module with
                          .weights() (the arrays L2 penalises)
    flatten:              True: images reach the model as 784-vectors; False: (28, 28)
    draw_plots:           (run_dir, model, config) -> None: the family's own figures
    add_modes, modes:     extra modes: add_modes(group) adds their flags (e.g.
                          --check-grads) and modes maps each flag's dest to
                          run(args) -> exit code
    lr_by_optimizer:      {optimiser: learning rate} used when --lr is not given
                          (None: the config's own lr, whatever the optimiser)
    """
    name: str
    description: str
    config_class: type
    add_model_arguments: Callable
    check_config: Callable
    parameter_shapes: Callable
    build_model: Callable
    flatten: bool = True
    draw_plots: Callable = None
    add_modes: Callable = None
    modes: dict = None
    lr_by_optimizer: dict = None

    @property
    def prog(self):
        return f"python -m models.{self.name}"


class _Help(argparse.ArgumentDefaultsHelpFormatter):
    """Show defaults, but not the uninformative None / False of optional flags."""

    def _get_help_string(self, action):
        if action.default in (None, False):
            return action.help
        return super()._get_help_string(action)


# ---- the flags -----------------------------------------------------------------------

def parser(family):
    d = family.config_class()
    p = argparse.ArgumentParser(prog=family.prog, description=family.description,
                                formatter_class=_Help)
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
    monitoring.add_arguments(p)
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
    monitoring.check_arguments(args, p.error)
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


# ---- data ----------------------------------------------------------------------------

def load_data(config, args, family):
    from .datasets import load_dataset
    splits = load_dataset(config.dataset, data_dir=args.data_dir,
                          download=not args.no_download, val_size=config.val_size,
                          seed=config.seed, dtype=np.dtype(config.dtype),
                          flatten=family.flatten)
    from .datasets import named_dir
    named = named_dir(args.data_dir)
    if named is not None and splits.source is not None and \
            named.resolve() not in splits.source.resolve().parents:
        print(f"note: {named} holds no {config.dataset} files, so the installed copy in "
              f"{splits.source} was read", file=sys.stderr)
    per_image = math.prod(splits.x_train.shape[1:])
    if per_image != math.prod(IMAGE_SHAPE):
        raise UsageError(f"the {config.dataset} images found have {per_image} pixels each; "
                         f"this command trains on 28×28 images (check --data-dir)")
    return subset(splits, config)


def subset(splits, config):
    """The seeded training subset asked for by --train-size."""
    if not config.train_size:
        return splits
    if config.train_size > len(splits.x_train):
        raise UsageError(f"--train-size {config.train_size} is more than the "
                         f"{len(splits.x_train)} training images available")
    keep = np.random.default_rng([config.seed, 1]).permutation(len(splits.x_train))
    keep = np.sort(keep[:config.train_size])
    return splits._replace(x_train=splits.x_train[keep], y_train=splits.y_train[keep])


def versions():
    import matplotlib
    return {"tape": tape.__version__, "numpy": np.__version__, "python": platform.python_version(),
            "matplotlib": matplotlib.__version__}


# ---- what a checkpoint must hold -----------------------------------------------------

def _shapes_of(saved):
    input_shape = tuple(saved.get("input_shape", IMAGE_SHAPE))
    return input_shape, int(saved.get("n_classes", N_CLASSES))


def _check_kind(saved, path, family, kind):
    owner = saved.get("family", "twolayer")
    if owner != family.name:
        raise CheckpointError(f"{path} was saved by models.{owner}; use python -m "
                              f"models.{owner} with it")
    is_resume = "state" in saved
    if kind == "model" and is_resume:
        raise CheckpointError(f"{path} is a resume checkpoint (last.npz), not a model: "
                              f"use --test {path.parent / 'model.npz'}, or continue training "
                              f"with --resume {path.parent}")
    if kind == "resume" and not is_resume:
        raise CheckpointError(f"{path} is a model (model.npz), not a resume checkpoint: "
                              f"test it with --test {path}")


def model_members(family, path):
    """expected(saved) for load_checkpoint: a model.npz of this family."""
    def expected(saved):
        _check_kind(saved, path, family, "model")
        config = config_from_dict(saved.get("config", {}), family, path)
        input_shape, n_classes = _shapes_of(saved)
        return {name: (shape, config.dtype) for name, shape in
                family.parameter_shapes(config, input_shape, n_classes).items()}
    return expected


def resume_members(family, path):
    """expected(saved) for load_checkpoint: a last.npz of this family."""
    def expected(saved):
        _check_kind(saved, path, family, "resume")
        config = config_from_dict(saved.get("config", {}), family, path)
        state = saved["state"]
        _check_state(state, path)
        input_shape, n_classes = _shapes_of(saved)
        shapes = family.parameter_shapes(config, input_shape, n_classes)
        members = {f"param/{name}": (shape, config.dtype) for name, shape in shapes.items()}
        members["optim/steps"] = ((), np.dtype(int))
        if state["history"]:       # the slots exist once the optimiser has taken a step
            for slot in SLOTS[config.optimizer]:
                members.update({f"optim/{slot}.{i}": (shape, config.dtype)
                                for i, shape in enumerate(shapes.values())})
        if state["best"] is not None:
            members.update({f"best/{name}": (shape, config.dtype)
                            for name, shape in shapes.items()})
        members.update(_watch_members(state, path))
        return members
    return expected


def _watch_members(state, path):
    """The arrays the run's callbacks saved (per-step history, statistics), as listed."""
    listed = state.get("watch", {})
    try:
        return {name: (tuple(int(n) for n in shape), np.dtype(dtype))
                for name, (shape, dtype) in listed.items() if name.startswith("watch/")}
    except (TypeError, ValueError, AttributeError):
        raise CheckpointError(f"{path}: its list of monitoring arrays is damaged; it cannot "
                              f"be resumed") from None


def _check_state(state, path):
    columns = [column[0] for column in COLUMNS]
    ok = (isinstance(state, dict) and isinstance(state.get("history"), list)
          and all(isinstance(row, dict) and all(c in row for c in columns)
                  for row in state["history"])
          and isinstance(state.get("bad_epochs"), int)
          and (state.get("best") is None or isinstance(state["best"], dict)))
    if ok and state["best"] is not None:
        ok = all(k in state["best"] for k in ("epoch", "score", "val_acc", "val_loss"))
    if ok:
        ok = [row["epoch"] for row in state["history"]] == \
            list(range(1, len(state["history"]) + 1))
    if not ok:
        raise CheckpointError(f"{path}: its training state (history, best epoch) is "
                              f"damaged; it cannot be resumed")


def non_finite(arrays):
    """Names of the arrays holding NaN or inf."""
    return [name for name, a in arrays.items()
            if a.dtype.kind in "fc" and not np.isfinite(a).all()]


# ---- the flows -----------------------------------------------------------------------

def train(args, family, argv):
    if args.resume:
        run_dir = RunDirectory.resume(args.resume)
    else:
        check_writable_dir(args.out or "runs")
        run_dir = RunDirectory.create(args.out, overwrite=args.overwrite)
    progress = {"saved_epoch": None}    # the last epoch in last.npz, once it is known
    with run_dir:
        try:
            return _train_in(run_dir, args, family, argv, progress)
        except KeyboardInterrupt:
            print("\n" + _interrupted(family, run_dir, progress["saved_epoch"], args.resume),
                  file=sys.stderr)
            return EXIT_INTERRUPTED


def _train_in(run_dir, args, family, argv, progress):
    checkpoint = run_dir / "last.npz"
    if args.resume:
        arrays, saved = load_checkpoint(checkpoint, resume_members(family, checkpoint))
        bad = non_finite(arrays)
        if bad:
            raise CheckpointError(f"{checkpoint} holds NaN or inf in {', '.join(bad)}; it "
                                  f"cannot be resumed (start a new run)")
        config = config_from_dict(saved["config"], family, checkpoint)
        done = len(saved["state"]["history"])
        _check_resume_flags(args, config, family, argv, done)
        note = None
        if args.epochs is not None and args.epochs != config.epochs:
            note = _schedule_note(config, args.epochs, done)
            config.epochs = args.epochs
        print(f"resuming {run_dir} after epoch {done} of {config.epochs}")
        if note:
            print(note)
    else:
        config = config_from(args, family)
        done = 0

    splits = load_data(config, args, family)
    print(f"{config.dataset}: {len(splits.x_train)} train / {len(splits.x_val)} validation "
          f"/ {len(splits.x_test)} test images; run directory {run_dir}")
    monitor = monitoring.Monitor(monitoring.settings_from(args), run_dir.path)
    run = Run(config, model=family.build_model(config, IMAGE_SHAPE, N_CLASSES),
              callbacks=monitor.callbacks(), compile=args.compile)
    if args.resume:
        run.restore(arrays, saved["state"])
    print(f"model {run.model} · {describe_setup(config)} · {config.optimizer} lr "
          f"{config.lr:g} ({config.schedule}) · l2 {config.l2:g} · batch {config.batch_size} · "
          f"{plural(config.epochs, 'epoch')}")

    meta = {"family": family.name, "input_shape": list(IMAGE_SHAPE), "n_classes": N_CLASSES}
    progress["saved_epoch"] = done if args.resume else None

    def save_state(run):
        arrays, state = run.training_state()
        save_checkpoint(checkpoint, arrays, {**meta, "config": config.to_dict(),
                                             "state": state, "versions": versions()})
        progress["saved_epoch"] = run.epoch

    def on_epoch(run, improved):
        if improved:
            save_model(run_dir / "model.npz", run, config, meta)
        save_state(run)

    started = time.perf_counter()
    wall_before = sum(r["seconds"] for r in run.history)
    diverged = None
    try:
        if not args.resume:
            save_state(run)          # epoch 0: a run killed in epoch 1 can be resumed
        run.fit(splits, on_epoch=on_epoch, progress=not args.no_progress,
                table=not args.log_every)
    except Diverged as e:
        diverged = str(e)
        print(f"training diverged: {e}. {likely_cause(config, run, splits)}", file=sys.stderr)
        if run.best is None:
            print(f"no epoch ended without diverging, so no model was saved ({checkpoint} "
                  f"holds the initial state).", file=sys.stderr)
            return 1
        print(f"the last good model is kept: {run_dir / 'model.npz'} "
              f"(epoch {run.best['epoch']}, all parameters finite)", file=sys.stderr)

    run.model.load_state_dict(run.best["params"])
    test_loss, test_acc = evaluate(run.model, splits.x_test, splits.y_test, config.loss)
    metrics = {"config": config.to_dict(), "history": run.history,
               "best_epoch": run.best["epoch"], "best_val_acc": run.best["val_acc"],
               "test_accuracy": test_acc, "test_loss": test_loss,
               "wall_seconds": wall_before + time.perf_counter() - started,
               "diverged": diverged, "monitoring": monitor.summary(), "versions": versions()}
    write_json(run_dir / "metrics.json", metrics)
    monitor.save(run_dir.path, run)
    if not args.no_plots:
        draw_plots(run_dir, run, config, family, monitor)
    print(f"best validation accuracy {run.best['val_acc']:.4f} at epoch "
          f"{run.best['epoch']}; saved {run_dir / 'model.npz'}")
    print(f"test accuracy: {test_acc:.4f}  test loss: {number(test_loss)}")
    return 1 if diverged else 0


def print_backward(args, family):
    """`--print-backward`: the generated source of one training step of the configured
    network, on a batch of random images of the configured size."""
    config = config_from(args, family)
    model = family.build_model(config, IMAGE_SHAPE, N_CLASSES)
    shape = (math.prod(IMAGE_SHAPE),) if family.flatten else IMAGE_SHAPE
    rng = np.random.default_rng(config.seed)
    x = rng.random((config.batch_size, *shape)).astype(config.dtype)
    y = rng.integers(0, N_CLASSES, config.batch_size)
    step = compiled_step(model, config, N_CLASSES)
    step(x, y)
    print(f"# {family.prog}: one training step of {model}, {config.loss} loss"
          f"{f', l2 {config.l2:g}' if config.l2 else ''}, batch {config.batch_size}")
    print(step.compiled.source, end="")
    return 0


def describe_setup(config):
    """The loss, the initialisation and the dtype, as the header and the plots name them."""
    init = getattr(config, "init", None)
    if init == "gaussian":
        init = f"gaussian σ {config.weight_scale:g}"
    return " · ".join(part for part in (f"loss {config.loss}",
                                        f"init {init}" if init else None, config.dtype) if part)


def plural(n, word):
    return f"{n} {word}" if n == 1 else f"{n} {word}s"


def number(value):
    """A loss for a sentence: four decimals, or four significant digits when huge."""
    return f"{value:.4f}" if abs(value) < 1e6 or not math.isfinite(value) else f"{value:.4g}"


def likely_cause(config, run, splits):
    """The likeliest reason a run diverged, and what to try."""
    for name, x in (("training", splits.x_train), ("validation", splits.x_val)):
        if not np.isfinite(x).all():
            return (f"The {name} images contain NaN or inf values: fix the data files "
                    f"(the learning rate is not to blame).")
    if config.l2 * run.optimizer.lr >= 1:
        factor = 1 - config.l2 * run.optimizer.lr
        return (f"The L2 strength is too large for this learning rate: lr·l2 = "
                f"{run.optimizer.lr:g}·{config.l2:g} ≥ 1, so the decay term alone multiplies "
                f"the weights by 1 − lr·l2 = {factor:.3g} each step (W ← (1 − lr·l2)·W − "
                f"lr·g), overshooting zero; try a smaller --l2 (e.g. {config.l2 / 100:g}).")
    return (f"The learning rate {run.optimizer.lr:g} is probably too large: try a smaller "
            f"--lr (e.g. {config.lr / 10:g}).")


def _interrupted(family, run_dir, saved_epoch, resumed):
    if saved_epoch is None and not resumed:
        return (f"interrupted before training started: nothing was saved; run the same "
                f"command again (with --out {run_dir})")
    if saved_epoch is None:
        return f"interrupted before training resumed: {run_dir} is unchanged"
    if saved_epoch == 0:
        return (f"interrupted before the first epoch finished: no trained epoch was saved; "
                f"{family.prog} --resume {run_dir} starts again from epoch 1")
    saved = "epoch 1 is" if saved_epoch == 1 else f"epochs 1–{saved_epoch} are"
    return (f"interrupted: {saved} saved in {run_dir / 'last.npz'}; continue with "
            f"{family.prog} --resume {run_dir}")


def _check_resume_flags(args, config, family, argv, done):
    given = given_flags(argv, family)
    saved = config.to_dict()
    clashes = []
    for dest, value in given.items():
        if dest in RESUME_MAY_CHANGE or dest not in saved:
            continue
        if value != saved[dest]:
            clashes.append(f"{flag(dest)} {_show(value)} (saved: {_show(saved[dest])})")
    if clashes:
        raise UsageError(f"--resume {args.resume}: {', '.join(clashes)} "
                         f"contradict{'s' if len(clashes) == 1 else ''} the saved run; a "
                         f"resumed run keeps its settings (only a larger --epochs may be "
                         f"given): drop {'it' if len(clashes) == 1 else 'them'}, or start a "
                         f"new run with another --out")
    if args.epochs is not None and args.epochs < max(done, 1):
        raise UsageError(f"--resume {args.resume}: --epochs {args.epochs} is fewer than the "
                         f"{done} epochs already trained")
    if args.epochs is None and done >= config.epochs:
        raise UsageError(f"--resume {args.resume}: the run has already trained all its "
                         f"{config.epochs} epochs; pass a larger --epochs to extend it")


def _show(value):
    return " ".join(map(str, value)) if isinstance(value, list) else str(value)


def _schedule_note(config, epochs, done):
    if config.schedule == "cosine":
        return (f"extending the run from {config.epochs} to {epochs} epochs: the cosine "
                f"schedule is recomputed over {epochs} epochs from epoch {done + 1} on, so "
                f"the learning rate jumps and the result differs from a run started with "
                f"--epochs {epochs}")
    return (f"extending the run from {config.epochs} to {epochs} epochs: the "
            f"{config.schedule} schedule does not depend on the number of epochs, so it "
            f"continues unchanged")


def save_model(path, run, config, meta):
    best = run.best
    save_checkpoint(path, best["params"],
                    {**meta, "config": config.to_dict(), "epoch": best["epoch"],
                     "val_acc": best["val_acc"], "val_loss": best["val_loss"],
                     "versions": versions()})


def test(args, family):
    from pathlib import Path
    path = Path(args.test)
    if path.is_dir():
        raise UsageError(f"--test takes a model file, and {path} is a directory: use "
                         f"--test {path / 'model.npz'}")
    params, saved = load_checkpoint(path, model_members(family, path))
    config = config_from_dict(saved["config"], family, path)
    input_shape, n_classes = _shapes_of(saved)
    model = family.build_model(config, input_shape, n_classes)
    model.load_state_dict(params)
    bad = non_finite(params)
    splits = load_data(config, args, family)
    with np.errstate(all="ignore" if bad else "warn"):   # NaN weights: warned about below
        loss, acc = evaluate(model, splits.x_test, splits.y_test, config.loss)
    val_acc = saved.get("val_acc")
    shown = f"{val_acc:.4f}" if isinstance(val_acc, (int, float)) else "unknown"
    print(f"{path}: {model} trained on {config.dataset} "
          f"(epoch {saved.get('epoch')}, validation accuracy {shown})")
    print(f"test accuracy: {acc:.4f}  test loss: {loss:.4f}")
    if bad:
        print(f"warning: {path} holds NaN or inf in {', '.join(bad)}, so its predictions "
              f"are meaningless; retrain, or test the run's earlier model", file=sys.stderr)
        return 1
    return 0


def curves_title(config, model):
    """curves.png's title: the data and the model, then the whole training setup."""
    return (f"{config.dataset}: {model}\n{describe_setup(config)} · {config.optimizer} "
            f"lr {config.lr:g} ({config.schedule}) · l2 {config.l2:g} · batch "
            f"{config.batch_size}")


def draw_plots(run_dir, run, config, family, monitor):
    title = curves_title(config, run.model)
    monitor.draw(run_dir.path, run, title)       # curves.png (every step), stats.png
    if family.draw_plots:
        family.draw_plots(run_dir, run.model, config)


# ---- the command ---------------------------------------------------------------------

def main(family, argv=None):
    """Parse, validate (before any data is read), run the chosen mode; exit code."""
    argv = sys.argv[1:] if argv is None else list(argv)
    p = parser(family)
    args = p.parse_args(argv)
    validate_flags(args, p, family, argv)
    keep_freed_memory()

    def run(_):
        if args.test:
            return test(args, family)
        if args.print_backward:
            return print_backward(args, family)
        for dest, run_mode in (family.modes or {}).items():
            if getattr(args, dest):
                return run_mode(args)
        return train(args, family, argv)

    return run_command(run)


