"""`python -m tutorials.thumbnails`: redraw the pictures in tutorials/README.md from the code.

Runs every tutorial (each in a fresh process, as a student would) into a temporary folder,
takes its key figure and writes it, 360 pixels wide, to tutorials/thumbnails/<name>.png.

    python -m tutorials.thumbnails            # all of them, full runs
    python -m tutorials.thumbnails --fast     # the tutorials' --fast runs (seconds)
    python -m tutorials.thumbnails mnist      # only these
"""

import os
import subprocess
import sys
import tempfile
from pathlib import Path

from matplotlib import image as mpimg
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from models.io.errors import OneLineParser
from tutorials.output import PACKAGE, written_atomically

# the figure of each lesson shown in tutorials/README.md's table (a new lesson adds its own)
KEY_FIGURES = {
    "scalars": "neuron.png",
    "backprop_by_hand": "softplus.png",
    "decision_boundaries": "moons_activation_width.png",
    "mnist": "weights.png",
    "convolution": "convolution.png",
    "layer_statistics": "update_ratio.png",
    "check_your_backward": "check_your_backward.png",
    "the_backward_pass_written": "side_by_side.png",
}
WIDTH = 360


def thumbnail(source, target, width=WIDTH):
    """`source` (a PNG) scaled to `width` pixels, aspect kept, written atomically to `target`."""
    picture = mpimg.imread(source)
    height = max(1, round(picture.shape[0] * width / picture.shape[1]))
    dpi = 100
    fig = Figure(figsize=(width / dpi, height / dpi), dpi=dpi)
    FigureCanvasAgg(fig)
    ax = fig.add_axes((0, 0, 1, 1))
    ax.imshow(picture, interpolation="antialiased")
    ax.set_axis_off()
    with written_atomically(target) as path:
        fig.savefig(path, dpi=dpi, format="png")
    return target


def main(argv=None):
    p = OneLineParser(prog="python -m tutorials.thumbnails",
                      description="Regenerate tutorials/thumbnails/*.png by running every "
                                  "tutorial.")
    p.add_argument("names", nargs="*", metavar="NAME",
                   help=f"tutorials to redraw (default: all of {', '.join(KEY_FIGURES)})")
    p.add_argument("--fast", action="store_true", help="use the tutorials' --fast runs")
    args = p.parse_args(argv)
    unknown = [n for n in args.names if n not in KEY_FIGURES]
    if unknown:
        print(f"python -m tutorials.thumbnails: error: unknown tutorial {', '.join(unknown)}; "
              f"choose from {', '.join(KEY_FIGURES)}", file=sys.stderr)
        return 2
    folder = PACKAGE / "thumbnails"
    folder.mkdir(exist_ok=True)
    env = {**os.environ, "MPLBACKEND": "Agg",
           "PYTHONPATH": os.pathsep.join(filter(None, [str(PACKAGE.parent),
                                                       os.environ.get("PYTHONPATH")]))}
    for name in args.names or KEY_FIGURES:
        with tempfile.TemporaryDirectory() as tmp:
            command = [sys.executable, "-m", f"tutorials.{name}", "--out", tmp]
            result = subprocess.run(command + (["--fast"] if args.fast else []), env=env,
                                    cwd=PACKAGE.parent, capture_output=True, text=True)
            if result.returncode != 0:
                print(result.stdout + result.stderr, file=sys.stderr)
                print(f"error: tutorials.{name} failed (exit {result.returncode}); "
                      f"thumbnails written so far are kept", file=sys.stderr)
                return 1
            target = thumbnail(Path(tmp) / KEY_FIGURES[name], folder / f"{name}.png")
        print(f"wrote {target.relative_to(PACKAGE.parent)} (from {KEY_FIGURES[name]})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
