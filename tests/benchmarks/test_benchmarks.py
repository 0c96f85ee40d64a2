"""The benchmark's arithmetic and its backends: the same math everywhere, counted right.

No timing is checked here (the machines are shared and noisy); what is checked is what
the timings rest on: every backend computes the same thing, the FLOP bound counts the
five matrix products, and the goals are judged from the numbers as the issue states them.
"""

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from benchmarks import moons
from benchmarks.backends import BACKENDS, available, initial_params
from benchmarks.flops import epoch_flops
from benchmarks.run import goals, main, median_round, resummarise, summarise

ROOT = Path(__file__).resolve().parents[2]


def test_epoch_flops_count_two_forward_and_three_backward_products():
    d, h, k = 784, 256, 10
    forward = 2 * d * h + 2 * h * k                  # X·W1, H·W2
    backward = 2 * h * k + 2 * k * h + 2 * d * h     # Hᵀ·Δ₂, Δ₂·W2ᵀ, Xᵀ·Δ₁
    assert epoch_flops(1) == forward + backward
    assert epoch_flops(128) == 128 * (forward + backward)


@pytest.mark.parametrize("name", list(moons.STEPS))
def test_every_moons_backend_computes_micrograds_loss_as_numpy_does(name):
    if not moons.installed(name):
        pytest.skip(f"{name} is not installed")
    X, ys = moons.moons_data()
    init = moons.initial_params()
    reference = moons.numpy_step(init, X, ys)
    step = moons.STEPS[name](init, X, ys)
    expected = [reference() for _ in range(3)]
    np.testing.assert_allclose([step() for _ in range(3)], expected, rtol=1e-12)
    assert expected[2] < expected[0]                 # the steps do train


def test_the_lean_reference_differentiates_the_benchmarks_chain_of_multiplies():
    from benchmarks.lean import Node
    x, y = Node(np.array([1.5, -2.0])), Node(np.array([0.5, 3.0]))
    z = x
    for _ in range(4):
        z = z * y
    z.sum().backward()                              # Σ x·y⁴
    np.testing.assert_allclose(x.grad, y.data ** 4)
    np.testing.assert_allclose(y.grad, 4 * x.data * y.data ** 3)


def test_the_lean_reference_adds_the_adjoints_of_a_value_used_twice():
    from benchmarks.lean import Node
    x = Node(np.array([2.0, -1.0]))
    h = x * x                                       # h is used by both terms below
    (h * 3.0 + h * h).sum().backward()              # Σ 3x² + x⁴
    np.testing.assert_allclose(x.grad, 6 * x.data + 4 * x.data ** 3)


def test_lean_checked_gives_the_hand_gradients_of_the_moons_loss():
    from benchmarks import lean_checked as lc
    X, ys = moons.moons_data()
    init = moons.initial_params()
    params = [lc.Node(p.copy(), requires_grad=True) for p in init]
    W1, b1, W2, b2, W3, b3 = params
    s = lc.linear(lc.relu(lc.linear(lc.relu(lc.linear(X, W1, b1)), W2, b2)), W3, b3)
    loss = lc.relu(1 - ys * s).mean() + moons.ALPHA * sum((p * p).sum() for p in params)
    lc.backward(loss)
    hand_loss, hand = moons.hand_gradients(init, X, ys)
    assert hand_loss == pytest.approx(float(loss.data), rel=1e-14)
    for p, g in zip(params, hand):
        np.testing.assert_allclose(p.grad, g, rtol=1e-12, atol=1e-15)


def test_lean_checked_does_the_run_time_checks_it_claims():
    from benchmarks import lean_checked as lc
    x = lc.Node(np.array([2.0, -1.0]), requires_grad=True)
    b = lc.Node(np.array(3.0), requires_grad=True)
    with lc.no_grad():                              # nothing recorded
        assert (x * x).entry is None
    with lc.Tape() as t:
        h = x * x
        y = (h + b).sum()                           # b broadcast over x's shape
    assert [e.name for e in t.entries] == ["multiply", "add", "sum"]
    lc.backward(y)
    np.testing.assert_allclose(x.grad, 2 * x.data)
    assert b.grad.shape == () and b.grad == 2.0     # summed back to b's shape
    assert t.adjoints[h.entry.index].shape == (2,)  # kept for the Tape
    with pytest.raises(RuntimeError, match="already freed"):
        lc.backward(y)
    z = (x * x).sum()                               # outside a Tape, too
    lc.backward(z)
    with pytest.raises(RuntimeError, match="already freed"):
        lc.backward(z)
    f32 = lc.Node(np.ones(2, np.float32), requires_grad=True)
    lc.backward((f32 * np.ones(2)).sum())           # float64 product, float32 input
    assert f32.grad.dtype == np.float32


