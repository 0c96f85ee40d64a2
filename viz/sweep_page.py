"""Backpropagation you can step through: a tape as one self-contained HTML page.

    with tape.Tape(keep_adjoints=True) as t:
        loss = ...
    loss.backward(retain_graph=True)       # retain_graph: each user's share can be shown
    page = sweep_page(t, "sweep.html")     # in Jupyter, `page` shows itself inline

The page is the Graphviz layout of the tape (inline SVG from `dot`), the entries as
JSON data and a little plain JavaScript (sweep_page.js, sweep_page.css): no server, no
network, it opens from disk. Its steps run through the forward pass (entries appear in
tape order), then the reverse sweep (entries from the last to the first: the adjoint
arriving at each output, the sum of what its users sent back, and the rule turning it
into the inputs' adjoints, with its formula from sweep_rules.py).

A graph is drawn for up to GRAPH_LIMIT drawn entries: `dot`'s layout time grows steeply
beyond (docs/sweep_page.md has the figures for a chain sharing two parameters). A larger
tape is shown as its Wengert list, in which every control works the same, and the call
says so, suggesting `collapse=True` (each module drawn as one node).

Everything taken from the user's objects (names of tensors, modules, ops) reaches the
page as JSON in a `<script type="application/json">` block with `<`, `>`, `&` escaped,
is put into the page as text only (`textContent`, never `innerHTML`), and reaches the
SVG through Graphviz, which escapes its labels.
"""

import html
import json
import re
import shutil
import warnings
from pathlib import Path

import numpy as np

import tape
from models.io.files import atomic_write
from tape import Tensor, inputs_as_recorded
from tape.listing import Names, assignment, rows as rows_of
from viz.drawing import GraphvizMissing, draw
from viz.sweep_rules import rule_text

GRAPH_LIMIT = 150      # drawn entries (modules count once when collapsed)
FULL_SIZE = 16         # arrays up to this many numbers are shown in full
HEAT_CELLS = (24, 48)  # a larger array's heatmap: at most this many rows and columns
HIST_BINS = 24
HERE = Path(__file__).resolve().parent
# dot's ranking and crossing passes bounded: a chain of 91 entries sharing two parameters
# is laid out some 25 times sooner (docs/sweep_page.md); the drawing may be a little less
# tidy, never wrong
DOT_LIMITS = {"nslimit": "4", "nslimit1": "4", "mclimit": "0.3", "searchsize": "20"}


class GraphTooLarge(UserWarning):
    """The tape has more entries than the page draws as a graph."""


class SweepPage:
    """The page's HTML; shown inline by Jupyter, written by `save`."""

    def __init__(self, html_text, entries, drawn, path=None):
        self.html = html_text
        self.entries = entries         # how many entries the page steps through
        self.drawn = drawn             # is the graph on the page (False: the list only)
        self.path = Path(path) if path is not None else None

    def save(self, path):
        """Write the page to `path` atomically (a crash leaves the old file or none)."""
        self.path = atomic_write(Path(path), lambda f: f.write(self.html.encode()))
        return self.path

    def _repr_html_(self):
        # an iframe keeps the page's script and styles apart from the notebook's
        return (f'<iframe srcdoc="{html.escape(self.html, quote=True)}" '
                f'sandbox="allow-scripts" style="width:100%;height:660px;'
                f'border:1px solid #ccc"></iframe>')

    def __repr__(self):
        where = f" at {self.path}" if self.path else ""
        return f"<SweepPage: {self.entries} entries, {len(self.html):,} characters{where}>"


def sweep_page(t, path=None, collapse=False, title=None, graph_limit=GRAPH_LIMIT):
    """The page for Tape `t` (recorded with keep_adjoints=True, after a backward);
    written to `path` if given. Returns a SweepPage."""
    _check(t)
    entries = list(t.entries)
    drawn = _drawn_count(entries, collapse)
    svg, note = "", ""
    if drawn <= graph_limit:
        svg = _svg(t, collapse, title)
    else:
        note = (f"{drawn:,} entries to draw are more than the {graph_limit} the page "
                f"draws as a graph (dot's layout time grows steeply with the graph), so "
                f"they are shown as a list" + ("" if collapse else
                "; collapse=True (--collapse) draws each module as one node"))
        warnings.warn(f"sweep_page: {note}", GraphTooLarge, stacklevel=2)
    data = {"title": title or "the reverse sweep", "note": note, "collapsed": collapse,
            "entries": _entries_data(t, entries, collapse, _titles(svg))}
    page = SweepPage(_html(data, svg), len(entries), bool(svg))
    if path is not None:
        page.save(path)
    return page


def _check(t):
    if not getattr(t, "keep_adjoints", False):
        raise ValueError("sweep_page needs a tape.Tape(keep_adjoints=True) on which a "
                         "backward sweep ran (t.gradient(...) or loss.backward())")
    if not t.entries:
        raise ValueError("sweep_page: the tape is empty: compute something inside "
                         "`with tape.Tape(keep_adjoints=True) as t:`")
    if not t.adjoints:
        raise ValueError("sweep_page: no backward sweep ran on this tape yet; call "
                         "loss.backward(retain_graph=True) or t.gradient(loss, params) first")


