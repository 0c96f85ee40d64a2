"""A program being written: numpy statements, one per line, run as they are written.

Every op's generated form (`defsource(op, forward, *vjps)`, beside its gradient rule)
is a function of a `Program` and of `Symbol`s, the named values of the program:

    defsource(tanh, lambda c, x: f"np.tanh({x})",               # the forward
              lambda c, g, ans, x: f"{g} * (1 - {ans} * {ans})")   # its vjp

A form returns a numpy expression (a string; the program gives it a name) or a Symbol
it made itself with `c.let(...)` (a form of several statements). A forward form gets
the input Symbols and the op's keyword parameters; a vjp form gets g (the adjoint of
the output), ans (the output) and the inputs, like the rule beside it — and must make
the same numpy calls in the same order as that rule, so that the replay gives the
same bits.

Each statement is run once, on the values of the trace, as it is written: so every
Symbol knows its value's shape and dtype (a form can choose `dz.sum(axis=0)` only when
z was broadcast), and an expression of constants alone is folded: computed once, its
result a literal (`0.01`) or, if it is an array, a named constant listed at the top of
the source.
"""

import ast
import keyword
import re

import numpy as np

_PLACEHOLDER = re.compile(r"__c(\d+)__")


class Symbol:
    """A named value of the program: a variable, a literal, or a named constant."""

    __slots__ = ("name", "value", "const", "needs")

    def __init__(self, name, value, const=False, needs=False):
        self.name = name          # as written in the source (a placeholder for a literal)
        self.value = value        # its value in the trace
        self.const = const        # the same on every call: folded into the source
        self.needs = needs        # depends on a variable whose gradient is asked for

    def __format__(self, spec):
        return self.name

    def __str__(self):
        return self.name

    shape = property(lambda self: np.shape(self.value))
    ndim = property(lambda self: np.ndim(self.value))
    dtype = property(lambda self: np.result_type(self.value))

    def __repr__(self):
        return f"<Symbol {self.name}>"


