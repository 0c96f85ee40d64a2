"""`--check-grads`: the hand-derived gradients of `models/manual/formulas.py` checked by
`tape.check_manual`.

`formulas.py` is the student's code here: the formulas of the course reports
(dW = XᵀΔ, a − y), in numpy. `tape.check_manual` runs it three ways, in float64 on one
batch: on the arrays (the hand gradients), on tape Tensors in place of the arrays (the
tape's gradient of the same loss), and with central differences at sampled elements. The
MLP's whole code runs on the tape as it is. The CNN's naive loops write their outputs
element by element into np.zeros buffers, which hold values, not Tensors; its tape side
is therefore the same network built from the tape's own conv2d and max_pool2d
(`cnn_tape_loss`), checked to give the same loss.

Every --loss and the --l2 given are checked as they are: --l2 0 checks the network without
the penalty.
"""

import numpy as np

import tape
from models.data.datasets import load_dataset
from models.manual import cnn_loss_and_grads, mlp_loss_and_grads
from models.nn import CNN, MLP

TOLERANCE = 1e-6


def compare(x, y, hidden, activation="relu", loss_name="cross_entropy", l2=1e-3, seed=0,
            samples=30):
    """tape.check_manual on manual.mlp_loss_and_grads, for the MLP of these sizes."""
    model = MLP([x.shape[1], *hidden, 10], activation, seed=seed, dtype=np.float64)
    params = _moved_biases(model, seed)

    def manual(p):
        return mlp_loss_and_grads(p, x, y, activation=activation, loss=loss_name, l2=l2)

    return tape.check_manual(manual, params, tolerance=TOLERANCE, samples=samples, seed=seed)


def _moved_biases(model, seed):
    """The model's parameters as arrays, the biases moved off zero so their gradients
    are not a special case."""
    rng = np.random.default_rng(seed + 1)
    params = {k: p.data.copy() for k, p in model.named_parameters().items()}
    for name in params:
        if name.startswith("b") or name.endswith(".b"):
            params[name] = rng.normal(0, 0.1, params[name].shape)
    return params


def run_check(args, batch=64):
    """The command: a batch of real images if they are at hand, else random inputs."""
    x, y, source = _batch(args, batch)
    hidden = args.hidden
    print(f"gradient check: MLP {[x.shape[1], *hidden, 10]}, {args.activation}, {args.loss}, "
          f"l2 {args.l2:g}, float64, one batch of {len(x)} {source}")
    result = compare(x, y, hidden, args.activation, args.loss, args.l2, args.seed)
    return report(result)


def report(result):
    """Print the table and the verdict; the command's exit code (1 on disagreement)."""
    print(result)
    worst = max(max(r.manual_vs_tape, r.tape_vs_finite_diff) for r in result.rows)
    if not result.ok:
        print(f"FAILED: largest relative error {worst:.2e} > {TOLERANCE:g}")
        return 1
    print(f"all gradients agree (largest relative error {worst:.2e} ≤ {TOLERANCE:g})")
    return 0


def _batch(args, batch):
    try:
        splits = load_dataset(args.dataset, data_dir=args.data_dir, download=False,
                              val_size=0, seed=args.seed, dtype=np.float64)
        return splits.x_train[:batch], splits.y_train[:batch], f"{args.dataset} training images"
    except (OSError, ValueError) as e:    # not downloaded, or damaged: random inputs will do
        print(f"({str(e).splitlines()[0]} Using random inputs instead.)")
        rng = np.random.default_rng(args.seed)
        return rng.random((batch, 784)), rng.integers(0, 10, batch), "random inputs"


# ---- the CNN (python -m models.cnn --check-grads) ------------------------------------------

def cnn_tape_loss(params, x, y, activation="relu", l2=0.0, in_shape=(1, 28, 28)):
    """The CNN of models/nn/ as tape functions of a parameter dict: plain numpy on
    arrays, recorded on Tensors. Softmax cross-entropy, plus ½λΣ‖W‖² over the weights."""
    act = getattr(tape, activation)
    A = x.reshape(len(x), *in_shape)
    l = 1
    while f"conv{l}.W" in params:
        W, b = params[f"conv{l}.W"], params[f"conv{l}.b"]
        A = tape.max_pool2d(act(tape.conv2d(A, W, b, padding=W.shape[2] // 2)), 2)
        l += 1
    A = A.reshape(len(A), -1)
    l = 1
    while f"fc{l}.W" in params:
        A = A @ params[f"fc{l}.W"] + params[f"fc{l}.b"]
        l += 1
        if f"fc{l}.W" in params:
            A = act(A)
    loss = tape.cross_entropy(A, y)
    if l2:
        loss = loss + 0.5 * l2 * sum(np.sum(W * W) for k, W in params.items() if k.endswith(".W"))
    return loss


def compare_cnn(x, y, channels, kernel, fc, activation="relu", l2=1e-3, seed=0, samples=10):
    """tape.check_manual on manual.cnn_loss_and_grads (the naive loops), the tape's side
    and the finite differences on `cnn_tape_loss`."""
    model = CNN(channels, kernel, fc, activation, seed=seed, dtype=np.float64)
    params = _moved_biases(model, seed)

    def manual(p):
        return cnn_loss_and_grads(p, x, y, activation=activation, l2=l2)

    def loss(p):
        return cnn_tape_loss(p, x, y, activation, l2)

    # ε = 1e-7, not 1e-6: max-pooling has a kink wherever a window's two largest inputs
    # meet, and a smaller step crosses fewer of them (a random batch of 8 had two pool
    # inputs 2.7e-7 apart); the rounding error of the differences is still ~1e-8 relative
    return tape.check_manual(manual, params, tolerance=TOLERANCE, samples=samples, seed=seed,
                             eps=1e-7, loss=loss)


def run_cnn_check(args, batch=8):
    """The CNN's command: the network of the flags, on a few images (the loops are slow)."""
    x, y, source = _batch(args, batch)
    print(f"gradient check: CNN channels {args.channels}, kernel {args.kernel}, fc {args.fc}, "
          f"{args.activation}, cross_entropy, l2 {args.l2:g}, float64, one batch of {len(x)} "
          f"{source}")
    result = compare_cnn(x, y, args.channels, args.kernel, args.fc, args.activation, args.l2,
                         args.seed)
    return report(result)
