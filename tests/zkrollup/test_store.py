"""The sequencer's store: every operation, all-or-nothing transactions, two writing processes, the keystore,
and refusal of foreign, corrupted or tampered files. Batches are built by the real executor."""

import json
import os
import sqlite3
import stat
import subprocess
import sys
import time
from pathlib import Path

import pytest

from circuits.babyjub import FIELD_MODULUS
from circuits.rollup.layout import Layout
from zkrollup.executor import execute_batch
from zkrollup.state import Account, RollupState
from zkrollup.store import (
    DATABASE_NAME,
    KEYSTORE_NAME,
    SCHEMA_VERSION,
    DuplicateTransfer,
    Store,
    StoreError,
)
from zkrollup.wallet import KeyPair, SignedTransfer, Transfer, sign_transfer

LAYOUT = Layout(depth=4, arity=2, n_transfers=2, n_registrations=1)
CHAIN_ID = 5
KEYS = [KeyPair.from_private_key(bytes([i]) * 32) for i in range(1, 6)]
PROOF = json.dumps({"pi_a": ["1", "2", "1"], "protocol": "groth16", "curve": "bn128"})
PUBLIC = json.dumps(["1", "2"])


def _genesis():
    return {1: Account(*KEYS[0].public_key, 1000, 0), 2: Account(*KEYS[1].public_key, 50, 0),
            3: Account(*KEYS[2].public_key, 0, 0)}


@pytest.fixture
def store(tmp_path):
    with Store.create(tmp_path / "data", LAYOUT, CHAIN_ID, 3, _genesis()) as s:
        yield s


def _transfer(sender, to, amount, fee, nonce):
    return sign_transfer(KEYS[sender - 1], Transfer(sender, to, amount, fee, nonce), CHAIN_ID)


def build_batch(store, state=None):
    """What the node does: execute the pending registrations and transfers on `state` (default: the settled
    state) and record the result. Returns (Batch, BatchResult)."""
    state = state or store.settled_state()
    registrations = store.pending_registrations()[:store.layout.n_registrations]
    pending = store.pending_transfers()
    result = execute_batch(state, store.chain_id, store.fee_account, registrations, pending)
    batch = store.insert_batch(
        old_root=result.inputs.old_root, new_root=result.new_root, pubdata=result.pubdata,
        commitment=result.inputs.commitment, witness_inputs=json.dumps(result.inputs.to_json()),
        transfer_ids=[pending[i].id for i in result.included],
        registration_indices=[registrations[i].index for i in result.registrations],
        dropped=[(pending[i].id, refused.reason) for i, refused in result.dropped],
        accounts_after={i: result.state.get(i) for i in result.touched})
    return batch, result


def _raw(store):
    """A second, plain sqlite3 connection to the store's file (what an attacker or a bad disk can do)."""
    return sqlite3.connect(store.database_path, isolation_level=None)


# ---------------------------------------------------------------------------------------------------
# Creating and opening


def test_create_records_meta_and_genesis_and_open_reads_it_back(store):
    genesis = _genesis()
    assert store.accounts() == genesis
    assert store.genesis_accounts == genesis
    assert store.genesis_root == RollupState(LAYOUT, genesis).root == store.settled_root() == store.tip_root()
    reopened = Store.open(store.directory)
    assert (reopened.layout, reopened.chain_id, reopened.fee_account, reopened.genesis_root, reopened.created_at) == \
        (LAYOUT, CHAIN_ID, 3, store.genesis_root, store.created_at)
    assert abs(reopened.created_at - time.time()) < 600
    reopened.close()


def test_database_is_in_wal_mode_with_a_schema_version(store):
    with _raw(store) as raw:
        assert raw.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert raw.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()[0] == str(SCHEMA_VERSION)


