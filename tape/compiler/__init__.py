"""tape.compile: trace a gradient once, replay it as plain numpy source.

    step = tape.compile(tape.value_and_grad(loss, argnums=(0, 1)))
    value, (dW, db) = step(W, b, X, y)       # traced on this first call, then replayed
    print(step.source)                        # the forward, then `# backward`, in numpy

The tape of one call is a program: the ops in the order they ran. Written out with
each op's generated form (beside its gradient rule, `defsource(op, ...)` from tape/sources.py), and followed by
the reverse sweep unrolled, it is the numpy a student writes for homework, and runs as
fast. Read in this order:

- `guards.py`    what a replay cannot repeat, refused while tracing (`if loss > 1:`)
- `trace.py`     one run of f on the tape, arguments recorded, lines noted
- `program.py`   statements run as they are written: names, constants folded
- `generate.py`  the forward in tape order, then the backward pass unrolled
- this file      `compile`: the cache of traces (one per shapes, dtypes, requires_grad),
                 each checked against the tape, bit for bit, when it is made
"""

import collections
import inspect
import operator
import sys
import textwrap
import time

import numpy as np

from ..backprop import gradients
from ..functional import is_nested
from ..tape import is_recording
from .._tensor import Tensor
from .generate import CompileError, generate
from .guards import TracedValueError
from .trace import Trace

__all__ = ["compile", "Compiled", "CompileError", "TracedValueError"]

# what a trace is keyed by, read with operator.attrgetter (no loop in Python: a training
# step pays for the key every time it calls the compiled loss; benchmarks/compiled.py)
_ARRAYS_ONLY = {np.ndarray}
_SHAPE_AND_DTYPE = operator.attrgetter("shape", "dtype")
_PARAMETER_KEY = operator.attrgetter("data.shape", "data.dtype", "requires_grad")
_DATA = operator.attrgetter("data")

CACHE_SIZE = 8          # traces kept per compiled function, as PyTorch's compile cache


def compile(fn, parameters=None, cache_size=CACHE_SIZE, verbose=False, has_aux=False):
    """A function with fn's signature and results, replaying generated numpy source.

    fn is `tape.grad(f, argnums)` or `tape.value_and_grad(f, argnums)`: the result is
    what fn returns (ndarrays). Or fn is a loss `f(*data)` and `parameters` a Module (or
    a list or dict of Tensors): each call returns the loss (a 0-d array) and adds the
    gradients into each parameter's `.grad`, as `loss.backward()` does. With `has_aux`,
    f returns (loss, aux), aux a Tensor or a tuple of them (the logits, the data loss
    apart from a penalty), and each call returns (loss, the values of aux).

    The first call with given shapes, dtypes and requires_grad traces f and generates
    the source (`.source`); a call with others traces again (`.traces` counts them;
    `verbose` says why each time). Called while recording is off (`no_grad`) or inside
    an outer gradient, it runs fn itself.
    """
    if has_aux and parameters is None:
        raise TypeError("tape.compile: has_aux=True needs the parameters form, "
                        "tape.compile(f, parameters=model, has_aux=True)")
    return Compiled(fn, parameters, cache_size, verbose, has_aux)


