"""benchmarks/dispatch.py: the two-layer step timed with numpy's protocols on Tensors and without."""

import numpy as np
import pytest

import tape
from benchmarks import dispatch


def test_protocols_removed_takes_the_three_protocols_off_and_puts_them_back():
    t = tape.tensor(np.array([1.0, 2.0]), requires_grad=True)
    with dispatch.protocols_removed():
        assert not any(hasattr(tape.Tensor, name) for name in dispatch.PROTOCOLS)
        with pytest.raises(TypeError):
            np.sum(t)                # numpy calls t.sum(axis=None, dtype=None, out=None)
    assert isinstance(np.sum(t), tape.Tensor)


def test_the_two_layer_step_trains_alike_with_and_without_the_protocols():
    with_them, without = dispatch.two_layer_step(16, 8), dispatch.two_layer_step(16, 8)
    with_them()
    with dispatch.protocols_removed():
        without()
    assert dispatch.swapped_pairs_ratio(with_them, with_them, 3) > 0


def test_swapped_pairs_ratio_puts_each_function_first_half_the_time():
    order = []
    dispatch.swapped_pairs_ratio(lambda: order.append("a"), lambda: order.append("b"), 4)
    assert order == ["a", "b", "b", "a", "a", "b", "b", "a"]
