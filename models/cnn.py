"""`python -m models.cnn`: train the convolutional network of report 003 on MNIST.

    python -m models.cnn --dataset fashion-mnist      # conv 32 → pool → conv 64 → pool → fc 1024 → 10
    python -m models.cnn --channels 16 32 --fc 256    # a smaller network
    python -m models.cnn --check-grads                # naive loops vs tape vs finite differences
    python -m models.cnn --test runs/X/model.npz      # evaluate a saved model
    python -m models.cnn --resume runs/X              # continue an interrupted run

This file says only what is particular to the CNN family: its flags (--channels,
--kernel, --fc, --activation, --init), its defaults (Adam; each optimiser's own learning
rate unless --lr is given), its parameter shapes, its filter picture and --check-grads.
The data, optimisation and output flags, their validation, the run directory and the
train / --test / --resume flows are `models/cli/command.py`'s, shared with `models.twolayer`.
"""

import sys
from dataclasses import dataclass, field

from models.cli import command, flags as command_flags
from models.manual.three_ways import run_cnn_check
from models.nn import ACTIVATIONS, CNN
from models.optim import DEFAULT_LR
from models.train.config import Config

INITS = ("he", "xavier")
MAX_CHANNELS, MAX_WIDTH = 4096, 100_000
POOL = 2                          # every convolution is followed by 2×2 max-pooling

# the learning rate each optimiser starts from when --lr is not given: the two-layer
# net's (models/optim/optimizers.py), with the momentum methods' steps 5× smaller, as is usual for
# convolutional networks (a starting point, not tuned here)
LR_BY_OPTIMIZER = {**DEFAULT_LR, "momentum": 0.01, "momentum_damped": 0.1, "nesterov": 0.01}


@dataclass
class CNNConfig(Config):
    """A training run of the CNN: the shared settings, the CNN's layers, its defaults."""
    channels: list = field(default_factory=lambda: [32, 64])
    kernel: int = 5
    fc: list = field(default_factory=lambda: [1024])
    optimizer: str = "adam"
    lr: float = 1e-3
    l2: float = 0.0
    epochs: int = 6


def add_model_arguments(group, defaults):
    group.add_argument("--channels", type=int, nargs="+", default=defaults.channels,
                       metavar="C", help="output channels of each convolution, each one "
                                         "followed by the activation and 2×2 max-pooling")
    group.add_argument("--kernel", type=int, default=defaults.kernel,
                       help="kernel size k of every convolution (k×k, odd: 'same' padding)")
    group.add_argument("--fc", type=int, nargs="+", default=defaults.fc, metavar="N",
                       help="sizes of the fully connected hidden layers after the convolutions")
    group.add_argument("--activation", choices=list(ACTIVATIONS), default=defaults.activation,
                       help="activation after every convolution and hidden layer "
                            "(leaky_relu: slope 0.01)")
    group.add_argument("--init", choices=INITS, default=defaults.init,
                       help="initial weights: He (Var 2/fan_in) or Xavier "
                            "(Var 2/(fan_in+fan_out)); a kernel's fan-in is C_in·k·k")


def _sizes(values):
    return (isinstance(values, list) and values
            and all(isinstance(v, int) and not isinstance(v, bool) for v in values))


def check_config(config, label):
    """The CNN's own values: channels, kernel, fully connected sizes, activation, init."""
    problems = []
    if not _sizes(config.channels):
        problems.append(f"{label('channels')} must be a list of whole numbers, got "
                        f"{config.channels!r}")
    elif not all(1 <= c <= MAX_CHANNELS for c in config.channels):
        problems.append(f"{label('channels')} must all be between 1 and {MAX_CHANNELS}, "
                        f"got {config.channels}")
    elif len(config.channels) > 4:
        problems.append(f"{label('channels')}: {len(config.channels)} convolutions, each "
                        f"followed by 2×2 pooling, would shrink a 28×28 image below 1×1; "
                        f"give at most 4, got {config.channels}")
    k = config.kernel
    if not (isinstance(k, int) and not isinstance(k, bool) and 1 <= k <= 27 and k % 2):
        problems.append(f"{label('kernel')} must be an odd number between 1 and 27 (for "
                        f"'same' padding on 28×28 images), got {k!r}")
    if not _sizes(config.fc):
        problems.append(f"{label('fc')} must be a list of whole numbers, got {config.fc!r}")
    elif not all(1 <= n <= MAX_WIDTH for n in config.fc):
        problems.append(f"{label('fc')} sizes must be between 1 and {MAX_WIDTH:,}, got "
                        f"{config.fc}")
    if config.activation not in ACTIVATIONS:
        problems.append(f"{label('activation')} must be one of {', '.join(ACTIVATIONS)}, "
                        f"got {config.activation!r}")
    if config.init not in INITS:
        problems.append(f"{label('init')} must be one of {', '.join(INITS)}, got "
                        f"{config.init!r}")
    return problems


def parameter_shapes(config, input_shape, n_classes):
    """conv1.W (C1, 1, k, k), conv1.b (C1,), ..., fc1.W (C·h·w, n1), ..., in model order."""
    h, w = input_shape
    c_in, k, shapes = 1, config.kernel, {}
    for i, c in enumerate(config.channels, start=1):
        shapes[f"conv{i}.W"], shapes[f"conv{i}.b"] = (c, c_in, k, k), (c,)
        c_in, h, w = c, h // POOL, w // POOL      # 'same' convolution, then pooling
    sizes = [c_in * h * w, *config.fc, n_classes]
    for i, (a, b) in enumerate(zip(sizes[:-1], sizes[1:]), start=1):
        shapes[f"fc{i}.W"], shapes[f"fc{i}.b"] = (a, b), (b,)
    return shapes


def build_model(config, input_shape, n_classes):
    return CNN(config.channels, config.kernel, config.fc, config.activation,
               in_shape=(1, *input_shape), n_classes=n_classes, init=config.init,
               seed=config.seed, dtype=config.dtype)


def draw_plots(run_dir, model, config):
    from viz.plots import plot_weight_images  # start-up: matplotlib loads only when a figure is drawn
    filters = model.conv1.W.data            # (C_out, 1, k, k): the first layer's kernels
    k = filters.shape[2]
    plot_weight_images(filters.reshape(len(filters), -1).T, path=run_dir / "filters.png",
                       shape=(k, k), ncols=8,
                       title=f"First-layer {k}×{k} filters (one colour scale, its numbers on the bar)")


def add_modes(group):
    group.add_argument("--check-grads", action="store_true",
                       help="compare the naive loops of models/manual/formulas.py, the tape and "
                            "finite differences for every parameter of the CNN on a few "
                            "images; exit 1 on disagreement")


def check_grads(args):
    return run_cnn_check(args)


FAMILY = command.Family(
    name="cnn",
    description="Train (or test, or gradient-check) a convolutional MNIST classifier "
                "(report 003's network by default), built from tape operations.",
    config_class=CNNConfig,
    add_model_arguments=add_model_arguments,
    check_config=check_config,
    parameter_shapes=parameter_shapes,
    build_model=build_model,
    draw_plots=draw_plots,
    add_modes=add_modes,
    modes={"check_grads": check_grads},
    lr_by_optimizer=LR_BY_OPTIMIZER)

DEFAULTS = CNNConfig()


def parser():
    return command_flags.parser(FAMILY)


def main(argv=None):
    return command.main(FAMILY, argv)


if __name__ == "__main__":
    sys.exit(main())
