"""Computation graphs through the real Graphviz `dot`, and the reverse-sweep table."""

import re

import numpy as np
import pytest

import tape
from viz import graph
from viz.graph import GraphvizMissing, draw, render
from viz.sweep import format_sweep, sweep_table


def svg_counts(path):
    text = path.read_text()
    return text.count('class="node"'), text.count('class="cluster"')


def test_viz_graph_command_renders_a_real_svg(tmp_path, capsys):
    out = tmp_path / "two.svg"
    assert graph.main(["--model", "twolayer", "--out", str(out)]) == 0
    nodes, clusters = svg_counts(out)
    # x, W1, b1, linear, v1 | relu, v2 | W2, b2, linear, v3 | labels, cross_entropy, loss
    assert (nodes, clusters) == (14, 4)       # MLP, Linear1, ReLU, Linear2
    assert out.read_text().startswith("<?xml")
    assert "wrote" in capsys.readouterr().out


def test_collapse_draws_each_module_as_one_node(tmp_path):
    full, collapsed = tmp_path / "a.svg", tmp_path / "b.svg"
    graph.main(["--model", "twolayer", "--out", str(full)])
    graph.main(["--model", "twolayer", "--collapse", "--out", str(collapsed)])
    assert svg_counts(collapsed) == (10, 1)   # x, 3 modules, v1 v2 v3, labels, op, loss
    assert svg_counts(collapsed)[0] < svg_counts(full)[0]


