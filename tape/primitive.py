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
"""

from .tape import Entry, state
from .tensor import Tensor


class Primitive:
    """An operation the tape knows how to differentiate."""

    def __init__(self, forward, name=None, saves=False, variadic=False):
        self.forward = forward
        self.name = name or forward.__name__
        self.saves = saves           # forward returns (output, what the rule will reuse)
        self.variadic = variadic     # one rule for every input, told the input's position
        self.vjps = ()               # the rule for each input, in order
        self.plain = False           # every input has a rule, called as rule(g, ans, *xs)
        self.source = None           # its generated form: numpy source (tape.compiler)
        self.__doc__ = forward.__doc__
        self.__name__ = self.name

    def defvjp(self, *rules):
        """Give the gradient rule for each positional input, in order.

        `None` marks an input with no gradient (an index, a label array).
        """
        self.vjps = rules
        self.plain = not (self.saves or self.variadic or None in rules)
        return self

    def defsource(self, forward, *vjps, name=None):
        """Give the op's generated form: the numpy source of its forward and of each rule
        (tape/compiler/program.py says what a form receives and returns)."""
        self.source = (forward, vjps, name)
        return self

    def __call__(self, *args, **params):
        wrap = record = False
        for a in args:
            if type(a) is Tensor:
                wrap = True
                if a.requires_grad:
                    record = True
                    break
        values = [a.data if type(a) is Tensor else a for a in args]
        result = self.forward(*values, **params)
        saved = None
        if self.saves:
            result, saved = result
        if not wrap:
            return result           # arrays in, array out: how rules run in a plain backward
        out = Tensor._wrap(result)
        if record and state.recording:
            out.requires_grad = True
            out._entry = Entry(self, args, values, params, out, saved)
        return out

    def vjp(self, argnum, g, ans, inputs, params, saved):
        """The gradient with respect to input `argnum`, given the output's adjoint g."""
        rules = self.vjps
        rule = rules[0] if self.variadic else rules[argnum] if argnum < len(rules) else None
        if rule is None:
            raise NotImplementedError(
                f"{self.name}: no gradient rule for input {argnum}; "
                f"define one with {self.name}.defvjp(...)")
        if self.variadic:
            return rule(argnum, g, ans, *inputs, **params)
        if self.saves:
            return rule(g, ans, *inputs, saved=saved, **params)
        return rule(g, ans, *inputs, **params)

    def __repr__(self):
        return f"<primitive {self.name}>"


def primitive(forward=None, *, name=None, saves=False, variadic=False):
    """Decorator: turn a numpy function into a tape operation (add rules with .defvjp)."""
    if forward is None:
        return lambda f: Primitive(f, name, saves, variadic)
    return Primitive(forward, name, saves, variadic)
