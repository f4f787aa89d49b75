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


BASH_BLOCKS = re.findall(r"```bash\n(.*?)```", README.read_text(), re.S)
# The first block is the two commands this suite is run by; a block marked "one-time setup" installs things.
RUNNABLE = [i for i, block in enumerate(BASH_BLOCKS) if i > 0 and "one-time setup" not in block.splitlines()[0]
            and "scripts/bench_" not in block]


@pytest.mark.parametrize("index", RUNNABLE)
def test_readme_bash_block_runs_top_to_bottom(index, tmp_path, key_cache_dir):
    """Each bash block runs as written, top to bottom, in a fresh folder, with the venv's commands on PATH."""
    import os
    import subprocess
    import sys

    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}",
           "ZKROLLUP_CACHE": str(key_cache_dir)}
    done = subprocess.run(["bash", "-euo", "pipefail", "-c", BASH_BLOCKS[index]], cwd=tmp_path, env=env,
                          capture_output=True, text=True, timeout=1200)
    assert done.returncode == 0, f"README bash block {index} failed:\n{done.stdout[-2000:]}\n{done.stderr[-3000:]}"


@pytest.fixture(scope="module")
def key_cache_dir(tmp_path_factory):
    return tmp_path_factory.mktemp("readme-key-cache")
