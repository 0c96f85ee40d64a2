"""`Tape`, an explicit tape, and the entries as a Wengert list: one line each, each value named.

    v1 = matmul(x, W)                        (1, 2) float64
    v2 = add(v1, b)                          (1, 2) float64

`with Tape() as t:` keeps the entries recorded inside the block, to print them (the
lines above), to draw them and to take gradients from them. `rows(entries)` gives the
lines as structured rows (for tables and drawings); `listing(entries)` formats them. A tensor is named by its own `name`, else v1, v2, …
in the order the values appear; constants are shown by their value.
"""

import itertools

import numpy as np

from ._tensor import Tensor
from .backprop import gradients
from .tape import state


class Tape:
    """An explicit tape: `with Tape() as t:` lists every entry recorded inside the block.

        with tape.Tape() as t:
            loss = ...
        dW, db = t.gradient(loss, [W, b])   # .grad is left untouched
        print(t)                              # the Wengert list, one entry per line

    A Tape keeps what it recorded (values included) until the Tape itself is dropped, so
    it can be printed and drawn after `backward()` too. `keep_adjoints=True` also
    stores, for each entry, the gradient that arrived at its output during a sweep
    (`t.gradient(...)` or `loss.backward()`), so the reverse sweep can be shown.
    """

    def __init__(self, keep_adjoints=False):
        self.entries = []
        self.keep_adjoints = keep_adjoints
        self.adjoints = {}     # entry index -> ndarray, filled by the reverse sweep

    def __enter__(self):
        state.tapes = state.tapes + (self,)
        return self

    def __exit__(self, *exc):
        state.tapes = tuple(t for t in state.tapes if t is not self)
        return False

    def __len__(self):
        return len(self.entries)

    def gradient(self, target, sources, output_gradient=None, retain_graph=None,
                 create_graph=False):
        """d target / d source for each source, read off this tape in reverse.

        Returns a list of arrays (Tensors if `create_graph`), one per source, in the
        sources' shapes; a source the target does not depend on gets zeros.
        """
        return gradients(target, sources, output_gradient, retain_graph=retain_graph,
                         create_graph=create_graph, tape=self)

    def listing(self, adjoints=False):
        """The entries as lines: `v7 = matmul(v3, v5)   (128, 256) float32`, with the
        gradient that flowed back into each value if `adjoints`."""
        return listing(self.entries, self.adjoints if adjoints else None)

    def __str__(self):
        return self.listing() or "(empty tape)"

    def __repr__(self):
        return f"<Tape with {len(self.entries)} entries>"


def entries_reaching(output):
    """The entries the output depends on, in tape order (found without recursion), to
    list and draw them: every entry was recorded after the entries that made its inputs."""
    found, stack = {}, [output._entry] if output._entry is not None else []
    while stack:
        entry = stack.pop()
        if entry.index in found:
            continue
        found[entry.index] = entry
        for x in entry.inputs or ():      # a freed entry no longer knows its inputs
            if isinstance(x, Tensor) and x._entry is not None and x._entry.index not in found:
                stack.append(x._entry)
    return [found[i] for i in sorted(found)]


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
        args = [names.of(x) for x in entry.inputs] if entry.inputs is not None else ["…"]
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
