"""Report 004's TwoLayerNet (cs231n's fc_net.py): affine - relu - affine - softmax, with
`model.params` and `model.loss(X, y) -> (loss, grads)`, the contract the Solver uses."""

import numpy as np

from tests.engine.students import cs231n_layers as layers


def affine_relu_forward(x, w, b):
    a, fc_cache = layers.affine_forward(x, w, b)
    out, relu_cache = layers.relu_forward(a)
    cache = (fc_cache, relu_cache)
    return out, cache


def affine_relu_backward(dout, cache):
    fc_cache, relu_cache = cache
    da = layers.relu_backward(dout, relu_cache)
    dx, dw, db = layers.affine_backward(da, fc_cache)
    return dx, dw, db


class TwoLayerNet(object):
    def __init__(self, input_dim=3 * 32 * 32, hidden_dim=100, num_classes=10,
                 weight_scale=1e-3, reg=0.0, seed=0):
        self.params = {}
        self.reg = reg
        rng = np.random.RandomState(seed)
        self.params['W1'] = weight_scale * rng.randn(input_dim, hidden_dim)
        self.params['b1'] = 0.1 * rng.randn(hidden_dim)
        self.params['W2'] = weight_scale * rng.randn(hidden_dim, num_classes)
        self.params['b2'] = 0.1 * rng.randn(num_classes)

    def loss(self, X, y=None):
        scores = None
        W1, b1 = self.params['W1'], self.params['b1']
        W2, b2 = self.params['W2'], self.params['b2']
        h, cache_h = affine_relu_forward(X, W1, b1)
        scores, cache_scores = layers.affine_forward(h, W2, b2)

        if y is None:
            return scores

        loss, grads = 0, {}
        loss, dscores = layers.softmax_loss(scores, y)
        loss += 0.5 * self.reg * (np.sum(W1 * W1) + np.sum(W2 * W2))

        dh, dW2, db2 = layers.affine_backward(dscores, cache_scores)
        dX, dW1, db1 = affine_relu_backward(dh, cache_h)
        grads['W1'] = dW1 + self.reg * W1
        grads['b1'] = db1
        grads['W2'] = dW2 + self.reg * W2
        grads['b2'] = db2
        return loss, grads
