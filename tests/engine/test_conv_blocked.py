"""The blocked, channels-last convolution (tape/conv_blocked.py) computes what the plain
im2col form (tape/im2col.py) computes, and the ops use it."""

import numpy as np
import pytest

import tape
from tape.conv import output_size
from tape.conv_blocked import (blocked_conv2d, blocked_conv2d_weight_grad,
                               blocked_conv_transpose2d, channels_last, column_blocks,
                               weight_product, windows_last)
from tape.im2col import (as_matrix, col2im, im2col, im2col_conv2d, im2col_conv2d_weight_grad,
                         im2col_conv_transpose2d)

rng = np.random.default_rng(0)


@pytest.mark.parametrize("c_out, c_in", [(8, 1), (2, 6)])   # more and fewer rows than X̂
def test_conv2d_weight_product_in_either_order_is_g_times_the_columns_transposed(c_out, c_in):
    x = rng.standard_normal((3, c_in, 6, 5))
    g = rng.standard_normal((3, c_out, 6, 5))
    cols, _ = im2col(x, (3, 3), padding=(1, 1))
    G = as_matrix(g)
    np.testing.assert_allclose(weight_product(G, cols), G @ cols.T, rtol=1e-12, atol=1e-12)


# (N, C_in, H, W), C_out, kernel, stride, padding: runs of kw·C ≥ Wo and < Wo (C_in = 1),
# strides 1 and 2, odd and uneven paddings; blocks of 2 images, N not a multiple of 2
CONVOLUTIONS = [((5, 3, 7, 6), 4, (3, 3), (1, 1), (1, 1)),
                ((5, 1, 9, 11), 3, (3, 2), (2, 2), (1, 3)),
                ((3, 4, 8, 7), 2, (5, 3), (2, 1), (3, 0)),
                ((1, 2, 5, 5), 3, (2, 2), (1, 1), (0, 0))]


@pytest.mark.parametrize("shape, c_out, kernel, stride, padding", CONVOLUTIONS)
def test_conv2d_in_blocks_of_images_channels_last_is_the_plain_im2col_product(
        shape, c_out, kernel, stride, padding):
    x = rng.standard_normal(shape)
    w = rng.standard_normal((c_out, shape[1], *kernel))
    b = rng.standard_normal(c_out)
    per_image = np.prod(output_size(shape[2:], kernel, stride, padding, "", shape))
    two_images = 2 * per_image * shape[1] * np.prod(kernel) * 8
    windows = windows_last(channels_last(x, padding, x.dtype), kernel, stride)
    assert ([i.stop - i.start for i, _ in column_blocks(windows, two_images)]
            == [2] * (len(x) // 2) + [1])
    cols, (ho, wo) = im2col(x, kernel, stride, padding)
    y = blocked_conv2d(x, w, b, stride, padding, block_bytes=two_images)
    np.testing.assert_allclose(y, im2col_conv2d(x, w, b, stride, padding), rtol=1e-12, atol=1e-12)
    # the blocks, side by side, are im2col's X̂, its rows (c, p, q) taken in the order (p, q, c)
    c, (kh, kw) = shape[1], kernel
    in_pqc = cols.reshape(c, kh, kw, -1).transpose(1, 2, 0, 3).reshape(c * kh * kw, -1)
    blocks = [block.copy() for _, block in column_blocks(windows, two_images)]
    np.testing.assert_array_equal(np.concatenate(blocks, axis=1), in_pqc)

    g = rng.standard_normal(y.shape)
    dw = blocked_conv2d_weight_grad(x, g, w.shape, stride, padding, block_bytes=two_images)
    np.testing.assert_allclose(dw, im2col_conv2d_weight_grad(x, g, w.shape, stride, padding),
                               rtol=1e-12, atol=1e-12)
    dx = blocked_conv_transpose2d(g, w, shape, stride, padding, block_bytes=two_images)
    np.testing.assert_allclose(dx, im2col_conv_transpose2d(g, w, shape, stride, padding),
                               rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("shape, c_out, kernel, stride, padding", CONVOLUTIONS)
def test_the_im2col_products_are_the_formulas_written_with_col2im(shape, c_out, kernel,
                                                                   stride, padding):
    x = rng.standard_normal(shape)
    w = rng.standard_normal((c_out, shape[1], *kernel))
    cols, (ho, wo) = im2col(x, kernel, stride, padding)
    g = rng.standard_normal((shape[0], c_out, ho, wo))
    G = as_matrix(g)
    dcols = (w.reshape(c_out, -1).T @ G).reshape(shape[1], *kernel, shape[0], ho, wo)
    np.testing.assert_allclose(im2col_conv_transpose2d(g, w, shape, stride, padding),
                               col2im(dcols, shape, kernel, stride, padding), rtol=1e-12)
    np.testing.assert_allclose(im2col_conv2d_weight_grad(x, g, w.shape, stride, padding),
                               (G @ cols.T).reshape(w.shape), rtol=1e-12)


@pytest.mark.parametrize("shape, c_out, kernel, stride, padding", CONVOLUTIONS)
def test_the_conv_ops_compute_the_im2col_products(shape, c_out, kernel, stride, padding):
    x = rng.standard_normal(shape)
    w = tape.tensor(rng.standard_normal((c_out, shape[1], *kernel)), requires_grad=True)
    b = rng.standard_normal(c_out)
    xt = tape.tensor(x, requires_grad=True)
    y = tape.conv2d(xt, w, b, stride=stride, padding=padding)
    np.testing.assert_allclose(y.data, im2col_conv2d(x, w.data, b, stride, padding), rtol=1e-12)
    g = rng.standard_normal(y.shape)
    y.backward(g)
    np.testing.assert_allclose(xt.grad, im2col_conv_transpose2d(g, w.data, shape, stride, padding),
                               rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(w.grad, im2col_conv2d_weight_grad(x, g, w.shape, stride, padding),
                               rtol=1e-12, atol=1e-12)