def test_lean_checked_records_per_thread():
    import threading
    from benchmarks import lean_checked as lc
    x = lc.Node(np.ones(2), requires_grad=True)
    seen = []
    with lc.no_grad():
        worker = threading.Thread(target=lambda: seen.append((x * x).entry is not None))
        worker.start()
        worker.join()
    assert seen == [True]                           # the other thread still records


def test_moons_hand_gradients_are_the_tapes_gradients_of_the_same_loss():
    import tape
    X, ys = moons.moons_data()
    init = moons.initial_params()
    params = [tape.tensor(p, requires_grad=True) for p in init]
    W1, b1, W2, b2, W3, b3 = params
    s = tape.relu(tape.relu(X @ W1 + b1) @ W2 + b2) @ W3 + b3
    loss = tape.relu(1 - ys * s).mean() + moons.ALPHA * sum((p * p).sum() for p in params)
    loss.backward()
    hand_loss, hand = moons.hand_gradients(init, X, ys)
    assert hand_loss == pytest.approx(loss.item(), rel=1e-14)
    for name, p, g in zip(["W1", "b1", "W2", "b2", "W3", "b3"], params, hand):
        np.testing.assert_allclose(g, p.grad, rtol=1e-12, atol=1e-15, err_msg=name)


@pytest.mark.parametrize("name", ["tape", "pytorch", "autograd"])
def test_every_training_backend_takes_the_numpy_step(name):
    if not available(name):
        pytest.skip(f"{name} is not installed")
    rng = np.random.default_rng(0)
    x = rng.random((32, 784), dtype=np.float32)
    y = rng.integers(0, 10, 32)
    reference, backend = BACKENDS["numpy"](initial_params()), BACKENDS[name](initial_params())
    losses = [(reference.step(x, y), backend.step(x, y)) for _ in range(5)]
    np.testing.assert_allclose([b for _, b in losses], [a for a, _ in losses], rtol=1e-5)
    test_x = rng.random((64, 784), dtype=np.float32)
    np.testing.assert_array_equal(backend.predict(test_x), reference.predict(test_x))


def row(backend, batch, step_ms, rss=300.0, fraction=0.6):
    """A summarised row whose five rounds all took `step_ms` per step."""
    return {"backend": backend, "batch_size": batch, "step_ms": step_ms, "test_accuracy": 0.85,
            "rounds": [{"step_seconds": step_ms / 1e3, "epoch_seconds": step_ms}] * 5,
            "step_ratio_to_numpy": step_ms / {32: 0.25, 128: 0.6, 512: 2.1}[batch],
            "peak_rss_mb": rss, "flop_fraction": fraction}


def test_goals_are_judged_as_the_issue_states_them():
    training = []
    for batch, numpy_ms in ((32, 0.25), (128, 0.6), (512, 2.1)):
        training += [row("numpy", batch, numpy_ms), row("tape", batch, numpy_ms * 1.05),
                     row("pytorch", batch, numpy_ms * 1.3), row("autograd", batch, numpy_ms * 2.0)]
    verdicts = {goal: met for goal, _, met in goals(training)}
    assert verdicts["tape step ≤ 1.10× hand-written numpy at batch 128"]
    assert verdicts["tape step ≤ 1.25× hand-written numpy at batch 32"]
    assert verdicts["tape faster than PyTorch at every batch size"]
    assert not verdicts["tape ≥ 2× faster than HIPS autograd at every batch size"]   # 1.9×
    assert verdicts["peak RSS of training within 10 % of numpy"]
    assert not verdicts["aim: ≥ 65 % of the FLOP bound at batch 128"]
    assert verdicts["every backend's test accuracy within 1 point of numpy's (the same math)"]
    training[-1]["test_accuracy"] = 0.80                   # autograd at 512 drifts off
    training[1]["peak_rss_mb"] = 340.0                     # tape at 32 needs 13 % more
    verdicts = {goal: met for goal, _, met in goals(training)}
    assert not verdicts["every backend's test accuracy within 1 point of numpy's (the same math)"]
    assert not verdicts["peak RSS of training within 10 % of numpy"]


