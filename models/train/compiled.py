"""The training step under `tape.compile`: traced once, then replayed as numpy.

Every step of a run records the same tape (only the last, smaller batch of an epoch
differs), so `--compile` writes that tape out once as numpy source — the forward, then
the backward pass — and replays it at every step, with the tape's results to the last
digit. `--print-backward` prints the source.
"""

import numpy as np

import tape
from models.nn import l2_penalty
from models.train.losses import data_loss


def compiled_step(model, config, n_classes):
    """(xb, yb) -> (data loss, logits), the gradients of the objective (the data loss,
    plus the L2 penalty) added into each p.grad: the step's tape.compile'd replay."""
    weights = model.weights()

    def objective(X, y, target):
        logits = model(X)
        loss = data_loss(logits, y, config.loss, target)
        return (loss + l2_penalty(weights, config.l2) if config.l2 else loss), (loss, logits)
    compiled = tape.compile(objective, parameters=model, has_aux=True)
    dtype = np.dtype(config.dtype)

    def step(xb, yb):
        # the one-hot targets are made outside: made inside from the labels, the replay
        # would keep the first batch's (tape.compile refuses that)
        target = (None if config.loss == "cross_entropy" else
                  tape.one_hot(yb, n_classes, dtype=dtype))
        _, (loss, logits) = compiled(np.asarray(xb, dtype=dtype), yb, target)
        return float(loss), logits
    step.compiled = compiled
    return step
