"""The reverse sweep: read the tape backwards and apply the chain rule.

Each entry `out = op(x₁, …, xₙ)` is visited after every entry that used `out`, so by
then the adjoint of `out` — ∂loss/∂out, the sum of what its users sent back — is
complete. The entry passes `vjp(g)` on to each of its inputs that needs a gradient.
Visiting entries from the highest tape position to the lowest guarantees that order:
an entry's users were all recorded after it.

The rules are written with tape operations. When the sweep is itself recorded
(`create_graph=True`, for gradients of gradients) they are given Tensors, so every
operation they do goes on the tape. Otherwise they are given the bare ndarrays, as
HIPS autograd does: `g * ans` is then numpy's own product, with no bookkeeping.
"""

import numpy as np

from .tape import enable_grad, no_grad
from .tensor import Tensor


def backward(output, grad=None, retain_graph=None, create_graph=False):
    """`output.backward()`: add d output / d leaf into every leaf's `.grad`."""
    seed = _seed(output, grad)
    found = _sweep(output, seed, entries_reaching(output), retain_graph, create_graph)
    given = {id(seed.data)}
    for leaf, g in found.values():
        g = _own(g.data if create_graph else g, given)
        leaf.grad = g if leaf.grad is None else np.asarray(leaf.grad + g)


def gradients(output, sources, grad=None, retain_graph=None, create_graph=False,
              entries=None):
    """d output / d source for each source, without touching `.grad`.

    A source may be a leaf or any tensor computed on the way. Returns ndarrays, or
    Tensors with their own history if `create_graph`. `entries`: only these count
    (a Tape's own list).
    """
    sources = list(sources)
    for s in sources:
        if not isinstance(s, Tensor):
            raise TypeError(f"gradient sources must be Tensors, got {type(s).__name__}")
    seed = _seed(output, grad)
    reaching = entries_reaching(output)
    if entries is not None:
        listed = {e.index for e in entries}
        reaching = [e for e in reaching if e.index in listed]
    found = _sweep(output, seed, reaching, retain_graph, create_graph, sources)
    result, given = [], {id(seed.data)}
    for s in sources:
        if id(s) not in found:
            zeros = np.zeros_like(s.data)
            result.append(Tensor._wrap(zeros) if create_graph else zeros)
        else:
            g = found[id(s)][1]
            result.append(g if create_graph else _own(g, given))
    return result


def entries_reaching(output):
    """The entries the output depends on, in tape order (found without recursion).

    Sorting by tape position is all the ordering backward needs: every entry was
    recorded after the entries that produced its inputs."""
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


def _sweep(output, seed, entries, retain_graph, create_graph, sources=()):
    """Propagate adjoints from `output` back through `entries` (given in tape order).

    Returns {id(tensor): (tensor, adjoint)} for the leaves that need a gradient and
    for the `sources`. The adjoints are Tensors if `create_graph`, else ndarrays.
    """
    seed = seed if create_graph else seed.data
    free = not (create_graph if retain_graph is None else retain_graph)
    adjoint = {id(output): [output, seed, False]}    # id -> [tensor, g, owned by us?]
    wanted = {id(s) for s in sources}
    found = {id(output): (output, seed)} if id(output) in wanted else {}
    with enable_grad() if create_graph else no_grad():
        for entry in reversed(entries):
            out = entry.out()
            slot = adjoint.pop(id(out), None) if out is not None else None
            if slot is None:
                continue   # nothing downstream depends on this entry
            g = slot[1]
            if wanted and id(out) in wanted:
                found[id(out)] = (out, g)
            op, params = entry.op, entry.params
            if entry.freed or out._version > entry.index and op.reads_value("ans"):
                _refuse(entry, out)
            for t in entry.tapes:
                if t.keep_adjoints:
                    t.adjoints[entry.index] = g.data if create_graph else g
            recorded = entry.inputs
            if any(type(x) is Tensor and x._version > entry.index for x in recorded):
                recorded = _as_recorded(entry)
            if create_graph:
                ans, inputs = out, recorded
            else:
                ans, inputs = out.data, entry.values
            for argnum, x in enumerate(recorded):
                if type(x) is not Tensor:
                    continue
                if not x.requires_grad:
                    continue
                if op.plain and argnum < len(op.vjps):
                    gx = op.vjps[argnum](g, ans, *inputs, **params)
                else:
                    gx = op.vjp(argnum, g, ans, inputs, params, entry.saved)
                if create_graph or gx.shape != x.data.shape or gx.dtype != x.data.dtype:
                    gx = _checked(gx, x, entry, argnum, create_graph)
                slot = adjoint.get(id(x))
                if slot is None:
                    adjoint[id(x)] = [x, gx, False]
                else:
                    _accumulate(slot, gx, create_graph)
            if free:
                entry.free()          # its values are used: release them at once
    for key, (tensor, g, _) in adjoint.items():
        if tensor._entry is None or key in wanted:
            found[key] = (tensor, g)
    return found


