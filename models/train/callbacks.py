"""Watching a run: the hooks the training loop calls, and the one it always keeps.

A `Callback` is told when training starts, after every backward pass (gradients known,
parameters not yet moved), after every optimiser step, at the end of every epoch and
when training stops. The loop itself keeps one: `IterationHistory`, every step's loss
and learning rate (cs231n's `Solver.loss_history`). The others — Solver-style log
lines, periodic evaluation, layer statistics, TensorBoard — live in `monitor.py`,
`layer_statistics.py` and `tensorboard.py`.
"""

from dataclasses import dataclass

import numpy as np


@dataclass
class Step:
    """One optimiser step, as a callback sees it."""
    iteration: int      # 1, 2, ... counted over the whole run (across epochs)
    epoch: int          # 0-based epoch this step belongs to
    batch: int          # 1, 2, ... within the epoch
    loss: float         # the data loss of this mini-batch, before the step
    lr: float           # the learning rate the step used
    correct: int        # images of the mini-batch classified correctly
    size: int           # images in the mini-batch


class Callback:
    """Something that watches a `Run` train. Override only the hooks you need.

    on_fit_start(run, splits)   before the first step of `fit` (also of a resumed run)
    on_backward(step)           gradients are in p.grad; the parameters have not moved yet
    on_step(step)               after optimizer.step(): the parameters have moved
    on_epoch_end(run, row)      after the epoch's validation; may add entries to `row`
                                (the dict that becomes one line of run.history)
    on_fit_end(run)             training stopped (finished, early-stopped, diverged or
                                interrupted)

    The two per-step hooks are called from `train_epoch`, which knows the model but not
    the Run: keep what you need (the parameters, the splits) in `on_fit_start`.
    `step.loss` is the mini-batch loss *before* the update (what the Solver prints). A
    callback that saves state for `--resume` returns numeric arrays from `state_dict()`
    and takes them back in `load_state_dict()`; `name` keys them in the checkpoint.
    Callbacks must not change the parameters, the gradients or any random stream: a run
    with callbacks trains exactly as one without.
    """

    name = None

    def on_fit_start(self, run, splits):
        pass

    def on_backward(self, step):
        pass

    def on_step(self, step):
        pass

    def on_epoch_end(self, run, row):
        pass

    def on_fit_end(self, run):
        pass

    def state_dict(self):
        return {}

    def load_state_dict(self, state):
        pass


class IterationHistory(Callback):
    """Every step's training loss and learning rate, in order (one entry per iteration)."""

    name = "iterations"

    def __init__(self):
        self.loss, self.lr = [], []

    def on_step(self, step):
        self.loss.append(step.loss)
        self.lr.append(step.lr)

    def __len__(self):
        return len(self.loss)

    def state_dict(self):
        return {"loss": np.array(self.loss, dtype=np.float64),
                "lr": np.array(self.lr, dtype=np.float64)}

    def load_state_dict(self, state):
        self.loss = [float(v) for v in state.get("loss", ())]
        self.lr = [float(v) for v in state.get("lr", ())]
