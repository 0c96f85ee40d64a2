"""Report 003 (make_moons, a deeper network): `LinearLayer`, `ActivationLayer` and the
network's backprop and loss as the report lists them (the listing's page breaks mended).

As written, the backward pass starts from probs − onehot while the loss is averaged
over the batch, so dW is N times the gradient of that loss (and the update's λW is N
times the penalty's λW/N); db = grad.mean(axis=0) happens to be right. `Corrected`
divides by N once, sums db and puts λW/N into dW, as cs231n does.
The loss adds 1e-5 inside the log, which the hand gradient leaves out: the two agree
to about 1e-5, not to rounding.
"""

import numpy as np


class LinearLayer:
    def __init__(self, input_dim, output_dim):
        self.input_dim = input_dim
        self.output_dim = output_dim
        # np.random.seed(seed)
        self.W = np.random.randn(self.input_dim, self.output_dim) / np.sqrt(self.input_dim)
        self.bias = np.zeros((1, self.output_dim))
        self.dW = self.db = None
        self.X = None

    def feedforward(self, X):
        self.X = np.copy(X)
        return X @ self.W + self.bias

    def backprop(self, grad):
        self.dW = self.X.T @ grad
        self.db = grad.mean(axis=0)
        dX = grad @ self.W.T
        return dX


class ActivationLayer:
    def __init__(self, tp: str):
        assert tp in ["relu", "sigmoid", "tanh", "identity"]
        self.tp = tp
        self.z = None

    def feedforward(self, z):
        self.z = np.copy(z)
        if self.tp.lower() == "relu":
            z[z < 0] = 0
            return z
        elif self.tp.lower() == "sigmoid":
            return 1 / (1 + np.e ** (-z))
        elif self.tp.lower() == "tanh":
            return (np.e ** z - np.e ** (-z)) / (np.e ** z + np.e ** (-z))
        elif self.tp.lower() == "identity":
            return z

    def backprop(self, grad):
        if self.tp.lower() == "relu":
            d = np.ones_like(self.z)
            d[self.z < 0] = 0
        elif self.tp.lower() == "sigmoid":
            d = np.copy(self.z)
            d = np.e ** (-d) / (1 + np.e ** (-d)) ** 2
        elif self.tp.lower() == "tanh":
            d = np.copy(self.z)
            d = 1 - ((np.e ** d - np.e ** (-d)) / (np.e ** d + np.e ** (-d))) ** 2
        else:
            d = np.ones_like(self.z)
        return grad * d


class DeepNeuralNetwork:
    regularized_in_update = True                      # fit_model adds λW to dW in its update

    def __init__(self, nn_input_dim: int,
                 nn_output_dim,
                 nn_hidden_dim,  # dimension of hidden layers
                 layer_num,  # the total number of layers, including input & output layers
                 actFun_type='tanh',
                 reg_lambda=0.01,
                 seed=0):
        assert layer_num >= 3
        # initialize the weights and biases in the network
        np.random.seed(seed)
        self.layer_num, self.actFun_type, self.reg_lambda = layer_num, actFun_type, reg_lambda
        self.layer_dims = [nn_input_dim] + [nn_hidden_dim] * (layer_num - 2) + [nn_output_dim]
        self.fcs = [LinearLayer(self.layer_dims[i], self.layer_dims[i + 1]) for i in
                    range(self.layer_num - 1)]
        self.activations = [ActivationLayer(self.actFun_type) for _ in
                            range(self.layer_num - 2)]
        self.activations.append(ActivationLayer("identity"))

    def feedforward(self, X):
        # YOU IMPLEMENT YOUR feedforward HERE
        for i, (fc, act) in enumerate(zip(self.fcs, self.activations)):
            X = fc.feedforward(X)
            X = act.feedforward(X)
        exp_scores = np.exp(X - np.max(X, axis=1, keepdims=True))
        self.probs = exp_scores / np.sum(exp_scores, axis=1, keepdims=True)
        return self.probs

    def backprop(self, X, y):
        # IMPLEMENT YOUR BACKPROP HERE
        num_examples = len(X)
        da = self.probs  # (n,2)
        da[range(num_examples), y] -= 1  # (n,2)
        for i, (fc, act) in enumerate(zip(self.fcs[::-1], self.activations[::-1])):
            dz = act.backprop(da)
            da = fc.backprop(dz)

    def calculate_loss(self, X, y):
        num_examples = len(X)
        self.feedforward(X)

        # Calculating the loss
        data_loss = - np.sum(np.log(self.probs[range(num_examples), y] + 1e-5))
        print(f'Accuary: {np.sum(self.probs.argmax(axis=1) == y) / len(y)}')

        # Add regulatization term to loss (optional)
        for fc in self.fcs:
            data_loss += self.reg_lambda / 2 * (np.sum(np.square(fc.W)))
        return (1. / num_examples) * data_loss


class Corrected(DeepNeuralNetwork):
    regularized_in_update = False                     # dW already holds λW/N

    def backprop(self, X, y):
        num_examples = len(X)
        da = self.probs
        da[range(num_examples), y] -= 1
        da /= num_examples                            # the loss is averaged over the batch
        for i, (fc, act) in enumerate(zip(self.fcs[::-1], self.activations[::-1])):
            dz = act.backprop(da)
            da = fc.backprop(dz)
            fc.db = dz.sum(axis=0)                    # Σ over the batch, as dW sums
            fc.dW += self.reg_lambda / num_examples * fc.W   # and so is the penalty


# ---- planted bug --------------------------------------------------------------------------

class TanhDerivativeNotSquared(ActivationLayer):
    def backprop(self, grad):
        if self.tp.lower() == "tanh":
            d = np.copy(self.z)
            d = 1 - ((np.e ** d - np.e ** (-d)) / (np.e ** d + np.e ** (-d)))   # the bug: no ** 2
            return grad * d
        return super().backprop(grad)
