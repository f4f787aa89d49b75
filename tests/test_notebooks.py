"""The tutorial notebooks run top to bottom, and are committed without outputs.

Each notebook under notebooks/ is executed with nbclient from the repository root, in a "python3"
kernel that runs this interpreter (ipykernel, a pinned test dependency, provides that kernel spec
inside the venv). A failing cell fails the test with the cell's source and traceback. Committed
notebooks must carry no outputs and no execution counts: strip them with scripts/strip_notebooks.py.
"""

from __future__ import annotations

import importlib.util
import subprocess
import sys
import time
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))
STRIP = ROOT / "scripts" / "strip_notebooks.py"
KERNEL = "python3"
CELL_TIMEOUT_S = 900   # generous: a fresh Numba cache compiles the kernels on first use (minutes on busy cores)


def _execute(notebook: nbformat.NotebookNode) -> nbformat.NotebookNode:
    client = NotebookClient(notebook, timeout=CELL_TIMEOUT_S, startup_timeout=120, kernel_name=KERNEL,
                            resources={"metadata": {"path": str(ROOT)}})
    return client.execute()


def _unstripped_cells(notebook: nbformat.NotebookNode) -> list[str]:
    return [f"cell {i}: {'outputs' if cell.outputs else 'execution count'}"
            for i, cell in enumerate(notebook.cells)
            if cell.cell_type == "code" and (cell.outputs or cell.execution_count is not None)]


def test_the_tutorial_notebooks_are_there():
    assert {"01_circuits.ipynb", "02_groth16.ipynb"} <= {path.name for path in NOTEBOOKS}


def test_the_kernel_is_this_interpreter():
    probe = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("import os, sys\nprint(sys.executable)\n"
                                                                     "print(os.getcwd())")])
    lines = _execute(probe).cells[0].outputs[0]["text"].splitlines()
    assert Path(lines[0]).resolve() == Path(sys.executable).resolve()
    assert Path(lines[1]).resolve() == ROOT


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[path.stem for path in NOTEBOOKS])
def test_committed_notebook_has_no_outputs_and_no_execution_counts(path):
    notebook = nbformat.read(path, as_version=4)
    nbformat.validate(notebook)
    assert not _unstripped_cells(notebook), (
        f"{path.name} was committed with {', '.join(_unstripped_cells(notebook))}: "
        f"run .venv/bin/python scripts/strip_notebooks.py")


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[path.stem for path in NOTEBOOKS])
def test_notebook_runs_top_to_bottom(path):
    notebook = nbformat.read(path, as_version=4)
    start = time.perf_counter()
    try:
        executed = _execute(notebook)
    except CellExecutionError as error:
        pytest.fail(f"{path.name}: {error}", pytrace=False)
    elapsed = time.perf_counter() - start
    print(f"{path.name}: executed in {elapsed:.1f} s")
    assert all(cell.execution_count is not None for cell in executed.cells if cell.cell_type == "code")


def test_strip_script_removes_outputs_and_counts_and_check_reports_them(tmp_path):
    notebook = nbformat.v4.new_notebook(cells=[nbformat.v4.new_markdown_cell("# prose"),
                                               nbformat.v4.new_code_cell("1 + 1")])
    executed = _execute(notebook)
    path = tmp_path / "example.ipynb"
    nbformat.write(executed, path)
    assert _unstripped_cells(nbformat.read(path, as_version=4))
    check = [sys.executable, str(STRIP), "--check", str(path)]
    assert subprocess.run(check, capture_output=True, text=True).returncode == 1
    assert subprocess.run([sys.executable, str(STRIP), str(path)], capture_output=True, text=True).returncode == 0
    stripped = nbformat.read(path, as_version=4)
    assert not _unstripped_cells(stripped)
    assert [cell.source for cell in stripped.cells] == ["# prose", "1 + 1"]
    assert subprocess.run(check, capture_output=True, text=True).returncode == 0
