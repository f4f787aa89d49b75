"""The README's Python examples run as written (documentation that cannot silently rot)."""

import re
from pathlib import Path

import pytest

README = Path(__file__).resolve().parents[1] / "README.md"
BLOCKS = re.findall(r"```python\n(.*?)```", README.read_text(), re.S)


@pytest.mark.parametrize("index", range(len(BLOCKS)))
def test_readme_python_example_runs(index):
    exec(compile(BLOCKS[index], f"README.md python block {index}", "exec"), {})


def test_readme_starts_with_the_two_commands():
    commands = re.findall(r"```bash\n(.*?)```", README.read_text(), re.S)[0].splitlines()
    assert commands[0].startswith("bash scripts/demo") and commands[1].startswith("bash scripts/test")
    assert "bash scripts/test" in (README.parent / ".ci" / "run").read_text()
