"""Check a hand-written backward pass against the tape: `tape.check_manual(f, params)`.

`f(params)` is the student's own function, returning `(loss, grads)`: `params` a dict
name → ndarray (cs231n's `model.params`), `grads` a dict of the same names (cs231n's
`model.loss(X, y)`). It is run three ways, in float64:

1. on the arrays: the loss and the hand gradients, as the student computes them;
2. on tape Tensors in place of the arrays: numpy's functions record on the tape
   (numpy_dispatch.py), so `backward()` of the returned loss gives the tape's gradient.
   The grads this call returns are computed on Tensors too, and ignored;
3. at a few sampled elements, with central differences of the loss: the tape's own check.

Each error is max|a − b| / max|b|, the worst disagreement relative to the size of the
reference gradient b (an elementwise relative error would be ruled by elements whose
gradient is ~0). The hand gradient is wrong where it disagrees with the tape; the tape
disagreeing with the differences is said separately (a kink such as relu at 0 within ε of
a sampled element, or an op whose rule the tape lacks). For a wrong gradient the result
also says where: the elements that differ most, and the ratio between the two — a
constant ratio such as N is a missing 1/N, a transposed shape a transpose.

Telling the forward pass from the backward pass. An ndarray's own method given a Tensor
(`x.reshape(N, -1).dot(w)`, x the data) computes on the Tensor's values and drops its
gradient; in the forward pass that makes the tape's gradient wrong, in the backward pass
(`x.T.dot(dout)`) it is harmless, as those values are ignored. The tape run notes every
such conversion; if there were any, f is run again with NaN given in place of the values
converted: if the loss turns NaN, a conversion was on the way to it, and a bisection over
them finds the first such line, which is refused with the fix. A conversion whose NaN only
reaches the hand gradients was in the backward pass and is let be.
"""

from typing import NamedTuple

import numpy as np

from .backprop import gradients
from .gradcheck import numerical_gradient
from .numpy_dispatch import DroppedGradientError, dropped_gradient_message, watch_conversions
from ._tensor import Tensor


class Row(NamedTuple):
    name: str
    shape: tuple
    manual_vs_tape: float          # max|manual − tape| / max|tape|, over every element
    tape_vs_finite_diff: float     # max|tape − differences| / max|tape|, at the samples
    ok: bool                       # the hand gradient agrees with the tape


class CheckResult:
    """What `check_manual` found: `.ok`, `.failed`, `.rows`, `.notes`; `str()` is the table.
    `.manual` and `.tape` hold the two gradients themselves, by name."""

    def __init__(self, rows, notes, tolerance, manual=None, taped=None):
        self.rows = rows
        self.manual, self.tape = manual or {}, taped or {}
        self.notes = notes            # where a wrong gradient differs; the tape's own doubts
        self.tolerance = tolerance
        self.failed = [r.name for r in rows if not r.ok]
        self.tape_doubtful = [r.name for r in rows if r.tape_vs_finite_diff > tolerance]
        self.ok = not self.failed and not self.tape_doubtful

    def __str__(self):
        return format_table(self.rows, self.notes)

    def __repr__(self):
        return f"<CheckResult ok={self.ok} failed={self.failed}>"


def format_table(rows, notes=()):
    """The table `check_manual` and `--check-grads` print, one row per parameter."""
    w = max(12, *(len(str(r.shape)) for r in rows))      # a kernel's shape is long
    n = max(10, *(len(r.name) for r in rows))
    lines = [f"{'parameter':<{n}} {'shape':<{w}} {'manual vs tape':>15} {'tape vs finite diff':>20}  ok"]
    for r in rows:
        lines.append(f"{r.name:<{n}} {str(r.shape):<{w}} {r.manual_vs_tape:>15.2e} "
                     f"{r.tape_vs_finite_diff:>20.2e}  {'yes' if r.ok else 'NO'}")
    return "\n".join([*lines, *notes])


def relative_error(a, b):
    """max|a − b| / max|b| (0 when both are all zeros)."""
    scale = np.abs(b).max() if np.size(b) else 0.0
    worst = np.abs(a - b).max() if np.size(b) else 0.0
    return float(worst / scale) if scale > 0 else (0.0 if worst == 0 else float("inf"))


