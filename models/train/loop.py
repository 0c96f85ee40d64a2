"""The training loop: mini-batches, the loss, backward, the optimiser, per-epoch evaluation.

    for each epoch:
        lr ← schedule(epoch)
        for each mini-batch (X, y) in a seeded shuffle:
            loss = cross_entropy(model(X), y) + ½λΣ‖W‖²      (recorded on the tape)
            loss.backward()                                    (the tape computes ∂loss/∂θ)
            optimiser.step()                                   (θ moves, outside the tape)
        evaluate on the validation set; keep the best parameters

`train_epoch` is the inner loop, `Run.fit` the outer one. The batch order of epoch e
depends only on (seed, e), so a run resumed from a checkpoint after epoch e continues
exactly as the uninterrupted run would have. Beside this file: `config.py` (what
defines a run), `losses.py` (the data loss, `evaluate`), `divergence.py` (when a run
stops as diverged), `callbacks.py` (the hooks called below), `table.py` (the printed
per-epoch table).
"""

import math
import time

import numpy as np

from models.io.progress import progress_bar
from models.nn import l2_penalty
from models.optim import make_optimizer
from models.optim.schedules import learning_rate
from models.train.callbacks import IterationHistory, Step
from models.train.compiled import compiled_step
from models.train.config import build_model
from models.train.divergence import check_loss, check_parameters
from models.train.losses import data_loss, evaluate
from models.train.table import format_row


def batch_order(n, seed, epoch):
    """The shuffle of epoch `epoch`: a function of (seed, epoch) only."""
    return np.random.default_rng([seed, epoch]).permutation(n)


def steps_per_epoch(n_train, batch_size):
    return math.ceil(n_train / batch_size)


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

    callbacks: `Callback`s that watch the training (callbacks.py); `run.iterations`, the
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
                self._bar = progress_bar(steps, f"epoch {epoch + 1}/{c.epochs}", "batch",
                                         progress)
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