class Compiled:
    def __init__(self, fn, parameters, cache_size, verbose, has_aux=False):
        self.has_aux = has_aux
        self.aux_shape = None        # (count, single?) of f's aux, once traced
        if parameters is None:
            spec = getattr(fn, "differentiates", None)
            if spec is None:
                raise TypeError(
                    "tape.compile: give it tape.grad(f) or tape.value_and_grad(f), or a loss "
                    "function with its parameters: tape.compile(loss, parameters=model)")
            self.f, argnums, self.with_value = spec
            self.single = isinstance(argnums, int)
            self.argnums = (argnums,) if self.single else tuple(argnums)
            self.parameters = None
        else:
            self.f, self.argnums, self.with_value, self.single = fn, (), True, False
            named = parameters.named_parameters() if hasattr(parameters, "named_parameters") \
                else parameters
            if not isinstance(named, dict):
                named = {p.name or f"p{i}": p for i, p in enumerate(named)}
            # the tensors' own names (W1, b1) if they tell them apart, else the keys
            # (conv1.W → conv1_W)
            names = [p.name for p in named.values()]
            if None in names or len(set(names)) < len(names):
                names = [key.replace(".", "_") for key in named]
            self.parameters = list(zip(names, named.values()))
        self.tensors = [p for _, p in self.parameters or ()]
        self.fn = fn
        self.cache = collections.OrderedDict()
        self.cache_size = cache_size
        self.verbose = verbose
        self.traces = 0              # how many times f was traced
        self.reasons = []            # why each trace after the first was made
        self.trace_seconds = []      # how long each took (tracing, generating, checking)
        self.source = None           # the source of the latest trace
        self.__name__ = getattr(self.f, "__name__", "f")
        self.__doc__ = getattr(fn, "__doc__", None)

    # ---- a call ---------------------------------------------------------------------
    def __call__(self, *args):
        if not is_recording() or is_nested():
            return self._eager(args)
        if self.parameters is not None and {*map(type, args)} <= _ARRAYS_ONLY:
            # a training step's batch: the key and the arguments made by operator.attrgetter
            # (the same as _key and _arrays give, with no loop in Python)
            key = (*map(_SHAPE_AND_DTYPE, args), *map(_PARAMETER_KEY, self.tensors))
            replay = self.cache.get(key)
            if replay is None:
                return self._trace(args, key)
            self._recent(key)
            return self._finish(replay(*args, *map(_DATA, self.tensors)), replay.learned)
        if any(isinstance(a, Tensor) and a.requires_grad for a in args):
            return self._eager(args)
        key = self._key(args)
        replay = self.cache.get(key)
        if replay is None:
            return self._trace(args, key)
        self._recent(key)
        return self._finish(replay(*self._arrays(args)), replay.learned)

    def _recent(self, key):
        if len(self.cache) > 1:
            self.cache.move_to_end(key)      # the least recently used is dropped first

    def _eager(self, args):
        if self.parameters is None:
            return self.fn(*args)
        loss = self.f(*args)
        aux = None
        if self.has_aux:
            loss, aux = loss
        loss.backward()
        if self.has_aux:
            return loss.data, (aux.data if isinstance(aux, Tensor) else
                               tuple(a.data for a in aux))
        return loss.data

    def _arrays(self, args):
        """The generated function's arguments: arrays (variables as floats, like grad)."""
        values = []
        for i, a in enumerate(args):
            if i in self.argnums:
                values.append(_as_float(a))
            elif isinstance(a, Tensor):
                values.append(a.data)
            elif isinstance(a, np.ndarray):
                values.append(a)
        return [*values, *map(_DATA, self.tensors)]

    def _finish(self, results, learned=()):
        """The replay's results as fn gives them; in the parameters form the gradients are
        added into the `learned` parameters' .grad."""
        results = list(results)
        value = np.asarray(results.pop(0)) if self.with_value else None
        if self.has_aux:
            count, single = self.aux_shape
            aux = [np.asarray(a) for a in results[:count]]
            aux = aux[0] if single else tuple(aux)
            results = results[count:]
        if self.parameters is not None:
            _add_into_grad(learned, results)
            return (value, aux) if self.has_aux else value
        grads = [_as_array(g) for g in results]
        grads = grads[0] if self.single else tuple(grads)
        return (value, grads) if self.with_value else grads

    # ---- guards: what a trace is valid for ------------------------------------------------
    def _key(self, args):
        """What a trace is valid for: each argument's shape and dtype (and requires_grad,
        for a Tensor), each number's value, each parameter's shape, dtype, requires_grad."""
        key = [(a.shape, a.dtype) if type(a) is np.ndarray else None for a in args]
        if None in key or self.argnums:
            for i, a in enumerate(args):
                if i in self.argnums:
                    a = _as_float(a)
                    key[i] = (a.shape, a.dtype)
                elif isinstance(a, Tensor):
                    key[i] = (a.shape, a.dtype, a.requires_grad)
                elif not isinstance(a, np.ndarray):
                    key[i] = ("constant", type(a).__name__, repr(a))
        return (*key, *map(_PARAMETER_KEY, self.tensors))

    def _why(self, key):
        """Which argument differs from the latest trace, in words."""
        if not self.cache:
            return None
        last = next(reversed(self.cache))
        names = self._names(len(key))
        for name, old, new in zip(names, last, key):
            if old != new:
                return f"{name} was {_describe(old)}, is now {_describe(new)}"
        return f"{len(key)} arguments, before {len(last)}"

    def _names(self, count):
        try:
            names = list(inspect.signature(self.f).parameters)
        except (TypeError, ValueError):
            names = []
        n_args = count - len(self.parameters or ())
        names = [names[i] if i < len(names) and names[i].isidentifier() else f"x{i + 1}"
                 for i in range(n_args)]
        return names + [name for name, _ in self.parameters or ()]

    # ---- tracing --------------------------------------------------------------------------
    def _trace(self, args, key):
        started = time.perf_counter()
        reason = self._why(key)
        names = self._names(len(key))
        inputs = []
        for i, a in enumerate(args):
            name = a.name if isinstance(a, Tensor) and a.name else names[i]
            if i in self.argnums:
                inputs.append((name, _as_float(a), True))
            else:
                inputs.append((name, a.data if isinstance(a, Tensor) else a, False))
        inputs += [(name, p, p.requires_grad) for name, p in self.parameters or ()]
        trace = Trace(self.f, inputs, len(args), self.has_aux)
        if self.has_aux:
            self.aux_shape = (len(trace.aux), not isinstance(trace.output_aux, (tuple, list)))
        expected = self._eager_reference(args)
        replay = source = None
        for literals in (True, False):           # literals such as 0.01 where they are exact
            program, arguments, loss, grads, foreign = generate(trace, self.__name__, literals)
            source = self._source(program, arguments, loss, grads, trace)
            namespace = dict(program.helpers)
            exec(source, namespace)
            replay = namespace[self._function_name()]
            if _identical(replay(*self._arrays(args)), expected):
                break
        else:
            raise CompileError(
                f"tape.compile: the generated source for {self.__name__} does not give the "
                f"tape's results bit for bit; please report it, with the source:\n{source}")
        if foreign:
            self._check_constants(foreign, inputs, trace)
        self.traces += 1
        if reason:
            self.reasons.append(reason)
            if self.verbose:
                print(f"tape.compile: tracing {self.__name__} again (trace "
                      f"{self.traces}): {reason}", file=sys.stderr)
        # the parameters a replay adds gradients into: requires_grad is part of the key
        replay.learned = self._learned() if self.parameters is not None else ()
        self.cache[key] = replay
        if len(self.cache) > self.cache_size:
            self.cache.popitem(last=False)
        self.source = source
        self.trace_seconds.append(time.perf_counter() - started)
        return self._finish(expected, replay.learned)

    def _eager_reference(self, args):
        """fn's own results for these arguments: what the replay must give, bit for bit."""
        if self.parameters is None:
            value, grads = (self.fn(*args) if self.with_value else (None, self.fn(*args)))
            grads = [grads] if self.single else list(grads)
            return ([np.asarray(value)] if self.with_value else []) + grads
        loss = self.f(*args)
        aux = []
        if self.has_aux:
            loss, aux = loss
            aux = [a.data for a in (aux if isinstance(aux, (tuple, list)) else (aux,))]
        params = self._learned()
        if loss.requires_grad:
            grads = gradients(loss, params)
        else:
            grads = [np.zeros_like(p.data) for p in params]
        return [loss.data] + aux + grads

    def _learned(self):
        """The parameters that get a gradient (those that require one)."""
        return [p for _, p in self.parameters if p.requires_grad]

    def _function_name(self):
        base = self.__name__ if self.__name__.isidentifier() and self.__name__ != "<lambda>" \
            else "f"
        return ("value_and_grad_" if self.with_value else "grad_") + base \
            if self.parameters is None else "step_" + base

    def _source(self, program, arguments, loss, grads, trace):
        name = self._function_name()
        results = (loss if self.with_value else []) + grads
        body = program.function_source(name, arguments, results)
        traced = ", ".join(f"{a.name} {a.shape} {a.dtype}" for a in arguments)
        header = textwrap.wrap(f"tape.compile of {self.__name__}, traced for {traced}",
                               width=88, initial_indent="# ", subsequent_indent="#   ")
        constants = program.constants_comment(body)
        if constants:
            header.append("# constants, computed once when traced:\n" + constants.rstrip())
        return "\n".join(header) + "\n" + body

    def _check_constants(self, foreign, inputs, trace):
        """Arrays the function made outside the tape (from `.data`, say) would be frozen by
        the replay. Trace again on other values, twice (fresh random numbers, then the
        first call's numbers negated and shuffled): a constant that changes is refused."""
        rng = np.random.default_rng(0)
        for attempt in range(2):
            other = []
            for name, value, variable in inputs:
                value = value.data if isinstance(value, Tensor) else value
                if isinstance(value, np.ndarray) and value.size:
                    if value.dtype.kind == "f" and attempt == 0:
                        value = np.asarray(3 * rng.standard_normal(value.shape), value.dtype)
                    elif value.dtype.kind == "f":
                        value = np.asarray(-rng.permutation(value.ravel()).reshape(value.shape))
                    elif value.ndim:
                        value = rng.permutation(value)
                other.append((name, value, variable))
            again = self._constants_of_a_trace(other)
            if again is None:
                continue
            if len(again) != len(foreign):
                raise TracedValueError(
                    f"{self.__name__} records other operations for other values of its "
                    f"arguments: its Python code decides on the values (through .data, say), "
                    f"which a replay cannot repeat")
            for (entry, argnum, first), (_, _, then) in zip(foreign, again):
                first, then = np.asarray(first), np.asarray(then)
                if first.shape != then.shape or first.tobytes() != then.tobytes():
                    if isinstance(argnum, str):          # an index (generate.py)
                        raise TracedValueError(
                            f"{trace.lines.get(entry.index, '?')}: {entry.op.name}'s index is "
                            f"computed from the traced values (a mask such as z < 0, or "
                            f"labels): the replay would keep the first call's index. Write "
                            f"the choice with tape.where (z = tape.where(z < 0, 0.0, z)), or "
                            f"do not compile this function")
                    raise TracedValueError(
                        f"{trace.lines.get(entry.index, '?')}: {entry.op.name} is given an "
                        f"array computed from the traced values outside the tape (through "
                        f".data, as_array or numpy on the values, or by a gradient rule's "
                        f"mask in a second derivative): the replay would freeze it at the "
                        f"first call's values. Compute it with tape operations, or do not "
                        f"compile this function")

    def _constants_of_a_trace(self, inputs):
        """The constants a trace on these inputs finds (None if f fails on them)."""
        params = [p for _, p in self.parameters or ()]
        saved = [p.data for p in params]
        n_args = len(inputs) - len(params)
        try:
            for p, (_, value, _) in zip(params, inputs[n_args:]):
                p.data = value
            inputs[n_args:] = [(name, p, p.requires_grad)
                               for (name, _, _), p in zip(inputs[n_args:], params)]
            with np.errstate(all="ignore"):     # other values may leave f's domain
                second = Trace(self.f, inputs, n_args, self.has_aux)
                return generate(second, self.__name__, False)[4]
        except Exception:
            return None
        finally:
            for p, data in zip(params, saved):
                p.data = data


def _add_into_grad(params, grads):
    """p.grad += g for each parameter, as loss.backward() adds them."""
    for p, g in zip(params, grads):
        g = _as_array(g)
        p.grad = g if p.grad is None else np.asarray(p.grad + g)


def _as_array(g):
    """A 0-d gradient is a numpy scalar in the replay: an array, as the tape gives it."""
    return g if type(g) is np.ndarray else np.array(g)


def _as_float(a):
    a = a.data if isinstance(a, Tensor) else np.asarray(a)
    return a if np.issubdtype(a.dtype, np.floating) else a.astype(np.float64)


def _describe(part):
    if part[0] == "constant":
        return f"the constant {part[2]}"
    text = f"{part[0]} {np.dtype(part[1]).name}"
    if len(part) > 2:
        text += " requiring grad" if part[2] else " not requiring grad"
    return text


def _identical(got, expected):
    got, expected = list(got), list(expected)
    if len(got) != len(expected):
        return False
    for a, b in zip(got, expected):
        a, b = np.asarray(a), np.asarray(b)
        if a.dtype != b.dtype or a.shape != b.shape or a.tobytes() != b.tobytes():
            return False
    return True
