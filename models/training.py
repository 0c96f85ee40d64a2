"""The training loop: mini-batches, the loss, backward, the optimiser, per-epoch evaluation.

    for each epoch:
        lr ← schedule(epoch)
        for each mini-batch (X, y) in a seeded shuffle:
            loss = cross_entropy(model(X), y) + ½λΣ‖W‖²      (recorded on the tape)
            loss.backward()                                    (the tape computes ∂loss/∂θ)
            optimiser.step()                                   (θ moves, outside the tape)
        evaluate on the validation set; keep the best parameters

The batch order of epoch e depends only on (seed, e), so a run resumed from a
checkpoint after epoch e continues exactly as the uninterrupted run would have.

Divergence stops training (`Diverged`) rather than letting it finish at chance level:
when a batch's loss is NaN or infinite, when it exceeds EXPLOSION_FACTOR · ln K
(K classes; ten times the loss of a uniform guess, 23.0 for ten classes: a network
that was learning never gets there), or when a parameter is not finite at the end of
an epoch. The best parameters kept so far are therefore always finite.

Watching a run: a `Callback` is told when training starts, after every backward pass
(gradients known, parameters not yet moved), after every optimiser step, at the end of
every epoch and when training stops. The loop itself keeps one: `IterationHistory`,
every step's loss and learning rate (cs231n's `Solver.loss_history`). The others —
Solver-style log lines, periodic evaluation, layer statistics, TensorBoard — live in
`models/monitor.py`, `models/layer_stats.py` and `models/tensorboard_log.py`.
"""

import math
import time
from dataclasses import asdict, dataclass, field

import numpy as np

import tape
from .nn import MLP, l2_penalty
from .optim import make_optimizer
from .schedules import learning_rate


@dataclass
class Config:
    """Everything that defines a training run (saved in every checkpoint)."""
    dataset: str = "mnist"
    hidden: list = field(default_factory=lambda: [1024])
    activation: str = "relu"
    init: str = "he"
    weight_scale: float = 1e-3     # the standard deviation of init "gaussian"
    loss: str = "cross_entropy"
    optimizer: str = "momentum"
    lr: float = 0.05
    momentum: float = 0.9
    l2: float = 1e-4
    schedule: str = "cosine"
    gamma: float = 0.5
    step_size: int = 10
    decay: float = 0.01
    epochs: int = 40
    batch_size: int = 128
    patience: int = 0          # 0: no early stopping
    seed: int = 0
    val_size: int = 5000
    train_size: int = 0        # 0: the whole training split; else a seeded subset
    dtype: str = "float32"

    def to_dict(self):
        return asdict(self)

    @classmethod
    def from_dict(cls, d):
        known = {k: v for k, v in d.items() if k in cls.__dataclass_fields__}
        return cls(**known)


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


# ---- watching a run: the callback interface ------------------------------------------

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


def build_model(config, n_inputs=784, n_classes=10):
    init = config.init
    return MLP([n_inputs, *config.hidden, n_classes], config.activation, init,
               seed=config.seed, dtype=np.dtype(config.dtype), weight_scale=config.weight_scale)


LOSSES = ("cross_entropy", "mse", "mse_half")


def data_loss(logits, y, loss_name, target=None):
    """The loss on the data: softmax cross-entropy, or squared error against one-hot targets.

    mse        Σ(y − ŷ)² / (N·K), the mean over all N×K elements (tape.mse)
    mse_half   ½·Σ(y − ŷ)² / N, summed over the K outputs, averaged over the batch
               (report 002's ½(ŷ − y)ᵀ(ŷ − y)); it is K/2 times mse, 5× for ten classes,
               so its gradients are 5× larger: lr for mse_half ≈ lr for mse / 5.

    All are means over the batch, so an empty batch has no loss: that is an error
    here (`evaluate` returns NaN for an empty set instead). `target`: the one-hot targets,
    if already made (a compiled step is given them as an argument)."""
    if logits.shape[0] == 0:
        raise ValueError(f"data_loss: the batch is empty (logits of shape {logits.shape}); "
                         f"a mean over no examples is undefined")
    if loss_name == "cross_entropy":
        return tape.cross_entropy(logits, y)
    if loss_name not in LOSSES:
        raise ValueError(f"unknown loss {loss_name!r}: choose one of {', '.join(LOSSES)}")
    if target is None:
        target = tape.one_hot(y, logits.shape[1], dtype=logits.dtype)
    if loss_name == "mse":
        return tape.mse(logits, target)
    error = logits - target
    return 0.5 * (error * error).sum() / logits.shape[0]


