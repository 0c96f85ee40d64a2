"""The sweep page's content, read back from the written file (the browser tests are in
test_sweep_page_browser.py)."""

import html
import json
import os
import re
import subprocess
import sys
import warnings
from pathlib import Path

import numpy as np
import pytest

import tape
from tests.viz.pages import long_tape, shared_value_tape, two_layer_tape
from viz.sweep_page import GRAPH_LIMIT, GraphTooLarge, SweepPage, summary, sweep_page

ROOT = Path(__file__).resolve().parents[2]



def page_data(text):
    block = re.search(r'<script type="application/json" id="sweep-data">(.*?)</script>',
                      text, flags=re.S).group(1)
    return json.loads(block)


def svg_titles(text):
    return {html.unescape(t) for t in re.findall(r"<title>(.*?)</title>", text)}


def test_page_is_one_file_with_no_address_to_fetch(tmp_path):
    t, _ = two_layer_tape()
    page = sweep_page(t, tmp_path / "sweep.html")
    text = (tmp_path / "sweep.html").read_text()
    assert text == page.html and page.path == tmp_path / "sweep.html"
    assert "<svg" in text and "<script>" in text
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:|//)""", text)
    assert "<link" not in text and "@import" not in text and "fetch(" not in text
    assert [p.name for p in tmp_path.iterdir()] == ["sweep.html"]   # no temporary left


def test_every_entry_is_a_node_of_the_drawn_graph(tmp_path):
    t, _ = two_layer_tape()
    text = sweep_page(t).html
    titles, data = svg_titles(text), page_data(text)["entries"]
    assert len(data) == len(t.entries)
    for d, e in zip(data, t.entries):
        assert d["node"] == f"op{e.index}" and d["node"] in titles
        assert d["outNode"] in titles and d["inEdges"]


def test_collapsed_page_draws_each_module_as_one_node():
    t, _ = two_layer_tape()
    data = page_data(sweep_page(t, collapse=True).html)["entries"]
    assert [d["node"] for d in data] == ["mMLP_Linear1", "mMLP_ReLU1", "mMLP_Linear2",
                                         f"op{t.entries[-1].index}"]   # the loss: no module
    assert data[0]["scope"] == ["MLP", "Linear1"]


def test_lines_are_the_tapes_wengert_list():
    t, _ = two_layer_tape()
    data = page_data(sweep_page(t).html)["entries"]
    assert [" ".join(d["line"].split()) for d in data] == \
           [" ".join(line.split()) for line in t.listing().splitlines()]


def test_panel_adjoints_are_the_tapes_keep_adjoints_values():
    t, _ = two_layer_tape()
    data = page_data(sweep_page(t).html)["entries"]
    for d, e in zip(data, t.entries):
        np.testing.assert_allclose(np.array(d["adjoint"]["full"]), t.adjoints[e.index],
                                   rtol=1e-5, atol=1e-7)
        np.testing.assert_allclose(np.array(d["value"]["full"]), e.out().data, rtol=1e-5)


def test_linear_weight_share_is_xT_delta():
    t, _ = two_layer_tape(sizes=(3, 2, 2))
    first = t.entries[0]                       # v1 = linear(x, W1, b1)
    x, W1, b1 = first.inputs
    rule = {r["input"]: r for r in page_data(sweep_page(t).html)["entries"][0]["rules"]}
    delta = t.adjoints[first.index]
    assert rule["W1"]["formula"] == "dW1 = xᵀ·Δ"
    np.testing.assert_allclose(rule["W1"]["share"]["full"], x.data.T @ delta, rtol=1e-5)
    np.testing.assert_allclose(rule["b1"]["share"]["full"], delta.sum(axis=0), rtol=1e-5)
    assert rule["x"]["needed"] is False and "share" not in rule["x"]
    edges = page_data(sweep_page(t).html)["entries"][0]
    assert sorted(e.split("->")[0] for e in edges["sendEdges"]) == sorted(
        [f"op{first.index}", f"t{id(W1)}", f"t{id(b1)}"])    # not to x: it needs no gradient
    assert f"t{id(x)}->op{first.index}" in edges["inEdges"]


def test_a_value_with_two_users_shows_both_shares_summing_to_its_adjoint():
    t, _ = shared_value_tape()
    data = page_data(sweep_page(t).html)["entries"]
    y = next(d for d in data if d["name"] == "y")
    assert [u["op"] for u in y["users"]] == ["tanh", "multiply"]
    total = sum(np.array(u["share"]["full"]) for u in y["users"])
    np.testing.assert_allclose(total, y["adjoint"]["full"], rtol=1e-5)
    yv = np.array(y["value"]["full"])
    np.testing.assert_allclose(y["users"][0]["share"]["full"], 1 - np.tanh(yv) ** 2, rtol=1e-5)
    np.testing.assert_allclose(y["users"][1]["share"]["full"], [2.0, 2.0, 2.0])


def test_shares_are_left_out_once_backward_freed_the_entries():
    x = tape.tensor(np.array([1.0, 2.0]), requires_grad=True, name="x")
    with tape.Tape(keep_adjoints=True) as t:
        loss = (x * x).sum()
    t.gradient(loss, [x])                      # frees what the rules needed
    data = page_data(sweep_page(t).html)["entries"]
    assert "share" not in data[0]["rules"][0]
    np.testing.assert_allclose(data[0]["adjoint"]["full"], [1.0, 1.0])


