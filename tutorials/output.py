"""Where a tutorial writes its figures: `--out DIR`, else tutorials_out/<name>.

`--fast` (or TUTORIALS_FAST=1) shrinks the training runs; the test suite uses it.
"""

import argparse
import os
from pathlib import Path


def setup(name, argv=None):
    """(output folder, fast?) for the tutorial `name`, from the command line."""
    p = argparse.ArgumentParser(prog=f"python -m tutorials.{name}")
    p.add_argument("--out", help=f"folder for the figures (default tutorials_out/{name})")
    p.add_argument("--fast", action="store_true", help="smaller, quicker runs")
    args, _ = p.parse_known_args(argv)   # a notebook kernel passes its own arguments
    out = Path(args.out or Path("tutorials_out") / name)
    out.mkdir(parents=True, exist_ok=True)
    return out, args.fast or os.environ.get("TUTORIALS_FAST") == "1"
