"""A local Ethereum node for the rollup's L1: Foundry's anvil (npm `@foundry-rs/anvil-linux-amd64`, pinned in
package-lock.json), run on 127.0.0.1 in the background with its chain kept in a folder, so the contracts
and roots survive a restart (`anvil --state FILE` loads the file at start and writes it on exit; a periodic
dump, `--state-interval`, limits what a hard kill loses).

`AnvilNode(folder).start()` / `.stop()` / `.status()`; `folder/anvil.json` records the pid, port and URL of
the running node, `folder/state.json` the chain, `folder/anvil.log` its output, `folder/port` the port it
listened on (reused at the next start when free, so that the node's URL survives a restart). Owns the process; not the
contracts (zkrollup.ethereum).
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from verifier.solc import SolcError, node_modules

__all__ = ["AnvilError", "AnvilNode", "AnvilStatus", "anvil_binary", "rpc_call"]

#: anvil's development mnemonic ("test test … junk"); its first account funds the operator on a local node.
DEV_KEY = "0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80"
STATE_INTERVAL = 10   # seconds between state dumps while running (a clean stop always writes the state)


class AnvilError(RuntimeError):
    """anvil is missing, did not start, or is not running (one line: what to do)."""


def anvil_binary() -> Path:
    """$ZKROLLUP_ANVIL, else the binary of the pinned npm package in node_modules, else `anvil` on PATH."""
    override = os.environ.get("ZKROLLUP_ANVIL")
    if override:
        return Path(override)
    try:
        candidate = node_modules() / "@foundry-rs" / "anvil-linux-amd64" / "bin" / "anvil"
        if candidate.is_file():
            return candidate
    except SolcError:
        pass
    found = shutil.which("anvil")
    if found:
        return Path(found)
    raise AnvilError("anvil is not installed: run `npm ci` in the zkrollup checkout (package "
                     "@foundry-rs/anvil-linux-amd64), or put Foundry's anvil on PATH")


def rpc_call(url: str, method: str, params: list | None = None, timeout: float = 5.0):
    """One JSON-RPC call (used before web3 is set up, and for anvil's own methods). Raises OSError if the node
    does not answer, AnvilError if it answers with an error."""
    body = json.dumps({"jsonrpc": "2.0", "id": 1, "method": method, "params": params or []}).encode()
    request = urllib.request.Request(url, body, {"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=timeout) as response:
        answer = json.loads(response.read())
    if "error" in answer:
        raise AnvilError(f"{method}: {answer['error'].get('message', answer['error'])}")
    return answer["result"]


def _free_port(preferred: int | None = None) -> int:
    """`preferred` if it can be bound on 127.0.0.1 now, else a port the system picks."""
    if preferred:
        with socket.socket() as s:
            s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)   # a port in TIME_WAIT is free to listen on
            try:
                s.bind(("127.0.0.1", preferred))
                return preferred
            except OSError:
                pass
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:   # a zombie child of ours is not alive
        with open(f"/proc/{pid}/stat") as f:
            return f.read().split(") ", 1)[1][0] != "Z"
    except OSError:
        return True


@dataclass(frozen=True)
class AnvilStatus:
    """`running` with its `pid`, `url` and `block` number; or not running (`url` is None)."""

    running: bool
    pid: int | None = None
    url: str | None = None
    block: int | None = None


class AnvilNode:
    """One anvil process whose chain lives in `folder` (created if missing)."""

    def __init__(self, folder: str | os.PathLike):
        self.folder = Path(folder).resolve()   # absolute: anvil's command line names its state file
        self.info_path = self.folder / "anvil.json"
        self.state_path = self.folder / "state.json"
        self.log_path = self.folder / "anvil.log"
        self.port_path = self.folder / "port"

    def _info(self) -> dict | None:
        try:
            info = json.loads(self.info_path.read_text())
        except (OSError, ValueError):
            return self._orphan()
        return info if isinstance(info, dict) and _alive(int(info.get("pid", -1))) else self._orphan()

    def _orphan(self) -> dict | None:
        """An anvil process whose state file is this folder's but whose anvil.json is gone (the folder was
        removed or edited while it ran): found by its command line in /proc, so that it is seen and stopped
        rather than left writing into the folder beside a new node."""
        wanted = str(self.state_path)
        for entry in Path("/proc").glob("[0-9]*/cmdline"):
            try:
                args = entry.read_bytes().split(b"\0")
            except OSError:
                continue
            words = [a.decode(errors="replace") for a in args if a]
            if words and words[0].endswith("anvil") and "--state" in words and "--port" in words \
                    and words[words.index("--state") + 1] == wanted:
                pid = int(entry.parent.name)
                if _alive(pid):
                    port = int(words[words.index("--port") + 1])
                    return {"pid": pid, "port": port, "url": f"http://127.0.0.1:{port}"}
        return None

    def status(self) -> AnvilStatus:
        """Whether the node is running, and where; reads the block number from it."""
        info = self._info()
        if info is None:
            return AnvilStatus(False)
        try:
            block = int(rpc_call(info["url"], "eth_blockNumber", timeout=2), 16)
        except (OSError, AnvilError, ValueError):
            block = None
        return AnvilStatus(True, int(info["pid"]), info["url"], block)

    @property
    def url(self) -> str:
        """The running node's URL; AnvilError (with the command to start it) if it is not running."""
        info = self._info()
        if info is None:
            raise AnvilError(f"the local L1 node in {self.folder} is not running "
                             f"(start it with `zkrollup l1 start --data-dir {self.folder.parent}`)")
        return info["url"]

    def start(self, *, port: int | None = None, timeout: float = 20.0) -> AnvilStatus:
        """Start anvil on 127.0.0.1 (a free port unless `port`), loading the chain from state.json if there is
        one; returns once it answers JSON-RPC. Already running: returns its status. AnvilError if it fails
        (with the last line of its log)."""
        current = self.status()
        if current.running:
            return current
        self.folder.mkdir(parents=True, exist_ok=True)
        port = port or _free_port(self._last_port())
        url = f"http://127.0.0.1:{port}"
        args = [str(anvil_binary()), "--host", "127.0.0.1", "--port", str(port), "--state", str(self.state_path),
                "--state-interval", str(STATE_INTERVAL), "--chain-id", "31337"]
        with open(self.log_path, "ab") as log:
            process = subprocess.Popen(args, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                       start_new_session=True)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if process.poll() is not None:
                raise AnvilError(f"anvil exited at start (code {process.returncode}): {self._last_log_line()}")
            try:
                rpc_call(url, "eth_chainId", timeout=1)
                break
            except OSError:
                time.sleep(0.05)
        else:
            process.kill()
            raise AnvilError(f"anvil did not answer on {url} within {timeout:.0f} s: {self._last_log_line()}")
        tmp = self.info_path.with_suffix(".partial")
        tmp.write_text(json.dumps({"pid": process.pid, "port": port, "url": url}) + "\n")
        os.replace(tmp, self.info_path)
        self.port_path.write_text(f"{port}\n")
        return self.status()

    def stop(self, *, timeout: float = 20.0) -> bool:
        """Stop the node; it writes its chain to state.json as it exits. Returns False if it was not running."""
        info = self._info()
        if info is None:
            self.info_path.unlink(missing_ok=True)
            return False
        pid = int(info["pid"])
        os.kill(pid, signal.SIGINT)
        deadline = time.monotonic() + timeout
        while _alive(pid) and time.monotonic() < deadline:
            try:   # reap it if it is our child
                os.waitpid(pid, os.WNOHANG)
            except ChildProcessError:
                pass
            time.sleep(0.05)
        if _alive(pid):
            os.kill(pid, signal.SIGKILL)
        self.info_path.unlink(missing_ok=True)
        return True

    def _last_port(self) -> int | None:
        """The port of the previous run (folder/port), so that a restarted node keeps its URL when it can."""
        try:
            return int(self.port_path.read_text())
        except (OSError, ValueError):
            return None

    def _last_log_line(self) -> str:
        try:
            lines = [l for l in self.log_path.read_text(errors="replace").splitlines() if l.strip()]
        except OSError:
            return "no log"
        return lines[-1] if lines else "no output"