def test_u64_and_field_values_are_stored_as_decimal_text(store):
    store.add_transfer(_transfer(1, 2, (1 << 64) - 1, (1 << 64) - 1, 0))
    with _raw(store) as raw:
        amount, fee = raw.execute("SELECT amount, fee FROM transfers").fetchone()
        ax, = raw.execute("SELECT ax FROM accounts WHERE idx = 1").fetchone()
    assert (amount, fee, ax) == (str((1 << 64) - 1), str((1 << 64) - 1), str(KEYS[0].public_key.x))
    assert store.pending_transfers()[0].transfer.amount == (1 << 64) - 1


def test_create_refuses_an_existing_store(store):
    with pytest.raises(StoreError, match="already holds a store"):
        Store.create(store.directory, LAYOUT, CHAIN_ID, 3, _genesis())


def test_create_refuses_a_directory_with_a_stray_keystore(tmp_path):
    (tmp_path / KEYSTORE_NAME).write_text("{}")
    with pytest.raises(StoreError, match="keystore.json exists"):
        Store.create(tmp_path, LAYOUT, CHAIN_ID, 3, _genesis())
    assert (tmp_path / KEYSTORE_NAME).read_text() == "{}"


@pytest.mark.parametrize("change, rule", [
    (lambda g: g.update({0: Account(*KEYS[3].public_key, 1, 0)}), "account index 0 is outside 1..15"),
    (lambda g: g.update({16: Account(*KEYS[3].public_key, 1, 0)}), "account index 16 is outside 1..15"),
    (lambda g: g.update({4: Account(*KEYS[3].public_key, 1, 1)}), "account 4 must start with nonce 0"),
    (lambda g: g.update({4: Account(0, FIELD_MODULUS - 1, 1, 0)}), "account 4 key.*not a Baby Jubjub point of large order"),
    (lambda g: g.update({4: Account(1, 2, 1, 0)}), "account 4 key.*not a Baby Jubjub point"),
    (lambda g: g.pop(3), "fee account 3 is not one of the genesis accounts"),
    (lambda g: g.clear(), "genesis accounts must be a non-empty mapping"),
])
def test_create_refuses_bad_genesis_and_leaves_nothing(tmp_path, change, rule):
    genesis = _genesis()
    change(genesis)
    with pytest.raises(StoreError, match=rule):
        Store.create(tmp_path / "data", LAYOUT, CHAIN_ID, 3, genesis)
    assert not (tmp_path / "data").exists() or not any((tmp_path / "data").iterdir())


def test_create_refuses_a_chain_id_outside_the_field(tmp_path):
    with pytest.raises(StoreError, match="chain id must be a field element"):
        Store.create(tmp_path, LAYOUT, FIELD_MODULUS, 3, _genesis())


def test_open_refuses_a_missing_directory_or_store(tmp_path):
    with pytest.raises(StoreError, match="no such directory"):
        Store.open(tmp_path / "nowhere")
    with pytest.raises(StoreError, match="no store here"):
        Store.open(tmp_path)
    assert not (tmp_path / DATABASE_NAME).exists()


def test_open_refuses_another_schema_version(store):
    with _raw(store) as raw:
        raw.execute("UPDATE meta SET value = ? WHERE key = 'schema_version'", (str(SCHEMA_VERSION + 1),))
    with pytest.raises(StoreError, match=f"made by store schema version {SCHEMA_VERSION + 1}; "
                                         f"this zkrollup reads version {SCHEMA_VERSION}$"):
        Store.open(store.directory)


def test_open_refuses_an_sqlite_file_that_is_not_a_store(tmp_path):
    sqlite3.connect(tmp_path / DATABASE_NAME).execute("CREATE TABLE t (x)").connection.close()
    with pytest.raises(StoreError, match="not a zkrollup store"):
        Store.open(tmp_path)


def test_open_refuses_a_file_that_is_not_sqlite(tmp_path):
    (tmp_path / DATABASE_NAME).write_bytes(os.urandom(8192))
    with pytest.raises(StoreError, match="the database is unreadable or corrupted \\(file is not a database\\)$") as error:
        Store.open(tmp_path)
    assert "\n" not in str(error.value)


