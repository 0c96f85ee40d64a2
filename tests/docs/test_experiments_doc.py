"""The Python API example (in the README) runs as written, and docs/experiments.md matches the code."""

import contextlib
import io
import re
from pathlib import Path

from models.cli.presets import PRESETS, flag_text

DOC = (Path(__file__).resolve().parents[2] / "docs" / "experiments.md").read_text()
README = (Path(__file__).resolve().parents[2] / "README.md").read_text()


def test_the_python_api_example_trains_tests_and_calls_its_callback():
    code = next(b for b in re.findall(r"```python\n(.*?)```", README, flags=re.S) if "Run(config" in b)
    out = io.StringIO()
    namespace = {}
    with contextlib.redirect_stdout(out):
        exec(compile(code, "README.md", "exec"), namespace)
    printed = out.getvalue()
    assert [l.split(":")[0] for l in printed.splitlines() if l.startswith("iteration")] == [
        "iteration 20", "iteration 40", "iteration 60", "iteration 80"]   # the callback's
    assert namespace["run"].best["epoch"] in (1, 2)
    assert namespace["test_acc"] > 0.6                       # it learned (chance: 0.1)
    assert printed.rstrip().endswith(f"test accuracy {namespace['test_acc']:.3f}")


def test_the_preset_table_is_each_presets_recipe():
    for name, preset in PRESETS.items():
        recipe = " ".join(flag_text(d, v) for d, v in preset.flags.items())
        assert f"| `{name}` | `{recipe}` |" in DOC


def test_the_readme_links_the_experiments_page_and_shows_the_figure():
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text()
    assert "(docs/experiments.md)" in readme
    figure = re.search(r"\(docs/experiments/compare_watched\.png\)", readme)
    assert figure and (Path(__file__).resolve().parents[2] / "docs" / "experiments"
                       / "compare_watched.png").is_file()
