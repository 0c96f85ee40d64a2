"""conv2d, max_pool2d and avg_pool2d: the im2col ops agree with the naive loops of
models/manual/formulas.py and with finite differences, over generated shapes, strides and
paddings; their gradients are differentiable again; ties and errors are as stated."""

import numpy as np
import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

import tape
from models.manual import (conv_backward_naive, conv_forward_naive, max_pool_backward_naive,
                           max_pool_forward_naive)
from tests.strategies import distinct


@st.composite
def convolutions(draw):
    """(x, w, b, stride, padding): small images, kernels that fit the padded input."""
    n, c_in, c_out = draw(st.integers(1, 2)), draw(st.integers(1, 3)), draw(st.integers(1, 3))
    kh, kw = draw(st.integers(1, 3)), draw(st.integers(1, 3))
    padding = draw(st.integers(0, 2))
    stride = draw(st.integers(1, 3))
    h = draw(st.integers(max(1, kh - 2 * padding), 6))
    w = draw(st.integers(max(1, kw - 2 * padding), 6))
    rng = np.random.default_rng(draw(st.integers(0, 2 ** 16)))
    return (rng.standard_normal((n, c_in, h, w)), rng.standard_normal((c_out, c_in, kh, kw)),
            rng.standard_normal(c_out), stride, padding)


@st.composite
def square_convolutions(draw):
    """As above, with square kernels and one stride and padding: the naive layer's setting."""
    x, w, b, stride, padding = draw(convolutions())
    k = min(w.shape[2:])
    return x, w[:, :, :k, :k].copy(), b, stride, padding


def tensors(*arrays):
    return [tape.tensor(a, requires_grad=True) for a in arrays]


# ---- convolution ---------------------------------------------------------------------

@given(square_convolutions())
def test_conv2d_forward_and_backward_equal_the_naive_loops(case):
    x, w, b, stride, padding = case
    expected, cache = conv_forward_naive(x, w, b, stride, padding)
    X, W, B = tensors(x, w, b)
    y = tape.conv2d(X, W, B, stride=stride, padding=padding)
    np.testing.assert_allclose(y.data, expected, atol=1e-12)
    dout = np.random.default_rng(1).standard_normal(y.shape)
    y.backward(dout)
    dx, dw, db = conv_backward_naive(dout, cache)
    np.testing.assert_allclose(X.grad, dx, atol=1e-12)
    np.testing.assert_allclose(W.grad, dw, atol=1e-12)
    np.testing.assert_allclose(B.grad, db, atol=1e-12)


@given(convolutions())
def test_conv2d_gradients_equal_finite_differences_for_any_stride_and_padding(case):
    x, w, b, stride, padding = case
    assert tape.gradcheck(lambda x, w, b: tape.conv2d(x, w, b, stride=stride, padding=padding),
                          [x, w, b])


@given(convolutions(), st.data())
def test_conv2d_accepts_separate_height_and_width_strides_and_paddings(case, data):
    x, w, b, _, _ = case
    stride = (data.draw(st.integers(1, 3)), data.draw(st.integers(1, 3)))
    padding = (data.draw(st.integers(0, 2)), data.draw(st.integers(0, 2)))
    assume(all(k <= n + 2 * p for k, n, p in zip(w.shape[2:], x.shape[2:], padding)))
    assert tape.gradcheck(lambda x, w, b: tape.conv2d(x, w, b, stride=stride, padding=padding),
                          [x, w, b])


def test_conv2d_dx_is_the_full_convolution_of_dout_with_the_flipped_kernel():
    rng = np.random.default_rng(0)
    x, w, dout = rng.standard_normal((1, 1, 5, 5)), rng.standard_normal((1, 1, 3, 3)), \
        rng.standard_normal((1, 1, 3, 3))
    X = tape.tensor(x, requires_grad=True)
    tape.conv2d(X, w).backward(dout)
    # the 'full' convolution: dout padded by k − 1 = 2, slid under the kernel turned 180°
    full = tape.conv2d(np.pad(dout, ((0, 0), (0, 0), (2, 2), (2, 2))), w[:, :, ::-1, ::-1].copy())
    np.testing.assert_allclose(X.grad, full, atol=1e-12)


