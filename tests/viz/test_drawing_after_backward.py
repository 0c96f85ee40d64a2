"""The graph can be drawn after `backward()` freed it, and the sweep table has structured
rows (item 7 of the engine issue's "Wrong today" list)."""

import re

import numpy as np

import tape
from models import nn
from viz import draw, sweep_table


def _two_layer_step(retain_graph):
    model = nn.MLP([3, 4, 2], seed=0, dtype=np.float64)
    x = tape.tensor(np.random.default_rng(0).standard_normal((2, 3)), name="x")
    with tape.Tape() as t:
        loss = tape.cross_entropy(model(x), np.array([0, 1]))
    loss.backward(retain_graph=retain_graph)
    return t, loss


def _what_is_drawn(source):
    names = sorted(re.findall(r"<b>([^<]+)</b>", source))
    ops = sorted(re.findall(r'op\d+ \[label="?([a-z_]+)', source))
    return names, ops, source.count(" -> ")


def test_the_whole_graph_is_drawn_after_backward_freed_it():
    t, loss = _two_layer_step(retain_graph=False)
    source = draw(t).source
    assert "freed" not in source
    names, ops, edges = _what_is_drawn(source)
    for name in ("x", "W1", "b1", "W2", "b2"):
        assert name in names, f"{name} is missing from the drawing after backward()"
    kept, kept_loss = _two_layer_step(retain_graph=True)
    assert (names, ops, edges) == _what_is_drawn(draw(kept).source)


def test_sweep_table_rows_are_structured_even_for_long_listing_lines():
    a = tape.tensor(np.array([1.0, 2.0, 3.0]), requires_grad=True,
                    name="a_rather_long_parameter_name")
    b = tape.tensor(np.array([4.0, 5.0, 6.0]), requires_grad=True, name="another_long_input")
    with tape.Tape(keep_adjoints=True) as t:
        loss = (a * b).sum()
    t.gradient(loss, [a, b])
    multiply = [r for r in sweep_table(t) if "multiply" in r["entry"]]
    assert len(multiply) == 1
    entry = multiply[0]["entry"]
    assert len(entry) >= 40 and "a_rather_long_parameter_name" in entry
    assert "float64" not in entry and "(3,)" not in entry, entry