def _drawn_count(entries, collapse):
    if not collapse:
        return len(entries)
    return len({tuple(e.scope) for e in entries if e.scope}) + sum(1 for e in entries
                                                                   if not e.scope)


# ---- the picture ----------------------------------------------------------------------

def _svg(t, collapse, title):
    if shutil.which("dot") is None:
        raise GraphvizMissing("sweep_page: the Graphviz program `dot` is not installed "
                              "(Debian/Ubuntu: apt-get install graphviz; macOS: brew "
                              "install graphviz)")
    graph = draw(t, collapse=collapse, title=title)
    graph.graph_attr.update(DOT_LIMITS)
    svg = graph.pipe(format="svg").decode()
    svg = svg[svg.index("<svg"):]                        # no XML prolog, no DOCTYPE
    return re.sub(r"<!--.*?-->\s*", "", svg, flags=re.S)  # nor dot's comments


def _titles(svg):
    """The names of the drawn nodes and edges (`op3`, `t140…->op4`): their <title>s."""
    return {html.unescape(m) for m in re.findall(r"<title>(.*?)</title>", svg, flags=re.S)}


# ---- the data -------------------------------------------------------------------------

def _entries_data(t, entries, collapse, titles):
    names = Names()
    rows = rows_of(entries, t.adjoints, names)
    listed = {e.index for e in entries}
    position = {e.index: i for i, e in enumerate(entries)}
    users = {}                 # id(tensor) -> [(entry, argnum)] that read it
    for e in entries:
        for argnum, x in enumerate(inputs_as_recorded(e) or ()):
            if isinstance(x, Tensor):
                users.setdefault(id(x), []).append((e, argnum))
    shares = {e.index: _shares(e, t.adjoints.get(e.index)) for e in entries}

    def node_of(e):
        name = "m" + "_".join(e.scope) if collapse and e.scope else f"op{e.index}"
        return name if name in titles else None

    def present(names_):
        return [n for n in names_ if n in titles]

    data = []
    for e, row in zip(entries, rows):
        out = e.out()
        node = node_of(e)
        out_node = f"t{id(out)}" if out is not None else None
        inputs = list(inputs_as_recorded(e) or ())
        in_names = [names.of(x) for x in inputs]
        sources = [f"t{id(x)}" if isinstance(x, Tensor) else f"c{e.index}_{k}"
                   for k, x in enumerate(inputs)]
        readers = [(u, k) for u, k in users.get(id(out), []) if u.index in listed]
        shape = row["shape"] if row["shape"] is not None else "(output dropped)"
        data.append(_compact({
            "name": row["name"], "op": row["op"],
            "line": f"{assignment(row)}   {shape} {row['dtype'] or ''}".rstrip(),
            "scope": list(e.scope),
            "node": node,
            "outNode": out_node if out_node in titles else None,
            "inEdges": present([f"{s}->{node}" for s in sources] +
                               ([f"{node}->{out_node}"] if out_node else [])),
            "backEdges": present([f"{out_node}->{node_of(u)}" for u, _ in readers]),
            # the edges the rule sends an adjoint along: to the inputs needing a gradient
            "sendEdges": present([f"{s}->{node}" for s, x in zip(sources, inputs)
                                  if isinstance(x, Tensor) and x.requires_grad] +
                                 ([f"{node}->{out_node}"] if out_node else [])),
            "value": summary(out.data) if out is not None else None,
            "adjoint": summary(t.adjoints[e.index]) if e.index in t.adjoints else None,
            "users": [{"name": rows[position[u.index]]["name"], "op": u.op.name,
                       "step": position[u.index],
                       "share": summary(shares[u.index].get(k))
                       if k in shares[u.index] else None} for u, k in readers],
            "rules": [{"input": in_names[k],
                       "formula": rule_text(e.op.name, k, in_names, row["name"]),
                       "needed": isinstance(x, Tensor) and x.requires_grad,
                       "share": summary(shares[e.index][k]) if k in shares[e.index] else None}
                      for k, x in enumerate(inputs) if isinstance(x, Tensor)],
        }))
    return data


def _compact(entry):
    """The entry without its empty fields (the page reads a missing one as empty): a
    10,000-entry tape's page is a third smaller."""
    entry["rules"] = [{k: v for k, v in r.items() if v is not None and v is not True}
                      for r in entry["rules"]]          # "needed" is written when False
    entry["users"] = [{k: v for k, v in u.items() if v is not None} for u in entry["users"]]
    return {k: v for k, v in entry.items() if v is not None and v != []}


