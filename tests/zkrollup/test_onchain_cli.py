"""The rollup on a real Ethereum node from the command line, as a user runs it (real subprocesses): `init --l1
anvil` deploys the verifier and Rollup.sol on a local anvil node kept in the data directory; `l1 stop|start`
keeps the chain across restarts; `status` reads the root from the chain; `sync` rebuilds a data directory
from the L1 alone and proving continues on top of it; each fault (node down, another chain, no contract,
another contract, a revert) is one line on stderr, exit 2, and the store unchanged."""

import json
import os
import shutil
import subprocess
import sys

import pytest

from zkrollup.anvil import AnvilNode
from zkrollup.node import L1_NODE_DIR, RollupNode
from zkrollup.store import Store
from zkrollup.wallet import Transfer, sign_transfer, write_transfer

CLI = [sys.executable, "-m", "zkrollup.cli"]
SHAPE = ("--depth", "4", "--arity", "4", "--transfers", "2", "--registrations", "1")   # tests/zkrollup SMALL


def zk(*args, check=None):
    done = subprocess.run([*CLI, *map(str, args)], capture_output=True, text=True, timeout=600, env=os.environ)
    if check is not None:
        assert done.returncode == check, (done.returncode, done.stdout, done.stderr)
    return done


def one_line_error(done, *words):
    err = done.stderr.strip()
    assert done.returncode == 2, (done.returncode, done.stdout, done.stderr)
    assert err.startswith("error:") and "\n" not in err and "Traceback" not in err, err
    for word in words:
        assert word in err, err
    return err


def store_rows(data_dir):
    with Store.open(data_dir) as store:
        return store.snapshot()


@pytest.fixture(scope="module")
def settled(key_cache, tmp_path_factory):
    """A rollup on its own anvil node with one batch settled through the CLI; anvil stopped after the module."""
    data_dir = tmp_path_factory.mktemp("onchain") / "data"
    zk("init", "--data-dir", data_dir, *SHAPE, "--l1", "anvil", check=0)
    d = ("--data-dir", data_dir)
    zk("transfer", "--from", 2, "--to", 3, "--amount", 100, "--fee", 2, *d, check=0)
    zk("batch", "build", *d, check=0)
    zk("batch", "prove", *d, check=0)
    zk("batch", "submit", *d, check=0)
    yield data_dir
    AnvilNode(data_dir / L1_NODE_DIR).stop()


def _config(data_dir):
    return json.loads((data_dir / "node.json").read_text())


def test_init_deploys_on_anvil_and_status_reads_the_chain(settled):
    status = json.loads(zk("status", "--json", "--data-dir", settled, check=0).stdout)
    config = _config(settled)
    assert config["l1"]["kind"] == "ethereum" and config["l1"]["endpoint"] == "anvil"
    assert status["l1_batches"] == 1 and status["l1_state_root"] == status["settled_root"]
    with RollupNode.open(settled) as node:       # the root status printed is the contract's storage
        assert node.l1.contract.functions.stateRoot().call() == int(status["l1_state_root"])
        assert node.l1.contract.functions.chainId().call() == node.chain_id


def test_the_chain_survives_a_restart_of_the_node(settled):
    before = json.loads(zk("status", "--json", "--data-dir", settled, check=0).stdout)
    url = json.loads(zk("l1", "status", "--json", "--data-dir", settled, check=0).stdout)["url"]
    stopped = json.loads(zk("l1", "stop", "--json", "--data-dir", settled, check=0).stdout)
    assert stopped["stopped"] and (settled / L1_NODE_DIR / "state.json").is_file()
    assert json.loads(zk("l1", "status", "--json", "--data-dir", settled, check=0).stdout)["running"] is False
    one_line_error(zk("status", "--data-dir", settled), "not running", "zkrollup l1 start")
    started = json.loads(zk("l1", "start", "--json", "--data-dir", settled, check=0).stdout)
    assert started["running"] and started["url"] == url      # same port again: the URL others hold still works
    after = json.loads(zk("status", "--json", "--data-dir", settled, check=0).stdout)
    assert after["l1_state_root"] == before["l1_state_root"] and after["l1_batches"] == before["l1_batches"] == 1


def test_sync_rebuilds_from_the_l1_alone_and_proving_continues(settled, tmp_path):
    """The store is gone: `zkrollup sync` rebuilds accounts, balances, nonces, keys and roots from the
    contract's Genesis event, its BatchSubmitted events and the submitBatch calldata, and a new batch proved
    on the rebuilt state is accepted by the contract."""
    url = AnvilNode(settled / L1_NODE_DIR).start().url
    config = _config(settled)
    with Store.open(settled) as store:
        accounts = store.accounts()
        sender_key = store.private_key(3)
    key_file = tmp_path / "operator.key"
    key_file.write_text(json.loads((settled / "operator-key.json").read_text())["private_key"] + "\n")
    rebuilt = tmp_path / "rebuilt"
    done = json.loads(zk("sync", "--json", "--data-dir", rebuilt, "--l1", url, "--rollup", config["l1"]["address"],
                         "--operator-key", key_file, check=0).stdout)
    assert done["imported_batches"] == 1 and done["settled_root"] == done["l1_state_root"]
    with Store.open(rebuilt) as store:
        assert store.accounts() == accounts                     # keys, balances, nonces
        assert store.key_indices() == []                        # users' private keys are not on L1
    # Continue: a transfer signed by the account's owner, proved and settled on top of the rebuilt state.
    nonce = accounts[3].nonce
    with RollupNode.open(rebuilt) as node:
        write_transfer(tmp_path / "t.json", sign_transfer(sender_key, Transfer(3, 4, 7, 1, nonce), node.chain_id))
    d = ("--data-dir", rebuilt)
    zk("transfer", "submit", tmp_path / "t.json", *d, check=0)
    zk("batch", "build", *d, check=0)
    zk("batch", "prove", *d, check=0)
    submitted = json.loads(zk("batch", "submit", "--json", *d, check=0).stdout)
    assert submitted["batch_number"] == 2
    status = json.loads(zk("status", "--json", *d, check=0).stdout)
    assert status["l1_state_root"] == submitted["new_root"] == status["settled_root"]


