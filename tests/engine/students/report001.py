"""Report 001 (Fashion-MNIST, 784-600-400-10): `back_propagate` as the report lists it.

Column layout, as the student wrote it: W_k is (out, in), b_k (out, 1), Z_k = W_k·Xᵀ + b_k
is (units, batch); y is one-hot (batch, 10). The forward pass and the loss are not in the
report; they are written here to match its backward pass (softmax over axis 0, the
cross-entropy averaged over the batch). The sizes are the caller's (small, for the tests).
"""

import numpy as np


class ShallowNeuralNetwork:
    def __init__(self, sizes, activation="relu", seed=0):
        rng = np.random.default_rng(seed)
        self.params = {}
        for k in range(1, len(sizes)):
            self.params[f"W{k}"] = rng.standard_normal((sizes[k], sizes[k - 1])) * np.sqrt(1. / sizes[k - 1])
            self.params[f"b{k}"] = rng.standard_normal((sizes[k], 1)) * 0.1
        self.activation = self.relu if activation == "relu" else self.sigmoid
        self.cache = {}

    def relu(self, x, derivative=False):
        if derivative:
            return np.where(x > 0, 1, 0)
        return np.maximum(0, x)

    def sigmoid(self, x, derivative=False):
        if derivative:
            return (np.exp(-x)) / ((np.exp(-x) + 1) ** 2)
        return 1 / (1 + np.exp(-x))

    def softmax(self, x):
        exps = np.exp(x - x.max())
        return exps / np.sum(exps, axis=0)

    def feed_forward(self, x):
        self.cache["X"] = x
        self.cache["Z1"] = np.matmul(self.params["W1"], self.cache["X"].T) + self.params["b1"]
        self.cache["A1"] = self.activation(self.cache["Z1"])
        self.cache["Z2"] = np.matmul(self.params["W2"], self.cache["A1"]) + self.params["b2"]
        self.cache["A2"] = self.activation(self.cache["Z2"])
        self.cache["Z3"] = np.matmul(self.params["W3"], self.cache["A2"]) + self.params["b3"]
        self.cache["A3"] = self.softmax(self.cache["Z3"])
        return self.cache["A3"]

    def cross_entropy_loss(self, y, output):
        l_sum = np.sum(np.multiply(y.T, np.log(output)))
        m = y.shape[0]
        l = -(1. / m) * l_sum
        return l

    def back_propagate(self, y, output):
        current_batch_size = y.shape[0]

        dZ3 = output - y.T
        dW3 = (1/current_batch_size) * np.matmul(dZ3, self.cache["A2"].T)
        db3 = (1/current_batch_size) * np.sum(dZ3, axis=1, keepdims=True)

        dA2 = np.matmul(self.params["W3"].T, dZ3)
        dZ2 = dA2 * self.activation(self.cache["Z2"], derivative=True)
        dW2 = (1/current_batch_size) * np.matmul(dZ2, self.cache["A1"].T)
        db2 = (1/current_batch_size) * np.sum(dZ2, axis=1, keepdims=True)

        dA1 = np.matmul(self.params["W2"].T, dZ2)
        dZ1 = dA1 * self.activation(self.cache["Z1"], derivative=True)
        dW1 = (1/current_batch_size) * np.matmul(dZ1, self.cache["X"])
        db1 = (1/current_batch_size) * np.sum(dZ1, axis=1, keepdims=True)

        self.grads = {"W1": dW1, "b1": db1, "W2": dW2, "b2": db2,
                      "W3": dW3, "b3": db3}
        return self.grads


# ---- planted bugs: the same method with one line changed ----------------------------------

class Db2WithoutTheMean(ShallowNeuralNetwork):
    def back_propagate(self, y, output):
        current_batch_size = y.shape[0]

        dZ3 = output - y.T
        dW3 = (1/current_batch_size) * np.matmul(dZ3, self.cache["A2"].T)
        db3 = (1/current_batch_size) * np.sum(dZ3, axis=1, keepdims=True)

        dA2 = np.matmul(self.params["W3"].T, dZ3)
        dZ2 = dA2 * self.activation(self.cache["Z2"], derivative=True)
        dW2 = (1/current_batch_size) * np.matmul(dZ2, self.cache["A1"].T)
        db2 = np.sum(dZ2, axis=1, keepdims=True)                       # the bug: no 1/m

        dA1 = np.matmul(self.params["W2"].T, dZ2)
        dZ1 = dA1 * self.activation(self.cache["Z1"], derivative=True)
        dW1 = (1/current_batch_size) * np.matmul(dZ1, self.cache["X"])
        db1 = (1/current_batch_size) * np.sum(dZ1, axis=1, keepdims=True)

        self.grads = {"W1": dW1, "b1": db1, "W2": dW2, "b2": db2,
                      "W3": dW3, "b3": db3}
        return self.grads


class FirstActivationDerivativeForgotten(ShallowNeuralNetwork):
    def back_propagate(self, y, output):
        current_batch_size = y.shape[0]

        dZ3 = output - y.T
        dW3 = (1/current_batch_size) * np.matmul(dZ3, self.cache["A2"].T)
        db3 = (1/current_batch_size) * np.sum(dZ3, axis=1, keepdims=True)

        dA2 = np.matmul(self.params["W3"].T, dZ3)
        dZ2 = dA2 * self.activation(self.cache["Z2"], derivative=True)
        dW2 = (1/current_batch_size) * np.matmul(dZ2, self.cache["A1"].T)
        db2 = (1/current_batch_size) * np.sum(dZ2, axis=1, keepdims=True)

        dA1 = np.matmul(self.params["W2"].T, dZ2)
        dZ1 = dA1                                                        # the bug: no act'(Z1)
        dW1 = (1/current_batch_size) * np.matmul(dZ1, self.cache["X"])
        db1 = (1/current_batch_size) * np.sum(dZ1, axis=1, keepdims=True)

        self.grads = {"W1": dW1, "b1": db1, "W2": dW2, "b2": db2,
                      "W3": dW3, "b3": db3}
        return self.grads
