"""How an operation is defined: a numpy forward and one gradient rule per input.

    @primitive
    def exp(x):
        return np.exp(x)
    exp.defvjp(lambda g, ans, x: g * ans)        # d exp(x) = exp(x) dx

The forward works on plain ndarrays. A gradient rule is a vector-Jacobian product
(vjp): given `g`, the gradient of the loss with respect to the output (the output's
*adjoint*), the output `ans` and the inputs, it returns the gradient with respect to
one input, in that input's shape. Rules are written with operators and tape functions,
which work alike on Tensors and on ndarrays: the sweep hands a rule Tensors when the
backward pass is itself recorded (`create_graph=True`: that is all higher-order
gradients need), and the bare ndarrays otherwise, so an ordinary backward pays no
bookkeeping for them.

A forward that computes something its rule will need again (cross-entropy computes
softmax) may keep it: declare `@primitive(saves=True)`, return `(output, saved)`, and
the rule receives `saved=` as a keyword.

Called with no Tensor among its arguments, an op is plain numpy: it returns an array
and records nothing. That is what lets one rule serve both kinds of backward pass. An op taking any number of inputs
(`concatenate`) declares `variadic=True` and gives one rule taking the input's
position first: `rule(argnum, g, ans, *inputs)`.

`reads=` says which values the rules read: input positions and "ans" (the output):
`reads=(0, 1)` for x·y (each rule reads the other input), `reads=("ans",)` for exp,
`reads=()` for add, whose rules only pass g on. A value changed
in place after the op was recorded makes `backward()` refuse only if a rule reads it
(PyTorch's rule); without the declaration every input and the output count as read.
`in_place=True` marks the form an assignment into a tensor is recorded with
(`z[mask] = 0`, `dx /= N`): its first input is the tensor as it was before (see
operators.py, `rebase`).
"""

import functools

from ._tensor import Tensor, wrap_value
from .tape import Entry, state


class Primitive:
    """An operation the tape knows how to differentiate."""

    def __init__(self, forward, name=None, saves=False, variadic=False, reads=None,
                 in_place=False):
        self.forward = forward
        self.name = name or forward.__name__
        self.saves = saves           # forward returns (output, what the rule will reuse)
        self.variadic = variadic     # one rule for every input, told the input's position
        self.vjps = ()               # the rule for each input, in order
        self.plain = False           # a rule for every input, called as rule(g, ans, *xs)
        self.rules = ()              # if plain: those rules, and one refusing any other input
        self.reads = reads           # the values the rules read (positions, "ans"); None: all
        self.in_place = in_place     # records an assignment: input 0 is the value before
        self.__doc__ = forward.__doc__
        self.__name__ = self.name

    def defvjp(self, *rules):
        """Give the gradient rule for each positional input, in order.

        `None` marks an input with no gradient (an index, a label array).
        """
        self.vjps = rules
        self.plain = not (self.saves or self.variadic or None in rules)
        code = getattr(self.forward, "__code__", None)    # and rules refusing other inputs
        self.rules = self.rules_for(max(len(rules), code.co_argcount if code else 0)) if self.plain else ()
        return self

    def __call__(self, *args, **params):
        values, record, wrap = [], False, False
        for a in args:
            if type(a) is Tensor:
                values.append(a.data)
                wrap = True
                record = record or a.requires_grad
            else:
                values.append(a)
        result, saved = self.forward(*values, **params), None
        if self.saves:                # the forward gave (output, what its rule will reuse)
            result, saved = result
        if not wrap:
            return result           # arrays in, array out: how rules run in a plain backward
        if record and state.recording:
            out = wrap_value(result, True)
            out._entry = Entry(self, args, values, params, out, saved)
            return out
        return wrap_value(result, False)

    def rules_for(self, count, saved=None):
        """The rule for each of `count` inputs, each called as rule(g, ans, *inputs,
        **params): a rule's position (variadic) or the forward's saved value bound in."""
        rules = self.vjps
        bound = []
        for argnum in range(count):
            rule = rules[0] if self.variadic else rules[argnum] if argnum < len(rules) else None
            bound.append(functools.partial(_no_rule, self.name, argnum) if rule is None else
                         functools.partial(rule, argnum) if self.variadic else
                         functools.partial(rule, saved=saved) if self.saves else rule)
        return bound

    def vjp(self, argnum, g, ans, inputs, params, saved=None):
        """The gradient with respect to input `argnum`, given the output's adjoint g."""
        rules = self.rules if self.plain else self.rules_for(len(inputs), saved)
        return rules[argnum](g, ans, *inputs, **params)

    def __repr__(self):
        return f"<primitive {self.name}>"


def primitive(forward=None, **options):
    """Decorator: turn a numpy function into a tape operation (add rules with .defvjp);
    the options (name, saves, variadic, reads, in_place) are Primitive's."""
    return (lambda f: Primitive(f, **options)) if forward is None else Primitive(forward, **options)


def _no_rule(name, argnum, *args, **kwargs):
    raise NotImplementedError(
        f"{name}: no gradient rule for input {argnum}; define one with {name}.defvjp(...)")
