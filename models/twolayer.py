"""`python -m models.twolayer`: train the course's two-layer classifier on MNIST.

    python -m models.twolayer                          # train on MNIST (downloaded once)
    python -m models.twolayer --dataset fashion-mnist  # Fashion-MNIST
    python -m models.twolayer --test runs/X/model.npz  # evaluate a saved model
    python -m models.twolayer --check-grads            # hand-derived vs tape gradients
    python -m models.twolayer --resume runs/X          # continue an interrupted run

A run directory holds model.npz (the best-validation parameters and the config),
last.npz (everything needed to resume), metrics.json and the plots.
"""

import argparse
import json
import platform
import sys
import time
from datetime import datetime
from pathlib import Path

import numpy as np

import tape
from .nn import ACTIVATIONS, INITS
from .checkpoint import CheckpointError, atomic_write, load_checkpoint, save_checkpoint
from .optim import OPTIMIZERS
from .schedules import SCHEDULES
from .training import LOSSES, Config, Diverged, Run, build_model, evaluate

DATASETS = ("mnist", "fashion-mnist")
DEFAULTS = Config()


class _Help(argparse.ArgumentDefaultsHelpFormatter):
    """Show defaults, but not the uninformative None / False of optional flags."""

    def _get_help_string(self, action):
        if action.default in (None, False):
            return action.help
        return super()._get_help_string(action)


def parser():
    p = argparse.ArgumentParser(
        prog="python -m models.twolayer",
        description="Train (or test, or gradient-check) the two-layer MNIST classifier, "
                    "built from tape operations.",
        formatter_class=_Help)
    mode = p.add_argument_group("what to do (default: train)")
    mode.add_argument("--test", metavar="MODEL.npz",
                      help="load a saved model and print its test accuracy and loss")
    mode.add_argument("--check-grads", action="store_true",
                      help="compare hand-derived, tape and finite-difference gradients of "
                           "the two-layer net on one batch; exit 1 on disagreement")
    mode.add_argument("--resume", metavar="RUN_DIR",
                      help="continue the run saved in RUN_DIR (its last.npz)")

    data = p.add_argument_group("data")
    data.add_argument("--dataset", choices=DATASETS, default=DEFAULTS.dataset,
                      help="MNIST (downloaded once) or Fashion-MNIST (Debian's package "
                           "dataset-fashion-mnist, else downloaded)")
    data.add_argument("--data-dir", metavar="DIR",
                      help="where the dataset files are cached (default: $TAPE_DATA_DIR, "
                           "else $XDG_CACHE_HOME/tape-autodiff)")
    data.add_argument("--no-download", action="store_true",
                      help="never touch the network; fail if the files are not there")
    data.add_argument("--val-size", type=int, default=DEFAULTS.val_size,
                      help="images held out of the 60,000 training images for validation")
    data.add_argument("--train-size", type=int, default=DEFAULTS.train_size,
                      help="train on a seeded subset of this many images (0: all)")

    model = p.add_argument_group("model")
    model.add_argument("--hidden", type=int, nargs="+", default=DEFAULTS.hidden,
                       metavar="N", help="hidden layer sizes; two or more give a deeper MLP")
    model.add_argument("--activation", choices=list(ACTIVATIONS), default=DEFAULTS.activation,
                       help="activation of the hidden layers (leaky_relu: slope 0.01)")
    model.add_argument("--init", choices=INITS, default=DEFAULTS.init,
                       help="initial weights: He (std √(2/fan_in)), Xavier (√(2/(fan_in+"
                            "fan_out))), LeCun (√(1/fan_in)) or gaussian (std --weight-scale)")
    model.add_argument("--weight-scale", type=float, default=DEFAULTS.weight_scale,
                       help="standard deviation of --init gaussian (cs231n's weight_scale)")
    model.add_argument("--loss", choices=LOSSES, default=DEFAULTS.loss,
                       help="softmax cross-entropy; MSE against one-hot targets as the mean "
                            "over all elements (mse) or as ½·Σ(y − ŷ)²/N (mse_half, report 002)")
    model.add_argument("--dtype", choices=("float32", "float64"), default=DEFAULTS.dtype,
                       help="floating-point type of the data, parameters and gradients")

    opt = p.add_argument_group("optimisation")
    opt.add_argument("--optimizer", choices=OPTIMIZERS, default=DEFAULTS.optimizer,
                     help="momentum: SGD with momentum (v ← μv − ηg; θ ← θ + v)")
    opt.add_argument("--lr", type=float, default=DEFAULTS.lr, help="initial learning rate")
    opt.add_argument("--momentum", type=float, default=DEFAULTS.momentum,
                     help="for --optimizer momentum / nesterov")
    opt.add_argument("--l2", type=float, default=DEFAULTS.l2,
                     help="L2 strength λ: adds ½λΣ‖W‖² to the loss (biases not penalised)")
    opt.add_argument("--schedule", choices=SCHEDULES, default=DEFAULTS.schedule,
                     help="learning-rate schedule, applied per epoch")
    opt.add_argument("--gamma", type=float, default=DEFAULTS.gamma,
                     help="decay factor for the step and exponential schedules")
    opt.add_argument("--step-size", type=int, default=DEFAULTS.step_size,
                     help="epochs between decays for the step schedule")
    opt.add_argument("--decay", type=float, default=DEFAULTS.decay,
                     help="decay for the inverse_time schedule: lr / (1 + decay·epoch)")
    opt.add_argument("--epochs", type=int, default=None,
                     help=f"number of epochs (default {DEFAULTS.epochs}; with --resume: "
                          f"the saved run's)")
    opt.add_argument("--batch-size", type=int, default=DEFAULTS.batch_size,
                     help="images per mini-batch")
    opt.add_argument("--patience", type=int, default=DEFAULTS.patience,
                     help="stop after this many epochs without a better validation "
                          "accuracy (0: never)")
    opt.add_argument("--seed", type=int, default=DEFAULTS.seed,
                     help="seeds the initial weights, the validation split and the batches")

    out = p.add_argument_group("output")
    out.add_argument("--out", metavar="RUN_DIR",
                     help="run directory (default: runs/<timestamp>)")
    out.add_argument("--no-progress", action="store_true", help="no progress bar")
    out.add_argument("--no-plots", action="store_true", help="do not draw the PNG plots")
    return p


