"""A study's trials as rows and tables: every trial (nothing lost), ranked by validation
accuracy; the best result for each value of a parameter (the reports' marginal tables);
CSV for pandas or a spreadsheet, Markdown for a report.
"""

import csv
import io
import math

from optuna.trial import TrialState

from models.experiments.trials import outcome
from models.io.files import atomic_write


def trial_rows(study, params):
    """One dict per trial, best validation accuracy first (trials without one last)."""
    rows = []
    for t in study.get_trials(deepcopy=False):
        a = t.user_attrs
        row = {"trial": t.number, "params": {p.name: t.params.get(p.name) for p in params},
               "state": t.state.name, "outcome": outcome(t),
               "val_acc": a.get("best_val_acc"), "epoch": a.get("best_epoch"),
               "epochs": a.get("epochs", len(t.intermediate_values)),
               "seconds": a.get("seconds"), "reason": a.get("reason") or "",
               "test_acc": a.get("test_acc"), "test_loss": a.get("test_loss"),
               "history": a.get("history") or [], "retry_of": t.system_attrs.get("failed_trial")}
        if t.state == TrialState.RUNNING:
            row["reason"] = f"running (epoch {len(t.intermediate_values) + 1})"
        if row["retry_of"] is not None and t.state != TrialState.RUNNING:
            row["reason"] = (row["reason"] + "; " if row["reason"] else "") + \
                f"re-run of trial {row['retry_of']}"
        rows.append(row)
    return rank(rows)


def rank(rows):
    def key(row):
        value = row["val_acc"]
        return (value is None or math.isnan(value), -(value or 0), row["trial"])
    return sorted(rows, key=key)


def ranked_results(rows):
    """The trials that have a validation accuracy (complete, diverged after an epoch)."""
    return [r for r in rows if r["val_acc"] is not None and r["state"] == "COMPLETE"]


def _number(x, digits=4):
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return "–"
    return f"{x:.{digits}f}"


def config_text(params, values, skip=()):
    """"activation=relu lr=0.01"; a chosen configuration (--config) as it was written."""
    return " ".join(p.show(values.get(p.name)) if p.kind == "config"
                    else f"{p.name}={p.show(values.get(p.name))}"
                    for p in params if p.name not in skip)


# ---- tables ------------------------------------------------------------------------------------

def format_table(header, body, markdown=False):
    """Columns padded to their widest cell (text), or a GitHub Markdown table."""
    if markdown:
        lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
        lines += ["| " + " | ".join(str(c) for c in row) + " |" for row in body]
        return "\n".join(lines)
    widths = [max(len(str(c)) for c in col) for col in zip(header, *body)]
    def line(cells):
        return "  ".join(str(c).ljust(w) for c, w in zip(cells, widths)).rstrip()
    return "\n".join([line(header), line("-" * w for w in widths), *map(line, body)])


def trials_table(rows, params, markdown=False, test=False):
    """Every trial: its parameters, best validation accuracy and epoch, how it ended."""
    header = ["trial", *[p.name for p in params], "val acc", "epoch"]
    if test:
        header += ["test acc", "test loss"]
    header += ["seconds", "outcome", "reason"]
    body = []
    for r in rows:
        cells = [r["trial"], *[p.show(r["params"][p.name]) for p in params],
                 _number(r["val_acc"]), r["epoch"] or "–"]
        if test:
            cells += [_number(r["test_acc"]), _number(r["test_loss"])]
        cells += [_number(r["seconds"], 1), r["outcome"], r["reason"]]
        body.append(cells)
    return format_table(header, body, markdown)


def compare_table(rows, params, markdown=False, folder=None):
    """One row per configuration (its latest finished trial): the reports' tables, each
    row naming its trial and, given folder(row), the trial's folder."""
    header = ["trial", *(["folder"] if folder else []), "configuration", "val acc", "epoch",
              "test acc", "test loss", "seconds", "outcome"]
    body = [[r["trial"], *([str(folder(r))] if folder else []),
             config_text(params, r["params"]), _number(r["val_acc"]), r["epoch"] or "–",
             _number(r["test_acc"]), _number(r["test_loss"]), _number(r["seconds"], 1),
             r["outcome"] + (f" ({r['reason']})" if r["outcome"] not in ("complete",) and r["reason"] else "")]
            for r in rows]
    return format_table(header, body, markdown)


def value_groups(param, rows, bins=5):
    """(label, rows) for each value of a listed parameter, or each of `bins` equal
    (log-)intervals of a range."""
    if not param.is_range:
        return [(param.show(v), [r for r in rows if r["params"][param.name] == v])
                for v in param.values]
    lo, hi = param.low, param.high
    if param.log:
        edges = [lo * (hi / lo) ** (k / bins) for k in range(bins + 1)]
    else:
        edges = [lo + (hi - lo) * k / bins for k in range(bins + 1)]
    groups = []
    for k in range(bins):
        a, b = edges[k], edges[k + 1]
        inside = [r for r in rows if r["params"][param.name] is not None
                  and (a <= r["params"][param.name] < b or (k == bins - 1 and r["params"][param.name] == b))]
        groups.append((f"{a:.3g}–{b:.3g}", inside))
    return groups


def marginal_table(param, params, rows, markdown=False):
    """For each value of `param`: the best validation accuracy any trial reached with it,
    and the other parameters that reached it (report 000's Tables 2 and 3)."""
    header = [param.name, "trials", "best val acc", "epoch", "reached with", "no result"]
    body = []
    for label, group in value_groups(param, rows):
        results = ranked_results(group)
        others = [r for r in group if r not in results and r["state"] != "RUNNING"]
        lost = ", ".join(f"{sum(r['outcome'] == o for r in others)} {o}"
                         for o in sorted({r["outcome"] for r in others})) or "–"
        if results:
            best = rank(results)[0]
            body.append([label, len(group), _number(best["val_acc"]), best["epoch"],
                         config_text(params, best["params"], skip=(param.name,)) or "–", lost])
        else:
            body.append([label, len(group), "–", "–", "–", lost])
    return format_table(header, body, markdown)


# ---- files -----------------------------------------------------------------------------------

CSV_COLUMNS = ["trial", "state", "outcome", "val_acc", "epoch", "epochs", "test_acc",
               "test_loss", "seconds", "reason"]


def write_csv(path, rows, params):
    """results.csv: one row per trial (parameters, state, best validation accuracy and
    epoch, seconds, reason), written atomically."""
    text = io.StringIO()
    writer = csv.writer(text, lineterminator="\n")
    names = [p.name for p in params]
    writer.writerow(["trial", *names, *CSV_COLUMNS[1:]])
    for r in sorted(rows, key=lambda r: r["trial"]):
        writer.writerow([r["trial"], *[r["params"][n] if r["params"][n] is not None else ""
                                       for n in names],
                         *["" if r[c] is None else r[c] for c in CSV_COLUMNS[1:]]])
    atomic_write(path, lambda f: f.write(text.getvalue().encode()))


def write_text(path, text):
    atomic_write(path, lambda f: f.write(text.encode()))
