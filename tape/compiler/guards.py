"""What a replay cannot see, refused while tracing: Python decisions on traced values.

A replay repeats the numpy statements of one trace. It cannot repeat a decision the
Python code took on a value: `if loss > 1:` was taken one way while tracing, and the
replay would take it that way for every input. So while a function is traced, a
traced tensor refuses to become a Python value — `bool(t)`, `float(t)`, `int(t)`,
`t.item()`, `t.tolist()`, `t.numpy()`, `np.asarray(t)` and `t.detach()` raise a
`TracedValueError` naming the line of the function that asked. A comparison (`z > 0`)
stays a tensor: recorded, replayed, never differentiated.

The checks are installed on Tensor once, when this module is imported; outside a trace
(or on a tensor the trace did not make) every method does what it always did.
"""

import os
import sys
import threading

import numpy as np

from ..primitive import primitive
from ..sources import defsource
from .._tensor import Tensor


class TracedValueError(RuntimeError):
    """Python code asked for the value of a traced tensor, which a replay cannot repeat."""


class _Tracing(threading.local):
    trace = None           # the Trace being recorded in this thread, if any


tracing = _Tracing()

_TAPE_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def user_line(skip=0):
    """'file.py:12 (the line)' for the innermost frame outside the tape package."""
    frame = sys._getframe(skip + 1)
    while frame is not None:
        path = os.path.abspath(frame.f_code.co_filename)
        if not path.startswith(_TAPE_DIR + os.sep):
            import linecache               # only needed when a line is named
            text = linecache.getline(path, frame.f_lineno).split("  #")[0].strip()
            shown = os.path.relpath(path)
            shown = path if shown.startswith("..") else shown
            return f"{shown}:{frame.f_lineno} ({text})"
        frame = frame.f_back
    return "(unknown line)"


def _is_traced(t):
    trace = tracing.trace
    return trace is not None and trace.owns(t)


def _refusing(name, what):
    original = getattr(Tensor, name)

    def method(self, *args, **kwargs):
        if _is_traced(self):
            raise TracedValueError(
                f"{user_line()}: {what} of a traced tensor while tape.compile traces the "
                f"function: the replay would repeat this decision, made for the first "
                f"call's values, on every call. Keep Python decisions out of the "
                f"compiled function (use tape.where for a choice per element), or call "
                f"the function without tape.compile")
        return original(self, *args, **kwargs)

    method.__name__ = name
    method.__doc__ = original.__doc__
    setattr(Tensor, name, method)


# ---- comparisons: recorded while tracing, so that the replay computes the mask again ----

@primitive
def less(x, y):
    return x < y


@primitive
def less_equal(x, y):
    return x <= y


@primitive
def greater(x, y):
    return x > y


@primitive
def greater_equal(x, y):
    return x >= y


@primitive
def equal(x, y):
    return x == y


@primitive
def not_equal(x, y):
    return x != y


COMPARISONS = {"__lt__": (less, "<"), "__le__": (less_equal, "<="), "__gt__": (greater, ">"),
               "__ge__": (greater_equal, ">="), "__eq__": (equal, "=="),
               "__ne__": (not_equal, "!=")}

for _op, _symbol in COMPARISONS.values():
    # a mask is a constant of the backward pass: no rule, and no gradient flows into it
    defsource(_op, lambda c, x, y, s=_symbol: f"{x} {s} {y}", name="mask")


def _recorded_comparison(name, op):
    original = getattr(Tensor, name)

    def method(self, other):
        if _is_traced(self) or (isinstance(other, Tensor) and _is_traced(other)):
            return op(self, other)
        return original(self, other)

    method.__name__ = name
    setattr(Tensor, name, method)


def install():
    if getattr(Tensor, "_compile_guards", False):
        return
    for name, what in (("__bool__", "bool()"), ("__float__", "float()"), ("__int__", "int()"),
                       ("__index__", "an index from the value"), ("item", ".item()"),
                       ("tolist", ".tolist()"), ("numpy", ".numpy()"),
                       ("__array__", "np.asarray() (the values without the tape)"),
                       ("detach", ".detach() (the values cut off from the tape)")):
        if hasattr(Tensor, name):
            _refusing(name, what)
    for name, (op, _) in COMPARISONS.items():
        _recorded_comparison(name, op)
    Tensor._compile_guards = True


def check_no_randomness(before):
    """Refuse a trace during which numpy's global random generator was used."""
    after = np.random.get_state()
    if not all(np.array_equal(a, b) if isinstance(a, np.ndarray) else a == b
               for a, b in zip(before, after)):
        raise TracedValueError(
            "the function draws random numbers from numpy's generator (np.random...): a "
            "replay would reuse the first call's draw on every call. Draw them outside and "
            "pass them in as an argument (a dropout mask, noise), or do not compile it")
