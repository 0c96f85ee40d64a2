"""Tracing: run the function once on the tape and keep what it recorded.

Every argument is given to the function as a Tensor that is recorded (data included,
so that `X * 2` is on the tape and is computed again by the replay, not frozen), inside
a `Tape` that also notes the line of the function each entry came from. What the tape
cannot record is refused (guards.py): a Python decision on a traced value, a draw from
numpy's random generator, an argument changed in place.
"""

import numpy as np

from ..listing import Tape
from .._tensor import Tensor
from .guards import TracedValueError, check_no_randomness, install, tracing, user_line

install()


class _Lines(list):
    """A Tape's list of entries that also notes, for each, the line that recorded it."""

    def __init__(self):
        super().__init__()
        self.lines = {}

    def append(self, entry):
        super().append(entry)
        self.lines[entry.index] = user_line()


class Trace:
    """One run of f on recorded tensors: the tape's entries, the inputs, the output."""

    def __init__(self, f, inputs, n_args=None, has_aux=False):
        """inputs: [(name, value, is_variable)], the arguments of f in order (a variable
        is differentiated), then the parameters f uses (Tensors), which are not passed;
        a value is an ndarray, a number, or a Tensor (a parameter)."""
        n_args = len(inputs) if n_args is None else n_args
        self.inputs = []
        self.tape = Tape()
        self.tape.entries = _Lines()
        self._ids = set()
        args = []
        for name, value, variable in inputs:
            if isinstance(value, Tensor):
                t = value                        # a parameter: traced as it is
                saved = (t.requires_grad, t._version)
                t.requires_grad = True
            elif isinstance(value, np.ndarray):
                t = Tensor._wrap(value)
                t.name = name
                t.requires_grad = True           # recorded, even when not differentiated
                saved = None
            else:
                args.append(value)               # a number: a constant of this trace
                self.inputs.append((name, value, False, None))
                continue
            self._ids.add(id(t))
            self.inputs.append((name, t, variable, saved))
            args.append(t)
        self.args = args
        self.arrays = {id(t.data): t for _, t, _, _ in self.inputs if isinstance(t, Tensor)}
        before = [t.data.copy() for _, t, _, _ in self.inputs if isinstance(t, Tensor)]
        random_state = np.random.get_state()
        previous, tracing.trace = tracing.trace, self
        try:
            with self.tape:
                self.output = f(*args[:n_args])
                self.aux = ()
                if has_aux:                  # (loss, what else the caller wants to see)
                    self.output, aux = self.output
                    self.output_aux = aux
                    self.aux = tuple(aux) if isinstance(aux, (tuple, list)) else (aux,)
        finally:
            tracing.trace = previous
            for _, t, _, saved in self.inputs:
                if saved is not None:
                    t.requires_grad = saved[0]
        check_no_randomness(random_state)
        self._check_unchanged(before)
        self.lines = self.tape.entries.lines

    def owns(self, t):
        """Was t made by this trace from its inputs (or is it one of them)?"""
        if id(t) in self._ids:
            return True
        entry = t._entry
        return entry is not None and self.tape in entry.tapes

    def _check_unchanged(self, before):
        tensors = [(name, t, saved) for name, t, _, saved in self.inputs
                   if isinstance(t, Tensor)]
        for (name, t, saved), copy in zip(tensors, before):
            changed = (saved is not None and t._version != saved[1]) or not (
                copy.shape == t.data.shape and copy.tobytes() == t.data.tobytes())
            if changed:
                raise TracedValueError(
                    f"the function changed its input {name} in place while it was traced; "
                    f"a replay would not repeat that update. Return the new value instead, "
                    f"or update outside the compiled function (after the step)")
