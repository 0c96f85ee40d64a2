"""TensorBoard event files for a run, written with tensorboardX (an optional extra:
`pip install -e ".[tensorboard]"`); open them with `tensorboard --logdir RUN_DIR`.

Scalars (x axis: the iteration):
    train/loss, train/lr                       every step
    epoch/train_acc, epoch/val_acc, ...        after each epoch
    eval/val_acc, eval/test_acc, ...           every --eval-every iterations
    <param>/weight_std, <param>/update_ratio   the layer statistics (one group per parameter)
Histograms: <param>/weights and <param>/gradients, at the layer statistics' iterations.
"""

from models.train.callbacks import Callback

INSTALL_HINT = ('--tensorboard needs tensorboardX: pip install -e ".[tensorboard]" '
                '(or pip install tensorboardX tensorboard)')


# the per-epoch row's names → TensorBoard tags, named for what they measure
EPOCH_TAGS = {"train_loss": "running_train_loss", "train_acc": "running_train_acc",
              "train_sample_loss": "train_loss", "train_sample_acc": "train_acc",
              "val_loss": "val_loss", "val_acc": "val_acc", "lr": "lr"}


class TensorBoardMissing(RuntimeError):
    """tensorboardX is not installed (a user's mistake: one line, exit 2)."""

    user_error = True


def summary_writer(logdir):
    try:
        from tensorboardX import SummaryWriter   # an optional extra: .[tensorboard]
    except ImportError:
        raise TensorBoardMissing(INSTALL_HINT) from None
    return SummaryWriter(logdir=str(logdir))


class TensorBoardLog(Callback):
    """Writes the scalars and histograms above. `stats` (a LayerStatistics) and
    `evaluations` (a PeriodicEvaluation), when given, are written as they are recorded."""

    def __init__(self, logdir, stats=None, evaluations=None):
        self.logdir = logdir
        self.writer = summary_writer(logdir)       # fails early, before any training
        self.stats = stats
        self.params, self._grads = {}, None
        if stats is not None:
            stats.listeners.append(self._write_statistics)
        if evaluations is not None:
            evaluations.listeners.append(self._write_evaluation)

    def on_fit_start(self, run, splits):
        self.params = run.model.named_parameters()
        self.steps_per_epoch = run.steps_per_epoch

    def on_backward(self, step):
        if self.stats is not None and self.stats.due(step.iteration):
            self._grads = {name: p.grad.copy() for name, p in self.params.items()
                           if p.grad is not None}

    def on_step(self, step):
        self.writer.add_scalar("train/loss", step.loss, step.iteration)
        self.writer.add_scalar("train/lr", step.lr, step.iteration)
        if self._grads is not None:
            for name, p in self.params.items():
                self.writer.add_histogram(f"{name}/weights", p.data, step.iteration)
                if name in self._grads:
                    self.writer.add_histogram(f"{name}/gradients", self._grads[name],
                                              step.iteration)
            self._grads = None

    def on_epoch_end(self, run, row):
        iteration = row["epoch"] * self.steps_per_epoch
        for key, tag in EPOCH_TAGS.items():
            if key in row:
                self.writer.add_scalar(f"epoch/{tag}", row[key], iteration)
        self.writer.flush()

    def _write_statistics(self, iteration, latest):
        for name, record in latest.items():
            for key, value in record.items():
                if not key.startswith("hist"):
                    self.writer.add_scalar(f"{name}/{key}", value, iteration)

    def _write_evaluation(self, iteration, values):
        for key, value in values.items():
            if key != "iteration" and value == value:        # NaN: not measured
                self.writer.add_scalar(f"eval/{key}", value, iteration)

    def on_fit_end(self, run):
        self.writer.close()
