"""How an operation is defined: a numpy forward and one gradient rule per input.

    @primitive
    def exp(x):
        return np.exp(x)
    exp.defvjp(lambda g, ans, x: g * ans)        # d exp(x) = exp(x) dx

The forward works on plain ndarrays. A gradient rule is a vector-Jacobian product
(vjp): given `g`, the gradient of the loss with respect to the output (the output's
*adjoint*), the output `ans` and the inputs, it returns the gradient with respect to
one input. Rules are written with operators and tape functions, which work alike on
Tensors and on ndarrays: the sweep hands a rule Tensors when the backward pass is
itself recorded (`create_graph=True`: that is all higher-order gradients need), and
the bare ndarrays otherwise, so an ordinary backward pays no bookkeeping for them.

Rules may return a gradient in the broadcast shape of the output, or in another dtype;
the sweep sums it back to the input's shape with `unbroadcast` and casts it, once, for
every rule.

A forward that computes something its rule will need again (cross-entropy computes
softmax) may keep it: declare `@primitive(saves=True)`, return `(output, saved)`, and
the rule receives `saved=` as a keyword.
"""

import numpy as np

from .tape import Entry, _Recording
from .tensor import Tensor


class Primitive:
    """An operation the tape knows how to differentiate."""

    def __init__(self, forward, name=None, saves=False):
        self.forward = forward
        self.name = name or forward.__name__
        self.saves = saves       # forward returns (output, what the rule will reuse)
        self.vjps = {}           # argument position -> rule(g, ans, *inputs, **params)
        self.__doc__ = forward.__doc__
        self.__name__ = self.name

    def defvjp(self, *rules, argnums=None):
        """Give the gradient rule for each positional input, in order.

        `None` marks an input with no gradient (an index, a label array).
        """
        for argnum, rule in zip(argnums or range(len(rules)), rules):
            if rule is not None:
                self.vjps[argnum] = rule
        return self

    def defvjp_argnum(self, rule):
        """One rule for any number of inputs: rule(argnum, g, ans, *inputs, **params)."""
        self.vjps = _AllArguments(rule)
        return self

    def __call__(self, *args, **params):
        values = [a.data if isinstance(a, Tensor) else a for a in args]
        result, saved = self.forward(*values, **params), None
        if self.saves:
            result, saved = result
        out = Tensor._wrap(result)
        if _Recording.enabled:
            for a in args:
                if isinstance(a, Tensor) and a.requires_grad:
                    self._record(args, params, out, saved)
                    break
        return out

    def _record(self, args, params, out, saved):
        entry = Entry(self, args, params, out)
        entry.saved = saved
        out.requires_grad = True
        out._entry = entry
        for t in _Recording.tapes:
            t.entries.append(entry)
            entry.on_tape = True

    def vjp(self, argnum, g, ans, inputs, entry):
        """The gradient with respect to input `argnum`, given the output's adjoint g."""
        try:
            rule = self.vjps[argnum]
        except KeyError:
            raise NotImplementedError(
                f"{self.name}: no gradient rule for input {argnum}; "
                f"define one with {self.name}.defvjp(...)") from None
        if self.saves:
            return rule(g, ans, *inputs, saved=entry.saved, **entry.params)
        return rule(g, ans, *inputs, **entry.params)

    def __repr__(self):
        return f"<primitive {self.name}>"


class _AllArguments(dict):
    """A vjp table that answers for every argument position with one rule."""

    def __init__(self, rule):
        super().__init__()
        self.rule = rule

    def __getitem__(self, argnum):
        return lambda g, ans, *inputs, **params: self.rule(argnum, g, ans, *inputs, **params)


def primitive(forward=None, *, name=None, saves=False):
    """Decorator: turn a numpy function into a tape operation (add rules with .defvjp)."""
    if forward is None:
        return lambda f: Primitive(f, name, saves)
    return Primitive(forward, name, saves)


def as_array(value):
    """The ndarray (or Python scalar) behind a Tensor or a constant."""
    return value.data if isinstance(value, Tensor) else value


def dtype_of(value):
    return value.dtype if isinstance(value, (Tensor, np.ndarray)) else np.result_type(value)
