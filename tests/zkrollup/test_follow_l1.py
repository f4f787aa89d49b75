"""A node keeps in step with its L1 when it opens (RollupNode.reconcile): it takes in batches another
operator (or another node of the same operator) settled, abandoning its own unsubmitted ones; and when a local
chain lost batches the store holds as submitted (anvil killed before its state dump), it puts them back to
`proved` so that `batch submit` sends them again. Either way the store's root ends equal to the contract's."""

import json
import os
import signal
import time

from circuits.rollup.layout import Layout
from zkrollup.anvil import AnvilNode
from zkrollup.node import L1_NODE_DIR, RollupNode
from zkrollup.wallet import Transfer, sign_transfer

#: tests/zkrollup/conftest.py SMALL: its key is made once per session by the key_cache fixture.
SMALL = Layout(depth=4, arity=4, n_transfers=2, n_registrations=1, binding="evaluation")


def _operator_key(data_dir) -> bytes:
    return bytes.fromhex(json.loads((data_dir / "operator-key.json").read_text())["private_key"].removeprefix("0x"))


def _settle(node, sender, receiver, amount):
    node.transfer(sender, receiver, amount, 1)
    node.build_batch()
    node.prove_batch()
    return node.submit_batch()


def test_two_nodes_of_one_rollup_take_each_others_batches_in(key_cache, tmp_path):
    a_dir, b_dir = tmp_path / "a", tmp_path / "b"
    a = RollupNode.init(a_dir, SMALL, accounts=3, l1="anvil")
    anvil = AnvilNode(a_dir / L1_NODE_DIR)
    try:
        url, address, key_3 = anvil.url, a.l1.address, a.store.private_key(3)
        RollupNode.sync(b_dir, url, address, operator_key=_operator_key(a_dir)).close()
        _settle(a, 2, 3, 10)
        a.transfer(2, 4, 11, 1)
        a.build_batch()                                   # built on A, never submitted
        a.close()
        with RollupNode.open(b_dir) as b:                 # B takes A's batch in from the L1
            assert any("did not make" in n for n in b.notices)
            assert b.store.settled_root() == b.l1.state_root() and len(b.store.batches()) == 1
            nonce = b.store.account(3).nonce
            b.submit_transfer(sign_transfer(key_3, Transfer(3, 2, 5, 1, nonce), b.chain_id))
            b.build_batch()
            b.prove_batch()
            b.submit_batch()
            b_accounts = b.store.accounts()
        with RollupNode.open(a_dir) as a:                 # A takes B's in; its own built batch is abandoned
            assert any("did not make" in n for n in a.notices)
            assert a.store.settled_root() == a.l1.state_root() and a.store.accounts() == b_accounts
            assert [t.transfer.to_index for t in a.store.pending_transfers()] == [4]
            a.build_batch()                               # the abandoned transfer, rebuilt on the new root
            a.prove_batch()
            assert a.submit_batch().event.batch_number == 3
    finally:
        anvil.stop()


def test_batches_a_killed_local_chain_lost_are_proved_again_and_resubmitted(key_cache, tmp_path):
    data_dir = tmp_path / "a"
    node = RollupNode.init(data_dir, SMALL, accounts=3, l1="anvil")
    anvil = AnvilNode(data_dir / L1_NODE_DIR)
    try:
        _settle(node, 2, 3, 10)
        node.close()
        anvil.stop()                                      # a clean stop saves the chain with batch 1
        anvil.start()
        with RollupNode.open(data_dir) as node:
            lost = _settle(node, 3, 4, 7)                 # batch 2: accepted, then lost below
            accounts = node.store.accounts()
        os.kill(json.loads((data_dir / L1_NODE_DIR / "anvil.json").read_text())["pid"], signal.SIGKILL)
        time.sleep(0.3)
        anvil.start()                                     # the chain as last dumped: batch 1 only
        with RollupNode.open(data_dir) as node:
            assert node.l1.batch_count() == 1
            assert any("lost batches 2" in n for n in node.notices)
            assert node.store.batch(2).status == "proved"
            assert node.store.settled_root() == node.l1.state_root()
            again = node.submit_batch()
            assert again.event.new_root == lost.event.new_root
            assert node.store.accounts() == accounts and node.store.settled_root() == node.l1.state_root()
    finally:
        anvil.stop()


def test_the_store_deleted_the_data_directory_is_rebuilt_from_the_l1_and_proving_goes_on(key_cache, tmp_path):
    """Everything but the chain (l1/) is deleted; `RollupNode.sync` into the same folder rebuilds it from the
    contract's events and calldata alone, and the next batch, proved on the rebuilt state, is accepted."""
    import shutil

    data_dir = tmp_path / "a"
    node = RollupNode.init(data_dir, SMALL, accounts=3, l1="anvil")
    anvil = AnvilNode(data_dir / L1_NODE_DIR)
    try:
        _settle(node, 2, 3, 10)
        node.register_account()
        _settle(node, 3, 4, 5)
        accounts, address, key_2 = node.store.accounts(), node.l1.address, node.store.private_key(2)
        operator = _operator_key(data_dir)
        node.close()
        for entry in data_dir.iterdir():
            if entry.name != L1_NODE_DIR:
                shutil.rmtree(entry) if entry.is_dir() else entry.unlink()
        with RollupNode.sync(data_dir, anvil.url, address, operator_key=operator) as rebuilt:
            assert rebuilt.config["l1"]["endpoint"] == "anvil"       # still the folder's own local node
            assert rebuilt.store.accounts() == accounts and len(rebuilt.store.batches()) == 2
            nonce = rebuilt.store.account(2).nonce
            rebuilt.submit_transfer(sign_transfer(key_2, Transfer(2, 4, 3, 1, nonce), rebuilt.chain_id))
            rebuilt.build_batch()
            rebuilt.prove_batch()
            assert rebuilt.submit_batch().event.batch_number == 3
            assert rebuilt.store.settled_root() == rebuilt.l1.state_root()
    finally:
        anvil.stop()
