"""The convolution's reused buffers (tape/workspace.py) never leak: outputs, saved values
and gradients are the numbers of a fresh-allocation run even when the free buffers are
overwritten with NaN between calls; threads get buffers of their own; the cache stays
within its bounds."""

import threading
from contextlib import contextmanager

import numpy as np
import pytest

import tape
from tape import conv_blocked, workspace
from models.nn import CNN

rng = np.random.default_rng(0)


@pytest.fixture(autouse=True)
def empty_cache():
    workspace.clear()
    yield
    workspace.clear()


def poison_free_buffers():
    """Overwrite every free buffer of this thread's cache: whoever still reads one sees NaN."""
    for free in workspace._cache().values():
        for room in free:
            room.fill(np.nan)


def free_buffers():
    return [room for free in workspace._cache().values() for room in free]


@contextmanager
def fresh_allocation(monkeypatch):
    """The plain form: every buffer a new array (of NaN, so that one not written is seen)."""
    @contextmanager
    def fresh(shape, dtype):
        yield np.full(shape, np.nan, dtype)
    monkeypatch.setattr(conv_blocked, "borrowed", fresh)
    yield
    monkeypatch.undo()


def conv_case(n=5, c_in=3, c_out=4, side=7, dtype=np.float64):
    x = rng.standard_normal((n, c_in, side, side)).astype(dtype)
    w = rng.standard_normal((c_out, c_in, 3, 3)).astype(dtype)
    b = rng.standard_normal(c_out).astype(dtype)
    g = rng.standard_normal((n, c_out, side, side)).astype(dtype)
    return x, w, b, g


# small blocks, so that each call goes through several blocks of X̂
BLOCKS = 2 * 7 * 7 * 3 * 9 * 8


def three_products(x, w, b, g):
    return (conv_blocked.blocked_conv2d(x, w, b, (1, 1), (1, 1), BLOCKS),
            conv_blocked.blocked_conv_transpose2d(g, w, x.shape, (1, 1), (1, 1), BLOCKS),
            conv_blocked.blocked_conv2d_weight_grad(x, g, w.shape, (1, 1), (1, 1), BLOCKS))


def test_a_first_output_is_unchanged_by_a_second_call_of_the_same_shapes():
    first_case, second_case = conv_case(), conv_case()
    first = three_products(*first_case)
    kept = [a.copy() for a in first]
    poison_free_buffers()
    second = three_products(*second_case)
    assert free_buffers(), "the second call reused the first call's buffers"
    for a, before in zip(first, kept):
        np.testing.assert_array_equal(a, before)
    for a, b in zip(first, second):
        assert not np.shares_memory(a, b)
    for out in first + second:                        # no output is a buffer of the cache
        assert not any(np.shares_memory(out, room) for room in free_buffers())


def test_reused_buffers_give_the_bits_of_fresh_ones_even_poisoned(monkeypatch):
    cases = [conv_case(), conv_case(n=3, c_in=1, c_out=2), conv_case(dtype=np.float32)]
    with fresh_allocation(monkeypatch):
        expected = [three_products(*case) for case in cases]
    for _ in range(2):                               # the second time, every buffer reused
        for case, want in zip(cases, expected):
            poison_free_buffers()
            for got, w in zip(three_products(*case), want):
                np.testing.assert_array_equal(got, w)


def test_strided_input_gradient_zeroes_the_reused_spread():
    """Stride 2 leaves zeros between g's pixels in the spread: a reused one must be zeroed."""
    x, w, _, _ = conv_case(side=8)
    g = rng.standard_normal((5, 4, 4, 4))
    want = tape.im2col.im2col_conv_transpose2d(g, w, x.shape, (2, 2), (1, 1))
    for _ in range(3):
        poison_free_buffers()
        got = conv_blocked.blocked_conv_transpose2d(g, w, x.shape, (2, 2), (1, 1), BLOCKS)
        np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-12)


def cnn_gradients(model, x, y):
    loss = tape.cross_entropy(model(x), y)
    for p in model.parameters():
        p.grad = None
    loss.backward()
    return float(loss.data), [p.grad for p in model.parameters()]


