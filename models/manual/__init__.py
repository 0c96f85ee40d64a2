"""Backpropagation by hand, in numpy, cs231n-style: the formulas the engine is checked against.

Read `formulas.py` (each layer's forward and backward, the losses, the MLP's and the CNN's
hand gradients, the naive convolution loops), then `three_ways.py` (`--check-grads`: the
hand formulas, the tape and finite differences side by side; imported on its own, since it
needs the data and the training loss).
"""

from .formulas import (affine_forward, affine_backward, relu_forward, relu_backward,
                       sigmoid_forward, sigmoid_backward, tanh_forward, tanh_backward,
                       leaky_relu_forward, leaky_relu_backward, hardtanh_forward,
                       hardtanh_backward, ACTIVATIONS, softmax_cross_entropy, mse_loss,
                       l2_penalty, init_mlp_params, mlp_scores, mlp_predict,
                       mlp_loss_and_grads, sgd_momentum_step, conv_forward_naive,
                       conv_backward_naive, max_pool_forward_naive,
                       max_pool_backward_naive, cnn_loss_and_grads)
