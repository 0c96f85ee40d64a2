"""What the tape costs per operation, on tensors so small that numpy's own work is nothing.

One op is z = x * y on two 4-element float32 tensors. Bare numpy does the forward in one
call and, written by hand, the backward in two more (∂z/∂x · g = g·y, ∂z/∂y · g = g·x).
The tape is timed doing the same: the forward alone under no_grad, and the forward
recorded then differentiated, per op of a chain of 100 multiplies; and the same chain
on the lean reference (lean.py), an eager tape with no checks, and on lean_checked.py,
the same with the checks put back. The five take turns in rounds, and the ratio to numpy
is taken within each round (its median is reported).
"""

import numpy as np

import tape

from . import lean_checked
from .lean import Node
from .measure import median_time

CHAIN = 100


def chain_step(x, y, length):
    """z = x·y·y·…·y (`length` multiplies), then backward: the per-op figure's graph, for
    two leaves of the tape or of the lean reference alike."""
    def step():
        z = x
        for _ in range(length):
            z = z * y
        z.sum().backward()
        x.grad = y.grad = None
    return step


def per_op_overhead(rounds=9):
    x_np, y_np = np.ones(4, np.float32), np.full(4, 2.0, np.float32)
    g_np = np.ones(4, np.float32)

    def numpy_forward_backward():
        np.multiply(x_np, y_np)
        np.multiply(g_np, y_np)           # the gradient for x
        np.multiply(g_np, x_np)           # the gradient for y

    x = tape.tensor(x_np, requires_grad=True)
    y = tape.tensor(y_np, requires_grad=True)
    tape_forward_backward = chain_step(x, y, CHAIN)

    def tape_forward_only():
        with tape.no_grad():
            z = x
            for _ in range(CHAIN):
                z = z * y

    lean_forward_backward = chain_step(Node(x_np), Node(y_np), CHAIN)
    checked_x, checked_y = (lean_checked.Node(x_np, requires_grad=True),
                            lean_checked.Node(y_np, requires_grad=True))

    def lean_checked_forward_backward():
        z = checked_x
        for _ in range(CHAIN):
            z = z * checked_y
        lean_checked.backward(z.sum())
        checked_x.grad = checked_y.grad = None

    blocks = {"numpy": lambda: [numpy_forward_backward() for _ in range(CHAIN)],
              "tape": tape_forward_backward, "tape_no_grad": tape_forward_only,
              "lean": lean_forward_backward, "lean_checked": lean_checked_forward_backward}
    per_op = {name: [] for name in blocks}       # µs per op, one value per round
    for _ in range(rounds):
        for name, block in blocks.items():      # the five take turns: each round's
            per_op[name].append(median_time(block, repeat=3) / CHAIN * 1e6)   # share a machine
    median = {name: float(np.median(us)) for name, us in per_op.items()}
    # ÷ numpy within each round, then the median over rounds
    ratio = {name: float(np.median(np.divide(per_op[name], per_op["numpy"])))
             for name in ("tape", "lean", "lean_checked")}
    return {
        "numpy_forward_us": median_time(lambda: np.multiply(x_np, y_np)) * 1e6,
        "numpy_forward_backward_us": median["numpy"],
        "tape_forward_no_grad_us": median["tape_no_grad"],
        "tape_forward_backward_us": median["tape"],
        "lean_forward_backward_us": median["lean"],
        "tape_vs_numpy": ratio["tape"],
        "lean_vs_numpy": ratio["lean"],
        "lean_checked_forward_backward_us": median["lean_checked"],
        "lean_checked_vs_numpy": ratio["lean_checked"],
    }