def rounds(times, scale=1.0, peak=200.0):
    return [{"step_seconds": scale * t, "epoch_seconds": scale * t, "peak_gflops": peak / t}
            for t in times]


def test_every_row_of_a_batch_size_comes_from_the_round_with_the_median_tape_ratio():
    # tape ÷ numpy per round: 1.3, 1.1, 1.2 → the median is round 3's (index 2)
    numpy = rounds((1.0, 2.0, 1.5))
    tape = [{**r, "step_seconds": r["step_seconds"] * f, "epoch_seconds": r["epoch_seconds"] * f}
            for r, f in zip(numpy, (1.3, 1.1, 1.2))]
    autograd = rounds((3.0, 5.0, 4.0))
    k = median_round({"numpy": numpy, "tape": tape, "autograd": autograd})
    assert k == 2
    rows = {name: summarise({"backend": name, "examples_per_epoch": 1000}, r, numpy, k)
            for name, r in (("numpy", numpy), ("tape", tape), ("autograd", autograd))}
    assert rows["numpy"]["step_ms"] == pytest.approx(1500)
    for name, row in rows.items():   # what a reader computes from a row is what the row says
        assert row["table_round"] == 2
        assert row["step_ratio_to_numpy"] == pytest.approx(row["step_ms"] / rows["numpy"]["step_ms"])
        assert row["epoch_ratio_to_numpy"] == pytest.approx(
            row["epoch_seconds"] / rows["numpy"]["epoch_seconds"])
    assert rows["tape"]["step_ratio_to_numpy"] == pytest.approx(1.2)
    assert rows["tape"]["step_ratio_range"] == pytest.approx([1.1, 1.3])
    assert rows["autograd"]["step_ratio_to_numpy"] == pytest.approx(4.0 / 1.5)


def test_an_even_number_of_rounds_takes_the_lower_middle_round():
    numpy = rounds((1.0, 1.0, 1.0, 1.0))
    tape = rounds((1.4, 1.1, 1.3, 1.2))
    assert median_round({"numpy": numpy, "tape": tape}) == 3          # ratio 1.2 of 1.1 1.2 1.3 1.4


def test_the_flop_fraction_is_against_the_peak_measured_in_the_same_round():
    final = {"backend": "numpy", "examples_per_epoch": 1000}
    r = summarise(final, rounds((1.0, 2.0, 1.0)), rounds((1.0, 2.0, 1.0)), 1)
    assert r["flop_fraction"] == pytest.approx(epoch_flops(1000) / 1e9 / 100.0 / 2.0)


def test_a_saved_report_is_retabled_from_its_rounds(tmp_path, capsys):
    training = []
    for batch, base in ((32, (1.0, 1.5, 1.2, 1.1)), (128, (2.0, 2.5, 2.2, 2.1))):
        numpy = rounds(base)
        for name, factors in (("numpy", (1, 1, 1, 1)), ("tape", (1.3, 1.1, 1.2, 1.15)),
                              ("autograd", (2.5, 2.0, 2.2, 2.4))):
            timed = [{**r, "step_seconds": r["step_seconds"] * f,
                      "epoch_seconds": r["epoch_seconds"] * f} for r, f in zip(numpy, factors)]
            training.append({"backend": name, "batch_size": batch, "examples_per_epoch": 1000,
                             "test_accuracy": 0.85, "peak_rss_mb": 260.0, "train_rss_mb": 2.0,
                             "rounds": timed, "step_ms": 0.0})       # stale, to be recomputed
    saved = {"machine": {"processor": "x", "cores": 2, "numpy": "2", "openblas_coretype": None},
             "peak_gflops": 200.0, "processes": 2, "rounds": 4, "training": training,
             "per_op": {"numpy_forward_us": 0.3, "numpy_forward_backward_us": 0.8,
                        "tape_forward_no_grad_us": 1.0, "tape_forward_backward_us": 4.5},
             "moons": {}}
    report = resummarise(saved)
    assert {r["table_round"] for r in report["training"] if r["batch_size"] == 32} == {3}
    for row in report["training"]:
        numpy_row = next(r for r in report["training"] if r["backend"] == "numpy"
                         and r["batch_size"] == row["batch_size"])
        assert row["table_round"] == numpy_row["table_round"]
        assert row["step_ratio_to_numpy"] == pytest.approx(row["step_ms"] / numpy_row["step_ms"])
    (tmp_path / "saved.json").write_text(json.dumps(saved))
    main(["--from-json", str(tmp_path / "saved.json")])
    assert "| 128 | tape | 4 |" in capsys.readouterr().out


