"""Watching a run train: Solver-style log lines, accuracy on a training sample,
periodic evaluation, and the files they leave in the run directory.

    Monitoring(log_every=100, eval_every=500, stats_every=100, tensorboard=True)
    monitor = Monitor(settings, run_dir)
    run = Run(config, callbacks=monitor.callbacks())
    run.fit(splits, table=not settings.log_every)
    monitor.save(run_dir, run)        # history.npz, stats.npz
    draw_monitor(monitor, run_dir, run)   # curves.png, stats.png (models/cli/figures.py)

Each piece is a `Callback` (models/train/callbacks.py); none of them changes the training: a
run trains to the same weights with or without them.

The two training accuracies, as cs231n's Solver distinguishes them:
- running train acc: the mean over the epoch's mini-batches, each scored by the weights
  of its moment (free, but a blend of an epoch's worth of different weights);
- train acc: measured after the epoch on a fixed sample of training images (1000 by
  default), with the weights at the end of the epoch, like val_acc (with --log-every).
"""

import zipfile
import zlib
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from models.io.errors import one_line
from models.io.files import atomic_write
from models.train.callbacks import Callback
from models.train.layer_statistics import LayerStatistics
from models.train.losses import evaluate
from models.train.tensorboard import TensorBoardLog

TEST_WARNING = ("note: --eval-test evaluates the test set during training only to draw "
                "its curve; choosing anything by test accuracy (the epoch, the "
                "hyper-parameters, the model kept) is not allowed — the model kept is "
                "chosen by validation accuracy")


@dataclass
class Monitoring:
    """What to watch (the command-line flags of the same names)."""
    log_every: int = 0            # Solver-style lines every N iterations; 0: the epoch table
    eval_every: int = 0           # evaluate on validation every N iterations; 0: per epoch only
    eval_test: bool = False       # ... and on the test set (for its curve, never for choosing)
    stats_every: int = None       # layer statistics every N iterations; None: once per epoch; 0: off
    tensorboard: bool = False     # also write TensorBoard event files (needs tensorboardX)
    train_sample: int = 1000      # training images scored after each epoch ("train acc")

    def to_dict(self):
        return asdict(self)


# ---- train acc on a fixed sample ---------------------------------------------------------

class TrainingSampleAccuracy(Callback):
    """Adds `train_sample_loss` and `train_sample_acc` to each epoch's row: the model
    at the end of the epoch, scored on a fixed, seeded sample of the training set."""

    name = None

    def __init__(self, size=1000):
        self.size = size
        self.x = self.y = None

    def on_fit_start(self, run, splits):
        n = len(splits.x_train)
        if self.size >= n:
            keep = np.arange(n)
        else:       # its own random stream: the batches and weights do not feel it
            keep = np.sort(np.random.default_rng([run.config.seed, 2]).permutation(n)[:self.size])
        self.x, self.y = splits.x_train[keep], splits.y_train[keep]
        self.loss_name = run.config.loss

    def measure(self, model):
        return evaluate(model, self.x, self.y, self.loss_name)

    def on_epoch_end(self, run, row):
        row["train_sample_loss"], row["train_sample_acc"] = self.measure(run.model)


# ---- Solver-style log lines --------------------------------------------------------------

class SolverLog(Callback):
    """cs231n's Solver output: `(Iteration 101 / 2750) loss: 0.600193` every `every`
    iterations (1, every + 1, 2·every + 1, ...) and, after each epoch,
    `(Epoch 1 / 10) train acc: 0.906945; val_acc: 0.904800; running train acc: ...`."""

    def __init__(self, every, sample):
        if every < 1:
            raise ValueError(f"SolverLog: every must be at least 1, got {every}")
        self.every, self.sample = every, sample
        self.epoch_0 = None         # {"train_acc", "val_acc"} before any step (metrics.json)

    def on_fit_start(self, run, splits):
        self.run = run
        self.total = run.config.epochs * run.steps_per_epoch
        run.log(f"train acc: on a fixed sample of {len(self.sample.x)} training images after "
                f"the epoch; running train acc: the mean over the epoch's mini-batches")
        if run.epoch == 0:          # before any step, as the Solver does
            _, train_acc = self.sample.measure(run.model)
            _, val_acc = evaluate(run.model, splits.x_val, splits.y_val, run.config.loss)
            self.epoch_0 = {"train_acc": train_acc, "val_acc": val_acc}
            run.log(f"(Epoch 0 / {run.config.epochs}) train acc: {train_acc:.6f}; "
                    f"val_acc: {val_acc:.6f}")

    def on_step(self, step):
        if (step.iteration - 1) % self.every == 0:
            self.run.log(f"(Iteration {step.iteration} / {self.total}) loss: {step.loss:.6f}")

    def on_epoch_end(self, run, row):
        run.log(f"(Epoch {row['epoch']} / {run.config.epochs}) "
                f"train acc: {row['train_sample_acc']:.6f}; val_acc: {row['val_acc']:.6f}; "
                f"running train acc: {row['train_acc']:.6f}; lr: {row['lr']:.3g}; "
                f"{row['seconds']:.1f} s")


# ---- evaluation every N iterations -------------------------------------------------------