class Program:
    """Statements and the names they define, run on the trace's values as they are added."""

    def __init__(self, helpers, literals=True):
        self.helpers = {"np": np, **helpers}    # the globals of the generated function
        self.values = {}                         # name -> value in the trace (the locals)
        self.lines = []                          # (source, defined names, used names)
        self.constants = []                      # (name, how it was computed)
        self.names = set(self.helpers) | set(keyword.kwlist) | {"sum", "max", "min"}
        self.literals = []                       # value of placeholder __cN__
        self.spellings = []                      # how it may be written, or None: the usual
        self._common = {}                        # statement text -> its Symbol (written once)
        self.use_literals = literals
        self.counts = {}
        self.hint = "v"                          # the name a form's statements are given
        self._folded = {}                        # how a constant was made -> its Symbol
        self.needing = set()                     # names of values that depend on a variable
                                                 # whose gradient is asked for

    # ---- names -------------------------------------------------------------------
    def fresh(self, hint, exact=False):
        """An unused variable name from `hint`: z → z1, z2; W1 → W1, then W1_2 (`exact`:
        the hint itself if it is free, as for the function's arguments)."""
        hint = re.sub(r"\W", "_", hint or "v")
        if hint[0].isdigit():
            hint = "v" + hint
        if exact or hint[-1].isdigit() or hint not in _NUMBERED:
            name, n = hint, 1
            while name in self.names:
                n += 1
                name = f"{hint}_{n}"
        else:
            n = self.counts.get(hint, 0)
            while True:
                n += 1
                name = f"{hint}{n}"
                if name not in self.names:
                    break
            self.counts[hint] = n
        self.names.add(name)
        return name

    def variable(self, hint, value, needs=False):
        """An input of the program (an argument of the generated function)."""
        name = self.fresh(hint, exact=True)
        self.values[name] = value
        if needs:
            self.needing.add(name)
        return Symbol(name, value, needs=needs)

    # ---- constants -----------------------------------------------------------------
    def literal(self, value):
        """A number, a tuple, None, a dtype, a slice ... as source; an array as a named constant."""
        if isinstance(value, Symbol):
            return value
        if isinstance(value, np.dtype) or (isinstance(value, type) and issubclass(value, np.generic)):
            return Symbol(f"np.{np.dtype(value).name}", value, const=True)
        if isinstance(value, (np.ndarray, np.generic)):
            return self.constant(value, "const")
        if isinstance(value, tuple):
            parts = [self.literal(v).name for v in value]
            return Symbol(f"({', '.join(parts)}{',' if len(parts) == 1 else ''})", value,
                          const=True)
        return Symbol(repr(value), value, const=True)

    def constant(self, value, hint, how=None):
        """A constant: a number becomes a literal; an array a name listed at the top."""
        if (np.ndim(value) == 0 and isinstance(value, (np.ndarray, np.generic))
                and value.dtype.kind in "fiub"):
            return self._placeholder(value, None)
        known = self._folded.get(how) if how else None
        if known is not None and _same(known.value, value):
            return known                         # ones(100) once, however often it is used
        name = self.fresh(hint)
        self.helpers[name] = value
        self.constants.append((name, how))
        symbol = Symbol(name, value, const=True)
        if (isinstance(value, np.ndarray) and value.size and value.dtype.kind == "f"
                and not any(value.strides)):
            # one number seen through a broadcast (the adjoint of a mean): the number
            # itself where it gives the same bits (`0.01 * mask`), else the array
            symbol = self._placeholder(value, _spellings(value.flat[0], True) + [name])
        if how:
            self._folded[how] = symbol
        return symbol

    def _placeholder(self, value, spellings):
        self.literals.append(value)
        self.spellings.append(spellings)
        return Symbol(f"__c{len(self.literals) - 1}__", value, const=True)

    # ---- statements ----------------------------------------------------------------
    def let(self, expr, hint=None, count=1, fold=True):
        """Name the value of `expr` (or `count` values, for a tuple): one statement, run now.

        An expression of constants alone is folded instead (computed once, not written)."""
        if isinstance(expr, Symbol):
            return expr
        hint = hint or self.hint
        uses = self._names(expr)
        variables = [u for u in uses if u in self.values]
        if fold and not variables and count == 1:
            value = eval(expr, self.helpers, self._literal_values())
            return self.constant(value, hint, how=self._render(expr, {}))
        text = self._render(expr, self.values)
        if count == 1 and fold and text in self._common:
            return self._common[text]        # the same statement again: its first result
        value = eval(text, self.helpers, self.values)
        names = [self.fresh(hint if count == 1 else h) for h in
                 ((hint,) if count == 1 else hint)]
        values = (value,) if count == 1 else tuple(value)
        for n, v in zip(names, values):
            self.values[n] = v
        self.lines.append((f"{', '.join(names)} = {text}", set(names), set(variables)))
        needs = any(u in self.needing for u in variables)
        if needs:
            self.needing.update(names)
        symbols = [Symbol(n, v, needs=needs) for n, v in zip(names, values)]
        if count == 1 and fold:
            self._common[text] = symbols[0]
        return symbols[0] if count == 1 else tuple(symbols)

    def update(self, target, statement):
        """An in-place statement on a variable just made (`z += b`), as the eager op does it."""
        text = self._render(statement, self.values)
        uses = {u for u in self._names(statement.split("=", 1)[1].strip()) if u in self.values}
        exec(text, self.helpers, self.values)
        self._common = {t: s for t, s in self._common.items()       # z changed: forget
                        if target.name not in self._names(t)}      # what was made from it
        if uses & self.needing:
            self.needing.add(target.name)
            target.needs = True
        self.lines.append((text, {target.name}, uses | {target.name}))
        target.value = self.values[target.name]
        return target

    # ---- helpers forms use ------------------------------------------------------------
    def helper(self, name, function):
        """Make `function` callable as `name` in the source (the eager op's own helper)."""
        if self.helpers.get(name, function) is not function:
            raise ValueError(f"two helpers named {name}")
        self.helpers[name] = function
        self.names.add(name)
        return name

    def unbroadcast(self, g, x, hint=None):
        """g summed back to x's shape, as tape.unbroadcast does (nothing if the shapes agree)."""
        g = self.let(g, hint)
        shape = x if isinstance(x, tuple) else x.shape
        if g.shape == shape:
            return g
        extra = g.ndim - len(shape)
        axes = tuple(range(extra)) + tuple(
            extra + i for i, n in enumerate(shape) if n == 1 and g.shape[extra + i] != 1)
        if axes == tuple(range(extra)) and extra:      # only leading axes: Σ over them
            axis = axes[0] if len(axes) == 1 else axes
            return self.let(f"{g}.sum(axis={axis})", hint)
        if not axes:
            return self.let(f"{g}.reshape({shape!r})", hint)
        return self.let(f"{g}.sum(axis={axes!r}, keepdims=True).reshape({shape!r})", hint)

    def times(self, g, factor):
        """`g * factor`, or factor alone when g is the constant 1 of the same dtype (the
        seed of the sweep): 1·x is x, bit for bit."""
        if (g.const and np.ndim(g.value) == 0 and g.value == 1 and not isinstance(factor, str)
                and np.result_type(g.value, factor.value) == factor.dtype):
            return factor
        return f"{g} * {factor}"

    # ---- evaluation -------------------------------------------------------------------
    def _names(self, expr):
        expr = _PLACEHOLDER.sub("_constant_", expr)
        return {n.id for n in ast.walk(ast.parse(expr)) if isinstance(n, ast.Name)}

    def _literal_values(self):
        return {f"__c{i}__": v for i, v in enumerate(self.literals)}

    def _render(self, expr, values):
        """The expression with each placeholder written as a literal: the short form
        (`0.01`) where it gives the same result, bit for bit, as the constant itself;
        `np.float32(0.01)` where the type matters."""
        found = [int(i) for i in _PLACEHOLDER.findall(expr)]
        if not found:
            return expr
        exact = {f"__c{i}__": self.literals[i] for i in found}
        reference = eval(expr, self.helpers, {**values, **exact})
        text = expr
        for i in found:
            value = self.literals[i]
            spellings = self.spellings[i]
            if spellings is None:
                spellings = _spellings(value, self.use_literals)
            elif not self.use_literals:
                spellings = spellings[-1:]
            for candidate in spellings:
                trial = text.replace(f"__c{i}__", candidate)
                rest = {k: v for k, v in exact.items() if k in trial}
                try:
                    got = eval(trial, self.helpers, {**values, **rest})
                except Exception:
                    continue
                if _same(got, reference):
                    text = trial
                    break
            else:
                raise AssertionError(f"no spelling of the constant {value!r} reproduces it")
        return text

    # ---- the function ------------------------------------------------------------------
    def function_source(self, name, arguments, results, docstring=None):
        """`def name(arguments): ... return results`, without the statements nobody uses.

        A large array (FREE_BYTES or more) is deleted after its last use, as the tape's
        sweep frees each entry's values once it has used them: the CNN's activations are
        tens of megabytes."""
        live = {r.name for r in results if not r.const}
        kept = []
        for text, defined, used in reversed(self.lines):
            if defined is None:                        # a comment
                kept.append((text, set()))
            elif defined & live:                       # a statement that is needed
                kept.append((text, used))
                live -= defined
                live |= used
        kept.reverse()
        keep = {r.name for r in results} | {a.name for a in arguments}
        last = {}
        for i, (_, used) in enumerate(kept):
            for n in used:
                last[n] = i
        body = []
        for i, (text, _) in enumerate(kept):
            body.append(text)
            done = sorted(n for n, j in last.items() if j == i and n not in keep
                          and getattr(self.values.get(n), "nbytes", 0) >= FREE_BYTES)
            if done:
                body.append(f"del {', '.join(done)}")
        returned = ", ".join(self._render(r.name, self.values) if r.const else r.name
                             for r in results) + ("," if len(results) == 1 else "")
        head = [f"def {name}({', '.join(a.name for a in arguments)}):"]
        if docstring:
            head.append(f'    """{docstring}"""')
        return "\n".join(head + [f"    {line}" for line in body] +
                         [f"    return {returned}"]) + "\n"

    def constants_comment(self, source):
        used = {n.id for n in ast.walk(ast.parse(source)) if isinstance(n, ast.Name)}
        lines = []
        for name, how in self.constants:
            if how and name in used:
                how = " ".join(how.split())
                lines.append(f"# {name} = {how if len(how) < 80 else how[:76] + ' ...'}\n")
        return "".join(lines)