def test_a_reverted_submission_leaves_the_batch_proved(settled, tmp_path):
    """A follower synced without the operator's key is no operator: the contract reverts with NotOperator,
    the CLI says so in one line, and the batch stays proved, ready to resubmit."""
    url = AnvilNode(settled / L1_NODE_DIR).start().url
    follower = tmp_path / "follower"
    zk("sync", "--data-dir", follower, "--l1", url, "--rollup", _config(settled)["l1"]["address"], check=0)
    with RollupNode.open(follower) as node:
        node.register_account()
        node.build_batch()
        node.prove_batch()
    before = store_rows(follower)
    one_line_error(zk("batch", "submit", "--data-dir", follower), "NotOperator")
    assert store_rows(follower) == before
    with Store.open(follower) as store:
        assert store.latest_batch().status == "proved"


def test_l1_faults_are_one_line_and_change_nothing(settled, tmp_path):
    url = AnvilNode(settled / L1_NODE_DIR).start().url
    config = _config(settled)
    rollup = config["l1"]["address"]
    # unreachable node
    one_line_error(zk("sync", "--data-dir", tmp_path / "a", "--l1", "http://127.0.0.1:9", "--rollup", rollup),
                   "http://127.0.0.1:9", "no Ethereum node answers")
    # an address with no code, and another contract's address (the verifier)
    one_line_error(zk("sync", "--data-dir", tmp_path / "b", "--l1", url, "--rollup", "0x" + "11" * 20),
                   "no contract")
    one_line_error(zk("sync", "--data-dir", tmp_path / "c", "--l1", url, "--rollup", config["l1"]["verifier"]),
                   "not a zkrollup Rollup")
    one_line_error(zk("sync", "--data-dir", tmp_path / "d", "--l1", url, "--rollup", "0x12"), "--rollup")
    one_line_error(zk("sync", "--data-dir", tmp_path / "d", "--l1", url, "--rollup", "0x" + "zz" * 20), "--rollup")
    for folder in "abcd":
        assert not (tmp_path / folder).exists()
    # a node on another chain id than the deployment's
    copy = tmp_path / "copy"
    shutil.copytree(settled, copy, ignore=shutil.ignore_patterns(L1_NODE_DIR))
    edited = _config(copy)
    edited["l1"] |= {"endpoint": url, "l1_chain_id": 1}
    (copy / "node.json").write_text(json.dumps(edited))
    before = store_rows(copy)
    one_line_error(zk("status", "--data-dir", copy), "is chain 31337", "deployed on chain 1")
    assert store_rows(copy) == before
    # a bad operator key file
    bad = tmp_path / "bad.key"
    bad.write_text("not a key\n")
    one_line_error(zk("init", "--data-dir", tmp_path / "e", *SHAPE, "--l1", url, "--operator-key", bad),
                   str(bad), "not an Ethereum private key")
    assert not (tmp_path / "e").exists()
    # an unfunded operator on a URL: refused before any setup
    empty = tmp_path / "empty.key"
    empty.write_text("0x" + "42" * 32 + "\n")
    one_line_error(zk("init", "--data-dir", tmp_path / "f", *SHAPE, "--l1", url, "--operator-key", empty),
                   "has no ether")
    assert not (tmp_path / "f").exists()


def test_init_on_any_json_rpc_url_with_a_funded_operator_key(key_cache, anvil_url, tmp_path):
    """`--l1 URL --operator-key FILE`: the operator's own funded key deploys and submits; the data directory
    records the URL, and the key file it keeps is readable by its owner only."""
    from zkrollup.anvil import DEV_KEY

    key_file = tmp_path / "operator.key"
    key_file.write_text(DEV_KEY + "\n")
    data_dir = tmp_path / "data"
    zk("init", "--data-dir", data_dir, *SHAPE, "--l1", anvil_url, "--operator-key", key_file, check=0)
    config = _config(data_dir)
    assert config["l1"]["endpoint"] == anvil_url and not (data_dir / L1_NODE_DIR).exists()
    assert (data_dir / "operator-key.json").stat().st_mode & 0o077 == 0
    with RollupNode.open(data_dir) as node:
        assert node.operator == node.l1.signers[node.operator].address and node.l1.is_operator(node.operator)
        node.transfer(2, 4, 9, 1)
        node.build_batch()
        node.prove_batch()
        receipt = node.submit_batch()
        assert receipt.event.batch_number == 1 and node.l1.state_root() == receipt.event.new_root
        assert node.l1.w3.eth.get_transaction_receipt(receipt.tx_hash)["status"] == 1
