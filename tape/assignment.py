"""Assignment into a tensor, as the reverse sweep sees it (part of the mechanism, kept apart).

`z[z < 0] = 0` and `dx /= N` on a tensor computed from parameters are recorded by an
in-place form of an op (`setitem`, `div_`; operators.py, `rebase`): the tensor moves on
to the new value and a fresh tensor takes over what it was before. Entries recorded
earlier still name the tensor itself among their inputs; these functions lead them back
to the value they used. Like the rest of the mechanism this imports no op.
"""

from ._tensor import Tensor


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


def as_recorded(entry):
    """`inputs_as_recorded`, refusing a value changed without a record (under no_grad, or
    through a tensor needing no gradient) if one of the op's rules reads it: add's rules
    never look at x, so changing x after x + y is fine (PyTorch's rule)."""
    inputs = inputs_as_recorded(entry)
    for argnum, x in enumerate(inputs):
        if type(x) is Tensor and x._version > entry.index:
            refuse_if_read(entry, argnum)
    return inputs


def refuse_if_read(entry, which):
    """Refuse the sweep if a rule of the entry's op reads input `which` (or "ans"), which
    was changed in place after it was recorded. `reads=None`: every value counts as read."""
    if entry.op.reads is None or which in entry.op.reads:
        raise RuntimeError(
            f"backward: a value that {entry.op.name} (entry #{entry.index}) saved for its "
            f"gradient was changed in place afterwards (`-=`, `+=`, ... under no_grad), "
            f"so its gradient would be wrong. Update parameters after backward(), or "
            f"compute the loss again after the update.")
