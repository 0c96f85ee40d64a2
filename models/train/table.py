"""The per-epoch table a run prints: fixed-width columns, whatever the values."""

import math


# (column, width, decimals): each column keeps its width whatever the value, so that a
# diverging run's huge or non-finite losses do not shift the table
COLUMNS = [("epoch", 5, None), ("lr", 9, "e"), ("train_loss", 10, 4), ("train_acc", 9, 4),
           ("val_loss", 8, 4), ("val_acc", 7, 4), ("seconds", 7, 1)]


def format_value(value, width, decimals):
    """`value` in exactly `width` characters: fixed-point with `decimals` places, or in
    scientific notation when that would be too wide; nan and inf as words."""
    if decimals is None:
        return f"{value:>{width}d}"
    if not math.isfinite(value):
        return f"{value:>{width}}"
    if decimals == "e":
        return f"{value:>{width}.2e}"
    text = f"{value:>{width}.{decimals}f}"
    if len(text) <= width:
        return text
    digits = max(0, width - (7 if value < 0 else 6))   # d.ddde+XX takes 6 plus the digits
    return f"{value:>{width}.{digits}e}"


def format_row(row, header=False):
    """One line of the per-epoch table (with the column names above the first)."""
    widths = [max(width, len(name)) for name, width, _ in COLUMNS]
    line = "  ".join(format_value(row[name], w, decimals)
                     for (name, _, decimals), w in zip(COLUMNS, widths))
    if not header:
        return line
    names = "  ".join(f"{name:>{w}}" for (name, _, _), w in zip(COLUMNS, widths))
    return names + "\n" + line