def test_png_and_pdf_follow_the_extension(tmp_path):
    graph.main(["--model", "scalar", "--out", str(tmp_path / "n.png")])
    graph.main(["--model", "scalar", "--out", str(tmp_path / "n.pdf")])
    assert (tmp_path / "n.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert (tmp_path / "n.pdf").read_bytes()[:4] == b"%PDF"


def test_small_tensors_show_data_and_grad():
    t, o = graph.scalar_example()
    source = draw(t).source
    assert "data 0.7071" in source and "grad 1" in source        # the output o
    assert re.search(r"<b>w1</b>.*data -3.*grad 1", source)       # micrograd's numbers
    assert re.search(r"<b>n</b>.*grad 0.5", source)


def test_broadcast_edge_is_labelled_with_the_summed_axis():
    x = np.ones((5, 3))
    W = tape.tensor(np.ones((3, 2)), requires_grad=True, name="W")
    b = tape.tensor(np.zeros(2), requires_grad=True, name="b")
    source = draw(x @ W + b).source
    assert "Σ axis 0" in source
    assert source.count("Σ axis") == 1          # the matmul's inputs are not broadcast


def test_drawing_from_a_tape_and_from_a_tensor_agree():
    w = tape.tensor(np.ones(3), requires_grad=True, name="w")
    with tape.Tape() as t:
        y = tape.tanh(w * 2.0).sum()
    assert draw(t).source.count("->") == draw(y).source.count("->")


def test_a_long_chain_builds_without_recursion():
    x = tape.tensor(1.0, requires_grad=True)
    y = x
    for _ in range(2000):
        y = y * 1.0
    assert draw(y).source.count("multiply") == 2000


def test_freed_entries_are_drawn_as_stubs():
    x = tape.tensor(2.0, requires_grad=True)
    y = tape.exp(x) * 3.0
    y.backward()
    assert "freed by backward" in draw(y).source


def test_missing_dot_gives_a_clear_error_and_still_writes_the_source(tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    with pytest.raises(GraphvizMissing, match="apt-get install graphviz") as error:
        render(draw(graph.twolayer_example()), tmp_path / "g.svg")
    assert str(tmp_path / "g.dot") in str(error.value)
    assert (tmp_path / "g.dot").read_text().startswith("digraph")
    assert not (tmp_path / "g.svg").exists()


def test_sweep_table_lists_entries_in_reverse_with_the_tapes_adjoints():
    w = tape.tensor(np.array([0.5, -1.0]), requires_grad=True, name="w")
    with tape.Tape(keep_adjoints=True) as t:
        z = w * 3.0
        y = tape.tanh(z).sum()
    (gw,) = t.gradient(y, [w])
    rows = sweep_table(t)
    assert [r["entry"].split(" = ")[1].split("(")[0] for r in rows] == ["sum", "tanh", "multiply"]
    np.testing.assert_allclose(rows[0]["adjoint"], 1.0)
    np.testing.assert_allclose(rows[2]["adjoint"], 1 - np.tanh(3.0 * w.data) ** 2)
    np.testing.assert_allclose(rows[2]["adjoint"] * 3.0, gw)
    assert "adjoint" in format_sweep(t)


def test_sweep_table_needs_kept_adjoints():
    with pytest.raises(ValueError, match="keep_adjoints=True"):
        sweep_table(tape.Tape())


# ---- python -m viz.graph: any MLP, one box per layer, files kept safe ----------------------

def test_a_deep_mlp_draws_each_activation_layer_as_its_own_box(tmp_path):
    out = tmp_path / "deep.svg"
    assert graph.main(["--hidden", "600", "400", "--out", str(out)]) == 0
    text = out.read_text()
    for module in ("Linear1", "ReLU1", "Linear2", "ReLU2", "Linear3"):
        assert f">{module}<" in text, module
    assert svg_counts(out)[1] == 6                  # MLP and its five modules


def test_collapsed_deep_mlp_is_a_chain_of_five_module_nodes(tmp_path):
    out = tmp_path / "arch.dot"
    assert graph.main(["--hidden", "600", "400", "--collapse", "--out", str(out)]) == 0
    source = out.read_text()
    modules = re.findall(r"(mMLP_\w+) \[label=", source)
    assert modules == ["mMLP_Linear1", "mMLP_ReLU1", "mMLP_Linear2", "mMLP_ReLU2",
                       "mMLP_Linear3"]
    for module in modules:                          # one way in, one way out: no loop
        assert len(re.findall(rf"-> {module}\b", source)) == 1
        assert len(re.findall(rf"\b{module} ->", source)) == 1


def run_command(*flags, cwd):
    import os
    import subprocess
    import sys
    from pathlib import Path
    root = Path(__file__).resolve().parents[2]
    return subprocess.run([sys.executable, "-W", "error::RuntimeWarning", "-m", "viz.graph",
                           *flags], cwd=cwd, capture_output=True, text=True,
                          env={**os.environ, "PYTHONPATH": str(root)})


def test_command_prints_no_runpy_warning_and_refuses_to_overwrite(tmp_path):
    first = run_command(cwd=tmp_path)
    assert first.returncode == 0 and first.stderr == "" and first.stdout == "wrote graph.svg\n"
    before = (tmp_path / "graph.svg").read_bytes()
    second = run_command("--hidden", "3", cwd=tmp_path)
    assert second.returncode == 2 and second.stderr.count("\n") == 1
    assert "graph.svg exists; pass --overwrite" in second.stderr
    assert (tmp_path / "graph.svg").read_bytes() == before
    third = run_command("--hidden", "3", "--overwrite", cwd=tmp_path)
    assert third.returncode == 0 and (tmp_path / "graph.svg").read_bytes() != before


def test_jpg_is_drawn_and_an_unknown_format_is_one_line(tmp_path):
    assert graph.main(["--model", "scalar", "--out", str(tmp_path / "n.jpg")]) == 0
    assert (tmp_path / "n.jpg").read_bytes()[:3] == b"\xff\xd8\xff"
    result = run_command("--out", "g.bmp", cwd=tmp_path)
    assert result.returncode == 2 and result.stderr.count("\n") == 1
    assert "unknown format '.bmp'" in result.stderr and "Traceback" not in result.stderr
    assert list(tmp_path.iterdir()) == [tmp_path / "n.jpg"]


def test_cnn_graph_draws_one_box_per_layer_and_collapses_to_the_architecture(tmp_path):
    full, collapsed = tmp_path / "cnn.svg", tmp_path / "cnn_collapsed.svg"
    assert graph.main(["--model", "cnn", "--out", str(full)]) == 0
    assert graph.main(["--model", "cnn", "--collapse", "--out", str(collapsed)]) == 0
    # CNN + Conv1 ReLU1 MaxPool1 Conv2 ReLU2 MaxPool2 Flatten fc1 ReLU3 fc2
    assert svg_counts(full)[1] == 11
    text = collapsed.read_text()
    # x, 10 layers, their 10 outputs, the labels, cross_entropy, loss
    assert svg_counts(collapsed) == (24, 1)
    order = [text.index(f">{name}<") for name in
             ("Conv1", "ReLU1", "MaxPool1", "Conv2", "ReLU2", "MaxPool2", "Flatten", "fc1", "fc2")]
    assert order == sorted(order)
