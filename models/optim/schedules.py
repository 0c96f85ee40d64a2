"""Learning-rate schedules, applied once per epoch (epoch counts from 0).

    constant       η₀
    step           η₀ · γ^⌊epoch / step_size⌋
    exponential    η₀ · γ^epoch
    inverse_time   η₀ / (1 + decay · epoch)
    cosine         η_min + ½(η₀ − η_min)(1 + cos(π · epoch / epochs))
"""

import math

SCHEDULES = ("constant", "step", "exponential", "inverse_time", "cosine")


def learning_rate(schedule, lr, epoch, epochs=None, gamma=0.5, step_size=10, decay=0.01,
                  min_lr=0.0):
    """The learning rate for `epoch` under `schedule`, starting from `lr`."""
    if schedule == "constant":
        return lr
    if schedule == "step":
        return lr * gamma ** (epoch // step_size)
    if schedule == "exponential":
        return lr * gamma ** epoch
    if schedule == "inverse_time":
        return lr / (1 + decay * epoch)
    if schedule == "cosine":
        if not epochs:
            raise ValueError("the cosine schedule needs the number of epochs")
        return min_lr + 0.5 * (lr - min_lr) * (1 + math.cos(math.pi * epoch / epochs))
    raise ValueError(f"unknown schedule {schedule!r}: choose one of {', '.join(SCHEDULES)}")
