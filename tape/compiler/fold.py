"""A whole training step compiled: the optimiser's update folded into the replay.

    step = tape.compile(loss, parameters=model, optimizer=SGD(model.parameters(), lr=0.1))
    value = step(X, y)     # zero_grad, loss.backward() and optimizer.step(), in one replay

The update is written after the backward pass, parameter by parameter in the
optimiser's order, as the statements its eager `step()` runs; the optimiser is an
argument of the generated function, its step count, hyperparameters and slots read
from it at every step (a schedule may change `lr`, a checkpoint the velocities):

    # the update: SGD.update_source(), read from the optimiser at each step
    optimizer.steps += 1
    lr = optimizer.lr
    momentum = optimizer.momentum
    velocity_W1 = optimizer.slot('velocity', 0)
    velocity_W1 *= momentum
    velocity_W1 -= lr * dW1_4
    W1 += velocity_W1
    ...
    return loss, dW1_4, db1_4, ...          # each parameter's .grad, set by the call

An optimiser has such a form if it has a method `update_source()` beside its `update`
(models/optim/optimizers.py's SGD), as an op's generated form sits beside its gradient
rule: (the statements for one parameter `theta` with gradient `g` and its slots by
name, the hyperparameters they read, the slots they use), or None. One without (Adam)
has `optimizer.step()` called after the replay instead. Either way a call is
`zero_grad(); loss.backward(); optimizer.step()`: `.grad` holds this step's gradients,
`optimizer.steps` counts it. When traced, the folded update is checked bit for bit
against `optimizer.step()` run on copies of the parameters and slots.
"""

import copy
import re
from types import SimpleNamespace

import numpy as np

from ..functional import is_nested
from ..tape import is_recording
from . import _ARRAYS_ONLY, _DATA, _PARAMETER_KEY, _SHAPE_AND_DTYPE, Compiled, _identical

_NAME = re.compile(r"[A-Za-z_]\w*")


class Fold:
    """One trace's update: which parameters it moves, and its statements."""

    def __init__(self, optimizer, learned, form, has_aux):
        self.statements, self.hyperparameters, self.slots = form
        index = {id(p): i for i, p in enumerate(optimizer.params)}
        # the learned parameters the optimiser moves, in its order (step()'s)
        self.moved = sorted((index[id(p)], p) for p in learned if id(p) in index)
        self.learned = learned
        # zero_grad's part that the gradients do not overwrite: the optimiser's others
        self.cleared = [p for p in optimizer.params if all(p is not q for q in learned)]
        self.kind = type(optimizer).__name__
        # Step.__call__'s own path: results (loss, *grads), each gradient an ndarray (a
        # 0-d one may come back a numpy scalar), no .grad for zero_grad to clear besides
        self.plain = not has_aux and not self.cleared and all(p.ndim for p in learned)

    def write(self, program, names, grads):
        """(the extra argument, the update's statements), for function_source: the
        optimiser is an argument, its step count, hyperparameters and slots read from it."""
        optimizer = program.fresh("optimizer", exact=True)
        lines = [f"# the update: {self.kind}.update_source(), read from the optimiser at "
                 f"each step", f"{optimizer}.steps += 1"]
        hyper = {h: program.fresh(h, exact=True) for h in self.hyperparameters}
        lines += [f"{name} = {optimizer}.{h}" for h, name in hyper.items()]
        for i, p in self.moved:
            slots = {s: program.fresh(f"{s}_{names[id(p)]}", exact=True) for s in self.slots}
            lines += [f"{name} = {optimizer}.slot({s!r}, {i})" for s, name in slots.items()]
            words = {"theta": names[id(p)], "g": grads[id(p)], **hyper, **slots}
            lines += [_NAME.sub(lambda m: words.get(m.group(), m.group()), s)
                      for s in self.statements]
        return [optimizer], lines


class Step(Compiled):
    """tape.compile(loss, parameters=..., optimizer=...): each call a training step."""

    def __init__(self, fn, parameters, cache_size, verbose, has_aux, optimizer):
        super().__init__(fn, parameters, cache_size, verbose, has_aux)
        self.optimizer = optimizer
        self.fold = None              # the Fold of the trace being made

    def __call__(self, *args):
        if {*map(type, args)} <= _ARRAYS_ONLY and is_recording() and not is_nested():
            # a training step's batch, as in Compiled.__call__, with the update folded in
            key = (*map(_SHAPE_AND_DTYPE, args), *map(_PARAMETER_KEY, self.tensors))
            replay = self.cache.get(key)
            if replay is not None and replay.fold is not None and replay.fold.plain:
                self._recent(key)
                value, *grads = replay(*args, *map(_DATA, self.tensors), self.optimizer)
                for p, g in zip(replay.fold.learned, grads):
                    p.grad = g                      # .grad: this step's gradients
                return np.asarray(value)
        return super().__call__(*args)

    def _run(self, replay, arrays):
        if replay.fold is None:
            return self._stepping(super()._run, replay, arrays)
        self.optimizer.zero_grad()
        return self._finish(replay(*arrays, self.optimizer), replay.learned)

    def _eager(self, args):
        return self._stepping(super()._eager, args)

    def _trace(self, args, key):
        form = getattr(self.optimizer, "update_source", None)
        form = form() if form is not None else None
        self.fold = Fold(self.optimizer, self._learned(), form, self.has_aux) if form else None
        result = self._stepping(super()._trace, args, key)
        self.cache[key].fold, self.fold = self.fold, None
        return result

    def _stepping(self, run, *args):
        self.optimizer.zero_grad()
        result = run(*args)
        self.optimizer.step()
        return result

    def _then(self, program, arguments, results):
        if self.fold is None:
            return None
        learned, n = self._learned(), len(self.parameters)
        names = {id(p): a.name for (_, p), a in zip(self.parameters, arguments[-n:])}
        grads = [program._render(r.name, program.values) if r.const else r.name
                 for r in results[len(results) - len(learned):]]
        return self.fold.write(program, names, dict(zip(map(id, learned), grads)))

    def _replays(self, replay, arrays, expected):
        """The replay gives the tape's loss and gradients, and moves copies of the
        parameters and slots as optimizer.step() moves others, bit for bit."""
        if self.fold is None:
            return super()._replays(replay, arrays, expected)
        n, learned = len(self.parameters), self._learned()
        grads = dict(zip(map(id, learned), expected[len(expected) - len(learned):]))
        mine = [*arrays[:-n], *(a.copy() for a in arrays[-n:])]
        folded, eager = self._twin(grads), self._twin(grads)
        got = replay(*mine, folded)
        if not _identical(got, expected):
            return False
        eager.step()
        position = {id(p): i for i, (_, p) in enumerate(self.parameters)}
        moved = [(i, mine[len(arrays) - n + position[id(p)]]) for i, p in self.fold.moved]
        return folded.steps == eager.steps and _identical(
            [theta for _, theta in moved] + [folded.slot(s, i) for i, _ in moved
                                             for s in self.fold.slots],
            [eager.params[i].data for i, _ in moved] + [eager.slot(s, i) for i, _ in moved
                                                        for s in self.fold.slots])

    def _twin(self, grads):
        """The optimiser on copies of its parameters (with these gradients) and slots."""
        twin = copy.copy(self.optimizer)
        twin.slots = {name: [a if a is None else a.copy() for a in arrays]
                      for name, arrays in self.optimizer.slots.items()}
        twin.params = [SimpleNamespace(data=p.data.copy(), grad=grads.get(id(p)))
                       for p in self.optimizer.params]
        return twin