def check_manual(f, params, *, tolerance=1e-6, eps=1e-6, samples=20, seed=0, loss=None):
    """Compare the hand gradients of `f(params) -> (loss, grads)` with the tape's.

    `loss(params)`, if given, is the loss alone by another route, used in place of f for
    the tape's gradient and the finite differences (for code the tape cannot run, such as
    naive loops writing element by element into np.zeros buffers); the two losses must agree.
    """
    arrays = {name: np.array(v, dtype=np.float64) for name, v in params.items()}
    manual_loss, manual = f(_copies(arrays))
    _check_grads_dict(manual, arrays)
    loss_of = loss if loss is not None else (lambda p: f(p)[0])
    if loss is not None:
        other = float(_value(loss(_copies(arrays))))
        if abs(other - float(_value(manual_loss))) > 1e-9 * max(1.0, abs(other)):
            raise ValueError(f"check_manual: the two losses differ: f gives "
                             f"{float(_value(manual_loss))!r}, loss gives {other!r}")

    taped = _tape_gradients(loss_of, arrays)
    rng = np.random.default_rng(seed)
    rows, notes = [], []
    for name, a in arrays.items():
        g, hand = taped[name], np.asarray(_value(manual[name]), dtype=np.float64)
        flat = rng.choice(a.size, size=min(samples, a.size), replace=False)
        indices = [np.unravel_index(i, a.shape) for i in flat]
        numeric = numerical_gradient(lambda v: float(_value(loss_of({**_copies(arrays), name: v}))),
                                     a, eps, indices=indices)
        analytic = np.array([g[i] for i in indices])
        scale = max(np.abs(g).max(), np.abs(numeric).max()) if g.size else 0.0
        tape_vs_fd = float(np.abs(analytic - numeric).max() / scale) if scale > 0 else 0.0
        if hand.shape != g.shape:
            error = float("inf")
        else:
            error = relative_error(hand, g)
        rows.append(Row(name, a.shape, error, tape_vs_fd, error <= tolerance))
        if error > tolerance:
            notes.append(where_it_differs(name, hand, g))
        if tape_vs_fd > tolerance:
            notes.append(f"{name}: the tape itself disagrees with finite differences "
                         f"({tape_vs_fd:.1e}), which says nothing about your gradient: a kink "
                         f"(relu at 0, a max with ties) within eps of a sampled element, or "
                         f"an op whose rule the tape lacks")
    hands = {name: np.asarray(_value(manual[name]), dtype=np.float64) for name in arrays}
    return CheckResult(rows, notes, tolerance, hands, taped)


def _copies(arrays):
    return {k: v.copy() for k, v in arrays.items()}


def _value(x):
    return x.data if isinstance(x, Tensor) else x


def _check_grads_dict(grads, params):
    if not isinstance(grads, dict):
        raise TypeError(f"check_manual: f(params) must return (loss, grads) with grads a dict "
                        f"name -> array, got {type(grads).__name__}")
    missing = [k for k in params if k not in grads]
    if missing:
        raise ValueError(f"check_manual: grads has no entry for {', '.join(missing)} "
                         f"(it has {', '.join(grads) or 'none'}); return one per parameter")


def _tape_gradients(loss_of, arrays):
    """The tape's gradient of the loss f computes from Tensors in place of the arrays."""
    def run(poison=None):
        tensors = {k: Tensor(v.copy(), requires_grad=True, name=k) for k, v in arrays.items()}
        with np.errstate(all="ignore"), watch_conversions(poison) as watch:
            out = loss_of(dict(tensors))
        return out, tensors, watch.places

    out, tensors, places = run()
    if not isinstance(out, Tensor) or not out.requires_grad:
        raise TypeError(
            f"check_manual: run on Tensors, f returned a loss of type {type(out).__name__} "
            f"with no tape behind it; return the loss itself, not float(loss) or loss.item()")
    if places and np.isfinite(out.data).all():
        _refuse_forward_conversions(run, len(places), places)
    found = gradients(out, list(tensors.values()))
    return dict(zip(tensors, found))