def test_conv2d_db_is_the_sum_of_dout_over_batch_and_pixels():
    rng = np.random.default_rng(0)
    x, w, b = rng.standard_normal((2, 2, 4, 4)), rng.standard_normal((3, 2, 3, 3)), np.zeros(3)
    B = tape.tensor(b, requires_grad=True)
    dout = rng.standard_normal((2, 3, 2, 2))
    tape.conv2d(x, w, B).backward(dout)
    np.testing.assert_allclose(B.grad, dout.sum(axis=(0, 2, 3)))


@given(convolutions())
def test_conv_transpose2d_is_the_adjoint_of_conv2d(case):
    # ⟨conv2d(x, w), g⟩ = ⟨x, conv_transpose2d(g, w)⟩ for every x and g
    x, w, _, stride, padding = case
    y = tape.conv2d(x, w, stride=stride, padding=padding)       # arrays in: an array out
    g = np.random.default_rng(2).standard_normal(y.shape)
    dx = tape.conv_transpose2d(g, w, x.shape, stride=stride, padding=padding)
    assert np.vdot(y, g) == pytest.approx(np.vdot(x, dx), rel=1e-10, abs=1e-10)


@given(convolutions())
def test_conv2d_second_derivatives_equal_finite_differences_of_the_gradient(case):
    # gradcheck of a function that returns a gradient: the rules' own rules are checked
    x, w, b, stride, padding = case

    def dloss_dw_and_dx(x, w, b):
        def loss(x, w):
            return (tape.tanh(tape.conv2d(x, w, b, stride=stride, padding=padding)) ** 2).sum()
        gx, gw = tape.grad(loss, argnums=(0, 1))(x, w)
        return tape.concatenate([gx.reshape(-1), gw.reshape(-1)])

    assert tape.gradcheck(dloss_dw_and_dx, [x, w, b])


def small_cnn(x, w1, b1, w2, b2, v):
    """conv 3×3 'same' → relu → 2×2 max-pool → conv 2×2 → tanh → flatten → linear."""
    h = tape.max_pool2d(tape.relu(tape.conv2d(x, w1, b1, padding=1)), 2)
    h = tape.tanh(tape.conv2d(h, w2, b2))
    return tape.cross_entropy(h.reshape(len(x), -1) @ v, np.array([0, 2]))


def test_hessian_vector_product_through_a_small_cnn_equals_finite_differences():
    rng = np.random.default_rng(3)
    # inputs on a grid far apart: no pooling tie and no relu kink within ε
    x = rng.permutation(2 * 2 * 6 * 6).reshape(2, 2, 6, 6) * 0.05 - 3.6
    params = [rng.standard_normal(s) * 0.5 for s in [(3, 2, 3, 3), (3,), (2, 3, 2, 2), (2,), (8, 3)]]
    direction = [rng.standard_normal(p.shape) for p in params]

    def directional_derivative(*params):    # ⟨∇L(θ), d⟩: its gradient is the Hessian times d
        grads = tape.grad(lambda *p: small_cnn(x, *p), argnums=tuple(range(5)))(*params)
        return sum((g * d).sum() for g, d in zip(grads, direction))

    assert tape.gradcheck(directional_derivative, params, atol=1e-5, rtol=1e-4)


def test_conv2d_keeps_float32_in_forward_and_every_gradient():
    rng = np.random.default_rng(0)
    x, w, b = tensors(*(rng.standard_normal(s).astype(np.float32)
                        for s in [(2, 3, 6, 6), (4, 3, 3, 3), (4,)]))
    y = tape.max_pool2d(tape.conv2d(x, w, b, stride=1, padding=1), 2)
    y = tape.avg_pool2d(y, 3, 1)
    assert y.dtype == np.float32
    y.sum().backward()
    assert x.grad.dtype == w.grad.dtype == b.grad.dtype == np.float32
    gw = tape.grad(lambda w: (tape.conv2d(x.data, w, padding=1) ** 2).sum())(w.data)
    assert gw.dtype == np.float32


# ---- pooling ----------------------------------------------------------------------------

