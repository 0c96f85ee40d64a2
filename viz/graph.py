"""Computation graphs with Graphviz: `draw` walks the tape, `render` calls `dot`.

    g = draw(loss)                 # a graphviz.Digraph (shown inline in Jupyter)
    render(g, "graph.svg")         # or .png / .pdf; .dot writes only the source

A node per value (name, shape, dtype; for small tensors the value and the gradient,
micrograd's "data | grad"), a node per operation, edges from inputs through the
operation to its output. Entries recorded inside a module (a `Linear` layer) are drawn
inside a box labelled with the module; `collapse=True` draws each module as one node.

A `Tape` keeps the entries it recorded whole, so `draw(t)` shows the whole graph after
`backward()` too. Drawn from a tensor, draw before `backward()` frees the entries (or
pass `retain_graph=True` to it): a freed entry no longer knows its inputs and is drawn
as a stub that says so.

    python -m viz.graph --hidden 600 400 --collapse --out mlp.svg   # any MLP's architecture
    python -m viz.graph --model twolayer --out graph.svg [--collapse]
    python -m viz.graph --model cnn --out cnn.svg [--collapse]
    python -m viz.graph --model scalar --out neuron.png
"""

import shutil
from pathlib import Path

import graphviz
import numpy as np

import tape
from tape import Tensor, broadcast_axes, entries_reaching
from tape.listing import Names, constant_text
from models.io.errors import OneLineParser, run_command
from models.io.files import atomic_write, check_writable_dir
from models.nn import MLP, CNN, ACTIVATIONS

STYLE = {
    "parameter": {"fillcolor": "#cfe2ff", "color": "#3d6fb6"},
    "input": {"fillcolor": "#eeeeee", "color": "#888888"},
    "value": {"fillcolor": "#ffffff", "color": "#888888"},
    "output": {"fillcolor": "#ffd8a8", "color": "#d9480f"},
    "op": {"fillcolor": "#fff3bf", "color": "#c9a227"},
    "module": {"fillcolor": "#e6fcf5", "color": "#0ca678"},
}
# ops whose inputs numpy may broadcast: their gradient is summed back over those axes
BROADCASTING = {"add", "subtract", "multiply", "divide", "power", "maximum", "where", "linear"}


class GraphvizMissing(RuntimeError):
    """The `dot` program of Graphviz is not installed."""

    user_error = True


class UnknownFormat(ValueError):
    """The output file's extension names no format Graphviz is asked to write."""

    user_error = True


def entries_of(root):
    """The entries behind a tensor, or on a Tape, in tape order."""
    return entries_reaching(root) if isinstance(root, Tensor) else list(root.entries)


def draw(root, collapse=False, show_values=True, max_value_size=4, title=None, rankdir="LR"):
    """The computation that produced `root` (a Tensor, or every entry of a Tape).

    Leaves show their `.grad`; drawn from a `Tape(keep_adjoints=True)` after
    `t.gradient(...)`, every intermediate value shows its gradient too.
    """
    entries = entries_of(root)
    out_tensor = root if isinstance(root, Tensor) else (entries[-1].out() if entries else None)
    adjoints = {}
    if not isinstance(root, Tensor):    # a Tape(keep_adjoints=True) knows every value's gradient
        adjoints = {id(e.out()): root.adjoints[e.index] for e in entries
                    if e.index in root.adjoints and e.out() is not None}
    builder = _Builder(entries, collapse, show_values, max_value_size, out_tensor, adjoints)
    dot = graphviz.Digraph("tape", graph_attr={
        "rankdir": rankdir, "fontname": "Helvetica", "fontsize": "12", "nodesep": "0.25",
        "ranksep": "0.35", "label": title or "", "labelloc": "t"},
        node_attr={"fontname": "Helvetica", "fontsize": "10", "style": "filled,rounded",
                   "shape": "box", "penwidth": "1.2"},
        edge_attr={"fontname": "Helvetica", "fontsize": "9", "color": "#555555",
                   "arrowsize": "0.7"})
    builder.build(dot)
    return dot


