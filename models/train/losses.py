"""The loss a run minimises on the data, and the evaluation that reports it."""

import tape


LOSSES = ("cross_entropy", "mse", "mse_half")


def data_loss(logits, y, loss_name, target=None):
    """The loss on the data: softmax cross-entropy, or squared error against one-hot targets.

    mse        Σ(y − ŷ)² / (N·K), the mean over all N×K elements (tape.mse)
    mse_half   ½·Σ(y − ŷ)² / N, summed over the K outputs, averaged over the batch
               (report 002's ½(ŷ − y)ᵀ(ŷ − y)); it is K/2 times mse, 5× for ten classes,
               so its gradients are 5× larger: lr for mse_half ≈ lr for mse / 5.

    All are means over the batch, so an empty batch has no loss: that is an error
    here (`evaluate` returns NaN for an empty set instead). `target`: the one-hot targets,
    if already made (a compiled step is given them as an argument)."""
    if logits.shape[0] == 0:
        raise ValueError(f"data_loss: the batch is empty (logits of shape {logits.shape}); "
                         f"a mean over no examples is undefined")
    if loss_name == "cross_entropy":
        return tape.cross_entropy(logits, y)
    if loss_name not in LOSSES:
        raise ValueError(f"unknown loss {loss_name!r}: choose one of {', '.join(LOSSES)}")
    if target is None:
        target = tape.one_hot(y, logits.shape[1], dtype=logits.dtype)
    if loss_name == "mse":
        return tape.mse(logits, target)
    error = logits - target
    return 0.5 * (error * error).sum() / logits.shape[0]


def evaluate(model, x, y, loss_name="cross_entropy", batch_size=None):
    """(mean loss, accuracy) of the model on (x, y), without recording anything."""
    if len(x) == 0:
        return float("nan"), float("nan")
    batch_size = batch_size or getattr(model, "eval_batch_size", 10000)
    total_loss, correct = 0.0, 0
    with tape.no_grad():
        for i in range(0, len(x), batch_size):
            xb, yb = x[i:i + batch_size], y[i:i + batch_size]
            logits = model(xb)
            total_loss += float(data_loss(logits, yb, loss_name).data) * len(xb)
            correct += int((logits.data.argmax(axis=1) == yb).sum())
    return total_loss / len(x), correct / len(x)