@given(st.data())
def test_max_pool2d_equals_the_naive_loops_forward_and_backward(data):
    k, stride = data.draw(st.integers(1, 3)), data.draw(st.integers(1, 3))
    h, w = data.draw(st.integers(k, 6)), data.draw(st.integers(k, 6))
    x = data.draw(distinct((2, 2, h, w)))
    expected, cache = max_pool_forward_naive(x, k, k, stride)
    X = tape.tensor(x, requires_grad=True)
    y = tape.max_pool2d(X, k, stride)
    np.testing.assert_array_equal(y.data, expected)
    dout = np.random.default_rng(0).standard_normal(y.shape)
    y.backward(dout)
    np.testing.assert_allclose(X.grad, max_pool_backward_naive(dout, cache), atol=1e-12)


@given(st.data())
def test_max_pool2d_gradient_equals_finite_differences_away_from_ties(data):
    kh, kw = data.draw(st.integers(1, 3)), data.draw(st.integers(1, 3))
    stride = data.draw(st.one_of(st.none(), st.integers(1, 3)))
    x = data.draw(distinct((1, 2, data.draw(st.integers(kh, 5)), data.draw(st.integers(kw, 5)))))
    assert tape.gradcheck(lambda x: tape.max_pool2d(x, (kh, kw), stride), [x])


def test_max_pool2d_routes_the_gradient_to_the_maximum_only():
    x = np.array([[[[1., 5., 2., 0.],
                    [3., 4., 9., 1.]]]])
    X = tape.tensor(x, requires_grad=True)
    y = tape.max_pool2d(X, 2)
    np.testing.assert_array_equal(y.data, [[[[5., 9.]]]])
    y.backward(np.array([[[[10., 20.]]]]))
    np.testing.assert_array_equal(X.grad, [[[[0., 10., 0., 0.],
                                             [0., 0., 20., 0.]]]])


def test_max_pool2d_tie_gives_all_the_gradient_to_the_first_maximum_in_reading_order():
    x = np.array([[[[7., 7.],
                    [7., 1.]]]])          # three equal maxima
    X = tape.tensor(x, requires_grad=True)
    tape.max_pool2d(X, 2).backward(np.array([[[[1.]]]]))
    np.testing.assert_array_equal(X.grad, [[[[1., 0.], [0., 0.]]]])


def test_max_pool2d_a_nan_is_the_maximum_and_the_first_nan_takes_the_gradient():
    # as in PyTorch and np.max: NaN propagates, where a comparison would skip it
    nan = np.nan
    x = np.array([[[[1., nan, -np.inf, -np.inf],
                    [nan, 9., -np.inf, -np.inf]]]])
    X = tape.tensor(x, requires_grad=True)
    y = tape.max_pool2d(X, 2)
    np.testing.assert_array_equal(y.data, [[[[nan, -np.inf]]]])
    y.backward(np.array([[[[10., 20.]]]]))
    np.testing.assert_array_equal(X.grad, [[[[0., 10., 20., 0.],
                                             [0., 0., 0., 0.]]]])


def test_max_pool2d_windows_of_more_than_255_offsets():
    # the winner's offset k is kept in the smallest integer type that holds kh·kw of them
    x = np.random.default_rng(0).permutation(2 * 17 * 17).reshape(2, 1, 17, 17).astype(float)
    X = tape.tensor(x, requires_grad=True)
    y = tape.max_pool2d(X, 17)
    np.testing.assert_array_equal(y.data.ravel(), x.reshape(2, -1).max(axis=1))
    y.backward(np.ones((2, 1, 1, 1)))
    np.testing.assert_array_equal(X.grad, x == x.reshape(2, -1).max(axis=1).reshape(2, 1, 1, 1))


def test_max_pool2d_overlapping_windows_sum_at_a_shared_maximum():
    x = np.array([[[[0., 1., 0.],
                    [1., 9., 1.],
                    [0., 1., 0.]]]])      # 9 wins all four 2×2 windows of stride 1
    X = tape.tensor(x, requires_grad=True)
    tape.max_pool2d(X, 2, stride=1).backward(np.ones((1, 1, 2, 2)))
    assert X.grad[0, 0, 1, 1] == 4 and X.grad.sum() == 4


def test_max_pool2d_gradient_rule_is_differentiable():
    x = np.random.default_rng(0).permutation(36).reshape(1, 1, 6, 6) * 0.1 + 0.5
    assert tape.gradcheck(
        lambda x: tape.grad(lambda x: (tape.max_pool2d(x, 3, 1) ** 3).sum())(x), [x])