class PeriodicEvaluation(Callback):
    """Validation (and, with `test=True`, test) loss and accuracy every `every`
    iterations, printed and kept in `records`. Nothing is chosen by them."""

    name = "evaluations"
    COLUMNS = ("iteration", "val_loss", "val_acc", "test_loss", "test_acc")

    def __init__(self, every, test=False):
        if every < 1:
            raise ValueError(f"PeriodicEvaluation: every must be at least 1, got {every}")
        self.every, self.test = every, test
        self.records = {key: [] for key in self.COLUMNS}
        self.listeners = []        # called with (iteration, {column: value})

    def on_fit_start(self, run, splits):
        self.run, self.splits = run, splits
        self.total = run.config.epochs * run.steps_per_epoch
        if self.test:
            run.log(TEST_WARNING)

    def on_step(self, step):
        if step.iteration % self.every:
            return
        s, loss_name = self.splits, self.run.config.loss
        val_loss, val_acc = evaluate(self.run.model, s.x_val, s.y_val, loss_name)
        test_loss, test_acc = (evaluate(self.run.model, s.x_test, s.y_test, loss_name)
                               if self.test else (np.nan, np.nan))
        values = dict(zip(self.COLUMNS, (step.iteration, val_loss, val_acc, test_loss, test_acc)))
        for key, value in values.items():
            self.records[key].append(value)
        line = (f"(Iteration {step.iteration} / {self.total}) val_loss: {val_loss:.6f}; "
                f"val_acc: {val_acc:.6f}")
        if self.test:
            line += f"; test_loss: {test_loss:.6f}; test_acc: {test_acc:.6f} (not for choosing)"
        self.run.log(line)
        for listener in self.listeners:
            listener(step.iteration, values)

    def state_dict(self):
        return {key: np.array(values, dtype=np.int64 if key == "iteration" else np.float64)
                for key, values in self.records.items()}

    def load_state_dict(self, state):
        if "iteration" in state:
            self.records = {key: [v.item() for v in state[key]] for key in self.COLUMNS}

    def rows(self):
        """One dict per evaluation (for metrics.json); NaN (no test set asked) as None."""
        n = len(self.records["iteration"])
        return [{key: (None if isinstance(v, float) and np.isnan(v) else v)
                 for key, v in ((k, self.records[k][i]) for k in self.COLUMNS)}
                for i in range(n)]


# ---- all of them, from the flags ---------------------------------------------------------

class Monitor:
    """The callbacks the `Monitoring` settings ask for, and the files they leave."""

    def __init__(self, settings=None, run_dir=None, tensorboard_dir=None):
        self.settings = s = settings or Monitoring()
        # the sample's forward pass costs about as much as the statistics: only when shown
        self.sample = TrainingSampleAccuracy(s.train_sample) if s.log_every else None
        self.stats = LayerStatistics(s.stats_every) if s.stats_every != 0 else None
        self.evaluations = PeriodicEvaluation(s.eval_every, s.eval_test) if s.eval_every else None
        self.solver_log = SolverLog(s.log_every, self.sample) if s.log_every else None
        self.tensorboard = None
        if s.tensorboard:
            logdir = tensorboard_dir or Path(run_dir) / "tensorboard"
            self.tensorboard = TensorBoardLog(logdir, self.stats,
                                              self.evaluations)

    def callbacks(self):
        """In the order they must run: the sample's accuracy before anyone reports it,
        a step's loss line before that step's evaluation."""
        return [c for c in (self.sample, self.stats, self.solver_log, self.evaluations,
                            self.tensorboard) if c is not None]

    def summary(self):
        """What metrics.json says about the monitoring (the per-step arrays go to .npz)."""
        out = {"settings": self.settings.to_dict(),
               "iterations_file": "history.npz",
               "stats_file": "stats.npz" if self.stats else None}
        if self.evaluations:
            out["evaluations"] = self.evaluations.rows()
        return out

    def epoch_0(self):
        """The Solver's accuracies before training (with --log-every), else None."""
        return self.solver_log.epoch_0 if self.solver_log else None

    def save(self, run_dir, run):
        """history.npz (every step's loss and lr, the periodic evaluations) and stats.npz."""
        run_dir = Path(run_dir)
        history = {"loss": np.array(run.iterations.loss, dtype=np.float64),
                   "lr": np.array(run.iterations.lr, dtype=np.float64),
                   "steps_per_epoch": np.array(run.steps_per_epoch or 0)}
        if self.evaluations:
            history.update({f"eval/{k}": v for k, v in self.evaluations.state_dict().items()})
        save_arrays(run_dir / "history.npz", history)
        if self.stats:
            save_arrays(run_dir / "stats.npz", self.stats.arrays())


def save_arrays(path, arrays):
    """Numeric arrays to an .npz, written atomically (read back with allow_pickle=False)."""
    atomic_write(path, lambda f: np.savez(f, **arrays))


def load_arrays(path):
    """{name: ndarray} of an .npz written by save_arrays; a damaged file is refused in
    one line naming it (DamagedFile), a missing one raises FileNotFoundError."""
    try:
        data = np.load(path, allow_pickle=False)
        if not isinstance(data, np.lib.npyio.NpzFile):
            raise ValueError("a single array, not an .npz archive of arrays")
        with data:
            return {name: data[name] for name in data.files}
    except (ValueError, EOFError, zipfile.BadZipFile, zlib.error) as e:
        reason = ("it is not an .npz archive of arrays" if "pickled" in str(e)
                  else f"{one_line(e)}")
        raise DamagedFile(f"{path} is damaged ({reason})") from None


class DamagedFile(ValueError):
    """A file a run wrote can no longer be read; the message names it."""

    user_error = True