def test_open_refuses_a_corrupted_page_wherever_it_is(store):
    signed = _transfer(1, 2, 5, 1, 0)
    for nonce in range(40):   # rows enough for the mempool to span several pages
        store.add_transfer(SignedTransfer(Transfer(1, 2, 5, 1, nonce), signed.signature))
    store.close()
    path = store.database_path
    intact = path.read_bytes()
    page_size = int.from_bytes(intact[16:18], "big")
    n_pages = len(intact) // page_size
    assert n_pages > 10
    for page in range(n_pages):      # page 0 holds the file header and the schema
        data = bytearray(intact)
        for offset in range(page * page_size, (page + 1) * page_size):
            data[offset] ^= 0xFF
        path.write_bytes(bytes(data))
        with pytest.raises(StoreError, match=f"^{path}: the database is (unreadable or )?corrupted") as error:
            Store.open(store.directory)
        assert "\n" not in str(error.value)
    path.write_bytes(intact)
    Store.open(store.directory).close()


def test_open_refuses_a_missing_or_exposed_keystore(store):
    keystore = store.keystore_path
    keystore.chmod(0o644)
    with pytest.raises(StoreError, match="open to other users \\(mode 0644\\); chmod 600 it"):
        Store.open(store.directory)
    keystore.unlink()
    with pytest.raises(StoreError, match="no keystore"):
        Store.open(store.directory)


# ---------------------------------------------------------------------------------------------------
# Keystore


def test_keystore_keeps_keys_with_mode_0600(store):
    store.add_key(1, KEYS[0].private_key)
    store.add_key(2, KEYS[1].private_key)
    store.add_key(1, KEYS[0].private_key)    # again: no change
    assert store.key_indices() == [1, 2]
    assert store.private_key(2) == KEYS[1].private_key
    assert stat.S_IMODE(store.keystore_path.stat().st_mode) == 0o600
    assert Store.open(store.directory).private_key(1) == KEYS[0].private_key
    assert [p.name for p in store.directory.iterdir() if p.name.startswith(".")] == []   # no temp file left


def test_key_for_a_queued_registration_is_kept(store):
    index = store.queue_registration(*KEYS[4].public_key)
    store.add_key(index, KEYS[4].private_key)
    assert store.private_key(index) == KEYS[4].private_key


def test_keys_never_appear_in_errors_reprs_or_snapshots(store):
    store.add_key(1, KEYS[0].private_key)
    secrets_hex = {k.private_key.hex() for k in KEYS}
    messages = [repr(store), repr(store.snapshot()), str(store.snapshot())]
    for bad in (lambda: store.add_key(2, KEYS[3].private_key),       # not account 2's key
                lambda: store.add_key(1, KEYS[1].private_key),       # not account 1's key
                lambda: store.add_key(9, KEYS[3].private_key),       # no such account
                lambda: store.add_key(1, KEYS[0].private_key[:31]),  # wrong length
                lambda: store.private_key(4)):
        with pytest.raises(StoreError) as error:
            bad()
        messages.append(str(error.value))
    text = "\n".join(messages)
    assert not any(h in text for h in secrets_hex)
    assert not any(h[:16] in text for h in secrets_hex)
    assert "not the key of that account" in messages[3]
    assert "holds no key for account 4" in messages[-1]


def test_another_key_for_an_index_with_one_is_refused(store, tmp_path):
    store.add_key(1, KEYS[0].private_key)
    before = store.snapshot()
    # Plant a different key for account 1 by hand: add_key must refuse to replace it.
    document = json.loads(store.keystore_path.read_text())
    document["keys"]["1"] = "00" * 32
    store.keystore_path.write_text(json.dumps(document))
    with pytest.raises(StoreError, match="already holds another key for account 1"):
        store.add_key(1, KEYS[0].private_key)
    assert store.private_key(1) == bytes(32)
    assert before["accounts"] == store.snapshot()["accounts"]


# ---------------------------------------------------------------------------------------------------
# Registrations


