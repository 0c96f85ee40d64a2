"""The reverse sweep, made visible: the tape read backwards, each line with the
gradient that flowed into its output (its adjoint).

    with tape.Tape(keep_adjoints=True) as t:
        loss = ...
    t.gradient(loss, params)
    print(format_sweep(t))
"""

import numpy as np

from tape.listing import assignment, rows as rows_of


def sweep_table(t):
    """One row per entry, in the order backward visits them (last recorded first)."""
    if not t.keep_adjoints:
        raise ValueError("sweep_table needs a Tape(keep_adjoints=True) on which a backward "
                         "sweep ran (t.gradient(...) or loss.backward())")
    rows = []
    for step, row in enumerate(reversed(rows_of(t.entries, t.adjoints)), start=1):
        adjoint = row["adjoint"]
        rows.append({"step": step, "entry": assignment(row),
                     "shape": np.shape(adjoint) if adjoint is not None else None,
                     "adjoint": adjoint})
    return rows


def format_adjoint(adjoint, max_size=4):
    if adjoint is None:
        return "(no gradient reached it)"
    a = np.asarray(adjoint)
    if a.size <= max_size:
        return np.array2string(a, precision=4, separator=", ", suppress_small=True)
    return f"{a.shape} array, ‖·‖ = {np.linalg.norm(a):.4g}, max |·| = {np.abs(a).max():.4g}"


def format_sweep(t):
    """The table as text: step, the SSA line, the adjoint arriving at its output."""
    rows = sweep_table(t)
    width = max((len(r["entry"]) for r in rows), default=5)
    out = [f"{'step':>4}  {'entry':<{width}}  adjoint ∂L/∂(output)"]
    out += [f"{r['step']:>4}  {r['entry']:<{width}}  {format_adjoint(r['adjoint'])}" for r in rows]
    return "\n".join(out)
