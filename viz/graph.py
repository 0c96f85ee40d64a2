"""`python -m viz.graph`: the course's examples drawn (viz/drawing.py).

    python -m viz.graph --hidden 600 400 --collapse --out mlp.svg   # any MLP's architecture
    python -m viz.graph --model twolayer --out graph.svg [--collapse]
    python -m viz.graph --model cnn --out cnn.svg [--collapse]
    python -m viz.graph --model scalar --out neuron.png

`draw`, `render` and the rest of the drawing are in viz/drawing.py; they are imported
here too, so `from viz.graph import draw, render` keeps working.
"""

from pathlib import Path

import numpy as np

import tape
from models.io.errors import OneLineParser, run_command
from models.io.files import check_writable_dir
from models.nn import MLP, CNN, ACTIVATIONS
from viz.drawing import FORMATS, GraphvizMissing, UnknownFormat, draw, render  # noqa: F401


def scalar_example():
    """micrograd's neuron: o = tanh(x1·w1 + x2·w2 + b), with every gradient filled in."""
    x1, x2 = tape.tensor(2.0, name="x1"), tape.tensor(0.0, name="x2")
    w1 = tape.tensor(-3.0, requires_grad=True, name="w1")
    w2 = tape.tensor(1.0, requires_grad=True, name="w2")
    b = tape.tensor(6.8813735870195432, requires_grad=True, name="b")
    with tape.Tape(keep_adjoints=True) as t:
        n = x1 * w1 + x2 * w2 + b
        n.name = "n"
        o = tape.tanh(n)
        o.name = "o"
    t.gradient(o, [w1, w2, b], retain_graph=True)   # adjoints of every value, on the tape
    o.backward(retain_graph=True)      # .grad on the leaves; entries kept to be drawn
    return t, o                         # the tape holds its outputs only weakly: keep o


def twolayer_example(hidden=16, batch=8, activation="relu"):
    """One training step of an MLP: loss = cross_entropy(MLP(x), y).

    hidden: one size (the two-layer net) or a list of sizes, one per hidden layer.
    """
    sizes = [784, *(hidden if isinstance(hidden, (list, tuple)) else [hidden]), 10]
    rng = np.random.default_rng(0)
    x = tape.tensor(rng.random((batch, 784), dtype=np.float32), name="x")
    y = rng.integers(0, 10, batch)
    loss = tape.cross_entropy(MLP(sizes, activation)(x), y)
    loss.name = "loss"
    loss.backward(retain_graph=True)
    return loss


def cnn_example(batch=2):
    """One step of report 003's CNN, narrowed to 4 and 8 channels and 32 fc units."""
    rng = np.random.default_rng(0)
    x = tape.tensor(rng.random((batch, 1, 28, 28), dtype=np.float32), name="x")
    y = rng.integers(0, 10, batch)
    loss = tape.cross_entropy(CNN(channels=[4, 8], kernel=5, fc=[32])(x), y)
    loss.name = "loss"
    loss.backward(retain_graph=True)
    return loss


def main(argv=None):
    """The command; a mistake (bad --out, no Graphviz) is one line and exit code 2."""
    return run_command(_draw_command, argv)


def parser():
    """The command's flags (the docs' test reads them from here)."""
    p = OneLineParser(prog="python -m viz.graph",
                       description="Draw a computation graph with Graphviz: one training "
                                   "step of an MLP or of the CNN, or a scalar neuron.")
    p.add_argument("--model", choices=("twolayer", "cnn", "scalar"), default="twolayer",
                   help="twolayer: one training step of MLP [784, *hidden, 10]; cnn: one of "
                        "the CNN (conv 4 → pool → conv 8 → pool → fc 32 → 10); "
                        "scalar: o = tanh(x1·w1 + x2·w2 + b)")
    p.add_argument("--hidden", type=int, nargs="+", default=[16], metavar="N",
                   help="hidden layer sizes of the MLP (default 16); e.g. --hidden 600 400")
    p.add_argument("--activation", choices=list(ACTIVATIONS), default="relu",
                   help="activation of the MLP's hidden layers (default relu)")
    p.add_argument("--out", default="graph.svg",
                   help="output file (default graph.svg); the format follows the extension: "
                        + ", ".join("." + f for f in FORMATS) + ", .dot")
    p.add_argument("--overwrite", action="store_true",
                   help="replace --out if it exists (otherwise an existing file is kept "
                        "and the command stops)")
    p.add_argument("--collapse", action="store_true",
                   help="draw each module (Linear1, ReLU1, ...) as one node: the architecture")
    return p


def _draw_command(argv):
    p = parser()
    args = p.parse_args(argv)
    out = Path(args.out)
    if out.is_dir():
        p.error(f"--out {args.out} is a directory; give a file name such as graph.svg")
    if out.suffix.lstrip(".").lower() not in FORMATS + ("dot", "gv"):
        p.error(f"--out {args.out}: unknown format {out.suffix or '(no extension)'!r}; "
                f"use one of {', '.join('.' + f for f in FORMATS)}, .dot")
    if out.exists() and not args.overwrite:
        p.error(f"{args.out} exists; pass --overwrite to replace it, or choose another --out")
    if min(args.hidden) < 1:
        p.error(f"--hidden sizes must be at least 1, got {args.hidden}")
    check_writable_dir(out.parent)
    if args.model == "scalar":
        root, keep_alive = scalar_example()      # noqa: F841 (o must outlive the drawing)
        title = "o = tanh(x1·w1 + x2·w2 + b)"
    elif args.model == "cnn":
        root = cnn_example()
        title = "one training step of the CNN (5×5 convolutions, 2×2 max-pooling)"
    else:
        root = twolayer_example(args.hidden, activation=args.activation)
        title = f"one training step of MLP {[784, *args.hidden, 10]}, {args.activation}"
    if args.collapse:
        title += " (each module as one node)"
    path = render(draw(root, collapse=args.collapse, title=title), out)
    print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
