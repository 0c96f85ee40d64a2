"""Where a tutorial writes its figures, and how it shows them in a notebook.

    out, fast = setup("mnist")       # the folder for figures; --fast?
    show(figure_or_graph_or_file)    # inline in a notebook; nothing in a script

Figures go to `--out DIR` if given; else to `$TUTORIALS_OUT/<name>`; else to
`tutorials_out/<name>` at the root of the repository (the folder holding `tutorials/`
and `pyproject.toml`), whatever the current folder — so a notebook opened from inside
`tutorials/` writes where `python -m tutorials.<name>` does. Only a copy of the package
installed outside its repository falls back to `tutorials_out/<name>` in the current folder.

`--fast` (or TUTORIALS_FAST=1) shrinks the training runs; the test suite uses it.
"""

import argparse
import io
import os
import sys
import tempfile
from contextlib import contextmanager
from pathlib import Path

from models.io.errors import OneLineParser

PACKAGE = Path(__file__).resolve().parent


def default_root():
    """The folder that holds tutorials_out/: the repository's root if there is one."""
    repo = PACKAGE.parent
    if (repo / "pyproject.toml").is_file() and (repo / "tutorials").is_dir():
        return repo
    return Path.cwd()


def output_dir(name, out=None):
    """The folder for tutorial `name`'s figures (see the module docstring for the order)."""
    if out:
        return Path(out)
    base = os.environ.get("TUTORIALS_OUT")
    return (Path(base) if base else default_root() / "tutorials_out") / name


def setup(name, argv=None):
    """(output folder, fast?) for the tutorial `name`, from the command line."""
    p = OneLineParser(prog=f"python -m tutorials.{name}")
    p.add_argument("--out", help=f"folder for the figures (default tutorials_out/{name} "
                                 f"at the repository's root)")
    p.add_argument("--fast", action="store_true", help="smaller, quicker runs")
    args, _ = p.parse_known_args(argv)   # a notebook kernel passes its own arguments
    out = output_dir(name, args.out)
    out.mkdir(parents=True, exist_ok=True)
    return out, args.fast or os.environ.get("TUTORIALS_FAST") == "1"


def compiling(argv=None):
    """Whether the lessons' training loops replay the compiled step (tape.compile), the
    default; `--no-compile` (or TUTORIALS_NO_COMPILE=1) keeps the eager tape."""
    p = argparse.ArgumentParser(add_help=False)
    p.add_argument("--no-compile", action="store_true")
    args, _ = p.parse_known_args(argv)
    return not (args.no_compile or os.environ.get("TUTORIALS_NO_COMPILE") == "1")


@contextmanager
def written_atomically(path):
    """A temporary path beside `path`, with the same extension, renamed to `path` once the
    block has written it: an interrupted run never leaves a half-written figure."""
    path = Path(path)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.stem}.", suffix=path.suffix, dir=path.parent)
    os.close(fd)
    try:
        yield Path(tmp)
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


def in_notebook():
    """True inside a Jupyter kernel (IPython with a kernel attached)."""
    ipython = sys.modules.get("IPython")
    shell = ipython.get_ipython() if ipython is not None else None
    return getattr(shell, "kernel", None) is not None


def show(what, dpi=100):
    """Display a matplotlib Figure (as PNG), a Graphviz graph (as SVG) or an image file
    (PNG, SVG, GIF) in the notebook's output. In a script it does nothing: the files
    the tutorial writes are its output there."""
    if not in_notebook():
        return
    from IPython.display import SVG, Image, display
    if hasattr(what, "savefig"):                      # a matplotlib Figure
        buffer = io.BytesIO()
        what.savefig(buffer, format="png", dpi=dpi)
        display(Image(data=buffer.getvalue(), format="png"))
    elif hasattr(what, "pipe"):                       # a graphviz.Digraph
        display(SVG(what.pipe(format="svg", encoding="utf-8")))
    else:
        path = Path(what)
        if path.suffix.lower() == ".svg":
            display(SVG(filename=str(path)))
        else:
            display(Image(filename=str(path)))
