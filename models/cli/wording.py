"""How the training command words what it prints: the setup, counts, numbers."""

import math


def describe_setup(config):
    """The loss, the initialisation and the dtype, as the header and the plots name them."""
    init = getattr(config, "init", None)
    if init == "gaussian":
        init = f"gaussian σ {config.weight_scale:g}"
    return " · ".join(part for part in (f"loss {config.loss}",
                                        f"init {init}" if init else None, config.dtype) if part)


def plural(n, word):
    return f"{n} {word}" if n == 1 else f"{n} {word}s"


def number(value):
    """A loss for a sentence: four decimals, or four significant digits when huge."""
    return f"{value:.4f}" if abs(value) < 1e6 or not math.isfinite(value) else f"{value:.4g}"