def test_registration_indices_go_above_every_account_and_registration(store):
    first = store.queue_registration(*KEYS[3].public_key)
    second = store.queue_registration(*KEYS[4].public_key)
    assert (first, second) == (4, 5)
    assert [(r.index, r.ax, r.ay, r.status) for r in store.pending_registrations()] == \
        [(4, *KEYS[3].public_key, "pending"), (5, *KEYS[4].public_key, "pending")]


def test_first_registration_never_takes_index_0(tmp_path):
    with Store.create(tmp_path, LAYOUT, CHAIN_ID, 15, {15: Account(*KEYS[0].public_key, 0, 0)}) as s:
        with pytest.raises(StoreError, match="the account tree is full: all 15 indices are taken"):
            s.queue_registration(*KEYS[1].public_key)


def test_registration_indices_stop_at_the_tree_size(tmp_path):
    layout = Layout(depth=2, arity=2, n_transfers=1, n_registrations=1)
    with Store.create(tmp_path, layout, CHAIN_ID, 1, {1: Account(*KEYS[0].public_key, 0, 0)}) as s:
        assert [s.queue_registration(*KEYS[1].public_key) for _ in range(2)] == [2, 3]
        before = s.snapshot()
        with pytest.raises(StoreError, match="the account tree is full: all 3 indices are taken"):
            s.queue_registration(*KEYS[1].public_key)
        assert s.snapshot() == before


@pytest.mark.parametrize("key", [(0, FIELD_MODULUS - 1), (1, 2), (0, 1)])
def test_registration_of_a_key_the_circuit_refuses_is_refused(store, key):
    before = store.snapshot()
    with pytest.raises(StoreError, match="not a Baby Jubjub point of large order"):
        store.queue_registration(*key)
    assert store.snapshot() == before


# ---------------------------------------------------------------------------------------------------
# Mempool


def test_pending_transfers_come_in_arrival_order(store):
    signed = [_transfer(2, 1, 1, 0, 0), _transfer(1, 2, 5, 1, 0), _transfer(1, 3, 5, 1, 1)]
    ids = [store.add_transfer(s) for s in signed]
    assert ids == sorted(ids)
    pending = store.pending_transfers()
    assert [(p.id, p.signed, p.status) for p in pending] == [(i, s, "pending") for i, s in zip(ids, signed)]
    assert store.transfer(ids[1]).signed == signed[1]
    assert store.transfer(999) is None


def test_second_transfer_with_a_held_sender_nonce_is_refused(store):
    store.add_transfer(_transfer(1, 2, 5, 1, 0))
    before = store.snapshot()
    with pytest.raises(DuplicateTransfer, match="account 1 already has transfer 1 \\(pending\\) with nonce 0"):
        store.add_transfer(_transfer(1, 3, 1, 1, 0))
    assert store.snapshot() == before
    store.add_transfer(_transfer(2, 1, 1, 1, 0))   # another sender, same nonce: fine


def test_batched_and_included_transfers_keep_their_nonce(store):
    store.add_transfer(_transfer(1, 2, 5, 1, 0))
    batch, _ = build_batch(store)
    with pytest.raises(DuplicateTransfer, match="\\(batched\\)"):
        store.add_transfer(_transfer(1, 3, 7, 1, 0))
    store.record_proof(batch.number, PROOF, PUBLIC)
    store.mark_submitted(batch.number)
    with pytest.raises(DuplicateTransfer, match="\\(included\\)"):
        store.add_transfer(_transfer(1, 3, 7, 1, 0))


def test_dropped_transfer_frees_its_nonce(store):
    poor = store.add_transfer(_transfer(2, 1, 500, 1, 0))     # balance 50: dropped when built
    good = store.add_transfer(_transfer(1, 2, 5, 1, 0))
    batch, _ = build_batch(store)
    assert batch.transfer_ids == (good,)
    assert batch.dropped == ((poor, "insufficient_balance"),)
    assert store.transfer(poor).status == "dropped"
    again = store.add_transfer(_transfer(2, 1, 10, 1, 0))
    assert [p.id for p in store.pending_transfers()] == [again]


# ---------------------------------------------------------------------------------------------------
# Batches


