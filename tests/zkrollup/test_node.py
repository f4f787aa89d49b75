"""The rollup node end to end on the Python L1: accounts, transfers, batches proved and settled, refusals that
change nothing, and recovery after a crash between the L1's acceptance and the store's bookkeeping."""

import json

import pytest

from circuits.rollup.layout import Layout, decode_pubdata
from zkrollup.executor import ExecutionError, TransferRefused
from zkrollup.node import NodeError, RollupNode
from zkrollup.store import DuplicateTransfer, StoreError
from zkrollup.wallet import SignedTransfer, Transfer, sign_transfer


def _settle(node):
    batch, dropped = node.build_batch()
    node.prove_batch(batch.number)
    assert node.verify_batch(batch.number)
    node.submit_batch(batch.number)
    return node.batch(batch.number), dropped


def test_transfers_and_a_registration_settle_and_advance_the_l1_root(node):
    genesis_root = node.l1.state_root()
    index, _ = node.register_account()
    node.transfer(2, 3, 100, 5)
    node.transfer(3, index, 40, 1)
    batch, dropped = _settle(node)
    assert not dropped
    assert node.l1.state_root() == batch.new_root != genesis_root
    assert node.store.settled_root() == batch.new_root
    assert [e.new_root for e in node.l1.events()] == [batch.new_root]
    accounts = node.store.accounts()
    assert (accounts[2].balance, accounts[2].nonce) == (1_000_000 - 105, 1)
    assert (accounts[3].balance, accounts[3].nonce) == (1_000_000 + 100 - 41, 1)
    assert accounts[index].balance == 40 and accounts[1].balance == 6
    published = decode_pubdata(node.layout, node.l1.submitted_pubdata(1))
    assert [(t.from_index, t.to_index, t.amount, t.fee) for t in published.transfers] == [(2, 3, 100, 5), (3, index, 40, 1)]
    assert [r.index for r in published.registrations] == [index]


def test_batches_chain_and_extra_transfers_wait_for_the_next_batch(node):
    for amount in (1, 2, 3):
        node.transfer(2, 4, amount, 0)
    first, _ = _settle(node)
    assert len(first.transfer_ids) == node.layout.n_transfers
    assert len(node.store.pending_transfers()) == 1
    second, _ = _settle(node)
    assert second.old_root == first.new_root
    assert node.store.account(2).nonce == 3 and node.store.account(4).balance == 1_000_006


def test_a_transfer_to_oneself_is_proved_like_any_other(node):
    node.transfer(3, 3, 500, 2)
    _settle(node)
    account = node.store.account(3)
    assert (account.balance, account.nonce) == (1_000_000 - 2, 1)


def test_the_fee_account_can_send_and_receive_in_the_batch_that_credits_it(node):
    node.transfer(2, 1, 50, 3)
    _settle(node)
    node.transfer(1, 4, 20, 1)
    node.transfer(4, 1, 5, 0)
    _settle(node)
    assert node.store.account(1).balance == 50 + 3 - 20 - 1 + 5 + 1


def test_invalid_transfers_are_refused_at_admission_and_nothing_is_stored(node):
    before = node.store.snapshot()
    key = node.store.private_key(2)
    chain = node.chain_id
    cases = [
        (sign_transfer(key, Transfer(2, 9, 1, 0, 0), chain), "unknown_receiver"),
        (sign_transfer(key, Transfer(2, 3, 1, 0, 5), chain), "future_nonce"),
        (sign_transfer(key, Transfer(2, 3, 1, 0, 0), chain + 1), "bad_signature"),
        (sign_transfer(node.store.private_key(3), Transfer(2, 3, 1, 0, 0), chain), "bad_signature"),
        (sign_transfer(key, Transfer(2, 3, 999_999, 2, 0), chain), "insufficient_balance"),
    ]
    for signed, reason in cases:
        with pytest.raises(TransferRefused) as refused:
            node.submit_transfer(signed)
        assert refused.value.reason == reason
    assert node.store.snapshot() == before


def test_a_second_transfer_with_the_same_nonce_is_refused(node):
    node.transfer(2, 3, 1, 0)
    duplicate = sign_transfer(node.store.private_key(2), Transfer(2, 4, 1, 0, 0), node.chain_id)
    with pytest.raises((DuplicateTransfer, TransferRefused)):
        node.submit_transfer(duplicate)


def test_a_transfer_made_invalid_by_an_earlier_one_is_dropped_when_the_batch_is_built(node):
    # Both are admitted on their own, but together they overspend: the builder drops the second.
    node.transfer(2, 3, 600_000, 0)
    second = sign_transfer(node.store.private_key(2), Transfer(2, 4, 500_000, 0, 1), node.chain_id)
    node.store.add_transfer(second)          # bypass admission, as a second sequencer process might
    batch, dropped = node.build_batch()
    assert len(batch.transfer_ids) == 1 and [r.split(":")[0] for _, r in dropped] == ["insufficient_balance"]


def test_nothing_to_batch_is_refused(node):
    with pytest.raises(ExecutionError):
        node.build_batch()


def test_submitting_before_proving_is_refused_and_changes_nothing(node):
    node.transfer(2, 3, 1, 0)
    batch, _ = node.build_batch()
    before, root = node.store.snapshot(), node.l1.state_root()
    with pytest.raises(NodeError, match="not proved"):
        node.submit_batch(batch.number)
    assert node.store.snapshot() == before and node.l1.state_root() == root


