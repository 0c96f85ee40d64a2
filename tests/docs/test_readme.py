"""The README's examples run and print what the README says they print."""

import argparse
import contextlib
import io
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
README = (ROOT / "README.md").read_text()
SPEED = (ROOT / "docs" / "speed.md").read_text()


def blocks(language):
    return re.findall(rf"```{language}\n(.*?)```", README, flags=re.S)


def test_first_example_prints_what_the_readme_shows():
    code, shown = blocks("python")[0], blocks("text")[0]
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        exec(compile(code, "README.md", "exec"), {})
    assert out.getvalue() == shown


def test_custom_op_example_passes_gradcheck():
    namespace = {}
    exec(compile(blocks("python")[1], "README.md", "exec"), namespace)
    softplus = namespace["softplus"]
    import numpy as np
    import tape
    assert tape.gradcheck(lambda x: softplus(x).sum(), [np.linspace(-3, 3, 7)])


def test_first_screen_has_the_setup_and_test_commands():
    first = blocks("bash")[0]
    assert "pip install -e \".[test]\"" in first and "python -m models.twolayer" in first
    assert "python -m pytest" in first


def test_every_twolayer_flag_is_in_the_readme():
    from models.twolayer import parser
    for action in parser()._actions:
        for flag in action.option_strings:
            if flag not in ("-h", "--help"):
                assert flag in README, flag


@pytest.mark.parametrize("command", ["benchmarks.run", "benchmarks.engine"])
def test_every_benchmark_flag_is_in_docs_speed(command):
    import importlib
    parser = importlib.import_module(command).parser
    for action in parser()._actions:
        if action.help == argparse.SUPPRESS:
            continue                                # the worker processes' own flags
        for flag in action.option_strings:
            if flag not in ("-h", "--help"):
                assert flag in SPEED, flag


def test_the_readme_links_the_speed_reference():
    assert "docs/speed.md" in README and "python -m benchmarks.engine" in README


def test_every_cnn_flag_is_in_the_readme():
    from models.cnn import parser
    for action in parser()._actions:
        for flag in action.option_strings:
            if flag not in ("-h", "--help"):
                assert flag in README, flag


def test_compile_example_prints_the_source_the_readme_shows():
    texts = re.findall(r"```python\n((?:(?!```).)*)```\n\n```text\n((?:(?!```).)*)```", README,
                       flags=re.S)
    code, shown = next((c, t) for c, t in texts if "tape.compile(" in c)
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        exec(compile(code, "README.md", "exec"), {})
    assert out.getvalue() == shown
    assert "# backward" in shown and "dX" not in shown
