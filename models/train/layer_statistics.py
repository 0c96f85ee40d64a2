"""Layer statistics: how each parameter and its gradient look while the net trains.

For every parameter θ (W1, b1, W2, ...), every `every` iterations:

    weight  min, max, mean, std of θ        (after the step)
    grad    min, max, mean, std of ∂L/∂θ    (the gradient the step used)
    update ratio  ‖Δθ‖ / ‖θ‖                (Δθ: what the optimiser's step changed)
    histogram     counts of θ's values in `bins` equal bins from its min to its max

The update ratio is the classic health check: about 1e-3 is healthy; far above, the
learning rate is too high and the weights are thrown about; far below, it is too low
and nothing is learnt. The gradient statistics include the L2 term (λW): they are
those of the gradient the optimiser used.
"""

import numpy as np

from models.train.callbacks import Callback

STATISTICS = ("min", "max", "mean", "std")
HISTOGRAM_BINS = 40


def summary(values):
    """(min, max, mean, std) of an array, accumulated in float64."""
    return (float(values.min()), float(values.max()),
            float(values.mean(dtype=np.float64)), float(values.std(dtype=np.float64)))


def update_ratio(before, after):
    """‖after − before‖ / ‖before‖ (inf when the parameter was exactly zero and moved)."""
    step = float(np.linalg.norm((after - before).ravel()))
    size = float(np.linalg.norm(before.ravel()))
    if size == 0:
        return 0.0 if step == 0 else float("inf")
    return step / size


def histogram(values, bins=HISTOGRAM_BINS):
    """(counts, lo, hi): `bins` equal bins from the array's min to its max.

    Only the finite values are counted (a diverging step leaves inf and NaN behind, and
    the divergence check reports it); lo = hi = NaN when none is finite."""
    values = values[np.isfinite(values)] if not np.isfinite(values).all() else values
    if values.size == 0:
        return np.zeros(bins, dtype=np.int64), float("nan"), float("nan")
    lo, hi = float(values.min()), float(values.max())
    if hi == lo:                       # a constant array (a zero bias): one spike
        hi = lo + 1e-12
    # in float64, halved if hi − lo would overflow even there (equal bins either way)
    half = 0.5 if not np.isfinite(hi - lo) else 1.0
    counts, _ = np.histogram(values.astype(np.float64) * half, bins=bins,
                             range=(lo * half, hi * half))
    return counts, lo, hi


class LayerStatistics(Callback):
    """Records the statistics above every `every` iterations (at the end of each epoch
    when `every` is None). `records[name]` is a dict of lists, one entry per record;
    `iterations` says when each record was taken."""

    name = "layer_stats"

    def __init__(self, every=None, bins=HISTOGRAM_BINS):
        if every is not None and every < 1:
            raise ValueError(f"LayerStatistics: every must be at least 1 (or None: once "
                             f"per epoch), got {every}")
        self.every, self.bins = every, bins
        self.iterations, self.epochs = [], []
        self.records = {}
        self.listeners = []        # called with (iteration, {name: record}) after each record
        self._params, self._before, self._period = {}, None, None

    def on_fit_start(self, run, splits):
        self._params = run.model.named_parameters()
        self._period = self.every or run.steps_per_epoch
        for name in self._params:
            self.records.setdefault(name, {key: [] for key in self.keys()})

    @staticmethod
    def keys():
        return ([f"weight_{s}" for s in STATISTICS] + [f"grad_{s}" for s in STATISTICS]
                + ["update_ratio", "hist_counts", "hist_lo", "hist_hi"])

    def due(self, iteration):
        return self._period is not None and iteration % self._period == 0

    def on_backward(self, step):
        if not self.due(step.iteration):
            return
        # the gradient the step is about to use, and the weights before it moves them
        self._before = {name: (p.data.copy(), summary(p.grad) if p.grad is not None
                               else (np.nan,) * 4)
                        for name, p in self._params.items()}

    def on_step(self, step):
        if self._before is None:
            return
        latest = {}
        for name, p in self._params.items():
            before, grad_summary = self._before[name]
            counts, lo, hi = histogram(p.data, self.bins)
            values = (*summary(p.data), *grad_summary, update_ratio(before, p.data),
                      counts, lo, hi)
            record = self.records[name]
            for key, value in zip(self.keys(), values):
                record[key].append(value)
            latest[name] = dict(zip(self.keys(), values))
        self._before = None
        self.iterations.append(step.iteration)
        self.epochs.append(step.epoch)
        for listener in self.listeners:
            listener(step.iteration, latest)

    def arrays(self):
        """{"iteration": (R,), "epoch": (R,), "<param>/<key>": (R,) or (R, bins)}."""
        out = {"iteration": np.array(self.iterations, dtype=np.int64),
               "epoch": np.array(self.epochs, dtype=np.int64)}
        for name, record in self.records.items():
            for key, values in record.items():
                if key == "hist_counts":
                    out[f"{name}/{key}"] = (np.array(values, dtype=np.int64) if values
                                            else np.zeros((0, self.bins), dtype=np.int64))
                else:
                    out[f"{name}/{key}"] = np.array(values, dtype=np.float64)
        return out

    state_dict = arrays

    def load_state_dict(self, state):
        if "iteration" not in state:
            return
        self.iterations = [int(i) for i in state["iteration"]]
        self.epochs = [int(e) for e in state["epoch"]]
        self.records = {}
        for key, values in state.items():
            if "/" in key:
                name, stat = key.split("/", 1)
                self.records.setdefault(name, {})[stat] = list(values)