def validate(args, p):
    """Reject bad values before any data is loaded."""
    def fail(message):
        p.error(message)
    if args.lr <= 0:
        fail(f"--lr must be positive, got {args.lr}")
    if any(h < 1 for h in args.hidden):
        fail(f"--hidden sizes must be at least 1, got {args.hidden}")
    if args.epochs is not None and args.epochs < 1:
        fail(f"--epochs must be at least 1, got {args.epochs}")
    if args.batch_size < 1:
        fail(f"--batch-size must be at least 1, got {args.batch_size}")
    if not 0 <= args.val_size < 60000:
        fail(f"--val-size must be between 0 and 59,999 (the training set has 60,000 "
             f"images), got {args.val_size}")
    if args.train_size < 0 or args.train_size > 60000 - args.val_size:
        fail(f"--train-size must be between 0 (all) and {60000 - args.val_size} "
             f"(60,000 minus --val-size), got {args.train_size}")
    if not args.weight_scale > 0:
        fail(f"--weight-scale must be positive, got {args.weight_scale}")
    if args.l2 < 0:
        fail(f"--l2 must be non-negative, got {args.l2}")
    if not 0 <= args.momentum < 1:
        fail(f"--momentum must be in [0, 1), got {args.momentum}")
    if args.patience < 0:
        fail(f"--patience must be non-negative, got {args.patience}")
    if args.gamma <= 0:
        fail(f"--gamma must be positive, got {args.gamma}")
    if args.step_size < 1:
        fail(f"--step-size must be at least 1, got {args.step_size}")
    if args.decay < 0:
        fail(f"--decay must be non-negative, got {args.decay}")
    if args.test and not Path(args.test).is_file():
        fail(f"--test: no such file {args.test}")
    if args.resume and not (Path(args.resume) / "last.npz").is_file():
        fail(f"--resume: {args.resume} holds no last.npz to resume from")
    if sum(map(bool, (args.test, args.check_grads, args.resume))) > 1:
        fail("choose at most one of --test, --check-grads and --resume")


def config_from(args):
    fields = {name: getattr(args, name) for name in Config.__dataclass_fields__}
    fields["epochs"] = args.epochs or DEFAULTS.epochs
    return Config(**fields)


def load_data(dataset, args, val_size, seed, dtype):
    from .datasets import load_dataset
    return load_dataset(dataset, data_dir=args.data_dir, download=not args.no_download,
                        val_size=val_size, seed=seed, dtype=np.dtype(dtype))


def subset(splits, config):
    """The seeded training subset asked for by --train-size."""
    if not config.train_size:
        return splits
    keep = np.random.default_rng([config.seed, 1]).permutation(len(splits.x_train))
    keep = np.sort(keep[:config.train_size])
    return splits._replace(x_train=splits.x_train[keep], y_train=splits.y_train[keep])


def versions():
    import matplotlib
    return {"tape": tape.__version__, "numpy": np.__version__, "python": platform.python_version(),
            "matplotlib": matplotlib.__version__}


# ---- the three modes -----------------------------------------------------------------