def test_the_benchmark_command_end_to_end(tmp_path):
    out = tmp_path / "results.json"
    cmd = [sys.executable, "-m", "benchmarks.run", "--batch-sizes", "64", "--rounds", "1",
           "--processes", "2",
           "--train-size", "2048", "--backends", "numpy", "tape",
           "--moons-backends", "numpy", "tape", "--out", str(out)]
    done = subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT, timeout=300)
    assert done.returncode == 0, done.stderr
    report = json.loads(out.read_text())
    rows = {r["backend"]: r for r in report["training"]}
    assert set(rows) == {"numpy", "tape"} and len(rows["numpy"]["rounds"]) == 2
    assert rows["tape"]["test_accuracy"] == pytest.approx(rows["numpy"]["test_accuracy"], abs=2e-3)
    assert rows["tape"]["test_accuracy"] > 0.5       # 2 × 32 steps train it well past chance
    assert 0 < rows["tape"]["flop_fraction"] < 1
    assert rows["tape"]["train_rss_mb"] is not None and rows["tape"]["train_rss_mb"] < 100
    assert report["moons"]["tape"]["max_loss_difference"] < 1e-12
    assert "| 64 | tape |" in done.stdout and "goals:" in done.stdout


def test_a_paired_ratio_divides_each_call_by_the_baseline_call_right_after_it(monkeypatch):
    # a clock that each call moves on: fn takes 3 s, the baseline 2 s, but the machine
    # slows down 10-fold for the third pair; each pair's ratio is still 1.5
    from benchmarks import measure
    now, pair = [0.0], [0]

    def fn():
        pair[0] += 1
        now[0] += 3.0 * (10 if pair[0] == 3 else 1)

    def baseline():
        now[0] += 2.0 * (10 if pair[0] == 3 else 1)

    monkeypatch.setattr(measure.time, "perf_counter", lambda: now[0])
    assert measure.paired_ratio(fn, baseline, pairs=5) == 1.5


def test_the_compiled_moons_step_computes_the_tapes_losses_to_the_last_digit():
    from benchmarks import compiled
    X, ys = moons.moons_data()
    init = moons.initial_params()
    replayed = compiled.moons_compiled_step(init, X, ys)
    eager = moons.tape_step(init, X, ys)
    hand = moons.numpy_step(init, X, ys)
    for _ in range(5):
        a, b, c = replayed(), eager(), hand()
        assert a == b and abs(a - c) < 1e-12
    assert replayed.compiled.traces == 1


def test_benchmarks_compiled_reports_every_contestant_and_the_tracing_cost(capsys):
    from benchmarks import compiled
    results = compiled.main(["--rounds", "2", "--skip", "cnn", "--no-jax"])
    out = capsys.readouterr().out
    assert set(results["moons"]["ratios"]) >= {"numpy", "compiled", "tape"}
    assert results["moons"]["ratios"]["numpy"] == 1.0
    assert set(results["mlp"]["ratios"]) == {"numpy", "compiled", "tape"}
    assert results["mlp"]["first_losses"]["compiled"] == results["mlp"]["first_losses"]["tape"]
    assert results["moons"]["traces"] == 1 and results["moons"]["trace_ms"] > 0
    assert "load average" in out and "tracing (first call" in out


@pytest.mark.parametrize("name", ["cnn", "compiled", "dispatch", "engine", "run", "search_jobs",
                                  "trainer"])
def test_a_benchmarks_bad_flag_is_one_line_naming_it(name, capsys):
    import importlib
    module = importlib.import_module(f"benchmarks.{name}")
    required = ["--backends", "tape"] if name == "trainer" else []
    with pytest.raises(SystemExit) as stop:
        module.main([*required, "--no-such-flag"])
    assert stop.value.code == 2
    err = capsys.readouterr().err
    assert err.splitlines() == [err.strip()], err            # one line, no usage block
    assert err.startswith(f"python -m benchmarks.{name}: error: ")
    assert "--no-such-flag" in err
