"""Report 002 (MNIST, leaky ReLU, MSE): `LeakyRelu` and `Mse` as the report lists them,
in a two-layer network written the way its LinearLayer is described (X·W + b, batch first)."""

import copy

import numpy as np


# Active functions

def LeakyRelu(input_data, gradient=False):
    if not gradient:
        output = copy.deepcopy(input_data)
        output[output <= 0] = 0.01 * output[output <= 0]
        return output
    else:
        output = copy.deepcopy(input_data)
        output[output > 0] = 1
        output[output <= 0] = 0.01
        return output


# Loss function

class Mse:

    def loss_value(self, input_data, target):
        self.input = input_data
        self.target = target
        self.batch_size, _ = input_data.shape
        return 0.5*np.sum((self.input - self.target)**2)/self.batch_size

    def gradient(self):
        g = self.input - self.target
        g /= self.batch_size
        return g


class TwoLayerNetwork:
    def __init__(self, sizes, seed=0, activation=LeakyRelu, loss=Mse):
        rng = np.random.default_rng(seed)
        self.params = {"W1": rng.standard_normal(sizes[:2]) * 0.5,
                       "b1": rng.standard_normal(sizes[1]) * 0.1,
                       "W2": rng.standard_normal(sizes[1:]) * 0.5,
                       "b2": rng.standard_normal(sizes[2]) * 0.1}
        self.activation, self.loss = activation, loss()

    def loss_and_grads(self, x, target):
        p = self.params
        hidden = x @ p["W1"] + p["b1"]
        active = self.activation(hidden)
        output = active @ p["W2"] + p["b2"]
        value = self.loss.loss_value(output, target)

        g = self.loss.gradient()
        grads = {"W2": active.T @ g, "b2": g.sum(axis=0)}
        g = (g @ p["W2"].T) * self.activation(hidden, gradient=True)
        grads["W1"], grads["b1"] = x.T @ g, g.sum(axis=0)
        return value, grads


# ---- planted bugs ---------------------------------------------------------------------------

class MseGradientNotAveraged(Mse):
    def gradient(self):
        g = self.input - self.target                 # the bug: g /= self.batch_size dropped
        return g


def LeakyReluWrongSlope(input_data, gradient=False):
    if not gradient:
        output = copy.deepcopy(input_data)
        output[output <= 0] = 0.01 * output[output <= 0]
        return output
    else:
        output = copy.deepcopy(input_data)
        output[output > 0] = 1
        output[output <= 0] = 0.1                    # the bug: 0.1, not 0.01
        return output