def test_large_array_is_summarised_with_a_heatmap():
    a = np.arange(784 * 1024, dtype=np.float32).reshape(784, 1024) - 1000.0
    s = summary(a)
    assert "full" not in s and s["shape"] == [784, 1024]
    assert s["min"] == -1000.0 and s["max"] == float(a.max())
    assert s["heat"]["rows"] == 24 and s["heat"]["cols"] == 48
    assert len(s["heat"]["cells"]) == 24 * 48 and max(map(abs, s["heat"]["cells"])) == 99
    h = summary(np.linspace(-1, 1, 1000))["hist"]
    assert sum(h["counts"]) == 1000 and (h["lo"], h["hi"]) == (-1.0, 1.0)


def test_nan_and_inf_reach_the_page_as_text_json_can_hold():
    s = summary(np.array([1.0, np.nan, np.inf, -np.inf]))
    assert s["full"] == [1.0, "nan", "inf", "-inf"]
    json.loads(json.dumps(s, allow_nan=False))


def test_markup_in_names_cannot_end_the_data_block():
    name = "</script><img src=x onerror=alert(1)>"
    x = tape.tensor(np.ones(2), requires_grad=True, name=name)
    with tape.Tape(keep_adjoints=True) as t:
        loss = (x * 2.0).sum()
    loss.backward(retain_graph=True)
    text = sweep_page(t).html
    assert "<img" not in text
    assert page_data(text)["entries"][0]["line"].startswith(f"v1 = multiply({name}, 2.0)")


def test_tape_beyond_the_graph_limit_is_a_list_and_the_call_says_so(tmp_path):
    t, _ = long_tape(GRAPH_LIMIT + 3)
    with pytest.warns(GraphTooLarge, match="collapse=True"):
        page = sweep_page(t, tmp_path / "long.html")
    assert not page.drawn and "<svg" not in page.html
    assert f"more than the {GRAPH_LIMIT}" in page_data(page.html)["note"]


def test_ten_thousand_entries_make_a_page_of_a_few_megabytes():
    t, _ = long_tape(10_000)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", GraphTooLarge)
        page = sweep_page(t)
    assert page.entries == len(t.entries) >= 10_000
    assert len(page.html.encode()) < 4_000_000


@pytest.mark.parametrize("make, message", [
    (lambda: tape.Tape(), "keep_adjoints=True"),
    (lambda: tape.Tape(keep_adjoints=True), "the tape is empty"),
])
def test_a_tape_that_cannot_be_shown_is_refused_in_one_line(make, message):
    with pytest.raises(ValueError, match=message):
        sweep_page(make())


def test_a_tape_with_no_backward_yet_is_refused_with_the_fix_named():
    x = tape.tensor(np.ones(2), requires_grad=True)
    with tape.Tape(keep_adjoints=True) as t:
        (x * x).sum()
    with pytest.raises(ValueError, match="loss.backward"):
        sweep_page(t)


def test_notebook_shows_the_page_in_an_isolated_frame():
    t, _ = two_layer_tape()
    page = sweep_page(t)
    assert isinstance(page, SweepPage) and page.path is None
    frame = page._repr_html_()
    assert frame.startswith("<iframe srcdoc=\"") and "<script" not in frame
    assert html.unescape(re.search(r'srcdoc="(.*?)"', frame, flags=re.S).group(1)) == page.html


def run(*args, cwd):
    return subprocess.run([sys.executable, "-m", "viz.graph", *args], cwd=cwd,
                          capture_output=True, text=True, timeout=120)


def test_command_writes_the_page_for_the_twolayer_net(tmp_path):
    result = run("--model", "twolayer", "--html", "out.html", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "wrote out.html" in result.stdout
    data = page_data((tmp_path / "out.html").read_text())
    assert [d["op"] for d in data["entries"]] == ["linear", "relu", "linear", "cross_entropy"]
    assert not (tmp_path / "graph.svg").exists()


def test_command_html_works_with_collapse_and_hidden(tmp_path):
    result = run("--model", "twolayer", "--hidden", "32", "8", "--collapse",
                 "--html", "c.html", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    data = page_data((tmp_path / "c.html").read_text())
    assert data["collapsed"] and data["entries"][0]["node"] == "mMLP_Linear1"
    assert "784, 32, 8, 10" in data["title"]


@pytest.mark.parametrize("args, message", [
    (["--html", "page.svg"], "give a file name ending in .html"),
    (["--html", "taken.html"], "taken.html exists; pass --overwrite"),
])
def test_command_refuses_a_bad_html_path_in_one_line(tmp_path, args, message):
    (tmp_path / "taken.html").write_text("keep me")
    result = run(*args, cwd=tmp_path)
    assert result.returncode == 2 and message in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert (tmp_path / "taken.html").read_text() == "keep me"


def test_a_notebook_cell_ending_with_the_page_shows_it_inline(tmp_path, monkeypatch):
    nbformat = pytest.importorskip("nbformat")
    nbclient = pytest.importorskip("nbclient")
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]))
    notebook = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(
        "from tests.viz.pages import two_layer_tape\n"
        "from viz.sweep_page import sweep_page\n"
        "t, loss = two_layer_tape()\n"
        "sweep_page(t)")])
    nbclient.NotebookClient(notebook, kernel_name="python3", timeout=120,
                            resources={"metadata": {"path": str(tmp_path)}}).execute()
    shown = notebook.cells[0].outputs[0]["data"]["text/html"]
    assert shown.startswith("<iframe srcdoc=")
    assert "sweep-data" in shown
