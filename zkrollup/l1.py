"""The rollup's L1: one interface (`L1`) and the Python stand-in (`PythonL1`) with the contract's semantics
(docs/DESIGN.md §5): a stored state root, an operator allow-list, and `submit_batch(pubdata, new_root,
commitment, proof)` that derives the binding's public inputs from the calldata itself (z and y, or
data_hash, never taken from the prover), verifies the Groth16 proof, and only then advances the root and
records a `BatchSubmitted` event. A refused batch changes nothing. The Solidity contract on a real EVM
implements the same interface; the rollup does not care which L1 it talks to.

The stand-in keeps its state in its own SQLite file (`l1.sqlite` in the data directory), apart from the
sequencer's store, as a real chain would be; each submission is one transaction.
"""

from __future__ import annotations

import json
import secrets
import sqlite3
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol, Sequence

from circuits.babyjub import is_low_order, is_on_curve
from circuits.rollup import layout as lay
from circuits.rollup.layout import BALANCE_BITS, Layout
from verifier import snarkjs
from verifier.groth16 import verify
from verifier.types import Proof, VerifierInputError, VerifyingKey

__all__ = ["BatchSubmitted", "GenesisAccount", "L1", "L1Error", "PythonL1", "SubmitReceipt", "estimate_gas"]

R = lay.R
SCHEMA_VERSION = 1


class L1Error(Exception):
    """The L1 refused a call. `error` is the contract's custom error name (e.g. `InvalidProof`,
    `NotOperator`, `PubdataLength`, `RootOutOfRange`, `RootUnchanged`, `InvalidGenesis`)."""

    def __init__(self, error: str, message: str):
        super().__init__(f"{error}: {message}")
        self.error = error


@dataclass(frozen=True)
class GenesisAccount:
    """An account published by the deployment (the contract's constructor): index, key, balance; nonce 0."""

    index: int
    ax: int
    ay: int
    balance: int


@dataclass(frozen=True)
class BatchSubmitted:
    """The event a successful submission emits (Solidity: `BatchSubmitted(batchNumber, oldRoot, newRoot)`)."""

    batch_number: int
    old_root: int
    new_root: int


@dataclass(frozen=True)
class SubmitReceipt:
    """What a submission returns: the event, a transaction id, and its gas (measured on an EVM, estimated
    by the stand-in with `estimate_gas`)."""

    event: BatchSubmitted
    tx_hash: str
    gas_used: int


class L1(Protocol):
    """What the rollup needs of its L1. Implemented by PythonL1 here and by an EVM contract client."""

    chain_id: int            # the deployment's chain id (a public input of every proof)
    layout: Layout

    def state_root(self) -> int: ...
    def batch_count(self) -> int: ...
    def genesis_root(self) -> int: ...
    def genesis_accounts(self) -> list[GenesisAccount]: ...
    def submitted_pubdata(self, batch_number: int) -> bytes: ...
    def submit_batch(self, pubdata: bytes, new_root: int, commitment: int | None, proof: Proof,
                     sender: str) -> SubmitReceipt: ...
    def events(self) -> list[BatchSubmitted]: ...