FREE_BYTES = 4 * 2 ** 20     # arrays this large are deleted after their last use

_NUMBERED = {"z", "h", "v", "a", "s", "p", "e", "t", "m", "q", "r", "u", "y", "c", "w",
             "d", "mask", "pooled", "conv", "grad", "wins", "loss_part"}


def _spellings(value, short):
    """How a numeric constant may be written, shortest first."""
    item = value.item() if isinstance(value, (np.ndarray, np.generic)) else value
    exact = repr(np.asarray(value)[()])             # np.float32(0.01), np.True_, ...
    forms = []
    if short:
        if isinstance(item, float):
            short_text = str(np.asarray(value)[()]) if value.dtype != np.float64 else repr(item)
            forms += [short_text, repr(item)]
        elif isinstance(item, (int, bool)):
            forms.append(repr(item))
    forms.append(exact)
    if not exact.startswith("np."):
        forms.append(f"np.{np.asarray(value).dtype.name}({exact})")
    return [f for f in forms if f not in ("inf", "nan", "-inf")] + [
        f"np.{np.asarray(value).dtype.name}({repr(item)!r})"]


def _same(a, b):
    """The same type of result and the same bits."""
    a, b = np.asarray(a), np.asarray(b)
    return a.dtype == b.dtype and a.shape == b.shape and a.tobytes() == b.tobytes()