def test_batch_life_built_proved_submitted(store):
    index = store.queue_registration(*KEYS[3].public_key)
    ids = [store.add_transfer(_transfer(1, 2, 100, 3, 0)), store.add_transfer(_transfer(2, 1, 10, 2, 0)),
           store.add_transfer(_transfer(1, 2, 1, 1, 1))]    # third: no slot left, stays pending
    batch, result = build_batch(store)
    assert (batch.number, batch.status, batch.layout_fingerprint) == (1, "built", LAYOUT.fingerprint())
    assert (batch.old_root, batch.new_root, batch.pubdata, batch.commitment) == \
        (store.genesis_root, result.new_root, result.pubdata, result.inputs.commitment)
    assert batch.transfer_ids == tuple(ids[:2]) and batch.registration_indices == (index,)
    assert json.loads(batch.witness_inputs) == result.inputs.to_json()
    assert batch.proof is None and batch.proved_at is None
    assert store.tip_root() == result.new_root and store.settled_root() == store.genesis_root
    assert [p.id for p in store.pending_transfers()] == [ids[2]]
    assert store.pending_registrations() == []
    assert store.accounts() == _genesis()     # nothing settles before submission

    proved = store.record_proof(1, PROOF, PUBLIC)
    assert (proved.status, proved.proof, proved.public_inputs) == ("proved", PROOF, PUBLIC)
    submitted = store.mark_submitted(1)
    assert submitted.status == "submitted" and submitted.submitted_at >= submitted.proved_at >= submitted.built_at
    assert store.accounts() == result.state.accounts
    assert RollupState(LAYOUT, store.accounts()).root == batch.new_root == store.settled_root()
    assert store.accounts()[1] == Account(*KEYS[0].public_key, 1000 - 103 + 10, 1)
    assert store.accounts()[3].balance == 5
    assert [store.transfer(i).status for i in ids] == ["included", "included", "pending"]
    assert store.registration(index).status == "included"
    assert store.batches() == [store.latest_batch()] == [store.batch(1)]
    assert store.batch(2) is None


def test_second_batch_builds_on_the_first(store):
    store.add_transfer(_transfer(1, 2, 100, 3, 0))
    first, result = build_batch(store)
    store.add_transfer(_transfer(1, 2, 100, 3, 1))
    second, _ = build_batch(store, result.state)     # pipelined before the first settles
    assert (second.number, second.old_root) == (2, first.new_root)
    store.record_proof(2, PROOF, PUBLIC)
    with pytest.raises(StoreError, match="batch 1 must be submitted before batch 2"):
        store.mark_submitted(2)
    with pytest.raises(StoreError, match="batch 1 is built; only a proved batch can be submitted"):
        store.mark_submitted(1)
    with pytest.raises(StoreError, match="batch 2 builds on batch 1: abandon it first"):
        store.abandon_batch(1)
    store.record_proof(1, PROOF, PUBLIC)
    store.mark_submitted(1)
    store.mark_submitted(2)
    assert store.account(1).nonce == 2 and store.settled_root() == second.new_root


def test_insert_batch_refuses_a_batch_not_on_the_tip_root(store):
    store.add_transfer(_transfer(1, 2, 100, 3, 0))
    state = store.settled_state()
    build_batch(store)
    store.add_transfer(_transfer(2, 1, 1, 1, 0))
    before = store.snapshot()
    with pytest.raises(StoreError, match="the batch starts from root .*, but the latest root is"):
        build_batch(store, state)        # built on the genesis state again
    assert store.snapshot() == before