class _Builder:
    def __init__(self, entries, collapse, show_values, max_value_size, out_tensor,
                 adjoints=None):
        self.entries = entries
        self.adjoints = adjoints or {}    # id(tensor) -> its adjoint, from a Tape
        self.collapse = collapse
        self.show_values = show_values
        self.max_value_size = max_value_size
        self.out_id = id(out_tensor) if out_tensor is not None else None
        self.names = Names()
        self.nodes = {}           # scope tuple -> list of (node id, attrs)
        self.edges = []
        self.drawn = set()
        self.produced = {}        # id(tensor) -> entry that produced it
        self.consumers = {}       # id(tensor) -> list of entries that read it
        for e in entries:
            out = e.out()
            if out is not None:
                self.produced[id(out)] = e
            for x in e.inputs or ():
                if isinstance(x, Tensor):
                    self.consumers.setdefault(id(x), []).append(e)

    # -- where a node goes ------------------------------------------------------------
    def group(self, entry):
        """The module box an entry is drawn in (its full scope), or () for none."""
        return tuple(entry.scope)

    def leaf_scope(self, tensor):
        """A parameter goes in the box of the module that uses it, if only one does."""
        if not tensor.requires_grad:
            return ()                      # inputs stay outside the modules
        scopes = {self.group(e) for e in self.consumers.get(id(tensor), [])}
        return scopes.pop() if len(scopes) == 1 else ()

    def add_node(self, scope, node_id, **attrs):
        if node_id not in self.drawn:
            self.drawn.add(node_id)
            self.nodes.setdefault(scope, []).append((node_id, attrs))

    # -- labels -------------------------------------------------------------------------
    def value_label(self, tensor, name):
        rows = [f"<b>{_html(name)}</b>",
                f"<font point-size='8'>{_html(str(tuple(tensor.shape)))} {tensor.dtype}</font>"]
        if self.show_values and tensor.size <= self.max_value_size:
            rows.append(f"data {_html(_fmt(tensor.data))}")
            grad = tensor.grad if tensor.grad is not None else self.adjoints.get(id(tensor))
            if grad is not None:
                rows.append(f"grad {_html(_fmt(grad))}")
        cells = "".join(f"<tr><td>{r}</td></tr>" for r in rows)
        return f"<<table border='0' cellborder='0' cellspacing='0' cellpadding='1'>{cells}</table>>"

    def kind(self, tensor):
        if id(tensor) == self.out_id:
            return "output"
        if tensor._entry is None:
            return "parameter" if tensor.requires_grad else "input"
        return "value"

    def value_node(self, tensor, scope):
        node_id = f"t{id(tensor)}"
        name = self.names.of(tensor)
        kind = self.kind(tensor)
        shape = "ellipse" if kind == "input" and tensor.size == 1 else "box"
        self.add_node(scope, node_id, label=self.value_label(tensor, name), shape=shape,
                      **STYLE[kind])
        return node_id

    def constant_node(self, value, entry, argnum):
        node_id = f"c{entry.index}_{argnum}"
        text = constant_text(value)
        self.add_node(self.group(entry), node_id, label=_html(text), shape="plaintext",
                      style="", fontcolor="#555555")
        return node_id

    # -- the walk -------------------------------------------------------------------------
    def build(self, dot):
        for entry in self.entries:
            if self.collapse and self.group(entry):
                self.collapsed_entry(entry)
            else:
                self.entry(entry)
        self.emit(dot)

    def entry(self, entry):
        scope = self.group(entry)
        op_id = f"op{entry.index}"
        params = ", ".join(f"{k}={v}" for k, v in entry.params.items()
                           if v is not None and v is not False and not isinstance(v, np.ndarray))
        label = entry.op.name + (f"\n{params}" if params else "")
        stub = entry.inputs is None          # freed by backward, and on no Tape
        if stub:
            label += "\n(freed by backward: draw before it,\nor record in a tape.Tape())"
        self.add_node(scope, op_id, label=label, shape="ellipse", **STYLE["op"],
                      **({"style": "filled,dashed"} if stub else {}))
        out = entry.out()
        if out is not None:
            self.edges.append((op_id, self.value_node(out, scope), {}))
        for argnum, x in enumerate(entry.inputs or ()):
            src = (self.value_node(x, self.input_scope(x))
                   if isinstance(x, Tensor) else self.constant_node(x, entry, argnum))
            self.edges.append((src, op_id, self.broadcast_label(entry, argnum, x, out)))

    def input_scope(self, x):
        if x._entry is None:
            return self.leaf_scope(x)
        producer = self.produced.get(id(x))
        return self.group(producer) if producer is not None else ()

    def collapsed_entry(self, entry):
        scope = self.group(entry)
        module_id = "m" + "_".join(scope)
        ops = [e.op.name for e in self.entries if self.group(e) == scope]
        inside = [x for e in self.entries if self.group(e) == scope for x in (e.inputs or ())
                  if isinstance(x, Tensor) and x._entry is None and self.leaf_scope(x) == scope]
        params = ", ".join(dict.fromkeys(
            f"{self.names.of(p)} {'×'.join(map(str, p.shape))}" for p in inside))
        label = f"{scope[-1]}\n{' → '.join(ops)}" + (f"\n({params})" if params else "")
        self.add_node(scope[:-1], module_id, label=label, **STYLE["module"])
        for argnum, x in enumerate(entry.inputs or ()):
            if isinstance(x, Tensor):
                producer = self.produced.get(id(x))
                if producer is not None and self.group(producer) == scope:
                    continue                                  # stays inside the module
                if x._entry is None and self.leaf_scope(x) == scope:
                    continue                                  # its own parameter
                self.edges.append((self.value_node(x, self.input_scope(x)), module_id, {}))
            else:
                self.edges.append((self.constant_node(x, entry, argnum), module_id, {}))
        out = entry.out()
        if out is None:
            return
        readers = self.consumers.get(id(out), [])
        if id(out) == self.out_id or any(self.group(e) != scope for e in readers):
            self.edges.append((module_id, self.value_node(out, scope[:-1]), {}))

    def broadcast_label(self, entry, argnum, x, out):
        if entry.op.name not in BROADCASTING or out is None or entry.op.name == "linear" and argnum != 2:
            return {}
        shape = np.shape(x.data if isinstance(x, Tensor) else x)
        if not isinstance(x, Tensor) or not x.requires_grad or shape == out.shape:
            return {}
        axes = broadcast_axes(shape, out.shape)
        return {"label": f"Σ axis {','.join(map(str, axes))}", "fontcolor": "#c92a2a",
                "color": "#c92a2a", "style": "dashed"}

    def emit(self, dot):
        def emit_scope(graph, scope):
            for node_id, attrs in self.nodes.get(scope, []):
                graph.node(node_id, **attrs)
            children = sorted({s[:len(scope) + 1] for s in self.nodes
                               if len(s) > len(scope) and s[:len(scope)] == scope})
            for child in children:
                with graph.subgraph(name="cluster_" + "_".join(child)) as sub:
                    sub.attr(label=child[-1], style="rounded,filled", fillcolor="#f8f9fa",
                             color="#adb5bd", fontname="Helvetica", fontsize="11")
                    emit_scope(sub, child)
        emit_scope(dot, ())
        seen = set()
        for a, b, attrs in self.edges:
            if (a, b) not in seen:
                seen.add((a, b))
                dot.edge(a, b, **attrs)