def test_crash_after_the_l1_accepted_is_settled_on_next_open(data_dir):
    with RollupNode.open(data_dir) as node:
        node.transfer(2, 3, 10, 1)
        batch, _ = node.build_batch()
        node.prove_batch(batch.number)
        proof = node._proof_of(node.batch(batch.number))
        # The L1 accepts, then the process dies before the store records it.
        node.l1.submit_batch(batch.pubdata, batch.new_root, batch.commitment, proof, node.operator)
        assert node.store.batch(batch.number).status == "proved"
    with RollupNode.open(data_dir) as node:
        assert node.store.batch(batch.number).status == "submitted"
        assert node.store.settled_root() == node.l1.state_root() == batch.new_root


def test_a_stored_proof_that_was_corrupted_is_refused(node):
    import sqlite3

    node.transfer(2, 3, 10, 1)
    batch, _ = node.build_batch()
    node.prove_batch(batch.number)
    db = sqlite3.connect(node.store.database_path)
    proof = json.loads(db.execute("SELECT proof FROM batches WHERE number = ?", (batch.number,)).fetchone()[0])
    proof["pi_a"][0] = str(int(proof["pi_a"][0]) + 1)
    db.execute("UPDATE batches SET proof = ? WHERE number = ?", (json.dumps(proof), batch.number))
    db.commit()
    db.close()
    with pytest.raises(StoreError, match="corrupted"):
        node.submit_batch(batch.number)


def test_opening_a_folder_that_is_not_a_data_directory_says_so(tmp_path):
    with pytest.raises(NodeError, match="no such data directory"):
        RollupNode.open(tmp_path / "missing")
    (tmp_path / "empty").mkdir()
    with pytest.raises(NodeError, match="not a zkrollup data directory"):
        RollupNode.open(tmp_path / "empty")


def test_a_data_directory_of_another_format_is_refused(data_dir):
    config = json.loads((data_dir / "node.json").read_text())
    config["format"] = 99
    (data_dir / "node.json").write_text(json.dumps(config))
    with pytest.raises(NodeError, match="another version"):
        RollupNode.open(data_dir)


def test_init_refuses_a_folder_that_is_not_empty(data_dir):
    with pytest.raises(NodeError, match="not empty"):
        RollupNode.init(data_dir, Layout(depth=4, arity=2, n_transfers=1, n_registrations=0))


def test_a_transfer_signed_elsewhere_round_trips_through_its_json_document(node):
    signed = sign_transfer(node.store.private_key(4), Transfer(4, 2, 77, 3, 0), node.chain_id)
    document = json.loads(json.dumps(signed.to_json()))
    node.submit_transfer(SignedTransfer.from_json(document))
    _settle(node)
    assert node.store.account(2).balance == 1_000_077


def test_a_transfer_signed_by_circomlibjs_is_admitted_proved_and_settled(node, run_circomlibjs):
    """An outside wallet: circomlibjs makes the key pair and signs; the rollup registers the key, then accepts,
    proves and settles the transfer from its JSON document alone."""
    from circuits.rollup.layout import transfer_message

    private_key = bytes(range(100, 132))
    ax, ay = (int(v) for v in run_circomlibjs([{"op": "prv2pub", "prv": private_key.hex()}])[0])
    index = node.store.queue_registration(ax, ay)
    node.transfer(2, index, 1_000, 0)
    _settle(node)
    message = transfer_message(node.chain_id, index, 3, 400, 7, 0)
    signature = run_circomlibjs([{"op": "signPoseidon", "prv": private_key.hex(), "msg": str(message)}])[0]
    document = {"from": str(index), "to": "3", "amount": "400", "fee": "7", "nonce": "0", "signature": signature}
    node.submit_transfer(SignedTransfer.from_json(document))
    _settle(node)
    assert (node.store.account(index).balance, node.store.account(3).balance) == (593, 1_000_400)


def test_a_batch_recorded_for_another_circuit_shape_is_refused(node):
    import sqlite3

    node.transfer(2, 3, 10, 1)
    batch, _ = node.build_batch()
    db = sqlite3.connect(node.store.database_path)
    db.execute("UPDATE batches SET layout_fingerprint = ? WHERE number = ?", ("0" * 64, batch.number))
    db.commit()
    db.close()
    with pytest.raises(StoreError, match="another layout"):
        node.prove_batch(batch.number)


def test_without_a_number_prove_and_submit_take_the_oldest_batch_waiting(node):
    node.transfer(2, 3, 1, 0)
    first, _ = node.build_batch()
    node.transfer(3, 4, 1, 0)
    second, _ = node.build_batch()
    assert node.prove_batch().number == first.number
    assert node.prove_batch().number == second.number
    assert node.submit_batch().event.new_root == first.new_root
    assert node.submit_batch().event.new_root == second.new_root
    with pytest.raises(NodeError, match="no built batch"):
        node.prove_batch()
    with pytest.raises(NodeError, match="no batch waiting"):
        node.submit_batch()


def test_init_where_no_folder_can_be_made_is_refused_before_any_setup(tmp_path, monkeypatch):
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    cache = tmp_path / "cache"
    monkeypatch.setenv("ZKROLLUP_CACHE", str(cache))
    with pytest.raises(NodeError, match="cannot make its parent folder"):
        RollupNode.init(blocker / "rollup" / "data", Layout(depth=6, arity=2, n_transfers=3, n_registrations=0))
    assert not cache.exists() or not any(cache.iterdir())      # no circuit built, no key made
