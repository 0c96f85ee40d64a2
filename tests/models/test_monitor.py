"""Watching a run: the per-step history, the Solver-style lines, periodic evaluation,
the layer statistics (against numpy), TensorBoard's files read back by TensorBoard."""

import re
from types import SimpleNamespace

import numpy as np
import pytest

from models.train import loop as training
from models.train.callbacks import Callback
from models.train.config import Config
from models.train.losses import evaluate
from models.train.layer_statistics import LayerStatistics
from models.train.monitor import TEST_WARNING, Monitor, Monitoring

N_TRAIN, BATCH, EPOCHS = 200, 32, 3
STEPS = -(-N_TRAIN // BATCH)                  # 7 steps per epoch, the last one short


def tiny_splits(seed=0):
    """Three separable-ish classes of 20-dimensional points."""
    rng = np.random.default_rng(seed)
    centres = rng.standard_normal((3, 20)).astype(np.float32)

    def draw(n):
        y = rng.integers(0, 3, n)
        return (centres[y] + 0.8 * rng.standard_normal((n, 20))).astype(np.float32), y
    x, y = draw(N_TRAIN)
    xv, yv = draw(60)
    xt, yt = draw(50)
    return SimpleNamespace(x_train=x, y_train=y, x_val=xv, y_val=yv, x_test=xt, y_test=yt)


def tiny_config(**changes):
    base = dict(hidden=[8], epochs=EPOCHS, batch_size=BATCH, optimizer="sgd", lr=0.1,
                l2=0.0, schedule="step", step_size=1, gamma=0.5)
    return Config(**{**base, **changes})


def train(settings=None, config=None, splits=None):
    monitor = Monitor(settings or Monitoring(train_sample=100))
    run = training.Run(config or tiny_config(), 20, 3, callbacks=monitor.callbacks())
    lines = []
    run.fit(splits or tiny_splits(), progress=False, log=lines.append,
            table=not monitor.settings.log_every)
    return run, monitor, lines


# ---- the per-step history -------------------------------------------------------------

def test_history_has_one_loss_and_one_lr_per_iteration():
    run, _, _ = train()
    assert len(run.iterations.loss) == len(run.iterations.lr) == EPOCHS * STEPS
    # the step schedule halves the rate every epoch, and every step records the rate it used
    expected = np.repeat([0.1, 0.05, 0.025], STEPS)
    np.testing.assert_allclose(run.iterations.lr, expected)


def test_epoch_mean_of_the_step_losses_is_the_tables_train_loss():
    run, _, _ = train()
    sizes = np.array([BATCH] * (STEPS - 1) + [N_TRAIN - BATCH * (STEPS - 1)])
    losses = np.reshape(run.iterations.loss, (EPOCHS, STEPS))
    for row, epoch_losses in zip(run.history, losses):
        assert row["train_loss"] == pytest.approx((epoch_losses * sizes).sum() / N_TRAIN)


def test_watching_does_not_change_the_training():
    plain = training.Run(tiny_config(), 20, 3)
    plain.fit(tiny_splits(), progress=False, log=lambda line: None)
    watched, _, _ = train(Monitoring(log_every=2, eval_every=3, eval_test=True,
                                     stats_every=1, train_sample=50))
    np.testing.assert_array_equal(plain.iterations.loss, watched.iterations.loss)
    for name, p in plain.model.named_parameters().items():
        np.testing.assert_array_equal(p.data, watched.model.named_parameters()[name].data)


def test_resume_continues_the_history_and_the_statistics():
    settings = Monitoring(stats_every=3, eval_every=4, train_sample=50)
    straight, monitor, _ = train(settings)
    first, _, _ = train(settings, tiny_config(epochs=1))
    arrays, state = first.training_state()
    again = Monitor(settings)
    resumed = training.Run(tiny_config(), 20, 3, callbacks=again.callbacks())
    resumed.restore(arrays, state)
    resumed.fit(tiny_splits(), progress=False, log=lambda line: None)
    assert resumed.iterations.loss == straight.iterations.loss
    assert again.stats.iterations == monitor.stats.iterations
    np.testing.assert_equal(again.evaluations.records, monitor.evaluations.records)


# ---- the log ----------------------------------------------------------------------------

ITERATION = re.compile(r"\(Iteration (\d+) / (\d+)\) loss: (\d+\.\d{6})")
EPOCH = re.compile(r"\(Epoch (\d+) / (\d+)\) train acc: (\d\.\d{6}); val_acc: (\d\.\d{6})"
                   r"(; running train acc: (\d\.\d{6}); lr: \S+; \d+\.\d s)?")


def test_solver_lines_every_n_iterations_and_after_every_epoch():
    run, _, lines = train(Monitoring(log_every=5, train_sample=100))
    iterations = [m for m in map(ITERATION.fullmatch, lines) if m]
    epochs = [m for m in map(EPOCH.fullmatch, lines) if m]
    assert [int(m[1]) for m in iterations] == list(range(1, EPOCHS * STEPS + 1, 5))
    assert {int(m[2]) for m in iterations} == {EPOCHS * STEPS}
    for m in iterations:
        assert float(m[3]) == pytest.approx(run.iterations.loss[int(m[1]) - 1], abs=5e-7)
    # (Epoch 0 / 3) before training, as the Solver prints it, then one per epoch
    assert [int(m[1]) for m in epochs] == [0, 1, 2, 3] and epochs[0][5] is None
    for m, row in zip(epochs[1:], run.history):
        assert float(m[3]) == pytest.approx(row["train_sample_acc"], abs=5e-7)
        assert float(m[4]) == pytest.approx(row["val_acc"], abs=5e-7)
        assert float(m[6]) == pytest.approx(row["train_acc"], abs=5e-7)
    assert not any(line.lstrip().startswith("epoch") for line in lines)     # no table
    assert any("fixed sample of 100 training images" in line for line in lines)


def test_without_log_every_the_epoch_table_is_unchanged():
    run, _, lines = train()
    assert lines[0] == training.format_row(run.history[0], header=True)
    assert lines[1:] == [training.format_row(row) for row in run.history[1:]]


def test_train_acc_is_measured_on_a_fixed_sample_after_the_epoch():
    run, monitor, _ = train(Monitoring(log_every=100, train_sample=80))
    sample = monitor.sample
    assert len(sample.x) == 80
    _, acc = evaluate(run.model, sample.x, sample.y)
    assert run.history[-1]["train_sample_acc"] == acc


def test_without_log_every_no_training_sample_is_scored():
    run, monitor, _ = train()
    assert monitor.sample is None and "train_sample_acc" not in run.history[-1]


# ---- evaluation every N iterations --------------------------------------------------------

def test_eval_every_n_iterations_on_validation_and_on_test_with_a_warning():
    run, monitor, lines = train(Monitoring(eval_every=4, eval_test=True, train_sample=50))
    records = monitor.evaluations.records
    assert records["iteration"] == list(range(4, EPOCHS * STEPS + 1, 4))
    assert not np.isnan(records["test_acc"]).any()
    assert lines[0] == TEST_WARNING and "not allowed" in TEST_WARNING
    shown = [line for line in lines if "val_acc" in line and line.startswith("(Iteration")]
    assert len(shown) == len(records["iteration"])
    assert all(line.endswith("(not for choosing)") for line in shown)
    # the model kept is still chosen on validation
    assert run.best["val_acc"] == max(row["val_acc"] for row in run.history)


def test_eval_every_without_test_leaves_the_test_set_alone():
    _, monitor, lines = train(Monitoring(eval_every=5, train_sample=50))
    assert np.isnan(monitor.evaluations.records["test_acc"]).all()
    assert TEST_WARNING not in lines and not any("test_acc" in line for line in lines)


# ---- layer statistics against numpy ------------------------------------------------------

class Spy(Callback):
    """Copies every parameter and gradient at one iteration, before and after the step."""

    def __init__(self, at):
        self.at, self.seen = at, {}

    def on_fit_start(self, run, splits):
        self.params = run.model.named_parameters()

    def on_backward(self, step):
        if step.iteration == self.at:
            self.seen = {n: (p.data.copy(), p.grad.copy()) for n, p in self.params.items()}

    def on_step(self, step):
        if step.iteration == self.at:
            self.seen = {n: (*self.seen[n], p.data.copy()) for n, p in self.params.items()}


def test_statistics_equal_numpys_on_a_tiny_model():
    stats, spy = LayerStatistics(every=5), Spy(at=10)
    run = training.Run(tiny_config(l2=1e-3), 20, 3, callbacks=[stats, spy])
    run.fit(tiny_splits(), progress=False, log=lambda line: None)
    assert stats.iterations == [5, 10, 15, 20]
    k = stats.iterations.index(10)
    for name, (before, grad, after) in spy.seen.items():
        r = stats.records[name]
        for what, values in (("weight", after), ("grad", grad)):
            assert r[f"{what}_min"][k] == values.min() and r[f"{what}_max"][k] == values.max()
            assert r[f"{what}_mean"][k] == pytest.approx(values.astype(np.float64).mean())
            assert r[f"{what}_std"][k] == pytest.approx(values.astype(np.float64).std())
        ratio = np.linalg.norm(after - before) / np.linalg.norm(before)
        assert r["update_ratio"][k] == pytest.approx(ratio, rel=1e-6)
        counts, edges = np.histogram(after, bins=stats.bins)
        np.testing.assert_array_equal(r["hist_counts"][k], counts)
        assert (r["hist_lo"][k], r["hist_hi"][k]) == pytest.approx((edges[0], edges[-1]))


def test_sgd_update_ratio_is_lr_times_gradient_norm_over_weight_norm():
    # plain SGD: Δθ = −η g, so ‖Δθ‖/‖θ‖ = η‖g‖/‖θ‖
    stats, spy = LayerStatistics(every=3), Spy(at=3)
    run = training.Run(tiny_config(), 20, 3, callbacks=[stats, spy])
    run.fit(tiny_splits(), progress=False, log=lambda line: None)
    for name, (before, grad, _) in spy.seen.items():
        expected = 0.1 * np.linalg.norm(grad) / np.linalg.norm(before)
        if np.linalg.norm(before) > 0:
            assert stats.records[name]["update_ratio"][0] == pytest.approx(expected, rel=1e-5)


def test_statistics_default_to_once_per_epoch():
    run, monitor, _ = train()
    assert monitor.stats.iterations == [STEPS, 2 * STEPS, 3 * STEPS]
    assert set(monitor.stats.records) == {"W1", "b1", "W2", "b2"}


def test_stats_every_0_switches_the_statistics_off():
    _, monitor, _ = train(Monitoring(stats_every=0))
    assert monitor.stats is None and Monitor(Monitoring(stats_every=0)).callbacks() == []


# ---- files and TensorBoard ----------------------------------------------------------------

def test_history_and_statistics_files_read_back(tmp_path):
    from models.train.monitor import load_arrays
    run, monitor, _ = train(Monitoring(eval_every=4, train_sample=50))
    monitor.save(tmp_path, run)
    history = load_arrays(tmp_path / "history.npz")
    np.testing.assert_array_equal(history["loss"], run.iterations.loss)
    assert int(history["steps_per_epoch"]) == STEPS
    np.testing.assert_array_equal(history["eval/iteration"], monitor.evaluations.records["iteration"])
    stats = load_arrays(tmp_path / "stats.npz")
    assert stats["W1/hist_counts"].shape == (EPOCHS, monitor.stats.bins)
    assert not list(tmp_path.glob(".*.tmp"))           # written atomically, nothing left over


def test_tensorboard_event_files_hold_the_scalars_and_histograms(tmp_path):
    pytest.importorskip("tensorboardX")
    event_accumulator = pytest.importorskip(
        "tensorboard.backend.event_processing.event_accumulator")
    monitor = Monitor(Monitoring(eval_every=7, eval_test=True, stats_every=7, tensorboard=True,
                                 train_sample=50), run_dir=tmp_path)
    run = training.Run(tiny_config(), 20, 3, callbacks=monitor.callbacks())
    run.fit(tiny_splits(), progress=False, log=lambda line: None)

    reader = event_accumulator.EventAccumulator(
        str(tmp_path / "tensorboard"), size_guidance={"scalars": 0, "histograms": 0})
    reader.Reload()
    tags = reader.Tags()
    losses = reader.Scalars("train/loss")
    assert [e.step for e in losses] == list(range(1, EPOCHS * STEPS + 1))
    np.testing.assert_allclose([e.value for e in losses], run.iterations.loss, rtol=1e-6)
    assert [e.value for e in reader.Scalars("epoch/val_acc")] == pytest.approx(
        [row["val_acc"] for row in run.history])
    assert [e.step for e in reader.Scalars("eval/test_acc")] == [7, 14, 21]
    for name in ("W1", "b1", "W2", "b2"):
        for stat in ("weight_min", "weight_max", "weight_std", "grad_std", "update_ratio"):
            assert f"{name}/{stat}" in tags["scalars"]
        for kind in ("weights", "gradients"):
            events = reader.Histograms(f"{name}/{kind}")
            assert [e.step for e in events] == [7, 14, 21]
        last = reader.Histograms(f"{name}/weights")[-1].histogram_value
        values = run.model.named_parameters()[name].data
        assert last.num == values.size
        assert (last.min, last.max) == pytest.approx((values.min(), values.max()))


def test_tensorboard_without_tensorboardx_says_how_to_install_it(tmp_path, monkeypatch):
    import sys
    from models.train.tensorboard import TensorBoardMissing
    monkeypatch.setitem(sys.modules, "tensorboardX", None)       # import fails
    with pytest.raises(TensorBoardMissing, match=r'pip install -e "\.\[tensorboard\]"'):
        Monitor(Monitoring(tensorboard=True), run_dir=tmp_path)
    assert not (tmp_path / "tensorboard").exists()