def _fmt(array):
    array = np.asarray(array)
    if array.ndim == 0:
        return f"{float(array):.4g}"
    return np.array2string(array, precision=3, separator=", ", suppress_small=True)


def _html(text):
    return (str(text).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;"))


# ---- rendering ------------------------------------------------------------------------

# the formats `dot` draws that this project offers; .dot / .gv write the source only
FORMATS = ("svg", "png", "pdf", "jpg", "jpeg", "gif")


def render(graph, path):
    """Write `graph` to `path`; the format follows the extension (svg, png, pdf, jpg,
    gif, or dot / gv for the source)."""
    path = Path(path)
    fmt = path.suffix.lstrip(".").lower()
    if fmt not in FORMATS + ("dot", "gv"):
        raise UnknownFormat(f"render: unknown format {path.suffix or '(no extension)'!r} "
                            f"for {path}; use one of {', '.join('.' + f for f in FORMATS)} "
                            f"or .dot")
    if path.is_dir():
        raise IsADirectoryError(21, "is a directory", str(path))
    if fmt in ("dot", "gv"):
        return atomic_write(path, lambda f: f.write(graph.source.encode()))
    if shutil.which("dot") is None:
        source = path.with_suffix(".dot")
        atomic_write(source, lambda f: f.write(graph.source.encode()))
        raise GraphvizMissing(
            f"the Graphviz program `dot` is not installed, so {path.name} could not be "
            f"drawn. Install it (Debian/Ubuntu: apt-get install graphviz; macOS: brew "
            f"install graphviz; others: https://graphviz.org/download/). The graph's "
            f"source was written to {source}.")
    drawing = graph.pipe(format="jpg" if fmt == "jpeg" else fmt)   # in memory; then one rename
    return atomic_write(path, lambda f: f.write(drawing))


# ---- the command ----------------------------------------------------------------------------

def scalar_example():
    """micrograd's neuron: o = tanh(x1·w1 + x2·w2 + b), with every gradient filled in."""
    x1, x2 = tape.tensor(2.0, name="x1"), tape.tensor(0.0, name="x2")
    w1 = tape.tensor(-3.0, requires_grad=True, name="w1")
    w2 = tape.tensor(1.0, requires_grad=True, name="w2")
    b = tape.tensor(6.8813735870195432, requires_grad=True, name="b")
    with tape.Tape(keep_adjoints=True) as t:
        n = x1 * w1 + x2 * w2 + b
        n.name = "n"
        o = tape.tanh(n)
        o.name = "o"
    t.gradient(o, [w1, w2, b], retain_graph=True)   # adjoints of every value, on the tape
    o.backward(retain_graph=True)      # .grad on the leaves; entries kept to be drawn
    return t, o                         # the tape holds its outputs only weakly: keep o


def twolayer_example(hidden=16, batch=8, activation="relu"):
    """One training step of an MLP: loss = cross_entropy(MLP(x), y).

    hidden: one size (the two-layer net) or a list of sizes, one per hidden layer.
    """
    sizes = [784, *(hidden if isinstance(hidden, (list, tuple)) else [hidden]), 10]
    rng = np.random.default_rng(0)
    x = tape.tensor(rng.random((batch, 784), dtype=np.float32), name="x")
    y = rng.integers(0, 10, batch)
    loss = tape.cross_entropy(MLP(sizes, activation)(x), y)
    loss.name = "loss"
    loss.backward(retain_graph=True)
    return loss


def cnn_example(batch=2):
    """One step of report 003's CNN, narrowed to 4 and 8 channels and 32 fc units."""
    rng = np.random.default_rng(0)
    x = tape.tensor(rng.random((batch, 1, 28, 28), dtype=np.float32), name="x")
    y = rng.integers(0, 10, batch)
    loss = tape.cross_entropy(CNN(channels=[4, 8], kernel=5, fc=[32])(x), y)
    loss.name = "loss"
    loss.backward(retain_graph=True)
    return loss


def main(argv=None):
    """The command; a mistake (bad --out, no Graphviz) is one line and exit code 2."""
    return run_command(_draw_command, argv)


def _draw_command(argv):
    p = OneLineParser(prog="python -m viz.graph",
                       description="Draw a computation graph with Graphviz: one training "
                                   "step of an MLP or of the CNN, or a scalar neuron.")
    p.add_argument("--model", choices=("twolayer", "cnn", "scalar"), default="twolayer",
                   help="twolayer: one training step of MLP [784, *hidden, 10]; cnn: one of "
                        "the CNN (conv 4 → pool → conv 8 → pool → fc 32 → 10); "
                        "scalar: o = tanh(x1·w1 + x2·w2 + b)")
    p.add_argument("--hidden", type=int, nargs="+", default=[16], metavar="N",
                   help="hidden layer sizes of the MLP (default 16); e.g. --hidden 600 400")
    p.add_argument("--activation", choices=list(ACTIVATIONS), default="relu",
                   help="activation of the MLP's hidden layers (default relu)")
    p.add_argument("--out", default="graph.svg",
                   help="output file (default graph.svg); the format follows the extension: "
                        + ", ".join("." + f for f in FORMATS) + ", .dot")
    p.add_argument("--overwrite", action="store_true",
                   help="replace --out if it exists (otherwise an existing file is kept "
                        "and the command stops)")
    p.add_argument("--collapse", action="store_true",
                   help="draw each module (Linear1, ReLU1, ...) as one node: the architecture")
    args = p.parse_args(argv)
    out = Path(args.out)
    if out.is_dir():
        p.error(f"--out {args.out} is a directory; give a file name such as graph.svg")
    if out.suffix.lstrip(".").lower() not in FORMATS + ("dot", "gv"):
        p.error(f"--out {args.out}: unknown format {out.suffix or '(no extension)'!r}; "
                f"use one of {', '.join('.' + f for f in FORMATS)}, .dot")
    if out.exists() and not args.overwrite:
        p.error(f"{args.out} exists; pass --overwrite to replace it, or choose another --out")
    if min(args.hidden) < 1:
        p.error(f"--hidden sizes must be at least 1, got {args.hidden}")
    check_writable_dir(out.parent)
    if args.model == "scalar":
        root, keep_alive = scalar_example()      # noqa: F841 (o must outlive the drawing)
        title = "o = tanh(x1·w1 + x2·w2 + b)"
    elif args.model == "cnn":
        root = cnn_example()
        title = "one training step of the CNN (5×5 convolutions, 2×2 max-pooling)"
    else:
        root = twolayer_example(args.hidden, activation=args.activation)
        title = f"one training step of MLP {[784, *args.hidden, 10]}, {args.activation}"
    if args.collapse:
        title += " (each module as one node)"
    path = render(draw(root, collapse=args.collapse, title=title), out)
    print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