def _shares(entry, g):
    """{argnum: what this entry's rule sends to that input}, given its output's adjoint
    g: the rule applied again, as the sweep applied it. Empty once backward freed the
    entry's saved values (record with retain_graph=True to see them)."""
    out = entry.out()
    if g is None or out is None or entry.freed or entry.inputs is None:
        return {}
    found = {}
    with tape.no_grad():
        for argnum, x in enumerate(inputs_as_recorded(entry)):
            if isinstance(x, Tensor) and x.requires_grad:
                found[argnum] = np.asarray(entry.op.vjp(argnum, g, out.data, entry.values,
                                                        entry.params, entry.saved))
    return found


def summary(array):
    """An array for the panel: in full if small; else its shape, min / max / mean and
    a heatmap (2-D and more) or a histogram (1-D)."""
    a = np.asarray(array)
    info = {"shape": list(a.shape), "dtype": str(a.dtype)}
    if a.size <= FULL_SIZE:
        info["full"] = _numbers(a)
        return info
    f = a.astype(np.float64)
    finite = f[np.isfinite(f)]
    if finite.size:
        info.update(min=_num(finite.min()), max=_num(finite.max()),
                    mean=_num(finite.mean()), norm=_num(np.linalg.norm(finite)))
    if finite.size < f.size:
        info["nonfinite"] = int(f.size - finite.size)
    if a.ndim >= 2:
        info["heat"] = _heatmap(np.where(np.isfinite(f), f, 0.0).reshape(a.shape[0], -1))
    elif finite.size:
        counts, edges = np.histogram(finite, bins=HIST_BINS)
        info["hist"] = {"counts": counts.tolist(), "lo": _num(edges[0]), "hi": _num(edges[-1])}
    return info


def _heatmap(m):
    """Block means of a matrix, at most HEAT_CELLS, as integers in −99…99 of `scale`."""
    rows = np.array_split(np.arange(m.shape[0]), min(m.shape[0], HEAT_CELLS[0]))
    cols = np.array_split(np.arange(m.shape[1]), min(m.shape[1], HEAT_CELLS[1]))
    r0, c0 = [r[0] for r in rows], [c[0] for c in cols]
    sums = np.add.reduceat(np.add.reduceat(m, r0, axis=0), c0, axis=1)
    means = sums / np.outer([len(r) for r in rows], [len(c) for c in cols])
    scale = float(np.abs(means).max()) or 1.0
    cells = np.rint(means / scale * 99).astype(int)
    return {"rows": len(rows), "cols": len(cols), "scale": _num(scale),
            "cells": cells.ravel().tolist()}


def _num(x):
    """A number as JSON can hold it: 6 significant digits; nan and ±inf as text."""
    x = float(x)
    return float(f"{x:.6g}") if np.isfinite(x) else str(x)


def _numbers(a):
    if a.dtype.kind in "iub":
        return a.tolist()
    if a.ndim == 0:
        return _num(a)
    return [_numbers(x) for x in a]


# ---- the page ----------------------------------------------------------------------------

def _json_for_script(data):
    """JSON that cannot end its <script> block: <, > and & as \\u escapes."""
    text = json.dumps(data, ensure_ascii=False, separators=(",", ":"))
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def _html(data, svg):
    title = html.escape(data["title"])
    parts = [
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n",
        f"<title>{title}</title>\n<style>\n", (HERE / "sweep_page.css").read_text(),
        "</style></head>\n<body>\n",
        "<header><h1 id=\"title\"></h1><nav id=\"controls\">"
        "<button id=\"first\" title=\"first step (Home)\">|◀</button>"
        "<button id=\"back\" title=\"step back (←)\">◀ back</button>"
        "<button id=\"play\" title=\"play / pause (space)\">▶ play</button>"
        "<button id=\"forward\" title=\"step forward (→)\">forward ▶</button>"
        "<button id=\"last\" title=\"last step (End)\">▶|</button>"
        "<input id=\"slider\" type=\"range\" min=\"0\" value=\"0\" aria-label=\"step\">"
        "<span id=\"counter\"></span><span class=\"zoom\">"
        "<button id=\"smaller\" title=\"smaller\">−</button><span id=\"zoom\"></span>"
        "<button id=\"larger\" title=\"larger\">+</button>"
        "<button id=\"fit\" title=\"fit the graph to the pane's width\">fit</button>"
        "</span></nav><p id=\"note\"></p></header>\n<main>\n",
        f"<section id=\"graph\">{svg}</section>\n",
        "<aside id=\"panel\"><div id=\"phase\"></div><div id=\"scope\"></div>"
        "<pre id=\"line\"></pre><div id=\"details\"></div>"
        "<h2>The tape</h2><ol id=\"listing\" start=\"1\"></ol></aside>\n</main>\n",
        "<script type=\"application/json\" id=\"sweep-data\">", _json_for_script(data),
        "</script>\n<script>\n", (HERE / "sweep_page.js").read_text(), "</script>\n",
        "</body></html>\n"]
    return "".join(parts)