def train(args):
    if args.resume:
        run_dir = Path(args.resume)
        arrays, saved = load_checkpoint(run_dir / "last.npz")
        config = Config.from_dict(saved["config"])
        if args.epochs:
            config.epochs = args.epochs
        print(f"resuming {run_dir} after epoch {len(saved['state']['history'])} "
              f"of {config.epochs}")
    else:
        config = config_from(args)
        run_dir = Path(args.out) if args.out else _new_run_dir()
        run_dir.mkdir(parents=True, exist_ok=True)

    splits = subset(load_data(config.dataset, args, config.val_size, config.seed,
                              config.dtype), config)
    print(f"{config.dataset}: {len(splits.x_train)} train / {len(splits.x_val)} validation "
          f"/ {len(splits.x_test)} test images; run directory {run_dir}")
    run = Run(config, splits.x_train.shape[1], 10)
    if args.resume:
        run.restore(arrays, saved["state"])
    print(f"model {run.model} · {config.optimizer} lr {config.lr} ({config.schedule}) · "
          f"l2 {config.l2} · batch {config.batch_size} · {config.epochs} epochs")

    started = time.perf_counter()
    wall_before = (sum(r["seconds"] for r in run.history))

    def on_epoch(run, improved):
        if improved:
            save_model(run_dir / "model.npz", run, config)
        arrays, state = run.training_state()
        save_checkpoint(run_dir / "last.npz", arrays,
                        {"config": config.to_dict(), "state": state, "versions": versions()})

    diverged = None
    try:
        run.fit(splits, on_epoch=on_epoch, progress=not args.no_progress)
    except Diverged as e:
        diverged = str(e)
        print(f"training diverged: {e}. The learning rate {run.optimizer.lr:g} is probably "
              f"too large: try a smaller --lr (e.g. {config.lr / 10:g}).", file=sys.stderr)
        if run.best is None:
            print("no epoch completed, so no model was saved.", file=sys.stderr)
            return 1
        print(f"the last good checkpoint is kept: {run_dir / 'model.npz'} "
              f"(epoch {run.best['epoch']})", file=sys.stderr)

    run.model.load_state_dict(run.best["params"])
    test_loss, test_acc = evaluate(run.model, splits.x_test, splits.y_test, config.loss)
    metrics = {"config": config.to_dict(), "history": run.history,
               "best_epoch": run.best["epoch"], "best_val_acc": run.best["val_acc"],
               "test_accuracy": test_acc, "test_loss": test_loss,
               "wall_seconds": wall_before + time.perf_counter() - started,
               "diverged": diverged, "versions": versions()}
    atomic_write(run_dir / "metrics.json",
                 lambda f: f.write(json.dumps(metrics, indent=2).encode()))
    if not args.no_plots:
        draw_plots(run_dir, run, config)
    print(f"best validation accuracy {run.best['val_acc']:.4f} at epoch "
          f"{run.best['epoch']}; saved {run_dir / 'model.npz'}")
    print(f"test accuracy: {test_acc:.4f}  test loss: {test_loss:.4f}")
    return 1 if diverged else 0


def save_model(path, run, config):
    best = run.best
    save_checkpoint(path, best["params"],
                    {"config": config.to_dict(), "epoch": best["epoch"],
                     "val_acc": best["val_acc"], "val_loss": best["val_loss"],
                     "versions": versions()})


def test(args):
    try:
        params, saved = load_checkpoint(args.test)
    except CheckpointError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    if "config" not in saved:
        print(f"error: {args.test} is a checkpoint but not a model saved by "
              f"models.twolayer (no config)", file=sys.stderr)
        return 2
    config = Config.from_dict(saved["config"])
    model = build_model(config, params["W1"].shape[0], params[f"b{len(config.hidden) + 1}"].shape[0])
    model.load_state_dict(params)
    splits = load_data(config.dataset, args, config.val_size, config.seed, config.dtype)
    loss, acc = evaluate(model, splits.x_test, splits.y_test, config.loss)
    print(f"{args.test}: {model} trained on {config.dataset} "
          f"(epoch {saved.get('epoch')}, validation accuracy {saved.get('val_acc', float('nan')):.4f})")
    print(f"test accuracy: {acc:.4f}  test loss: {loss:.4f}")
    return 0


def check_grads(args):
    from .check_grads import run_check
    return run_check(args)


def draw_plots(run_dir, run, config):
    from viz.plots import plot_learning_curves, plot_weight_images
    title = f"{config.dataset}: MLP {run.model.sizes}, {config.activation}"
    plot_learning_curves(run.history, path=run_dir / "curves.png", title=title)
    if run.model.sizes[0] == 784:
        plot_weight_images(run.model.layers[0].W.data, path=run_dir / "weights.png")


def _new_run_dir():
    base = Path("runs") / datetime.now().strftime("%Y%m%d-%H%M%S")
    run_dir, k = base, 1
    while run_dir.exists():
        k += 1
        run_dir = base.with_name(f"{base.name}-{k}")
    return run_dir


def main(argv=None):
    p = parser()
    args = p.parse_args(argv)
    validate(args, p)
    try:
        if args.test:
            return test(args)
        if args.check_grads:
            return check_grads(args)
        return train(args)
    except (FileNotFoundError, ConnectionError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("\ninterrupted; the last completed epoch is saved (continue with --resume)",
              file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