def _refuse_forward_conversions(run, count, places):
    """Raise, naming the line, if a conversion of a Tensor to values fed the loss."""
    def poisons_loss(first):                      # NaN for the conversions numbered < first
        try:
            out = run(lambda k: k < first)[0]
        except Exception:                         # NaN broke the student's code: cannot say
            return False
        return isinstance(out, Tensor) and not np.isfinite(out.data).all()

    if not poisons_loss(count):
        return
    low, high = 0, count                          # the loss is NaN with the first `high` poisoned
    while high - low > 1:
        mid = (low + high) // 2
        if poisons_loss(mid):
            high = mid
        else:
            low = mid
    raise DroppedGradientError(dropped_gradient_message(places[high - 1]))


def where_it_differs(name, manual, taped, shown=3):
    """One line saying where a wrong gradient differs and how (a factor, a transpose)."""
    if manual.shape != taped.shape:
        if manual.shape == taped.shape[::-1]:
            hint = "transposed" + (" (and equal to the tape's transpose)"
                                   if np.allclose(manual.T, taped, rtol=1e-6, atol=0) else "")
            return (f"{name}: your gradient has shape {manual.shape}, the tape's "
                    f"{taped.shape}: {hint}; e.g. dW = Xᵀ·Δ, not Δᵀ·X")
        return (f"{name}: your gradient has shape {manual.shape}, but the parameter has "
                f"{taped.shape}")
    if manual.ndim == 2 and manual.shape[0] == manual.shape[1] and np.allclose(
            manual, taped.T, rtol=1e-6, atol=1e-12 * max(np.abs(taped).max(), 1e-300)):
        return f"{name}: your gradient is the tape's transposed (dW = Xᵀ·Δ, not Δᵀ·X?)"
    diff = np.abs(manual - taped)
    worst = np.argsort(diff, axis=None)[::-1][:shown]
    at = ", ".join(f"{_position(i, diff.shape)}: "
                   f"{manual.flat[i]:.4g} vs {taped.flat[i]:.4g}" for i in worst)
    return (f"{name}: differs most at {at} (yours vs the tape's){_lines(diff, taped)}; "
            f"{_ratio(manual, taped)}")


def _lines(diff, taped):
    """For a matrix: the rows or columns the difference is confined to, if it is."""
    if diff.ndim != 2:
        return ""
    wrong = diff > 1e-6 * max(np.abs(taped).max(), 1e-300)
    parts = []
    for axis, what in ((1, "rows"), (0, "columns")):
        hit = np.flatnonzero(wrong.any(axis=axis))
        if 0 < len(hit) < wrong.shape[1 - axis]:
            shown = ", ".join(map(str, hit[:8])) + (", …" if len(hit) > 8 else "")
            parts.append(f"only in {what} {shown} of {wrong.shape[1 - axis]}")
    return f", {' and '.join(parts)}" if parts else ""


def _position(flat, shape):
    return "[" + ", ".join(str(int(i)) for i in np.unravel_index(flat, shape)) + "]"


def _ratio(manual, taped):
    """What manual / tape is: a constant factor, a sign, or nothing simple."""
    big = np.abs(taped) > 1e-3 * np.abs(taped).max() if taped.size else taped
    if not np.any(big):
        return "the tape's gradient is 0 there: nothing should flow into it"
    ratio = manual[big] / taped[big]
    r = float(np.median(ratio))
    if np.allclose(ratio, r, rtol=1e-3, atol=0):          # constant, to 3 digits at least
        if abs(r + 1) < 1e-3:
            return "yours is −1 × the tape's everywhere: a flipped sign"
        k, inverse = round(r), round(1 / r) if r else 0
        if r > 1 and abs(r - k) < 1e-3 * k:
            return f"yours is {k} × the tape's everywhere: a missing 1/{k} (1/N for a batch of {k}?)"
        if 0 < r < 1 and inverse and abs(1 / r - inverse) < 1e-3 * inverse:
            return f"yours is 1/{inverse} of the tape's everywhere: an extra 1/{inverse}"
        return f"yours is {r:.4g} × the tape's everywhere: a constant factor"
    zeros = np.count_nonzero((taped == 0) & (manual != 0))
    if zeros:
        return (f"yours is nonzero at {zeros} element(s) where the tape's is 0: a mask "
                f"dropped (relu's z > 0?)")
    return f"yours / the tape's ranges over {ratio.min():.3g} … {ratio.max():.3g}: not a constant factor"
