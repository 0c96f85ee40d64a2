"""The tape as a Wengert list: one line per entry, each value named.

    v1 = matmul(x, W)                        (1, 2) float64
    v2 = add(v1, b)                          (1, 2) float64

`rows(entries)` gives the lines as structured rows (for tables and drawings);
`listing(entries)` formats them. A tensor is named by its own `name`, else v1, v2, …
in the order the values appear; constants are shown by their value.
"""

import itertools

import numpy as np

from .backprop import inputs_as_recorded
from .tensor import Tensor


class Names:
    """Names for the values of a listing: a tensor's own `name`, else v1, v2, ..."""

    def __init__(self):
        self.names = {}
        self.count = itertools.count(1)

    def of(self, value):
        """The name of a tensor (given one on first sight), or the text of a constant."""
        if not isinstance(value, Tensor):
            return constant_text(value)
        if id(value) not in self.names:
            self.names[id(value)] = value.name or f"v{next(self.count)}"
        return self.names[id(value)]


def constant_text(value):
    """A constant as it appears in a listing: small arrays in full, larger by shape."""
    if isinstance(value, np.ndarray):
        return f"array{value.shape}" if value.size > 4 else repr(value.tolist())
    return repr(value)


def rows(entries, adjoints=None, names=None):
    """One dict per entry: its output's name, the op, the arguments, the output's shape
    and dtype, and (if `adjoints` is given, {entry index: array}) its adjoint."""
    names = names or Names()
    table = []
    for entry in entries:
        out = entry.out()
        inputs = inputs_as_recorded(entry)       # an assignment since: the value before it
        args = [names.of(x) for x in inputs] if inputs is not None else ["…"]
        args += [f"{k}={constant_text(v)}" for k, v in entry.params.items()
                 if v is not None and v is not False]      # defaults say nothing
        table.append({
            "index": entry.index,
            "name": names.of(out) if out is not None else f"v{next(names.count)}",
            "op": entry.op.name,
            "args": args,
            "shape": tuple(out.shape) if out is not None else None,
            "dtype": str(out.dtype) if out is not None else None,
            "adjoint": (adjoints or {}).get(entry.index),
        })
    return table


def assignment(row):
    """`v2 = add(v1, b)`: the entry as a single assignment."""
    return f"{row['name']} = {row['op']}({', '.join(row['args'])})"


def listing(entries, adjoints=None):
    """The entries as text, one line each, with adjoints if given."""
    lines = []
    for row in rows(entries, adjoints):
        shape = row["shape"] if row["shape"] is not None else "(output dropped)"
        line = f"{assignment(row):<40} {shape} {row['dtype'] or ''}".rstrip()
        if adjoints is not None and row["adjoint"] is not None:
            line += f"   adjoint {short(row['adjoint'])}"
        lines.append(line)
    return "\n".join(lines)


def short(array):
    """A value in a few characters: small arrays in full, others by shape and size."""
    array = np.asarray(array)
    if array.size <= 4:
        return np.array2string(array, precision=4, suppress_small=True)
    return f"{array.shape} |max| {np.abs(array).max():.3g}"
