"""The state rebuilt from the L1 alone (genesis accounts + accepted pubdata) equals the sequencer's, root for
root; L1 data that does not replay to the roots it holds is refused."""

import sqlite3

import pytest

from zkrollup.sync import SyncError, rebuild_state


def _settle(node):
    batch, _ = node.build_batch()
    node.prove_batch(batch.number)
    node.submit_batch(batch.number)


def test_the_state_rebuilt_from_the_l1_equals_the_sequencers(node):
    index, _ = node.register_account()
    node.transfer(2, index, 300, 3)
    _settle(node)
    node.transfer(index, 4, 100, 1)
    node.transfer(4, 1, 5, 0)
    _settle(node)
    report = rebuild_state(node.l1)
    assert report.state.root == node.l1.state_root() == node.store.settled_root()
    assert report.state.accounts == node.store.accounts()
    assert report.roots == [node.l1.genesis_root()] + [e.new_root for e in node.l1.events()]


def test_a_genesis_account_hidden_from_the_published_list_is_found_out(node):
    db = sqlite3.connect(node.l1.path)
    db.execute("DELETE FROM genesis WHERE idx = 4")
    db.commit()
    db.close()
    with pytest.raises(SyncError, match="genesis"):
        rebuild_state(node.l1)


def test_pubdata_that_does_not_replay_to_the_accepted_root_is_refused(node):
    node.transfer(2, 3, 10, 1)
    _settle(node)
    db = sqlite3.connect(node.l1.path)
    pubdata = bytearray(db.execute("SELECT pubdata FROM batches WHERE number = 1").fetchone()[0])
    pubdata[-20] ^= 1                      # the amount of the second (disabled) slot, or the first's
    db.execute("UPDATE batches SET pubdata = ? WHERE number = 1", (bytes(pubdata),))
    db.commit()
    db.close()
    with pytest.raises(SyncError, match="batch 1"):
        rebuild_state(node.l1)
