"""benchmarks/cnn.py measures what it says: the same network, weights and batches on both
sides (PyTorch only where it is installed; it is not a dependency), and the per-layer
timings of the convolution's three products."""

import pytest

from benchmarks import cnn as bench


@pytest.mark.slow          # importing PyTorch alone takes seconds
def test_tape_and_pytorch_take_the_same_first_step_from_the_same_weights():
    pytest.importorskip("torch")
    from models.nn import CNN
    params = CNN().state_dict()
    (x, y), = bench.batches(4, 1)
    tape_net, torch_net = bench.TapeCNN(params), bench.TorchCNN(params)
    assert tape_net.step(x, y) == pytest.approx(torch_net.step(x, y), rel=1e-5)
    # after one Adam step, nearly the same loss: Adam's first step moves every weight by
    # about ±lr whatever the size of its gradient, so float rounding in gradients near 0
    # (and PyTorch's ε added after the bias correction, the tape's before) shows here
    assert tape_net.step(x, y) == pytest.approx(torch_net.step(x, y), rel=1e-2)


def test_per_layer_reports_positive_times_and_the_im2col_size():
    rows = bench.per_layer(batch_size=2, repeat=1)
    assert set(rows) == {"conv1", "conv2"}
    assert rows["conv2"]["im2col_bytes"] == 32 * 25 * 2 * 14 * 14 * 4
    for row in rows.values():
        assert all(row[k] > 0 for k in ("matmul", "im2col", "columns", "forward",
                                        "backward_input", "backward_weight"))


def test_bad_counts_are_one_line_and_exit_code_2(capsys):
    assert bench.main(["--rounds", "0"]) == 2
    assert "--rounds must be at least 1" in capsys.readouterr().err


@pytest.mark.parametrize("flags, kept", [([], 1), (["--public-api"], 0)])
def test_public_api_times_the_tape_without_the_allocator_setting(flags, kept, monkeypatch,
                                                                 capsys):
    import sys
    import types
    calls = []
    monkeypatch.setitem(sys.modules, "torch", types.ModuleType("torch"))   # not imported
    monkeypatch.setattr(bench, "keep_freed_memory", lambda: calls.append(1))
    monkeypatch.setattr(bench, "training_step_ratio", lambda *args: {
        "tape_ms": 2.0, "pytorch_ms": 1.0, "median_ratio": 2.0, "tape_faults": 0.0})
    assert bench.main(["--parts", "step", *flags]) == 0
    assert len(calls) == kept
    out = capsys.readouterr().out
    assert ("public API alone" in out) == bool(flags) and "page faults 0 a step" in out