def test_insert_batch_refusal_midway_changes_nothing(store):
    a = store.add_transfer(_transfer(1, 2, 100, 3, 0))
    b = store.add_transfer(_transfer(2, 1, 10, 2, 0))
    pending = store.pending_transfers()
    result = execute_batch(store.settled_state(), CHAIN_ID, 3, [], pending)
    store.add_transfer(_transfer(1, 2, 1, 1, 1))
    # Meanwhile b went into another batch: made up here by marking it batched by hand.
    with _raw(store) as raw:
        raw.execute("UPDATE transfers SET status = 'included' WHERE id = ?", (b,))
    before = store.snapshot()
    with pytest.raises(StoreError, match=f"transfer {b} is included, not pending"):
        store.insert_batch(old_root=result.inputs.old_root, new_root=result.new_root, pubdata=result.pubdata,
                           commitment=result.inputs.commitment, witness_inputs="{}", transfer_ids=[a, b],
                           registration_indices=[], dropped=[], accounts_after={})
    assert store.snapshot() == before      # the batch row and a's update were rolled back
    assert store.transfer(a).status == "pending" and store.latest_batch() is None


@pytest.mark.parametrize("changes, rule", [
    (dict(pubdata=b"\0" * 3), "pubdata is 3 bytes; layout d4-a2-t2-r1-evaluation has"),
    (dict(commitment=None), "commitment must be a field element"),
    (dict(witness_inputs="{not json"), "witness_inputs is not valid JSON"),
    (dict(transfer_ids=[1, 2, 3]), "3 transfers and 0 registrations do not fit 2 \\+ 1 slots"),
    (dict(transfer_ids=[1, 1]), "a transfer is named twice"),
    (dict(transfer_ids=[], dropped=[(1, "")]), "dropped transfer 1 needs a reason"),
    (dict(transfer_ids=[77]), "no transfer 77"),
    (dict(registration_indices=[9]), "no registration 9"),
    (dict(new_root="root"), "new_root must be a field element"),
    (dict(accounts_after={0: Account(1, 2, 3, 4)}), "accounts_after: account index 0 is outside"),
])
def test_insert_batch_refuses_bad_arguments_and_changes_nothing(store, changes, rule):
    store.add_transfer(_transfer(1, 2, 100, 3, 0))
    arguments = dict(old_root=store.genesis_root, new_root=1, pubdata=bytes(LAYOUT.pubdata_length), commitment=7,
                     witness_inputs="{}", transfer_ids=[1], registration_indices=[], dropped=[], accounts_after={})
    arguments.update(changes)
    before = store.snapshot()
    with pytest.raises(StoreError, match=rule):
        store.insert_batch(**arguments)
    assert store.snapshot() == before


def test_sha256_binding_batches_have_no_commitment(tmp_path):
    layout = Layout(depth=4, arity=2, n_transfers=1, n_registrations=1, binding="sha256")
    with Store.create(tmp_path, layout, CHAIN_ID, 3, _genesis()) as s:
        s.add_transfer(_transfer(1, 2, 100, 3, 0))
        batch, _ = build_batch(s)
        assert batch.commitment is None
        with pytest.raises(StoreError, match="the sha256 binding has no commitment"):
            s.insert_batch(old_root=batch.new_root, new_root=1, pubdata=bytes(layout.pubdata_length), commitment=7,
                           witness_inputs="{}", transfer_ids=[], registration_indices=[], dropped=[],
                           accounts_after={})


def test_record_proof_refuses_a_submitted_batch_or_bad_json(store):
    store.add_transfer(_transfer(1, 2, 100, 3, 0))
    build_batch(store)
    with pytest.raises(StoreError, match="batch 1: proof is not valid JSON"):
        store.record_proof(1, "{", PUBLIC)
    store.record_proof(1, PROOF, PUBLIC)
    store.record_proof(1, PROOF.replace("1", "9"), PUBLIC)     # re-proving a proved batch replaces the proof
    assert store.batch(1).proof == PROOF.replace("1", "9")
    store.mark_submitted(1)
    with pytest.raises(StoreError, match="batch 1 is submitted; only a built or proved batch takes a proof"):
        store.record_proof(1, PROOF, PUBLIC)
    with pytest.raises(StoreError, match="no batch 2"):
        store.record_proof(2, PROOF, PUBLIC)