@given(st.data())
def test_avg_pool2d_and_its_gradient_rule_equal_finite_differences(data):
    kh, kw, stride = data.draw(st.integers(1, 3)), data.draw(st.integers(1, 3)), \
        data.draw(st.one_of(st.none(), st.integers(1, 3)))
    x = np.random.default_rng(data.draw(st.integers(0, 99))).standard_normal(
        (2, 1, data.draw(st.integers(kh, 5)), data.draw(st.integers(kw, 5))))
    y = tape.avg_pool2d(x, (kh, kw), stride)
    windows = np.lib.stride_tricks.sliding_window_view(x, (kh, kw), axis=(2, 3))
    s = stride or (kh, kw)
    s = (s, s) if isinstance(s, int) else s
    np.testing.assert_allclose(y, windows[:, :, ::s[0], ::s[1]].mean(axis=(4, 5)))
    assert tape.gradcheck(lambda x: tape.avg_pool2d(x, (kh, kw), stride), [x])
    assert tape.gradcheck(
        lambda x: tape.grad(lambda x: (tape.avg_pool2d(x, (kh, kw), stride) ** 3).sum())(x), [x])


# ---- errors: one line naming the op and the shapes ------------------------------------------

@pytest.mark.parametrize("call, words", [
    (lambda: tape.conv2d(np.zeros((1, 3, 8, 8)), np.zeros((4, 2, 3, 3))),
     ["conv2d", "3 channels", "(1, 3, 8, 8)", "(4, 2, 3, 3)"]),
    (lambda: tape.conv2d(np.zeros((1, 1, 4, 4)), np.zeros((2, 1, 7, 7)), padding=1),
     ["conv2d", "7×7 kernel", "larger than the padded input 6×6", "(1, 1, 4, 4)"]),
    (lambda: tape.conv2d(np.zeros((3, 8, 8)), np.zeros((4, 3, 3, 3))),
     ["conv2d", "(N, C, H, W)", "(3, 8, 8)"]),
    (lambda: tape.conv2d(np.zeros((1, 3, 8, 8)), np.zeros((4, 3, 3))),
     ["conv2d", "(C_out, C_in, kh, kw)", "(4, 3, 3)"]),
    (lambda: tape.conv2d(np.zeros((1, 3, 8, 8)), np.zeros((4, 3, 3, 3)), np.zeros(3)),
     ["conv2d", "bias", "(4,)", "(3,)"]),
    (lambda: tape.conv2d(np.zeros((1, 3, 8, 8)), np.zeros((4, 3, 3, 3)), stride=0),
     ["conv2d", "stride", "0"]),
    (lambda: tape.conv2d(np.zeros((1, 3, 8, 8)), np.zeros((4, 3, 3, 3)), padding=-1),
     ["conv2d", "padding", "-1"]),
    (lambda: tape.conv2d(np.zeros((1, 3, 8, 8)), np.zeros((4, 3, 3, 3)), stride=(1, 2, 3)),
     ["conv2d", "stride", "(1, 2, 3)"]),
    (lambda: tape.conv2d(np.zeros((1, 3, 8, 8)), np.zeros((4, 3, 3, 3)), padding=1.5),
     ["conv2d", "padding", "1.5"]),
    (lambda: tape.max_pool2d(np.zeros((1, 1, 3, 3)), 4),
     ["max_pool2d", "4×4 kernel", "3×3", "(1, 1, 3, 3)"]),
    (lambda: tape.max_pool2d(np.zeros((8, 8)), 2), ["max_pool2d", "(N, C, H, W)", "(8, 8)"]),
    (lambda: tape.avg_pool2d(np.zeros((1, 1, 4, 4)), 2, stride=0), ["avg_pool2d", "stride"]),
    (lambda: tape.avg_pool2d(np.zeros((1, 1, 4, 4)), 0), ["avg_pool2d", "kernel_size"]),
])
def test_bad_arguments_give_one_line_naming_the_op_and_the_shapes(call, words):
    with pytest.raises(ValueError) as info:
        call()
    message = str(info.value)
    assert "\n" not in message
    for word in words:
        assert word in message, (word, message)
