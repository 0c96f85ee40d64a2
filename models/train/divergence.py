"""Divergence stops training (`Diverged`) rather than letting it finish at chance level.

A run diverges when a batch's loss is NaN or infinite, when it exceeds
EXPLOSION_FACTOR · ln K (K classes; ten times the loss of a uniform guess, 23.0 for ten
classes: a network that was learning never gets there), or when a parameter is not
finite at the end of an epoch. The best parameters kept so far are therefore always
finite.
"""

import math

import numpy as np


class Diverged(RuntimeError):
    """The loss became NaN or infinite, or exploded, or a parameter stopped being finite."""


EXPLOSION_FACTOR = 10


def check_loss(value, n_classes, epoch, batch):
    """Raise Diverged if a loss is not finite or has exploded (see the docstring).

    batch: the batch number, or "validation" for the loss on the validation set."""
    where = (f"epoch {epoch + 1}, batch {batch}" if batch != "validation"
             else f"the end of epoch {epoch + 1} (validation loss)")
    if not math.isfinite(value):
        raise Diverged(f"the loss became {value} at {where}")
    limit = EXPLOSION_FACTOR * math.log(max(n_classes, 2))
    if value > limit:
        raise Diverged(f"the loss exploded to {value:.4g} at {where} (more than "
                       f"{EXPLOSION_FACTOR}·ln {n_classes} = {limit:.1f})")


def check_parameters(model, epoch):
    """Raise Diverged if any parameter holds NaN or inf after `epoch`."""
    for name, p in model.named_parameters().items():
        if not np.isfinite(p.data).all():
            raise Diverged(f"parameter {name} holds non-finite values after epoch "
                           f"{epoch + 1}")