def test_abandoned_batch_returns_its_transfers_and_registrations(store):
    index = store.queue_registration(*KEYS[3].public_key)
    poor = store.add_transfer(_transfer(2, 1, 500, 1, 0))    # dropped, then its nonce is taken
    poorer = store.add_transfer(_transfer(3, 1, 500, 1, 0))  # dropped, nonce stays free
    good = store.add_transfer(_transfer(1, 2, 5, 1, 0))
    before = store.snapshot()
    batch, _ = build_batch(store)
    assert batch.dropped == ((poor, "insufficient_balance"), (poorer, "insufficient_balance"))
    retry = store.add_transfer(_transfer(2, 1, 5, 1, 0))
    store.record_proof(batch.number, PROOF, PUBLIC)
    store.abandon_batch(batch.number)
    assert store.latest_batch() is None and store.tip_root() == store.genesis_root
    assert [p.id for p in store.pending_transfers()] == [poorer, good, retry]
    assert (store.transfer(poor).status, store.transfer(poor).drop_reason) == ("dropped", "insufficient_balance")
    assert [r.index for r in store.pending_registrations()] == [index]
    again, _ = build_batch(store)
    assert again.number == 1
    # Apart from the extra transfer and the sequence counter, the tables are as before the first build.
    after = store.snapshot()
    assert after["accounts"] == before["accounts"] and after["meta"] == before["meta"]


def test_submitted_batch_cannot_be_abandoned(store):
    store.add_transfer(_transfer(1, 2, 5, 1, 0))
    build_batch(store)
    store.record_proof(1, PROOF, PUBLIC)
    store.mark_submitted(1)
    before = store.snapshot()
    with pytest.raises(StoreError, match="batch 1 is submitted and cannot be abandoned"):
        store.abandon_batch(1)
    assert store.snapshot() == before


def test_corrupted_proof_is_refused_naming_the_batch(store):
    store.add_transfer(_transfer(1, 2, 5, 1, 0))
    build_batch(store)
    store.record_proof(1, PROOF, PUBLIC)
    with _raw(store) as raw:
        raw.execute("UPDATE batches SET proof = ? WHERE number = 1", (PROOF.replace('"2"', '"3"'),))
    for read in (lambda: store.batch(1), store.batches, store.latest_batch, lambda: store.mark_submitted(1)):
        with pytest.raises(StoreError, match="^batch 1: the stored proof fails its SHA-256 check: corrupted, refusing it$"):
            read()
    assert store.accounts() == _genesis()


def test_corrupted_public_inputs_are_refused(store):
    store.add_transfer(_transfer(1, 2, 5, 1, 0))
    build_batch(store)
    store.record_proof(1, PROOF, PUBLIC)
    with _raw(store) as raw:
        raw.execute("UPDATE batches SET public_inputs = '[\"1\", \"3\"]' WHERE number = 1")
    with pytest.raises(StoreError, match="^batch 1: the stored public-inputs text fails its SHA-256 check"):
        store.batch(1)


def test_mark_submitted_failing_midway_changes_nothing(store):
    store.queue_registration(*KEYS[3].public_key)
    store.add_transfer(_transfer(1, 2, 5, 1, 0))
    build_batch(store)
    store.record_proof(1, PROOF, PUBLIC)
    # A real SQLite failure in the last table mark_submitted writes, after accounts and transfers changed.
    with _raw(store) as raw:
        raw.execute("CREATE TRIGGER fail BEFORE UPDATE OF status ON registrations "
                    "BEGIN SELECT RAISE(ABORT, 'disk said no'); END")
    before = store.snapshot()
    with pytest.raises(StoreError, match="database error \\(disk said no\\)"):
        store.mark_submitted(1)
    assert store.snapshot() == before
    assert store.accounts() == _genesis() and store.batch(1).status == "proved"


def test_abandon_failing_midway_changes_nothing(store):
    store.queue_registration(*KEYS[3].public_key)
    store.add_transfer(_transfer(1, 2, 5, 1, 0))
    build_batch(store)
    with _raw(store) as raw:
        raw.execute("CREATE TRIGGER fail BEFORE DELETE ON batches BEGIN SELECT RAISE(ABORT, 'no'); END")
    before = store.snapshot()
    with pytest.raises(StoreError, match="database error"):
        store.abandon_batch(1)
    assert store.snapshot() == before


