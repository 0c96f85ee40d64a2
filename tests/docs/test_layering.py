"""Imports go down one stated order, never round in a circle, and sit at the top of a file.

Every module's imports are read with `ast` (none is imported), so a cycle or an upward
import is found even in a module no test runs.
"""

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("tape", "models", "viz", "tutorials", "benchmarks")

# Lowest first: a module may import its own layer and the ones above it in this list,
# never one below. A module belongs to the longest prefix that names it.
LAYERS = [
    ["tape"],
    ["models", "models.io"],                                  # errors, atomic files
    ["models.nn", "models.optim", "models.manual", "models.data"],
    ["models.train"],                                          # the loop, what watches it
    ["models.manual.three_ways"],                              # --check-grads: data + loss
    ["viz"],                                                   # the figures
    ["models.cli"],                                            # the shared training command
    ["models.experiments"],                                    # many runs of a command
    ["models.twolayer", "models.cnn", "models.toy", "models.search", "models.compare"],
    ["tutorials", "benchmarks"],
]

# Cycles another change is removing; each must still exist, so that this list shrinks as
# they go (the engine's two, inside tape/ and benchmarks.floor ↔ benchmarks.moons, are gone).
KNOWN_CYCLES = []
# Function-level imports are allowed with a comment saying what they buy.
COMMENTED = ("tape", "models", "viz", "tutorials", "benchmarks")


def modules():
    found = {}
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            parts = path.relative_to(ROOT).with_suffix("").parts
            name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
            found[name] = path
    return found


MODULES = modules()


def imported(module, node, is_package):
    """The project modules an import statement names (`from models import nn` → models.nn)."""
    if isinstance(node, ast.Import):
        names = [alias.name for alias in node.names]
    else:
        base = node.module or ""
        if node.level:
            parts = module.split(".")[:None if is_package else -1]
            parts = parts[:len(parts) - node.level + 1]
            base = ".".join(parts + ([base] if base else []))
        names = [f"{base}.{alias.name}" for alias in node.names]
        names = [n for n in names if n in MODULES] or [base]
    out = []
    for name in names:
        while name and name not in MODULES:
            name = name.rpartition(".")[0]
        # a package's own submodules, and a module's own parent packages, are not edges
        if name and name != module and not name.startswith(module + ".") \
                and not module.startswith(name + "."):
            out.append(name)
    return out


def imports():
    """(module, imported module, line number, inside a function?, source line) for each."""
    rows = []
    for module, path in MODULES.items():
        text = path.read_text()
        lines = text.splitlines()
        is_package = path.name == "__init__.py"

        def visit(node, in_function):
            for child in ast.iter_child_nodes(node):
                inside = in_function or isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef))
                if isinstance(child, (ast.Import, ast.ImportFrom)):
                    for target in imported(module, child, is_package):
                        rows.append((module, target, child.lineno, inside,
                                     lines[child.lineno - 1]))
                visit(child, inside)
        visit(ast.parse(text, str(path)), False)
    return rows


IMPORTS = imports()


def layer(module):
    best, level = "", None
    for i, prefixes in enumerate(LAYERS):
        for prefix in prefixes:
            if (module == prefix or module.startswith(prefix + ".")) and len(prefix) > len(best):
                best, level = prefix, i
    return level


def cycles():
    """The strongly connected components of more than one module (Tarjan)."""
    edges = {m: set() for m in MODULES}
    for module, target, *_ in IMPORTS:
        edges[module].add(target)
    index, low, stack, on_stack, found = {}, {}, [], set(), []

    def connect(v):
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in edges[v]:
            if w not in index:
                connect(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = set()
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.add(w)
                if w == v:
                    break
            if len(component) > 1:
                found.append(component)
    for v in sorted(edges):
        if v not in index:
            connect(v)
    return found


def test_every_module_has_a_layer():
    assert [m for m in MODULES if layer(m) is None] == []


def test_no_module_imports_one_from_a_later_layer():
    upward = [f"{path(m)}:{line}: {m} (layer {layer(m)}) imports {t} (layer {layer(t)})"
              for m, t, line, _, _ in IMPORTS if layer(t) > layer(m)]
    assert upward == []


def test_no_import_cycle_but_the_known_ones_still_being_removed():
    found = cycles()
    assert [c for c in found if c not in KNOWN_CYCLES] == []
    # a known cycle that is gone must leave the list too
    assert [c for c in KNOWN_CYCLES if c not in found] == []


@pytest.mark.parametrize("package", COMMENTED)
def test_an_import_inside_a_function_says_why_in_a_comment(package):
    silent = [f"{path(m)}:{line}: {text.strip()}" for m, t, line, inside, text in IMPORTS
              if inside and (m == package or m.startswith(package + ".")) and "#" not in text]
    assert silent == []


@pytest.mark.parametrize("package", COMMENTED)
def test_no_function_repeats_an_import_of_its_module(package):
    top = {(m, t) for m, t, _, inside, _ in IMPORTS if not inside}
    repeats = [f"{path(m)}:{line}: {t}" for m, t, line, inside, _ in IMPORTS
               if inside and (m, t) in top and m.startswith(package)]
    assert repeats == []


def test_the_order_is_engine_then_models_core_then_viz_then_the_commands():
    assert layer("models.nn.layers") < layer("models.cli.command") < layer("models.twolayer")
    assert layer("tape.conv") < layer("models.io.files") < layer("viz.plots")
    assert layer("viz.plots") < layer("models.cli.figures")
    assert layer("models.manual.formulas") < layer("models.manual.three_ways")


def path(module):
    return MODULES[module].relative_to(ROOT)
