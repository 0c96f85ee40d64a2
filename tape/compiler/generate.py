"""From a trace to source: the forward in tape order, then `# backward`, the sweep unrolled.

The forward is the trace's entries that the output depends on, each written with its
op's forward form. The backward is the reverse sweep of backprop.py done once, on
names instead of arrays: entries visited from the last to the first, each passing
its vjp form's statement to every input that needs a gradient, contributions to one
input added up in the order the sweep adds them. Only what the asked-for gradients
need is written: no gradient for the data X, no rule for an input that depends on no
variable, no forward statement whose value nobody uses.
"""

import numpy as np

from ..assignment import inputs_as_recorded
from ..listing import entries_reaching
from .._tensor import Tensor
from .program import Program


class CompileError(RuntimeError):
    """The trace holds something that cannot be written as a replay."""


def generate(trace, name, literals=True):
    """(program, its arguments, [loss, *aux], the gradients, the constants found): the
    trace written out; `literals`: numbers written as literals where they are exact."""
    c = Program({}, literals)
    known = {}                                   # id(Tensor) -> Symbol
    arrays = {}                                  # id(ndarray) of an argument -> Symbol
    arguments, variables = [], []
    for arg_name, value, variable, _ in trace.inputs:
        if not isinstance(value, Tensor):
            continue                             # a number: folded where it is used
        s = c.variable(arg_name, value.data, needs=variable)
        known[id(value)] = s
        arrays[id(value.data)] = s
        arguments.append(s)
        if variable:
            variables.append((value, s))
    out = trace.output
    if not isinstance(out, Tensor):
        raise CompileError(f"{name}: the function must return a scalar Tensor, got "
                           f"{type(out).__name__}")
    entries = entries_reaching(out) if out._entry is not None else []
    foreign = []                                 # constants the trace found (see check)

    def symbol(x, entry, argnum):
        if isinstance(x, Tensor):
            s = known.get(id(x))
            if s is not None:
                return s
            foreign.append((entry, argnum, x.data))
            return c.constant(x.data, x.name or "const", how=None)
        if isinstance(x, np.ndarray):
            s = arrays.get(id(x))
            if s is not None:
                return s
            foreign.append((entry, argnum, x))
            return c.constant(x, "const", how=None)
        return c.literal(x)

    # ---- the forward: the entries in tape order -------------------------------------
    outputs = {}                                 # entry index -> (out symbol, saved symbol)
    for entry in entries:
        form = getattr(entry.op, "source", None)
        if form is None:
            raise CompileError(f"{entry.op.name} has no generated form (define it with "
                               f"tape.sources.defsource({entry.op.name}, ...) beside its gradient rule)")
        forward, _, hint = form
        recorded = inputs_as_recorded(entry)     # after `z[mask] = 0`, the z it used
        ins = [symbol(x, entry, i) for i, x in enumerate(recorded)]
        _note_index_arrays(entry, foreign)
        produced = output_of(entry)
        is_loss = produced is out
        c.hint = "loss" if is_loss else hint or "v"
        result = forward(c, *ins, **entry.params)
        if entry.op.saves:
            value, saved = result
            value = c.let(value, "loss" if is_loss else hint or "v")
            saved = c.let(saved, "saved")
        else:
            value, saved = c.let(result, "loss" if is_loss else hint or "v"), None
        if produced is not None:
            _check_same(value.value, produced.data, entry, trace)
            if value.dtype.kind == "b":          # a mask: no gradient flows into it
                value.needs = False
                c.needing.discard(value.name)
            known[id(produced)] = value
        outputs[entry.index] = (value, saved, ins, recorded)

    loss = known.get(id(out))
    if loss is None:                             # f returned one of its inputs, or a constant
        loss = symbol(out, None, None)
    aux = [known.get(id(a)) or symbol(a, None, None) for a in trace.aux]

    # ---- the backward: the sweep, unrolled -------------------------------------------
    grads = {}
    if loss.needs:
        seed = c.constant(np.ones_like(out.data), "seed")
        adjoint = {id(out): seed}
        c.lines.append(("# backward", None, set()))
        for entry in reversed(entries):
            produced = output_of(entry)
            g = adjoint.pop(id(produced), None) if produced is not None else None
            if g is None:
                continue
            ans, saved, ins, recorded = outputs[entry.index]
            _, vjps, _ = entry.op.source
            for argnum, (x, xs) in enumerate(zip(recorded, ins)):
                if not isinstance(x, Tensor) or not xs.needs:
                    continue
                if entry.op.variadic:
                    rule = lambda c, g, ans, *xs, rule=vjps[0], i=argnum, **p: rule(c, i, g, ans, *xs, **p)
                else:
                    rule = vjps[argnum] if argnum < len(vjps) else None
                if rule is None:
                    raise CompileError(f"{entry.op.name}: no generated form of the gradient "
                                       f"rule for input {argnum}")
                extra = {"saved": saved} if entry.op.saves else {}
                c.hint = "d" + xs.name
                gx = c.let(rule(c, g, ans, *ins, **extra, **entry.params), "d" + xs.name)
                if gx.shape != xs.shape:
                    raise CompileError(f"{entry.op.name}: the generated rule for input "
                                       f"{argnum} gave shape {gx.shape}, not {xs.shape}")
                if gx.dtype != xs.dtype:
                    gx = c.let(f"{gx}.astype(np.{xs.dtype.name})", "d" + xs.name)
                previous = adjoint.get(id(x))
                adjoint[id(x)] = gx if previous is None else c.let(
                    f"{previous} + {gx}", "d" + xs.name)
        grads = {id(t): adjoint.get(id(t)) for t, _ in variables}
    results = []
    given = set()
    for t, s in variables:
        g = grads.get(id(t))
        if g is None:
            g = c.let(f"np.zeros_like({s})", "d" + s.name, fold=False)
        elif g.name in given or any(g is a for a in arguments) or not _owned(g.value):
            g = c.let(f"{g}.copy()", "d" + s.name, fold=False)   # as backprop._own does
        given.add(g.name)
        results.append(g)
    return c, arguments, [loss, *aux], results, foreign


def output_of(entry):
    """The Tensor an entry produced (the entry holds it weakly), or None if it is gone."""
    out = getattr(entry, "out", None) or getattr(entry, "output", None)
    return out() if callable(out) else out


def _note_index_arrays(entry, foreign):
    """An index array (`z[z < 0] = 0`: the mask's values) is a parameter of the entry, so
    the replay would keep it: listed with the constants, it is refused if another trace
    on other values finds another one (compiler/__init__.py, `_check_constants`)."""
    index = entry.params.get("index")
    for i, part in enumerate(index if isinstance(index, tuple) else (index,)):
        if isinstance(part, np.ndarray):
            foreign.append((entry, f"index {i}", part))


def _owned(value):
    return (type(value) is np.ndarray and value.flags.writeable and value.base is None)


def _check_same(got, expected, entry, trace):
    got, expected = np.asarray(got), np.asarray(expected)
    if not (got.dtype == expected.dtype and got.shape == expected.shape
            and got.tobytes() == expected.tobytes()):
        raise CompileError(
            f"the generated form of {entry.op.name} (recorded at "
            f"{trace.lines.get(entry.index, '?')}) gives other values than the op itself: "
            f"{got.dtype}{got.shape} against {expected.dtype}{expected.shape}")
