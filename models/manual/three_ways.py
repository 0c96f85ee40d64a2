"""`--check-grads`: three ways to the same gradient, side by side (the MLP's and the CNN's).

1. by hand: `models/manual/formulas.py`, the formulas of the course reports (dW = XᵀΔ, a − y),
2. by the tape: the same network built from tape operations, `loss.backward()`,
3. by finite differences: (L(θ + ε) − L(θ − ε)) / 2ε on a sample of elements.

Everything runs in float64 on one batch. The error reported for each parameter is
max|a − b| / max|b|: the worst disagreement, relative to the size of that gradient.
(An elementwise relative error would be dominated by elements whose gradient is ~0,
e.g. for border pixels that are always black, where finite differences see only
rounding noise.)
"""

import numpy as np

import tape
from tape import numerical_gradient
from models.data.datasets import load_dataset
from models.manual import cnn_loss_and_grads, mlp_loss_and_grads
from models.nn import CNN, MLP, l2_penalty
from models.train.losses import data_loss

TOLERANCE = 1e-6


def relative_error(a, b):
    scale = max(np.abs(a).max(), np.abs(b).max(), 1e-12)
    return float(np.abs(a - b).max() / scale)


def tape_loss_and_grads(model, x, y, loss_name, l2):
    model.zero_grad()
    loss = data_loss(model(x), y, loss_name)
    if l2:
        loss = loss + l2_penalty(model.weights(), l2)
    loss.backward()
    return float(loss.data), {k: p.grad for k, p in model.named_parameters().items()}


def finite_differences(loss_at, params, name, indices, eps=1e-6):
    """Central differences of the loss with respect to params[name] at `indices`."""
    def loss_with(value):
        return loss_at({**params, name: value})
    return numerical_gradient(loss_with, params[name], eps, indices=indices)


def table_rows(tape_grads, manual_grads, loss_at, params, rng, samples):
    """One row per parameter: manual vs tape over every element, tape vs finite
    differences at `samples` random elements."""
    rows = []
    for name, g in tape_grads.items():
        flat = rng.choice(g.size, size=min(samples, g.size), replace=False)
        indices = [np.unravel_index(i, g.shape) for i in flat]
        numeric = finite_differences(loss_at, params, name, indices)
        analytic = np.array([g[i] for i in indices])
        rows.append({"parameter": name, "shape": g.shape,
                     "manual_vs_tape": relative_error(manual_grads[name], g),
                     "tape_vs_finite_diff": relative_error(analytic, numeric)})
    return rows


def compare(x, y, hidden, activation="relu", loss_name="cross_entropy", l2=1e-3, seed=0,
            samples=30):
    """Rows of (parameter, shape, manual-vs-tape error, tape-vs-finite-difference error)."""
    model = MLP([x.shape[1], *hidden, 10], activation, seed=seed, dtype=np.float64)
    # the biases start at zero; move them so their gradients are not a special case
    rng = np.random.default_rng(seed + 1)
    for layer in model.layers:
        layer.b.data[...] = rng.normal(0, 0.1, layer.b.shape)
    params = {k: p.data for k, p in model.named_parameters().items()}

    tape_loss, tape_grads = tape_loss_and_grads(model, x, y, loss_name, l2)
    manual_loss, manual_grads = mlp_loss_and_grads(params, x, y, activation=activation,
                                                   loss=loss_name, l2=l2)
    if abs(tape_loss - manual_loss) > 1e-9 * max(1.0, abs(manual_loss)):
        raise AssertionError(f"the two losses differ: tape {tape_loss!r}, manual {manual_loss!r}")

    def loss_at(p):
        return mlp_loss_and_grads(p, x, y, activation=activation, loss=loss_name, l2=l2)[0]

    return table_rows(tape_grads, manual_grads, loss_at, params, rng, samples)


def format_table(rows, tolerance=TOLERANCE):
    w = max(12, *(len(str(r["shape"])) for r in rows))      # a kernel's shape is long
    lines = [f"{'parameter':<10} {'shape':<{w}} {'manual vs tape':>15} {'tape vs finite diff':>20}  ok"]
    for r in rows:
        ok = max(r["manual_vs_tape"], r["tape_vs_finite_diff"]) <= tolerance
        lines.append(f"{r['parameter']:<10} {str(r['shape']):<{w}} {r['manual_vs_tape']:>15.2e} "
                     f"{r['tape_vs_finite_diff']:>20.2e}  {'yes' if ok else 'NO'}")
    return "\n".join(lines)


def run_check(args, batch=64):
    """The command: a batch of real images if they are at hand, else random inputs."""
    x, y, source = _batch(args, batch)
    hidden = args.hidden
    print(f"gradient check: MLP {[x.shape[1], *hidden, 10]}, {args.activation}, {args.loss}, "
          f"l2 {args.l2 or 1e-3}, float64, one batch of {len(x)} {source}")
    rows = compare(x, y, hidden, args.activation, args.loss, args.l2 or 1e-3, args.seed)
    return report(rows)


def report(rows):
    """Print the table and the verdict; the command's exit code (1 on disagreement)."""
    print(format_table(rows))
    worst = max(max(r["manual_vs_tape"], r["tape_vs_finite_diff"]) for r in rows)
    if worst > TOLERANCE:
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

def compare_cnn(x, y, channels, kernel, fc, activation="relu", l2=1e-3, seed=0, samples=10):
    """As `compare`, for the CNN: the manual side is the naive loops of models/manual/formulas.py.

    The finite differences evaluate the tape's forward pass (the naive loops would take
    minutes for 2 × samples evaluations per parameter); the manual-vs-tape column checks
    that forward against the loops once, through the loss.
    """
    model = CNN(channels, kernel, fc, activation, seed=seed, dtype=np.float64)
    rng = np.random.default_rng(seed + 1)
    for name, p in model.named_parameters().items():
        if name.endswith(".b"):
            p.data[...] = rng.normal(0, 0.1, p.shape)
    params = {k: p.data for k, p in model.named_parameters().items()}   # shared with the model

    tape_loss, tape_grads = tape_loss_and_grads(model, x, y, "cross_entropy", l2)
    manual_loss, manual_grads = cnn_loss_and_grads(params, x, y, activation=activation, l2=l2)
    if abs(tape_loss - manual_loss) > 1e-9 * max(1.0, abs(manual_loss)):
        raise AssertionError(f"the two losses differ: tape {tape_loss!r}, manual {manual_loss!r}")

    named = model.named_parameters()

    def loss_at(p):                  # the model's forward with the parameters p
        kept = {k: t.data for k, t in named.items()}
        try:
            for k, t in named.items():
                t.data = p[k]
            with tape.no_grad():
                loss = data_loss(model(x), y, "cross_entropy")
                return float((loss + l2_penalty(model.weights(), l2)).data)
        finally:
            for k, t in named.items():
                t.data = kept[k]

    return table_rows(tape_grads, manual_grads, loss_at, params, rng, samples)


def run_cnn_check(args, batch=8):
    """The CNN's command: the network of the flags, on a few images (the loops are slow)."""
    x, y, source = _batch(args, batch)
    l2 = args.l2 or 1e-3
    print(f"gradient check: CNN channels {args.channels}, kernel {args.kernel}, fc {args.fc}, "
          f"{args.activation}, cross_entropy, l2 {l2}, float64, one batch of {len(x)} {source}")
    rows = compare_cnn(x, y, args.channels, args.kernel, args.fc, args.activation, l2, args.seed)
    return report(rows)
