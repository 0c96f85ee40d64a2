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
(`models.io.errors`); a diverging run ends with exit code 1.
"""

import math
import platform
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import numpy as np

import tape
from models.cli.figures import draw_plots
from models.cli.flags import (IMAGE_SHAPE, N_CLASSES, RESUME_MAY_CHANGE, config_from,
                              config_from_dict, flag, given_flags, monitoring_from, parser,
                              validate_flags)
from models.cli.presets import apply_preset
from models.cli.members import model_members, non_finite, resume_members, shapes_of
from models.cli.rundir import RunDirectory
from models.cli.wording import describe_setup, number, plural
from models.data.datasets import load_dataset, named_dir
from models.io.errors import EXIT_INTERRUPTED, UsageError, run_command
from models.io.files import check_writable_dir, write_json
from models.train import monitor as monitoring
from models.train.allocator import keep_freed_memory
from models.train.checkpoint import CheckpointError, load_checkpoint, save_checkpoint
from models.train.compiled import compiled_step
from models.train.divergence import Diverged
from models.train.loop import Run, steps_per_epoch
from models.train.losses import evaluate


@dataclass
class Family:
    """What a model family adds to the shared command.

    config_class:         a `models.train.config.Config` (or a subclass with the family's fields)
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


# ---- data ----------------------------------------------------------------------------

def recorded_data_dir(args, saved, source):
    """--test and --resume read the data from the folder the run was trained from (saved
    with it) unless --data-dir names another; `source` is the file that remembers it."""
    if args.data_dir is None and saved.get("data_dir"):
        args.data_dir = saved["data_dir"]
        args.data_dir_recorded = source


def data_dir_of(args):
    """The data folder to record with a run: absolute, so it works from any directory."""
    return str(Path(args.data_dir).resolve()) if args.data_dir else None


def load_data(config, args, family):
    try:
        splits = load_dataset(config.dataset, data_dir=args.data_dir,
                              download=not args.no_download, val_size=config.val_size,
                              seed=config.seed, dtype=np.dtype(config.dtype),
                              flatten=family.flatten)
    except (OSError, ConnectionError) as e:
        source = getattr(args, "data_dir_recorded", None)
        if source is None:
            raise
        raise UsageError(f"{source} was trained on {config.dataset} from the folder "
                         f"{args.data_dir}, and its files are not there now "
                         f"({' '.join(str(e).split())[:200]}); give the folder that holds "
                         f"them: --data-dir DIR") from None
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
    import matplotlib  # start-up: loaded here only for its version, at the end of a run
    return {"tape": tape.__version__, "numpy": np.__version__, "python": platform.python_version(),
            "matplotlib": matplotlib.__version__}


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
        recorded_data_dir(args, saved, checkpoint)
        done = len(saved["state"]["history"])
        finishing = _trained_but_unfinished(run_dir, config, saved["state"], args)
        _check_resume_flags(args, config, family, argv, done, finishing)
        note = None
        if args.epochs is not None and args.epochs != config.epochs:
            note = _schedule_note(config, args.epochs, done)
            config.epochs = args.epochs
        if finishing:
            print(f"finishing {run_dir}: its {plural(done, 'epoch')} were trained, but it "
                  f"was stopped before metrics.json and its figures were written")
        else:
            print(f"resuming {run_dir} after epoch {done} of {config.epochs}")
        if note:
            print(note)
    else:
        config = config_from(args, family)
        done, finishing = 0, False

    splits = load_data(config, args, family)
    print(f"{config.dataset}: {len(splits.x_train)} train / {len(splits.x_val)} validation "
          f"/ {len(splits.x_test)} test images; run directory {run_dir}")
    monitor = monitoring.Monitor(monitoring_from(args), run_dir.path)
    run = Run(config, model=family.build_model(config, IMAGE_SHAPE, N_CLASSES),
              callbacks=monitor.callbacks(), compile=args.compile)
    if args.resume:
        run.restore(arrays, saved["state"])
    print(f"model {run.model} · {describe_setup(config)} · {config.optimizer} lr "
          f"{config.lr:g} ({config.schedule}) · l2 {config.l2:g} · batch {config.batch_size} · "
          f"{plural(config.epochs, 'epoch')}")

    meta = {"family": family.name, "input_shape": list(IMAGE_SHAPE), "n_classes": N_CLASSES,
            "data_dir": data_dir_of(args)}
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
        if finishing:                # nothing to train: only the outputs below are missing
            run.steps_per_epoch = steps_per_epoch(len(splits.x_train), config.batch_size)
        else:
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
               "diverged": diverged, "monitoring": monitor.summary(), "versions": versions(),
               "data_dir": meta["data_dir"], "epoch_0": monitor.epoch_0()}
    monitor.save(run_dir.path, run)
    if not args.no_plots:
        draw_plots(run_dir, run, config, family, monitor)
    write_json(run_dir / "metrics.json", metrics)   # last: a run without it is unfinished
    print(f"best validation accuracy {run.best['val_acc']:.4f} at epoch "
          f"{run.best['epoch']}; saved {run_dir / 'model.npz'}")
    print(f"test accuracy: {test_acc:.4f}  test loss: {number(test_loss)}")
    return 1 if diverged else 0


def _trained_but_unfinished(run_dir, config, state, args):
    """True for a run stopped after its last epoch (all epochs trained, or early stopping)
    but before metrics.json, written last, was: --resume then only writes the outputs."""
    stopped_early = bool(config.patience) and state["bad_epochs"] >= config.patience
    trained = len(state["history"]) >= config.epochs or stopped_early
    return (trained and args.epochs in (None, config.epochs)
            and not (run_dir / "metrics.json").is_file())


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


def _check_resume_flags(args, config, family, argv, done, finishing=False):
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
    if args.epochs is None and done >= config.epochs and not finishing:
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
    path = Path(args.test)
    if path.is_dir():
        raise UsageError(f"--test takes a model file, and {path} is a directory: use "
                         f"--test {path / 'model.npz'}")
    params, saved = load_checkpoint(path, model_members(family, path))
    config = config_from_dict(saved["config"], family, path)
    recorded_data_dir(args, saved, path)
    input_shape, n_classes = shapes_of(saved)
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


# ---- the command ---------------------------------------------------------------------

def main(family, argv=None):
    """Parse, validate (before any data is read), run the chosen mode; exit code."""
    argv = sys.argv[1:] if argv is None else list(argv)
    p = parser(family)
    args = p.parse_args(argv)
    if getattr(args, "preset", None):
        for line in apply_preset(args, given_flags(argv, family), family.name, p.error):
            print(line)
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
