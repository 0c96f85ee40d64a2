"""The reverse sweep: read the tape backwards and apply the chain rule.

Each entry `out = op(x₁, …, xₙ)` is visited after every entry that used `out`, so by
then its adjoint — ∂loss/∂out, the sum of what its users sent back, kept on the entry
itself — is complete. The entry passes `g_input = rule(g, …)` on to each of its inputs
that needs a gradient, adding it into the adjoint of the entry that made that input.

The order needs no graph search and no sort. Entries are numbered as they are recorded,
and every user of a value was recorded after it, so the sweep visits the entries that
have received an adjoint from the highest number down: it starts at the output's entry
and keeps the ones waiting their turn in a heap, by number. On a chain, where every
value has one user, that heap holds one entry at a time.

The rules are written with tape operations. When the sweep is itself recorded
(`create_graph=True`, for gradients of gradients) they are given Tensors, so every
operation they do goes on the tape. Otherwise they are given the bare ndarrays, as
HIPS autograd does: `g * ans` is then numpy's own product, with no bookkeeping.
"""

from heapq import heappop, heappush

import numpy as np

from ._tensor import Tensor, as_array
from .assignment import as_recorded, refuse_if_read
from .tape import enable_grad, no_grad, versions


def backward(output, grad=None, retain_graph=None, create_graph=False):
    """`y.backward()`: add dy / d leaf into `leaf.grad` for every leaf that needs it.

    Gradients *add up* across calls, as in PyTorch: set `p.grad = None` (or call the
    optimiser's `zero_grad()`) before each training step. The entries used are freed
    afterwards; pass `retain_graph=True` to go back through them again
    (`create_graph=True`, for gradients of gradients, retains them by default).
    """
    seed = _seed(output, grad)
    given = {id(seed.data)}
    for leaf, g in _sweep(output, seed, retain_graph, create_graph).values():
        if leaf._entry is None:
            g = _own(g.data if create_graph else g, given)
            leaf.grad = g if leaf.grad is None else np.asarray(leaf.grad + g)


Tensor.backward = backward


def gradients(output, sources, grad=None, retain_graph=None, create_graph=False, tape=None):
    """d output / d source for each source, without touching `.grad`.

    A source may be a leaf or any tensor computed on the way. Returns ndarrays, or
    Tensors with their own history if `create_graph`. `tape`: only the entries that
    Tape lists count (the others are held constant).
    """
    sources = list(sources)
    for s in sources:
        if not isinstance(s, Tensor):
            raise TypeError(f"gradient sources must be Tensors, got {type(s).__name__}")
    seed = _seed(output, grad)
    found = _sweep(output, seed, retain_graph, create_graph, sources, tape)
    result, given = [], {id(seed.data)}
    for s in sources:
        g = found[id(s)][1] if id(s) in found else Tensor._wrap(np.zeros_like(s.data))
        result.append(g if create_graph else _own(as_array(g), given))   # zeros: s not used
    return result


def _sweep(output, seed, retain_graph, create_graph, sources=(), tape=None):
    """Propagate adjoints from `output` back to the tensors it was computed from.

    Returns {id(tensor): (tensor, adjoint)} for the tensors where the sweep ends (the
    leaves, and tensors made outside `tape`) and for the `sources`. The adjoints are
    Tensors if `create_graph`, else ndarrays.
    """
    free = not (create_graph if retain_graph is None else retain_graph)
    wanted = {id(s) for s in sources}
    ends, waiting, found = {}, [], {}     # leaves reached; entries due; sources' adjoints
    add_to_adjoint(output, seed if create_graph else seed.data, ends, waiting, tape)
    with enable_grad() if create_graph else no_grad():
        try:
            while waiting:
                _, entry, out = heappop(waiting)            # the highest number first
                g, entry.adjoint = entry.adjoint, None     # complete: its users are done
                inputs = entry.inputs
                if entry.values is None or entry.index < versions.last or wanted or entry.tapes:
                    inputs = _before_rules(entry, out, g, create_graph, wanted, found)
                ans, values = (out, inputs) if create_graph else (out.data, entry.values)
                op, params = entry.op, entry.params
                rules = op.rules if op.plain else op.rules_for(len(values), entry.saved)
                for argnum, x in enumerate(inputs):
                    if type(x) is Tensor and x.requires_grad:
                        g_input = rules[argnum](g, ans, *values, **params)    # the chain rule
                        if create_graph or g_input.shape != x.data.shape or g_input.dtype is not x.data.dtype:
                            g_input = _checked(g_input, x, entry, argnum, create_graph)
                        add_to_adjoint(x, g_input, ends, waiting, tape)
                if free:
                    entry.free()          # its values are used: release them at once
        except BaseException:
            for _, entry, _ in waiting:   # leave no half-summed adjoint behind
                entry.adjoint = None
            raise
    found.update((key, (x, g)) for key, (x, g) in ends.items() if x._entry is None or key in wanted)
    return found


