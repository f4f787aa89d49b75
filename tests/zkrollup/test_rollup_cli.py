"""The rollup's command line, run as a user runs it (real subprocesses): the whole flow; bad input ends in one
line on stderr, exit code 2 and a store exactly as before; `kill -9` during `batch prove` or `batch submit`
loses nothing and the next run finishes the job; two `transfer` processes at once lose neither transfer."""

import json
import os
import signal
import subprocess
import sys
import time

import pytest

from zkrollup.node import FAILPOINT_ENV, RollupNode
from zkrollup.store import Store
from zkrollup.wallet import Transfer, sign_transfer, write_transfer

CLI = [sys.executable, "-m", "zkrollup.cli"]


def zk(*args, env=None, check=None):
    done = subprocess.run([*CLI, *map(str, args)], capture_output=True, text=True, timeout=600,
                          env={**os.environ, **(env or {})})
    if check is not None:
        assert done.returncode == check, (done.returncode, done.stdout, done.stderr)
    return done


def snapshot(data_dir):
    with Store.open(data_dir) as store:
        store_rows = store.snapshot()
    l1 = (data_dir / "l1.sqlite").read_bytes()
    return store_rows, l1


def one_line_error(done, *words):
    err = done.stderr.strip()
    assert done.returncode == 2, (done.returncode, done.stdout, done.stderr)
    assert err.startswith("error:") and "\n" not in err and "Traceback" not in err, err
    for word in words:
        assert word in err, err
    return err


def test_the_whole_flow_from_the_command_line(data_dir, tmp_path):
    d = ("--data-dir", data_dir)
    new = json.loads(zk("account", "new", "--json", *d, check=0).stdout)
    zk("transfer", "--from", 2, "--to", 3, "--amount", 100, "--fee", 2, *d, check=0)
    zk("transfer", "--from", 3, "--to", new["index"], "--amount", 10, "--out", tmp_path / "t.json", *d, check=0)
    zk("transfer", "submit", tmp_path / "t.json", *d, check=0)
    built = json.loads(zk("batch", "build", "--json", *d, check=0).stdout)
    assert built["transfers"] and built["registrations"] == [new["index"]]
    zk("batch", "prove", *d, check=0)
    assert "OK" in zk("batch", "verify", *d, check=0).stdout
    submitted = json.loads(zk("batch", "submit", "--json", *d, check=0).stdout)
    status = json.loads(zk("status", "--json", *d, check=0).stdout)
    assert status["l1_state_root"] == status["settled_root"] == submitted["new_root"] == built["new_root"]
    shown = json.loads(zk("account", "show", new["index"], "--json", *d, check=0).stdout)
    assert shown["balance"] == "10"


def _signed_file(data_dir, path, sender=2, **changes):
    with RollupNode.open(data_dir) as node:
        fields = dict(from_index=sender, to_index=3, amount=5, fee=1, nonce=0)
        fields.update({k: v for k, v in changes.items() if k in fields})
        signed = sign_transfer(node.store.private_key(sender), Transfer(**fields), node.chain_id)
    write_transfer(path, signed)
    return path


def _bad_signature(data_dir, path):
    _signed_file(data_dir, path)
    document = json.loads(path.read_text())
    document["amount"] = "6"                     # signed for 5
    path.write_text(json.dumps(document))
    return path


