"""`python -m models.cnn`: train the convolutional network of report 003 on MNIST.

    python -m models.cnn --dataset fashion-mnist      # conv 32 → pool → conv 64 → pool → fc 1024 → 10
    python -m models.cnn --channels 16 32 --fc 256    # a smaller network
    python -m models.cnn --check-grads                # naive loops vs tape vs finite differences
    python -m models.cnn --test runs/X/model.npz      # evaluate a saved model
    python -m models.cnn --resume runs/X              # continue an interrupted run

Only the model's flags are its own (--channels, --kernel, --fc) and its defaults (Adam,
each optimiser's own learning rate unless --lr is given). The data, the training loop,
checkpoints, --resume, --test, --patience and the run directory are `models.twolayer`'s:
this module is a `Family` handed to its `main`.
"""

import sys

from .training import Config
from .twolayer import Family, main as twolayer_main

DEFAULTS = Config(model="cnn", optimizer="adam", lr=None, l2=0.0, schedule="cosine",
                  epochs=6, batch_size=128)


def add_cnn_arguments(group, defaults):
    group.add_argument("--channels", type=int, nargs="+", default=defaults.channels,
                       metavar="C", help="output channels of each convolution (each one "
                                         "followed by the activation and 2×2 max-pooling)")
    group.add_argument("--kernel", type=int, default=defaults.kernel,
                       help="kernel size k of every convolution (k×k, odd: 'same' padding)")
    group.add_argument("--fc", type=int, nargs="+", default=defaults.fc, metavar="N",
                       help="sizes of the fully connected hidden layers after the convolutions")


def validate_cnn(args, fail):
    if any(c < 1 for c in args.channels):
        fail(f"--channels must all be at least 1, got {args.channels}")
    if args.kernel < 1 or args.kernel % 2 == 0:
        fail(f"--kernel must be an odd number ≥ 1 (for 'same' padding), got {args.kernel}")
    if any(n < 1 for n in args.fc):
        fail(f"--fc sizes must be at least 1, got {args.fc}")
    if len(args.channels) > 4:
        fail(f"--channels: {len(args.channels)} convolutions with 2×2 pooling would shrink a "
             f"28×28 image below 1×1; give at most 4")
    if args.loss != "cross_entropy" and args.check_grads:
        fail("--check-grads for the CNN checks the cross-entropy loss; drop --loss")


def check_grads(args):
    from .check_grads import run_cnn_check
    return run_cnn_check(args)


def draw_plots(run_dir, run, config):
    from viz.plots import plot_learning_curves, plot_weight_images
    model = run.model
    title = (f"{config.dataset}: CNN channels {model.channels}, {model.kernel}×{model.kernel}, "
             f"fc {model.fc}, {config.activation}")
    plot_learning_curves(run.history, path=run_dir / "curves.png", title=title)
    filters = model.conv1.W.data            # (C_out, 1, k, k): the first layer's kernels
    k = filters.shape[2]
    plot_weight_images(filters.reshape(len(filters), -1).T, path=run_dir / "filters.png",
                       shape=(k, k), ncols=8,
                       title=f"First-layer {k}×{k} filters (each on its own scale ±max|w|)")


CNN_FAMILY = Family(
    "cnn", "python -m models.cnn",
    "Train (or test, or gradient-check) a convolutional MNIST classifier (report 003's "
    "network by default), built from tape operations.", DEFAULTS, add_cnn_arguments,
    validate_cnn,
    lambda args: {"model": "cnn", "channels": args.channels, "kernel": args.kernel, "fc": args.fc},
    check_grads, draw_plots)


def main(argv=None):
    return twolayer_main(argv, CNN_FAMILY)


if __name__ == "__main__":
    sys.exit(main())
