"""`python -m models.twolayer`: train the course's two-layer classifier on MNIST.

    python -m models.twolayer                          # train on MNIST (downloaded once)
    python -m models.twolayer --dataset fashion-mnist  # Fashion-MNIST
    python -m models.twolayer --test runs/X/model.npz  # evaluate a saved model
    python -m models.twolayer --check-grads            # hand-derived vs tape gradients
    python -m models.twolayer --resume runs/X          # continue an interrupted run

This file says only what is particular to the MLP family (its flags --hidden,
--activation, --init, its parameter shapes, its weight picture and --check-grads);
the flags for data, optimisation and output, their validation, the run directory and
the train / --test / --resume flows are shared by every model family in
`models/cli/command.py`.
"""

import math
import sys

from models.cli import command, flags as command_flags
from models.manual.three_ways import run_check
from models.nn import ACTIVATIONS, INITS
from models.optim import DEFAULT_LR
from models.train.config import Config, build_model as build_mlp

MAX_WIDTH = 100_000


def add_model_arguments(group, defaults):
    group.add_argument("--hidden", type=int, nargs="+", default=defaults.hidden,
                       metavar="N", help="hidden layer sizes; two or more give a deeper MLP")
    group.add_argument("--activation", choices=list(ACTIVATIONS), default=defaults.activation,
                       help="activation of the hidden layers (leaky_relu: slope 0.01)")
    group.add_argument("--init", choices=INITS, default=defaults.init,
                       help="initial weights N(0, σ²): He (σ = √(2/fan_in)), Xavier "
                            "(√(2/(fan_in+fan_out))), LeCun (√(1/fan_in)) or gaussian "
                            "(σ = --weight-scale, cs231n's)")
    group.add_argument("--weight-scale", type=float, default=defaults.weight_scale,
                       help="σ of --init gaussian (cs231n's weight_scale; report 004)")


def check_config(config, label):
    """The MLP's own values: hidden sizes, activation, initialisation."""
    problems = []
    hidden = config.hidden
    if not (isinstance(hidden, list) and hidden
            and all(isinstance(h, int) and not isinstance(h, bool) for h in hidden)):
        problems.append(f"{label('hidden')} must be a list of whole numbers, got {hidden!r}")
    elif not all(1 <= h <= MAX_WIDTH for h in hidden):
        problems.append(f"{label('hidden')} sizes must be at least 1 (and at most "
                        f"{MAX_WIDTH:,}), got {hidden}")
    if config.activation not in ACTIVATIONS:
        problems.append(f"{label('activation')} must be one of {', '.join(ACTIVATIONS)}, "
                        f"got {config.activation!r}")
    if config.init not in INITS:
        problems.append(f"{label('init')} must be one of {', '.join(INITS)}, got "
                        f"{config.init!r}")
    scale = config.weight_scale
    if not (isinstance(scale, (int, float)) and not isinstance(scale, bool)
            and math.isfinite(scale) and scale > 0):
        problems.append(f"{label('weight_scale')} must be a positive finite number, got "
                        f"{scale!r}")
    return problems


def parameter_shapes(config, input_shape, n_classes):
    """W1 (784, h1), b1 (h1,), ..., the last layer to the classes."""
    n_inputs = 1
    for n in input_shape:
        n_inputs *= n
    sizes = [n_inputs, *config.hidden, n_classes]
    shapes = {}
    for i, (a, b) in enumerate(zip(sizes[:-1], sizes[1:]), start=1):
        shapes[f"W{i}"], shapes[f"b{i}"] = (a, b), (b,)
    return shapes


def build_model(config, input_shape, n_classes):
    n_inputs = 1
    for n in input_shape:
        n_inputs *= n
    return build_mlp(config, n_inputs, n_classes)


def draw_plots(run_dir, model, config):
    """weights.png: what the first layer learned, W1 − W1 at initialisation (rebuilt from
    the config's seed), for the units that changed most: a wide net's raw weights are
    mostly their random start, which hides what was learned."""
    from viz.plots import plot_weight_images  # start-up: matplotlib loads only when a figure is drawn
    if model.sizes[0] == 784:
        initial = build_mlp(config, model.sizes[0], model.sizes[-1]).layers[0].W.data
        plot_weight_images(model.layers[0].W.data, initial=initial,
                           path=run_dir / "weights.png",
                           title=f"What the first layer learned, W1 − W1 at initialisation: "
                                 f"the 32 of {model.sizes[1]} hidden units that changed most "
                                 f"(tile: unit and ‖change‖)")


def add_modes(group):
    group.add_argument("--check-grads", action="store_true",
                       help="compare hand-derived, tape and finite-difference gradients of "
                            "the two-layer net on one batch; exit 1 on disagreement")


def check_grads(args):
    return run_check(args)


FAMILY = command.Family(
    name="twolayer",
    description="Train (or test, or gradient-check) the two-layer MNIST classifier, "
                "built from tape operations.",
    config_class=Config,
    add_model_arguments=add_model_arguments,
    check_config=check_config,
    parameter_shapes=parameter_shapes,
    build_model=build_model,
    draw_plots=draw_plots,
    add_modes=add_modes,
    modes={"check_grads": check_grads},
    lr_by_optimizer=DEFAULT_LR)

DEFAULTS = Config()


def parser():
    return command_flags.parser(FAMILY)


def main(argv=None):
    return command.main(FAMILY, argv)


if __name__ == "__main__":
    sys.exit(main())