def inputs_as_recorded(entry):
    """The entry's inputs as it used them (None once freed).

    An assignment into a tensor (`z[z < 0] = 0`, `dx /= N`) is recorded by an in-place
    form whose first input is the tensor as it was before; the tensor itself moves on to
    the new value (operators.py, `rebase`). An entry recorded earlier used that earlier
    self, so the chain of assignments is followed back to it.
    """
    if entry.inputs is None:
        return None
    return tuple(_earlier_self(x, entry.index) if type(x) is Tensor else x
                 for x in entry.inputs)


def _earlier_self(x, index):
    """x as it was when entry number `index` was recorded."""
    while (x._version > index and x._entry is not None and x._entry.op.in_place
           and x._entry.index > index and x._entry.inputs):
        x = x._entry.inputs[0]
    return x


def _as_recorded(entry):
    """`inputs_as_recorded`, refusing a value changed without a record (under no_grad, or
    through a tensor needing no gradient) if one of the op's rules reads it: add's rules
    never look at x, so changing x after x + y is fine (PyTorch's rule)."""
    inputs = inputs_as_recorded(entry)
    for argnum, x in enumerate(inputs):
        if type(x) is Tensor and x._version > entry.index and entry.op.reads_value(argnum):
            _refuse(entry, x)
    return inputs


def _refuse(entry, value):
    """Differentiating through values that are gone or were changed would be wrong."""
    if entry.freed:
        raise RuntimeError(
            f"backward through a part of the tape that was already freed "
            f"(entry #{entry.index}, {entry.op.name}): an earlier backward() "
            f"released its saved values. Pass retain_graph=True to the first "
            f"backward() if you need to go through the same graph twice.")
    raise RuntimeError(
        f"backward: a value that {entry.op.name} (entry #{entry.index}) saved for its "
        f"gradient was changed in place afterwards (`-=`, `+=`, ... under no_grad), so "
        f"its gradient would be wrong. Update parameters after backward(), or compute "
        f"the loss again after the update.")


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


def _accumulate(slot, g, create_graph):
    """Add g into an adjoint slot [tensor, sum, owned]. Shared arrays are never written:
    the first sum is a fresh array, which later contributions may update in place."""
    if create_graph:
        slot[1] = slot[1] + g             # recorded: the sum is a tape operation
    elif slot[2]:
        slot[1] += g
    else:
        slot[1] = np.add(slot[1], g)
        slot[2] = type(slot[1]) is np.ndarray   # a 0-d sum is a numpy scalar: not ours


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
        return Tensor._wrap(np.ones_like(output.data))
    g = grad if isinstance(grad, Tensor) else Tensor._wrap(np.asarray(grad, dtype=output.dtype))
    if g.shape != output.shape:
        raise ValueError(
            f"backward: the seed gradient has shape {g.shape} but the output has shape "
            f"{output.shape}; they must match")
    return g