def test_corrupted_decimal_in_a_table_is_refused(store):
    with _raw(store) as raw:
        raw.execute("UPDATE accounts SET balance = '0x10' WHERE idx = 2")
    with pytest.raises(StoreError, match="corrupted store: account 2 balance is not a canonical decimal"):
        store.accounts()


# ---------------------------------------------------------------------------------------------------
# Two processes

WORKER = """
import json, sys, time
from pathlib import Path
from zkrollup.store import Store, DuplicateTransfer
from zkrollup.wallet import SignedTransfer, Transfer
directory, sender, count, shared, go, template = sys.argv[1:]
template = SignedTransfer.from_json(json.loads(template))
store = Store.open(directory)
Path(go + "." + sender).touch()    # ready
while not Path(go).exists():
    time.sleep(0.01)
added, duplicates, started = [], 0, time.time()
nonces = [(int(sender), n) for n in range(int(count))] + [(int(shared), n) for n in range(int(count) // 4)]
nonces.sort(key=lambda pair: pair[1])
for from_index, nonce in nonces:
    try:
        added.append(store.add_transfer(SignedTransfer(Transfer(from_index, 1, 1, 0, nonce), template.signature)))
    except DuplicateTransfer:
        duplicates += 1
print(json.dumps({"added": added, "duplicates": duplicates, "started": started, "ended": time.time()}))
"""


@pytest.mark.slow
def test_two_processes_adding_transfers_at_once_lose_none(store, tmp_path):
    # The store does not check signatures (the node does), so one signature serves every transfer here.
    template = json.dumps(_transfer(1, 2, 1, 0, 0).to_json())
    go = tmp_path / "go"
    count = 300
    workers = [subprocess.Popen([sys.executable, "-c", WORKER, str(store.directory), str(sender), str(count), "9",
                                 str(go), template], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
               for sender in (7, 8)]
    deadline = time.monotonic() + 300
    while not all(Path(f"{go}.{sender}").exists() for sender in (7, 8)):   # both imported and opened
        assert time.monotonic() < deadline and all(w.poll() is None for w in workers), "a worker did not start"
        time.sleep(0.01)
    go.touch()
    reports = []
    for worker in workers:
        out, err = worker.communicate(timeout=600)
        assert worker.returncode == 0, err
        reports.append(json.loads(out))
    shared = count // 4
    first, second = reports[0]["added"], reports[1]["added"]
    # The two ran at once (SQLite's busy handler may still let one writer take most turns; none is lost).
    assert max(r["started"] for r in reports) < min(r["ended"] for r in reports)
    added = first + second
    assert len(added) == len(set(added)) == 2 * count + shared
    assert reports[0]["duplicates"] + reports[1]["duplicates"] == shared    # each shared nonce won exactly once
    pending = store.pending_transfers()
    assert sorted(p.id for p in pending) == sorted(added)
    held = {(p.transfer.from_index, p.transfer.nonce) for p in pending}
    assert held == {(s, n) for s in (7, 8) for n in range(count)} | {(9, n) for n in range(shared)}
    assert [p.id for p in pending] == sorted(added)      # arrival order


def test_a_writer_waits_for_another_process_transaction(store):
    # Another connection holds the write lock for a moment; add_transfer waits instead of failing.
    holder = subprocess.Popen([sys.executable, "-c", (
        "import sqlite3, sys, time\n"
        "db = sqlite3.connect(sys.argv[1], isolation_level=None)\n"
        "db.execute('BEGIN IMMEDIATE'); print('locked', flush=True); time.sleep(1.5); db.execute('COMMIT')\n"),
        str(store.database_path)], stdout=subprocess.PIPE, text=True)
    assert holder.stdout.readline().strip() == "locked"
    started = time.monotonic()
    store.add_transfer(_transfer(1, 2, 5, 1, 0))
    waited = time.monotonic() - started
    holder.wait(timeout=60)
    assert waited > 0.5
    assert len(store.pending_transfers()) == 1