@pytest.mark.parametrize("make_args, words", [
    (lambda d, p: ("transfer", "--from", 2, "--to", 9, "--amount", 1), ("account 9 does not exist",)),
    (lambda d, p: ("transfer", "--from", 2, "--to", 3, "--amount", 999_999, "--fee", 2), ("exceeds the balance",)),
    (lambda d, p: ("transfer", "--from", 2, "--to", 3, "--amount", 2 ** 64), ("u64",)),
    (lambda d, p: ("transfer", "--from", 2, "--to", 3, "--amount=-5"), ("--amount",)),
    (lambda d, p: ("transfer", "--from", 2, "--to", 3, "--amount", "1.5"), ("--amount",)),
    (lambda d, p: ("transfer", "--from", 2, "--to", 3, "--amount", "ten"), ("--amount",)),
    (lambda d, p: ("transfer", "--from", 7, "--to", 3, "--amount", 1), ("no key for account 7",)),
    (lambda d, p: ("transfer", "submit", _bad_signature(d, p)), ("signature",)),
    (lambda d, p: ("transfer", "submit", _signed_file(d, p, nonce=4)), ("nonce 4",)),
    (lambda d, p: ("transfer", "submit", p.write_text('{"from": "2"') and p), ("t.json",)),
    (lambda d, p: ("transfer", "submit", p.parent / "missing.json"), ("missing.json",)),
    (lambda d, p: ("batch", "prove"), ("no built batch",)),
    (lambda d, p: ("batch", "build"), ("nothing to batch",)),
    (lambda d, p: ("account", "show", 12), ("account 12 does not exist",)),
    (lambda d, p: ("transfer", "--from", 2, "--to", 3, "--amount", 1, "--out", _signed_file(d, p)),
     ("t.json", "already exists")),
])
def test_bad_input_is_one_line_exit_two_and_changes_nothing(data_dir, tmp_path, make_args, words):
    args = make_args(data_dir, tmp_path / "t.json")
    before = snapshot(data_dir)
    one_line_error(zk(*args, "--data-dir", data_dir), *words)
    assert snapshot(data_dir) == before


def test_receiver_overflow_is_refused(key_cache, tmp_path):
    from circuits.rollup.layout import Layout

    data_dir = tmp_path / "rich"
    layout = Layout(depth=4, arity=4, n_transfers=2, n_registrations=1, binding="evaluation")
    RollupNode.init(data_dir, layout, accounts=2, balance=2 ** 64 - 1).close()
    before = snapshot(data_dir)
    one_line_error(zk("transfer", "--from", 2, "--to", 3, "--amount", 1, "--data-dir", data_dir), "overflow")
    assert snapshot(data_dir) == before


def test_a_missing_or_foreign_data_directory_is_refused(tmp_path, data_dir):
    one_line_error(zk("status", "--data-dir", tmp_path / "nowhere"), "no such data directory")
    config = json.loads((data_dir / "node.json").read_text())
    (data_dir / "node.json").write_text(json.dumps({**config, "format": 7}))
    one_line_error(zk("status", "--data-dir", data_dir), "another version")


def test_a_corrupted_store_file_is_refused(data_dir):
    database = data_dir / "rollup.sqlite"
    raw = bytearray(database.read_bytes())
    for i in range(4096, len(raw)):              # every page after the first (schema) page
        raw[i] ^= 0x5A
    database.write_bytes(bytes(raw))
    one_line_error(zk("status", "--data-dir", data_dir))