def evaluate(model, x, y, loss_name="cross_entropy", batch_size=None):
    """(mean loss, accuracy) of the model on (x, y), without recording anything."""
    if len(x) == 0:
        return float("nan"), float("nan")
    batch_size = batch_size or getattr(model, "eval_batch_size", 10000)
    total_loss, correct = 0.0, 0
    with tape.no_grad():
        for i in range(0, len(x), batch_size):
            xb, yb = x[i:i + batch_size], y[i:i + batch_size]
            logits = model(xb)
            total_loss += float(data_loss(logits, yb, loss_name).data) * len(xb)
            correct += int((logits.data.argmax(axis=1) == yb).sum())
    return total_loss / len(x), correct / len(x)


def batch_order(n, seed, epoch):
    """The shuffle of epoch `epoch`: a function of (seed, epoch) only."""
    return np.random.default_rng([seed, epoch]).permutation(n)


def steps_per_epoch(n_train, batch_size):
    return math.ceil(n_train / batch_size)


def compiled_step(model, config, n_classes):
    """The training step's objective under tape.compile: traced once (once more for the
    last, smaller batch), then replayed as numpy. Called with a batch, it returns
    (objective, (data loss, logits)) and adds the gradients into each p.grad: the same
    numbers as the tape's own step, to the last digit."""
    weights = model.weights()

    def objective(X, y, target):
        logits = model(X)
        loss = data_loss(logits, y, config.loss, target)
        return (loss + l2_penalty(weights, config.l2) if config.l2 else loss), (loss, logits)
    compiled = tape.compile(objective, parameters=model, has_aux=True)
    dtype = np.dtype(config.dtype)

    def step(xb, yb):
        # the one-hot targets are made outside: made inside from the labels, the replay
        # would keep the first batch's
        target = (None if config.loss == "cross_entropy" else
                  tape.one_hot(yb, n_classes, dtype=dtype))
        _, (loss, logits) = compiled(np.asarray(xb, dtype=dtype), yb, target)
        return float(loss), logits
    step.compiled = compiled
    return step


def train_epoch(model, optimizer, x, y, config, epoch, progress=None, callbacks=(),
                step_on=None):
    """One pass over the training set; returns (mean data loss, accuracy) seen in it.

    The accuracy is the running one: each mini-batch is scored by the weights of the
    moment, before its own step. `step_on`: a `compiled_step` to replay instead of
    recording every step on the tape.
    """
    if len(x) == 0:
        raise ValueError("train_epoch: the training set is empty; there is nothing to "
                         "learn from (check --train-size and --val-size)")
    weights = model.weights()
    order = batch_order(len(x), config.seed, epoch)
    first_iteration = epoch * steps_per_epoch(len(x), config.batch_size)
    total_loss, correct, seen = 0.0, 0, 0
    for start in range(0, len(x), config.batch_size):
        idx = order[start:start + config.batch_size]
        xb, yb = x[idx], y[idx]
        batch = start // config.batch_size + 1
        if step_on is not None:
            optimizer.zero_grad()
            value, logits = step_on(xb, yb)        # the gradients are in p.grad already
            check_loss(value, logits.shape[1], epoch, batch)
        else:
            logits = model(xb)
            loss = data_loss(logits, yb, config.loss)
            objective = loss + l2_penalty(weights, config.l2) if config.l2 else loss
            value = float(loss.data)
            check_loss(value, logits.shape[1], epoch, batch)
            optimizer.zero_grad()
            objective.backward()
            logits = logits.data
        hits = int((logits.argmax(axis=1) == yb).sum())
        step = Step(first_iteration + batch, epoch, batch, value, optimizer.lr, hits, len(idx))
        for callback in callbacks:
            callback.on_backward(step)
        optimizer.step()
        for callback in callbacks:
            callback.on_step(step)
        total_loss += value * len(idx)
        correct += hits
        seen += len(idx)
        if progress is not None:
            progress.update(1)
            progress.set_postfix(loss=f"{total_loss / seen:.4f}", refresh=False)
    return total_loss / seen, correct / seen


