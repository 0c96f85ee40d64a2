"""The README and the docs pages: their examples run and print what they say, their links
lead somewhere, every flag of a command is on its page, and the README stays short."""

import argparse
import contextlib
import importlib.util
import io
import re
from pathlib import Path

import numpy as np
import pytest

import tape

ROOT = Path(__file__).resolve().parents[2]
README = (ROOT / "README.md").read_text()
DOCS = sorted((ROOT / "docs").glob("*.md"))
PAGES = [ROOT / "README.md", *DOCS, ROOT / "tutorials" / "README.md"]


def blocks(text, language):
    return re.findall(rf"```{language}\n(.*?)```", text, flags=re.S)


def page(name):
    return (ROOT / "docs" / name).read_text()


def test_first_example_prints_what_the_readme_shows():
    code, shown = blocks(README, "python")[0], blocks(README, "text")[0]
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        exec(compile(code, "README.md", "exec"), {})
    assert out.getvalue() == shown


def test_check_manual_example_passes_and_prints_the_table():
    code = next(b for b in blocks(README, "python") if "check_manual" in b)
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        exec(compile(code, "README.md", "exec"), {})
    lines = out.getvalue().splitlines()
    assert lines[0].split()[:2] == ["parameter", "shape"]
    assert lines[1].split()[0] == "W" and lines[1].split()[-1] == "yes"


def test_custom_op_example_of_the_engine_page_passes_gradcheck():
    namespace = {}
    exec(compile(blocks(page("engine.md"), "python")[0], "docs/engine.md", "exec"), namespace)
    softplus = namespace["softplus"]
    assert tape.gradcheck(lambda x: softplus(x).sum(), [np.linspace(-3, 3, 7)])
    assert np.allclose(softplus(np.array([0.0, 50.0])), [np.log(2), 50.0])


@pytest.mark.parametrize("path", DOCS, ids=lambda p: p.name)
def test_every_python_example_of_a_docs_page_runs(path, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)          # what an example writes (sweep.html) stays out of the tree
    for i, code in enumerate(blocks(path.read_text(), "python")):
        with contextlib.redirect_stdout(io.StringIO()):
            exec(compile(code, f"{path.name} example {i + 1}", "exec"), {})


def test_first_screen_has_the_setup_and_test_commands():
    first = blocks(README, "bash")[0]
    assert "pip install -e \".[test]\"" in first and "python -m models.twolayer" in first
    assert "python -m pytest" in first
    assert README.index(first) < len("\n".join(README.splitlines()[:30]))


def test_the_readme_stays_under_400_lines():
    assert len(README.splitlines()) <= 400


def slug(heading):
    """GitHub's anchor for a heading: lower case, punctuation dropped, spaces → hyphens."""
    text = re.sub(r"[^\w\- ]", "", heading.strip().lower().replace("`", ""))
    return text.replace(" ", "-")


def anchors(path):
    text = re.sub(r"```.*?```", "", path.read_text(), flags=re.S)
    return {slug(m) for m in re.findall(r"^#+ (.*)$", text, flags=re.M)}


def links(path):
    text = re.sub(r"```.*?```", "", path.read_text(), flags=re.S)
    return re.findall(r"\]\(([^)\s]+)\)", text)


@pytest.mark.parametrize("path", PAGES, ids=lambda p: p.name)
def test_every_relative_link_points_at_an_existing_file_and_heading(path):
    broken = []
    for target in links(path):
        if re.match(r"[a-z]+:", target):            # https://, mailto: — not ours to check
            continue
        file, _, anchor = target.partition("#")
        resolved = (path.parent / file).resolve() if file else path
        if not resolved.exists():
            broken.append(target)
        elif anchor and resolved.suffix == ".md" and anchor not in anchors(resolved):
            broken.append(target)
    assert broken == []


def test_every_docs_page_is_linked_from_the_readme():
    assert [p.name for p in DOCS if f"docs/{p.name}" not in README] == []


@pytest.mark.parametrize("path", PAGES, ids=lambda p: p.name)
def test_every_command_named_is_a_module_that_exists(path):
    named = set(re.findall(r"python -m ((?:models|viz|benchmarks|tutorials)(?:\.\w+)*)",
                           path.read_text()))
    assert [m for m in sorted(named) if importlib.util.find_spec(m) is None] == []


def command_parsers():
    from benchmarks import cnn as bench_cnn, engine, run, search_jobs
    from models import cnn, toy, twolayer
    from viz import redraw
    from viz import graph
    return [("models.twolayer", twolayer.parser, "training.md"),
            ("models.cnn", cnn.parser, "cnn.md training.md"),   # the shared flags: training.md
            ("models.toy", toy.parser, "toy.md"),
            ("viz.graph", graph.parser, "pictures.md"),
            ("viz.redraw", redraw.parser, "pictures.md"),
            ("benchmarks.run", run.parser, "speed.md"),
            ("benchmarks.engine", engine.parser, "speed.md"),
            ("benchmarks.cnn", bench_cnn.parser, "cnn.md"),
            ("benchmarks.search_jobs", search_jobs.parser, "experiments.md")]


@pytest.mark.parametrize("command, parser, where", command_parsers(),
                         ids=[c for c, _, _ in command_parsers()])
def test_every_flag_of_a_command_is_on_its_docs_page(command, parser, where):
    text = "\n".join(page(name) for name in where.split())
    missing = [flag for action in parser()._actions if action.help is not argparse.SUPPRESS
               for flag in action.option_strings
               if flag not in ("-h", "--help") and not re.search(rf"{flag}(?![\w-])", text)]
    assert missing == []


def test_compile_example_prints_the_source_the_readme_shows():
    texts = re.findall(r"```python\n((?:(?!```).)*)```\n\n```text\n((?:(?!```).)*)```", README,
                       flags=re.S)
    code, shown = next((c, t) for c, t in texts if "tape.compile(" in c)
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        exec(compile(code, "README.md", "exec"), {})
    assert out.getvalue() == shown
    assert "# backward" in shown and "dX" not in shown