def add_to_adjoint(x, g, ends, waiting, tape):
    """x's adjoint += g. It is kept on the entry that computed x, which then waits in
    the heap for its turn; for a leaf (or a tensor from outside `tape`) the sweep ends
    there, and it is kept in `ends` as [x, sum]."""
    entry = x._entry
    if entry is not None and (tape is None or tape in entry.tapes):
        if entry.adjoint is None:         # x's first user: g as it is, nothing added
            entry.adjoint = g
            heappush(waiting, (-entry.index, entry, x))   # x kept alive till then
        else:
            entry.adjoint = entry.adjoint + g
    elif id(x) in ends:
        ends[id(x)][1] = ends[id(x)][1] + g     # a fresh sum: g may be shared (see _own)
    else:
        ends[id(x)] = [x, g]


def _before_rules(entry, out, g, create_graph, wanted, found):
    """What the sweep does at an entry besides the chain rule, where it applies: refuse
    values that are gone or were changed (differentiating through them would be wrong),
    note a source's adjoint, keep the adjoint for the Tapes that asked. Returns the
    inputs as the entry used them."""
    if id(out) in wanted:
        found[id(out)] = (out, g)
    inputs = entry.inputs
    if entry.values is None:
        raise RuntimeError(
            f"backward through a part of the tape that was already freed "
            f"(entry #{entry.index}, {entry.op.name}): an earlier backward() "
            f"released its saved values. Pass retain_graph=True to the first "
            f"backward() if you need to go through the same graph twice.")
    if entry.index < versions.last:           # something changed in place since
        if out._version > entry.index:
            refuse_if_read(entry, "ans")
        inputs = as_recorded(entry)           # an assignment since: the value before
    for t in entry.tapes:                     # kept for the Tapes that asked
        if t.keep_adjoints:
            t.adjoints[entry.index] = g.data if create_graph else g
    return inputs


def _checked(g, x, entry, argnum, create_graph):
    """A rule's result, checked to have the input's shape and cast to its dtype
    (as PyTorch does): a Tensor if the sweep is recorded, else an ndarray."""
    if create_graph and type(g) is not Tensor:
        g = Tensor._wrap(g)                # a rule gave a constant (zeros, say)
    if g.shape != x.data.shape:
        raise ValueError(
            f"{entry.op.name}: the gradient rule for input {argnum} returned shape "
            f"{g.shape}, but the input has shape {x.data.shape}; a rule must return its "
            f"input's shape (sum a broadcast gradient back with tape.unbroadcast)")
    if g.dtype != x.data.dtype:
        g = g.astype(x.data.dtype)
    return g


def _own(g, given):
    """g as an ndarray the caller may keep and change in place without changing another.

    The sweep shares arrays wherever it can: add hands its adjoint to both inputs,
    transpose and reshape hand back views of it, broadcast_to a read-only view, and the
    seed is the caller's own array. A gradient given out is copied if it is any of
    these; a fresh result of a rule (Xᵀ·Δ, Σ Δ) is given out as it is.
    """
    if type(g) is not np.ndarray:
        g = np.array(g)                   # a numpy scalar becomes a 0-d array
    elif not g.flags.writeable or g.base is not None or id(g) in given:
        g = g.copy()
    given.add(id(g))
    return g


def _seed(output, grad):
    if not isinstance(output, Tensor):
        raise TypeError(f"backward needs a Tensor, got {type(output).__name__}")
    if not output.requires_grad:
        raise RuntimeError(
            "backward: this tensor does not require a gradient, so nothing was recorded "
            "for it. Create the parameters with requires_grad=True, and do not compute "
            "the loss inside `with no_grad():`.")
    if grad is None:
        if output.data.size != 1:
            raise RuntimeError(
                f"backward of a non-scalar tensor of shape {output.shape} needs a seed "
                f"gradient: call y.backward(g) with g of shape {output.shape}, or reduce "
                f"y to a scalar first (y.sum(), y.mean())")
        return Tensor._wrap(np.ones(output.data.shape, output.data.dtype))
    g = grad if isinstance(grad, Tensor) else Tensor._wrap(np.asarray(grad, dtype=output.dtype))
    if g.shape != output.shape:
        raise ValueError(
            f"backward: the seed gradient has shape {g.shape} but the output has shape "
            f"{output.shape}; they must match")
    return g