class Run:
    """The state of a training run: model, optimiser, history, the best epoch so far.

    callbacks: `Callback`s that watch the training (see above); `run.iterations`, the
    per-step history, is always the first of them.
    """

    def __init__(self, config, n_inputs=784, n_classes=10, model=None, callbacks=(),
                 compile=False):
        self.config = config
        self.model = model if model is not None else build_model(config, n_inputs, n_classes)
        # compile: each step replays the tape.compile'd step instead of recording its own
        self.step_on = compiled_step(self.model, config, self.model_classes()) if compile \
            else None
        self.optimizer = make_optimizer(config.optimizer, self.model.parameters(),
                                        config.lr, config.momentum)
        self.history = []
        self.best = None            # {"epoch", "val_loss", "val_acc", "params"}
        self.bad_epochs = 0         # epochs since the validation accuracy last improved
        self.iterations = IterationHistory()
        self.callbacks = [self.iterations, *callbacks]
        names = [cb.name for cb in self.callbacks if cb.name]
        if len(names) != len(set(names)):
            raise ValueError(f"Run: two callbacks share a name: {names}")
        self.steps_per_epoch = None  # known once fit() has seen the training set
        self._log, self._bar = print, None

    def model_classes(self):
        """K, the number of classes: the size of the last parameter (the output bias)."""
        return self.model.parameters()[-1].shape[0]

    @property
    def epoch(self):
        return len(self.history)

    def lr_at(self, epoch):
        c = self.config
        return learning_rate(c.schedule, c.lr, epoch, c.epochs, c.gamma, c.step_size, c.decay)

    def log(self, message):
        """Print a line (through fit's `log`), above the progress bar if one is showing."""
        if self._bar is None:
            self._log(message)
        else:
            with self._bar.external_write_mode():
                self._log(message)

    def fit(self, splits, on_epoch=None, progress=True, log=print, table=True):
        """Train until config.epochs (or early stopping). Raises Diverged on NaN/inf.

        on_epoch(run, improved) is called after each epoch (to save checkpoints); `table`
        prints the per-epoch table through `log` (a callback may print its own lines).
        """
        c = self.config
        steps = self.steps_per_epoch = steps_per_epoch(len(splits.x_train), c.batch_size)
        self._log = log
        first_row = True
        try:
            for callback in self.callbacks:
                callback.on_fit_start(self, splits)
            while self.epoch < c.epochs:
                epoch = self.epoch
                self.optimizer.lr = self.lr_at(epoch)
                started = time.perf_counter()
                self._bar = _progress_bar(steps, f"epoch {epoch + 1}/{c.epochs}", progress)
                # overflow on the way to a diverging loss is reported once, by Diverged,
                # not as a flood of numpy warnings
                try:
                    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
                        train_loss, train_acc = train_epoch(self.model, self.optimizer,
                                                            splits.x_train, splits.y_train, c,
                                                            epoch, self._bar, self.callbacks,
                                                            self.step_on)
                finally:
                    if self._bar is not None:
                        self._bar.close()
                    self._bar = None
                check_parameters(self.model, epoch)
                with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
                    val_loss, val_acc = evaluate(self.model, splits.x_val, splits.y_val, c.loss)
                if len(splits.x_val):
                    check_loss(val_loss, self.model_classes(), epoch, "validation")
                row = {"epoch": epoch + 1, "lr": self.optimizer.lr,
                       "train_loss": train_loss, "train_acc": train_acc,
                       "val_loss": val_loss, "val_acc": val_acc,
                       "seconds": time.perf_counter() - started}
                for callback in self.callbacks:
                    callback.on_epoch_end(self, row)
                self.history.append(row)
                improved = self._remember_best(row)
                if on_epoch is not None:
                    on_epoch(self, improved)     # save first: an interrupt loses nothing
                if table:
                    log(format_row(row, header=first_row))
                first_row = False
                if c.patience and self.bad_epochs >= c.patience:
                    log(f"early stopping: validation accuracy has not improved for "
                        f"{c.patience} epochs (best {self.best['val_acc']:.4f} at epoch "
                        f"{self.best['epoch']})")
                    break
        finally:
            for callback in self.callbacks:
                callback.on_fit_end(self)
        return self.history

    def _remember_best(self, row):
        # with no validation set, the latest epoch counts as the best
        score = row["val_acc"] if not math.isnan(row["val_acc"]) else row["epoch"]
        if self.best is None or score > self.best["score"]:
            self.best = {"epoch": row["epoch"], "score": score, "val_acc": row["val_acc"],
                         "val_loss": row["val_loss"], "params": self.model.state_dict()}
            self.bad_epochs = 0
            return True
        self.bad_epochs += 1
        return False

    # ---- saving and resuming: arrays + JSON only ---------------------------------------
    def training_state(self):
        """(arrays, extra config) describing this run exactly, for `--resume`."""
        arrays = {f"param/{k}": v for k, v in self.model.state_dict().items()}
        arrays.update({f"optim/{k}": v for k, v in self.optimizer.state_dict().items()})
        if self.best is not None:
            arrays.update({f"best/{k}": v for k, v in self.best["params"].items()})
        watched = {}                # the callbacks' arrays, and their shapes for the loader
        for callback in self.callbacks:
            if callback.name:
                for k, v in callback.state_dict().items():
                    v = np.asarray(v)
                    watched[f"watch/{callback.name}/{k}"] = v
        arrays.update(watched)
        best = None if self.best is None else {k: v for k, v in self.best.items() if k != "params"}
        return arrays, {"history": self.history, "best": best, "bad_epochs": self.bad_epochs,
                        "watch": {k: [list(v.shape), v.dtype.str] for k, v in watched.items()}}

    def restore(self, arrays, state):
        self.model.load_state_dict(_strip(arrays, "param/"))
        self.optimizer.load_state_dict(_strip(arrays, "optim/"))
        self.history = list(state["history"])
        self.bad_epochs = state["bad_epochs"]
        if state["best"] is not None:
            self.best = dict(state["best"], params=_strip(arrays, "best/"))
        for callback in self.callbacks:
            if callback.name:
                callback.load_state_dict(_strip(arrays, f"watch/{callback.name}/"))