def estimate_gas(layout: Layout, pubdata: bytes) -> int:
    """An estimate of a `submitBatch` transaction's gas on Ethereum (Prague pricing), for the stand-in:
    21,000 base; calldata at 16 gas a nonzero byte and 4 a zero byte (EIP-2028), with the proof (256 bytes),
    new root and commitment; Groth16 verification through the precompiles (EIP-1108: pairing 45,000 +
    4 × 34,000, one ecMul 6,000 and ecAdd 150 per public input, about 10,000 of overhead); the binding (Horner
    over the elements with mulmod, about 90 gas each, and two keccak256 calls; or the SHA-256 precompile,
    60 + 12 a word); two storage writes (5,000 each) and the event (about 2,000)."""
    data_bytes = bytes(pubdata) + b"\x01" * (256 + 64)
    calldata = sum(16 if b else 4 for b in data_bytes) + 4 * 32
    n_public = len(layout.public_input_names)
    verification = 45_000 + 4 * 34_000 + n_public * (6_000 + 150) + 10_000
    if layout.binding == "evaluation":
        binding = 90 * layout.n_elements + 2 * (30 + 6 * ((len(pubdata) + 31) // 32)) + 500
    else:
        binding = 60 + 12 * ((len(pubdata) + 31) // 32) + 500
    return 21_000 + calldata + verification + binding + 2 * 5_000 + 2_000


class PythonL1:
    """The L1 stand-in: the contract's checks in Python, state in `<data_dir>/l1.sqlite`.

    Create with `deploy`, reopen with `open`. Verification uses our Groth16 verifier with the verifying key
    fixed at deployment (as Verifier.sol is rendered from it).
    """

    FILE = "l1.sqlite"

    def __init__(self, db: sqlite3.Connection, path: Path):
        self._db = db
        self.path = path
        meta = dict(db.execute("SELECT key, value FROM deployment"))
        if int(meta.get("schema_version", -1)) != SCHEMA_VERSION:
            raise L1Error("InvalidDeployment", f"{path}: made by another version of the L1 stand-in")
        self.layout = Layout.from_json(json.loads(meta["layout"]))
        self.chain_id = int(meta["chain_id"])
        self.address = meta["address"]
        self.l1_chain_id = int(meta["l1_chain_id"])
        self.verifying_key: VerifyingKey = snarkjs.verifying_key_from_json(json.loads(meta["verifying_key"]))
        self.operators = set(json.loads(meta["operators"]))

    # --- deployment ------------------------------------------------------------------------------
    @classmethod
    def deploy(cls, data_dir: Path, layout: Layout, verifying_key: VerifyingKey, genesis_root: int,
               genesis_accounts: Sequence[GenesisAccount], operators: Sequence[str], *,
               l1_chain_id: int = 31337) -> "PythonL1":
        """Deploy: check the genesis accounts as the constructor does (indices strictly increasing in (0, 2^D),
        balance < 2^64, key on the curve and not of low order), fix the chain id from (l1_chain_id, a fresh
        contract address), store the genesis root and accounts. L1Error("InvalidGenesis") otherwise."""
        path = Path(data_dir) / cls.FILE
        if path.exists():
            raise L1Error("AlreadyDeployed", f"{path} already holds a deployment")
        previous = 0
        for account in genesis_accounts:     # strictly increasing indices, as the constructor requires
            if not previous < account.index < layout.n_accounts:
                raise L1Error("InvalidGenesis", f"genesis account index {account.index} is reserved, out of range, "
                                                "repeated or out of order")
            previous = account.index
            if not 0 <= account.balance < 1 << BALANCE_BITS:
                raise L1Error("InvalidGenesis", f"genesis account {account.index}: balance is not a u64")
            key = (account.ax, account.ay)
            if not (0 <= account.ax < R and 0 <= account.ay < R) or not is_on_curve(key) or is_low_order(key):
                raise L1Error("InvalidGenesis", f"genesis account {account.index}: key is not a point of large order")
        if not 0 <= genesis_root < R:
            raise L1Error("InvalidGenesis", "genesis root is not below r")
        address = secrets.token_bytes(20)
        chain_id = lay.deployment_chain_id(l1_chain_id, address)
        tmp = path.with_suffix(".partial")
        if tmp.exists():
            tmp.unlink()
        db = sqlite3.connect(tmp, isolation_level=None)
        with db:
            db.execute("BEGIN")
            db.execute("CREATE TABLE deployment (key TEXT PRIMARY KEY, value TEXT NOT NULL)")
            db.execute("CREATE TABLE genesis (idx INTEGER PRIMARY KEY, ax TEXT, ay TEXT, balance TEXT)")
            db.execute("CREATE TABLE batches (number INTEGER PRIMARY KEY, old_root TEXT, new_root TEXT, "
                       "pubdata BLOB, commitment TEXT, proof TEXT, sender TEXT, tx_hash TEXT, gas INTEGER, "
                       "time REAL)")
            rows = {"schema_version": str(SCHEMA_VERSION), "layout": json.dumps(layout.to_json()),
                    "chain_id": str(chain_id), "l1_chain_id": str(l1_chain_id), "address": "0x" + address.hex(),
                    "verifying_key": json.dumps(snarkjs.verifying_key_to_json(verifying_key)),
                    "operators": json.dumps(sorted(operators)), "genesis_root": str(genesis_root),
                    "state_root": str(genesis_root)}
            db.executemany("INSERT INTO deployment VALUES (?, ?)", rows.items())
            db.executemany("INSERT INTO genesis VALUES (?, ?, ?, ?)",
                           [(a.index, str(a.ax), str(a.ay), str(a.balance)) for a in genesis_accounts])
        db.close()
        tmp.rename(path)
        return cls.open(data_dir)

    @classmethod
    def open(cls, data_dir: Path) -> "PythonL1":
        path = Path(data_dir) / cls.FILE
        if not path.exists():
            raise L1Error("NoDeployment", f"{path}: no L1 deployment here")
        db = sqlite3.connect(path, isolation_level=None, timeout=30)
        try:
            return cls(db, path)
        except sqlite3.DatabaseError as exc:
            raise L1Error("InvalidDeployment", f"{path}: {exc}") from None

    def close(self) -> None:
        self._db.close()

    # --- views ---------------------------------------------------------------------------------------
    def _meta(self, key: str) -> str:
        return self._db.execute("SELECT value FROM deployment WHERE key = ?", (key,)).fetchone()[0]

    def state_root(self) -> int:
        return int(self._meta("state_root"))

    def genesis_root(self) -> int:
        return int(self._meta("genesis_root"))

    def batch_count(self) -> int:
        return self._db.execute("SELECT COUNT(*) FROM batches").fetchone()[0]

    def genesis_accounts(self) -> list[GenesisAccount]:
        return [GenesisAccount(i, int(ax), int(ay), int(b))
                for i, ax, ay, b in self._db.execute("SELECT idx, ax, ay, balance FROM genesis ORDER BY idx")]

    def events(self) -> list[BatchSubmitted]:
        return [BatchSubmitted(n, int(old), int(new)) for n, old, new in
                self._db.execute("SELECT number, old_root, new_root FROM batches ORDER BY number")]

    def receipt_for(self, new_root: int) -> SubmitReceipt:
        """The receipt of the submission that moved the root to `new_root` (L1Error if none did)."""
        row = self._db.execute("SELECT number, old_root, new_root, tx_hash, gas FROM batches WHERE new_root = ? "
                               "ORDER BY number DESC LIMIT 1", (str(new_root),)).fetchone()
        if row is None:
            raise L1Error("NoSuchBatch", f"no submitted batch has root {new_root}")
        return SubmitReceipt(BatchSubmitted(row[0], int(row[1]), int(row[2])), row[3], row[4])

    def submitted_pubdata(self, batch_number: int) -> bytes:
        """The calldata's pubdata of a submitted batch (the rollup's data availability)."""
        row = self._db.execute("SELECT pubdata FROM batches WHERE number = ?", (batch_number,)).fetchone()
        if row is None:
            raise L1Error("NoSuchBatch", f"batch {batch_number} was not submitted")
        return bytes(row[0])

    # --- the one state-changing call ---------------------------------------------------------------
    def submit_batch(self, pubdata: bytes, new_root: int, commitment: int | None, proof: Proof,
                     sender: str) -> SubmitReceipt:
        """The contract's submitBatch: every check first, then the state change and the event, atomically.
        Raises L1Error with the contract's error name; a refused call changes nothing."""
        layout = self.layout
        if sender not in self.operators:
            raise L1Error("NotOperator", f"{sender} is not an operator of this rollup")
        if len(pubdata) != layout.pubdata_length:
            raise L1Error("PubdataLength", f"pubdata is {len(pubdata)} bytes; this rollup takes {layout.pubdata_length}")
        if not isinstance(new_root, int) or not 0 <= new_root < R:
            raise L1Error("RootOutOfRange", "newRoot is not below the field modulus r")
        self._db.execute("BEGIN IMMEDIATE")
        try:
            old_root = self.state_root()
            if new_root == old_root:
                raise L1Error("RootUnchanged", "newRoot equals the current state root")
            # after RootUnchanged, as Rollup.sol checks it; the SHA-256 binding takes no commitment (0 on chain)
            if layout.binding == "evaluation" and (not isinstance(commitment, int) or not 0 <= commitment < R):
                raise L1Error("CommitmentOutOfRange", "the commitment is not below the field modulus r")
            if layout.binding == "sha256" and commitment not in (None, 0):
                raise L1Error("CommitmentOutOfRange", "the SHA-256 binding takes no commitment (0)")
            public = lay.public_inputs(layout, old_root, new_root, self.chain_id, bytes(pubdata), commitment)
            try:
                valid = verify(self.verifying_key, public, proof)
            except VerifierInputError as exc:   # a malformed proof: the contract's precompiles revert
                raise L1Error("InvalidProof", f"malformed proof: {exc}") from None
            if not valid:
                raise L1Error("InvalidProof", "the proof does not verify for (stateRoot, newRoot, chainId) and this calldata")
            number = self.batch_count() + 1
            gas = estimate_gas(layout, pubdata)
            tx_hash = "0x" + lay.keccak256(bytes(pubdata) + number.to_bytes(32, "big") + new_root.to_bytes(32, "big")).hex()
            self._db.execute("INSERT INTO batches VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                             (number, str(old_root), str(new_root), bytes(pubdata),
                              None if commitment is None else str(commitment),
                              json.dumps(snarkjs.proof_to_json(proof)), sender, tx_hash, gas, time.time()))
            self._db.execute("UPDATE deployment SET value = ? WHERE key = 'state_root'", (str(new_root),))
            self._db.execute("COMMIT")
        except BaseException:
            self._db.execute("ROLLBACK")
            raise
        return SubmitReceipt(BatchSubmitted(number, old_root, new_root), tx_hash, gas)
