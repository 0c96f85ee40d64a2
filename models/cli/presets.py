"""`--preset NAME`: a course report's whole recipe in one flag, so that a run matches the
report without knowing the command's defaults (cosine decay and L2 are on by default, and
report 001 used neither).

Each preset lists every setting of the recipe: the architecture, the optimiser and its
form, the batch, the schedule, L2 and the epochs, as flags of the training command. Flags
typed on the command line override the preset's, and the command says so.
"""

from dataclasses import dataclass


@dataclass(frozen=True)
class Preset:
    family: str           # the training command it is for ("twolayer", "cnn")
    source: str           # where the recipe comes from, in one line
    flags: dict           # {flag dest: value}, in the order they are printed


PRESETS = {
    "report001": Preset(
        "twolayer",
        "report 001: 784-600-400-10 ReLU on Fashion-MNIST, mini-batch momentum "
        "v ← βv − (1−β)∇L, θ ← θ + ηv with η 0.01, β 0.8, batch 500, 500 epochs",
        {"dataset": "fashion-mnist", "hidden": [600, 400], "activation": "relu",
         "optimizer": "momentum_damped", "lr": 0.01, "momentum": 0.8, "schedule": "constant",
         "l2": 0.0, "batch_size": 500, "epochs": 500}),
    "report004": Preset(
        "twolayer",
        "report 004: cs231n's TwoLayerNet (25 hidden units, weight_scale 1e-3) and Solver "
        "(vanilla SGD, learning rate 1e-2, batch 200, 10 epochs) on MNIST, 5,000 images "
        "held out",
        {"dataset": "mnist", "val_size": 5000, "hidden": [25], "activation": "relu",
         "init": "gaussian", "weight_scale": 0.001, "optimizer": "sgd", "lr": 0.01,
         "schedule": "constant", "l2": 0.0, "batch_size": 200, "epochs": 10,
         "log_every": 100}),
}


def flag_text(dest, value):
    flag = "--" + dest.replace("_", "-")
    if isinstance(value, list):
        return f"{flag} {' '.join(map(str, value))}"
    return f"{flag} {value:g}" if isinstance(value, float) else f"{flag} {value}"


def apply_preset(args, given, family_name, fail):
    """Set the preset's flags on `args` except those in `given` (typed); returns the lines
    to print: the recipe in full, then each override. fail(message) refuses."""
    preset = PRESETS[args.preset]
    if preset.family != family_name:
        fail(f"--preset {args.preset} is a recipe for models.{preset.family}, not "
             f"models.{family_name}")
    if args.test or args.resume:
        fail("--preset sets a new run's recipe; --test and --resume read the saved one")
    lines = [f"preset {args.preset} ({preset.source}):",
             "  " + " ".join(flag_text(d, v) for d, v in preset.flags.items())]
    for dest, value in preset.flags.items():
        if dest in given:
            lines.append(f"  {flag_text(dest, getattr(args, dest))} given: overrides the "
                         f"preset's {flag_text(dest, value).split(' ', 1)[1]}")
        else:
            setattr(args, dest, value)
    return lines