def _strip(arrays, prefix):
    return {k[len(prefix):]: v for k, v in arrays.items() if k.startswith(prefix)}


def _progress_bar(total, description, enabled):
    if not enabled:
        return None
    from tqdm import tqdm
    return tqdm(total=total, desc=description, leave=False, unit="batch",
                disable=None, dynamic_ncols=True)


# (column, width, decimals): each column keeps its width whatever the value, so that a
# diverging run's huge or non-finite losses do not shift the table
COLUMNS = [("epoch", 5, None), ("lr", 9, "e"), ("train_loss", 10, 4), ("train_acc", 9, 4),
           ("val_loss", 8, 4), ("val_acc", 7, 4), ("seconds", 7, 1)]


def format_value(value, width, decimals):
    """`value` in exactly `width` characters: fixed-point with `decimals` places, or in
    scientific notation when that would be too wide; nan and inf as words."""
    if decimals is None:
        return f"{value:>{width}d}"
    if not math.isfinite(value):
        return f"{value:>{width}}"
    if decimals == "e":
        return f"{value:>{width}.2e}"
    text = f"{value:>{width}.{decimals}f}"
    if len(text) <= width:
        return text
    digits = max(0, width - (7 if value < 0 else 6))   # d.ddde+XX takes 6 plus the digits
    return f"{value:>{width}.{digits}e}"


def format_row(row, header=False):
    """One line of the per-epoch table (with the column names above the first)."""
    widths = [max(width, len(name)) for name, width, _ in COLUMNS]
    line = "  ".join(format_value(row[name], w, decimals)
                     for (name, _, decimals), w in zip(COLUMNS, widths))
    if not header:
        return line
    names = "  ".join(f"{name:>{w}}" for (name, _, _), w in zip(COLUMNS, widths))
    return names + "\n" + line
