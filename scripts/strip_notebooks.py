"""Strip outputs, execution counts and run-time cell metadata from notebooks, in place.

Committed notebooks carry only what a person wrote, so a diff shows the prose and the code, never a
re-run's pictures or timings (tests/test_notebooks.py fails on a notebook that still has them).

    .venv/bin/python scripts/strip_notebooks.py                 # every notebooks/*.ipynb
    .venv/bin/python scripts/strip_notebooks.py path.ipynb ...  # just these
    .venv/bin/python scripts/strip_notebooks.py --check         # list unstripped notebooks, exit 1 if any
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import nbformat

REPO = Path(__file__).resolve().parent.parent
# Cell metadata a front end writes while running (timings, collapsed/scrolled state), not by a person.
RUNTIME_CELL_METADATA = ("execution", "collapsed", "scrolled", "ExecuteTime")


def strip(notebook: nbformat.NotebookNode) -> bool:
    """Remove outputs, execution counts and run-time metadata in place; True if anything changed."""
    changed = False
    for cell in notebook.cells:
        if cell.cell_type == "code":
            if cell.outputs or cell.execution_count is not None:
                cell.outputs, cell.execution_count = [], None
                changed = True
        for key in RUNTIME_CELL_METADATA:
            if key in cell.metadata:
                del cell.metadata[key]
                changed = True
    if "widgets" in notebook.metadata:
        del notebook.metadata["widgets"]
        changed = True
    return changed


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("paths", nargs="*", type=Path, help="notebooks (default: notebooks/*.ipynb)")
    parser.add_argument("--check", action="store_true", help="change nothing; exit 1 if a notebook needs stripping")
    args = parser.parse_args(argv)
    paths = args.paths or sorted((REPO / "notebooks").glob("*.ipynb"))
    dirty = []
    for path in paths:
        try:
            notebook = nbformat.read(path, as_version=4)
        except (OSError, ValueError) as error:
            print(f"error: {path}: cannot read as a notebook: {error}", file=sys.stderr)
            return 2
        if strip(notebook):
            dirty.append(path)
            if not args.check:
                nbformat.write(notebook, path)
    for path in dirty:
        print(f"{'needs stripping' if args.check else 'stripped'}: {path}")
    return 1 if args.check and dirty else 0


if __name__ == "__main__":
    sys.exit(main())