def test_a_corrupted_proving_key_is_refused(data_dir):
    zk("transfer", "--from", 2, "--to", 3, "--amount", 1, "--data-dir", data_dir, check=0)
    zk("batch", "build", "--data-dir", data_dir, check=0)
    key = json.loads((data_dir / "node.json").read_text())["proving_key"]
    original = open(key, "rb").read()
    try:
        corrupted = bytearray(original)
        corrupted[len(corrupted) // 2] ^= 0x01
        open(key, "wb").write(bytes(corrupted))
        before = snapshot(data_dir)
        one_line_error(zk("batch", "prove", "--data-dir", data_dir), "do not match the hash")
        assert snapshot(data_dir) == before
    finally:
        open(key, "wb").write(original)


def _built(data_dir):
    zk("transfer", "--from", 2, "--to", 3, "--amount", 7, "--fee", 1, "--data-dir", data_dir, check=0)
    zk("batch", "build", "--data-dir", data_dir, check=0)


def test_kill_during_prove_leaves_the_store_as_it_was_and_the_next_run_proves(data_dir):
    _built(data_dir)
    before = snapshot(data_dir)
    died = zk("batch", "prove", "--data-dir", data_dir, env={FAILPOINT_ENV: "prove:before-record"})
    assert died.returncode == -signal.SIGKILL
    assert snapshot(data_dir) == before
    zk("batch", "prove", "--data-dir", data_dir, check=0)
    zk("batch", "submit", "--data-dir", data_dir, check=0)


def test_kill_at_a_random_moment_of_prove_changes_nothing(data_dir):
    _built(data_dir)
    before = snapshot(data_dir)
    process = subprocess.Popen([*CLI, "batch", "prove", "--data-dir", str(data_dir)],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    time.sleep(1.5)
    process.kill()
    process.wait(timeout=60)
    if process.returncode == 0:
        pytest.skip("the proof finished before the kill")
    assert snapshot(data_dir) == before


def test_kill_after_the_l1_accepted_is_finished_by_the_next_submit(data_dir):
    _built(data_dir)
    zk("batch", "prove", "--data-dir", data_dir, check=0)
    died = zk("batch", "submit", "--data-dir", data_dir, env={FAILPOINT_ENV: "submit:after-l1"})
    assert died.returncode == -signal.SIGKILL
    again = json.loads(zk("batch", "submit", "--json", "--data-dir", data_dir, check=0).stdout)
    status = json.loads(zk("status", "--json", "--data-dir", data_dir, check=0).stdout)
    assert status["l1_state_root"] == status["settled_root"] == again["new_root"]
    assert status["batches"] == {"built": 0, "proved": 0, "submitted": 1}


def test_two_transfer_processes_at_once_lose_neither(data_dir):
    commands = [[*CLI, "transfer", "--from", str(sender), "--to", "3", "--amount", "1", "--data-dir", str(data_dir)]
                for sender in (2, 4, 2, 4)]
    processes = [subprocess.Popen(c, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for c in commands]
    results = [p.communicate(timeout=300) + (p.returncode,) for p in processes]
    assert all(code == 0 for _, _, code in results), results
    with Store.open(data_dir) as store:
        pending = store.pending_transfers()
    assert sorted((t.transfer.from_index, t.transfer.nonce) for t in pending) == [(2, 0), (2, 1), (4, 0), (4, 1)]


def test_the_demo_runs_end_to_end_at_a_small_shape(key_cache, tmp_path):
    done = zk("demo", "--depth", 4, "--arity", 4, "--transfers", 2, "--registrations", 1, "--json",
              "--data-dir", tmp_path / "demo", check=0)
    result = json.loads(done.stdout)
    assert result["ok"] and len(result["refused"]) == 2 and all("InvalidProof" in r for r in result["refused"])
    roots = list(result["roots"].values())
    assert len(roots) >= 3 and len(set(roots)) == len(roots)          # genesis, then a new root per batch
    # It settled on anvil, stopped it, and saved the chain: restarted, the contract holds the last root, and
    # the data directory rebuilt from the L1 alone holds the same state.
    from zkrollup.anvil import AnvilNode

    anvil = AnvilNode(tmp_path / "demo" / "l1")
    assert not anvil.status().running
    anvil.start()
    try:
        with RollupNode.open(tmp_path / "demo") as node, RollupNode.open(tmp_path / "demo-synced") as follower:
            assert node.config["l1"]["kind"] == "ethereum"
            assert str(node.l1.state_root()) == roots[-1] == str(follower.store.settled_root())
            assert follower.store.accounts() == node.store.accounts()
    finally:
        anvil.stop()
    # The timing table accounts for the whole run.
    assert sum(result["timings"].values()) <= result["seconds"] + 0.5


def test_the_demo_into_a_used_folder_says_so_before_printing_anything(data_dir):
    done = zk("demo", "--depth", 4, "--transfers", 2, "--registrations", 1, "--data-dir", data_dir)
    one_line_error(done, "not empty")
    assert done.stdout == ""