def test_a_cnn_graph_built_before_other_steps_backpropagates_its_own_numbers(monkeypatch):
    """Graph A recorded, then a whole step on batch B, then A's backward: A's saved values
    and gradients are those of a run with fresh buffers; B's gradients survive A's step."""
    model = CNN(channels=(4, 6), fc=(16,), dtype=np.float64)
    xa, xb = rng.random((6, 1, 28, 28)), rng.random((6, 1, 28, 28))
    ya, yb = rng.integers(0, 10, 6), rng.integers(0, 10, 6)
    with fresh_allocation(monkeypatch):
        want_a, want_b = cnn_gradients(model, xa, ya), cnn_gradients(model, xb, yb)

    loss_a = tape.cross_entropy(model(xa), ya)              # A recorded, not yet swept
    poison_free_buffers()
    got_b = cnn_gradients(model, xb, yb)
    kept_b = [g.copy() for g in got_b[1]]
    poison_free_buffers()
    for p in model.parameters():
        p.grad = None
    loss_a.backward()
    got_a = float(loss_a.data), [p.grad for p in model.parameters()]
    for (loss, grads), (want_loss, want_grads) in [(got_a, want_a), (got_b, want_b)]:
        assert loss == want_loss
        for g, w in zip(grads, want_grads):
            np.testing.assert_array_equal(g, w)
    for g, kept in zip(got_b[1], kept_b):
        np.testing.assert_array_equal(g, kept)


def test_second_derivatives_through_reused_buffers_are_those_of_fresh_ones(monkeypatch):
    x, w, b, _ = conv_case(n=2, side=5)

    def hessian_vector(w):
        gx, gw = tape.grad(lambda x, w: (tape.tanh(tape.conv2d(x, w, b, padding=1)) ** 2).sum(),
                           argnums=(0, 1))(x, w)
        return (gx ** 2).sum() + (gw ** 2).sum()

    with fresh_allocation(monkeypatch):
        want = tape.grad(hessian_vector)(w)
    for _ in range(2):
        poison_free_buffers()
        np.testing.assert_array_equal(tape.grad(hessian_vector)(w), want)


def test_threads_never_share_a_buffer_and_each_gets_its_own_numbers():
    cases = [conv_case(), conv_case()]
    expected = [three_products(*case) for case in cases]
    start, errors, seen = threading.Barrier(2), [], {}

    def work(k):
        try:
            start.wait()
            for _ in range(20):
                for got, want in zip(three_products(*cases[k]), expected[k]):
                    np.testing.assert_array_equal(got, want)
            seen[k] = {id(room) for room in free_buffers()}
        except Exception as e:           # noqa: BLE001 (reported below, in the main thread)
            errors.append(e)

    threads = [threading.Thread(target=work, args=(k,)) for k in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors
    assert seen[0] and seen[1] and not seen[0] & seen[1]
    assert not {id(room) for room in free_buffers()} & (seen[0] | seen[1])


def test_nested_borrowers_of_one_shape_get_different_buffers_and_the_cache_stays_bounded():
    with workspace.borrowed((3, 4), np.float32) as a, workspace.borrowed((3, 4), np.float32) as b:
        assert a is not b and not np.shares_memory(a, b)
    with workspace.borrowed((3, 4), np.float32) as c:
        assert c is a or c is b                          # given back, then lent again
    for _ in range(3):                                   # three at once: two are kept
        with workspace.borrowed((5,), np.float64), workspace.borrowed((5,), np.float64), \
                workspace.borrowed((5,), np.float64):
            pass
    assert len(workspace._cache()[((5,), np.dtype(np.float64))]) == workspace.KEEP_PER_SHAPE

    quarter = workspace.KEEP_BYTES // 4 // 8             # float64 numbers in a quarter
    for k in range(10):                                  # ten shapes of a quarter each
        with workspace.borrowed((quarter + k,), np.float64):
            pass
        assert workspace.held_bytes() <= workspace.KEEP_BYTES
    kept = [key[0][0] - quarter for key, free in workspace._cache().items() if free]
    assert kept == [7, 8, 9]                             # the most recently used shapes
    with workspace.borrowed((workspace.KEEP_BYTES // 8 + 1,), np.float64):
        pass                                             # larger than the bound: not kept
    assert workspace.held_bytes() <= workspace.KEEP_BYTES
    workspace.clear()
    assert workspace.held_bytes() == 0
