"""Every tutorial, opened as a notebook, runs in a real Jupyter kernel and shows its pictures.

Each lesson is converted with jupytext and executed with nbclient in the `python3` kernel
that ipykernel installs in this environment, in fast mode. The kernel starts in a folder
of its own (as Jupyter does when a notebook is opened from `tutorials/`): the figures must
still land in the tutorial's output folder, and nothing in the kernel's folder.
"""

import base64
import os
import sys
from pathlib import Path

import pytest

jupytext = pytest.importorskip("jupytext")
nbclient = pytest.importorskip("nbclient")

ROOT = Path(__file__).resolve().parents[2]
IMAGE_TYPES = ("image/png", "image/svg+xml", "image/gif")
LESSONS = sorted(p.stem for p in (ROOT / "tutorials").glob("*.py")
                 if p.read_text().startswith("# %% [markdown]"))


def test_every_lesson_is_found():
    assert {"scalars", "backprop_by_hand", "decision_boundaries", "mnist",
            "the_backward_pass_written"} <= set(LESSONS)


def shows_in(source):
    """How many pictures a cell asks to be shown: its calls of tutorials.output.show."""
    return sum(line.lstrip().startswith("show(") for line in source.splitlines())


def images_in(cell):
    found = []
    for output in cell.get("outputs", []):
        for kind in IMAGE_TYPES:
            if kind in output.get("data", {}):
                found.append((kind, output["data"][kind]))
    return found


def check_image(kind, data):
    if kind == "image/svg+xml":
        text = "".join(data) if isinstance(data, list) else data
        assert "<svg" in text
    else:
        raw = base64.b64decode(data)
        signature = b"\x89PNG" if kind == "image/png" else b"GIF8"
        assert raw.startswith(signature) and len(raw) > 1000


@pytest.mark.parametrize("name", LESSONS)
def test_notebook_runs_in_a_kernel_and_shows_every_figure(name, tmp_path, monkeypatch):
    notebook = jupytext.read(ROOT / "tutorials" / f"{name}.py")
    kernel_cwd, out = tmp_path / "kernel_cwd", tmp_path / "out"
    kernel_cwd.mkdir()
    # the kernel inherits this environment: fast mode, figures under `out`, this checkout
    monkeypatch.setenv("TUTORIALS_FAST", "1")
    monkeypatch.setenv("TUTORIALS_OUT", str(out))
    monkeypatch.setenv("MPLBACKEND", "Agg")
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]))
    client = nbclient.NotebookClient(notebook, kernel_name="python3", timeout=180,
                                     resources={"metadata": {"path": str(kernel_cwd)}})
    client.execute()      # raises CellExecutionError, with the traceback, if a cell fails

    code_cells = [c for c in notebook.cells if c.cell_type == "code"]
    errors = [o for c in code_cells for o in c.get("outputs", []) if o.output_type == "error"]
    assert not errors
    expected_total = 0
    for cell in code_cells:
        expected = shows_in(cell.source)
        images = images_in(cell)
        assert len(images) == expected, (f"{name}: a cell calling show() {expected} times "
                                         f"displayed {len(images)} images:\n{cell.source}")
        for kind, data in images:
            check_image(kind, data)
        expected_total += expected
    assert expected_total >= 1, f"{name} shows no figure"
    written = sorted(p.name for p in (out / name).iterdir())
    assert written, f"{name} wrote no files in its output folder"
    assert not any(kernel_cwd.iterdir()), "files were written relative to the kernel's folder"


def test_the_python3_kernel_runs_this_environments_python(tmp_path):
    import nbformat
    notebook = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(
        "import sys, tutorials.output; print(sys.prefix)")])
    nbclient.NotebookClient(notebook, kernel_name="python3", timeout=60,
                            resources={"metadata": {"path": str(tmp_path)}}).execute()
    assert notebook.cells[0].outputs[0]["text"].strip() == sys.prefix
