"""The sequencer's store: one data directory holding `rollup.sqlite` (meta, settled accounts, registration queue,
mempool, batches with their proofs) and `keystore.json` (the wallet keys the node holds: mode 0600, NOT
encrypted, so the directory must be protected like an SSH key).

Owns persistence and its invariants (one transaction per change, a (sender, nonce) held at most once, batch
status order, proof digests); not what a batch does (`zkrollup.executor`) nor which transfers the mempool
admits (the node checks signatures and accounts before `add_transfer`).
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import sqlite3
import stat
import tempfile
import time
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterator, Mapping, Optional, Sequence, Union

from circuits.babyjub import FIELD_MODULUS, Point, is_low_order, is_on_curve
from circuits.eddsa import Signature, prv2pub
from circuits.rollup.layout import BALANCE_BITS, NONCE_BITS, RESERVED_INDEX, Layout, LayoutError
from zkrollup.state import Account, RollupState
from zkrollup.wallet import PRIVATE_KEY_BYTES, InvalidTransfer, SignedTransfer, Transfer

__all__ = [
    "BATCH_STATUSES",
    "DATABASE_NAME",
    "KEYSTORE_NAME",
    "SCHEMA_VERSION",
    "Batch",
    "DuplicateTransfer",
    "MempoolTransfer",
    "QueuedRegistration",
    "Store",
    "StoreError",
]

PathLike = Union[str, Path]

#: Bumped whenever the tables change; a store of another version is refused, never guessed at.
SCHEMA_VERSION = 1
DATABASE_NAME = "rollup.sqlite"
KEYSTORE_NAME = "keystore.json"
KEYSTORE_VERSION = 1
#: A batch moves built -> proved -> submitted (or, before submission, is abandoned and deleted).
BATCH_STATUSES = ("built", "proved", "submitted")
TRANSFER_STATUSES = ("pending", "batched", "included", "dropped")
REGISTRATION_STATUSES = ("pending", "batched", "included")
#: How long a writer waits for another process's transaction before giving up (SQLite busy_timeout).
BUSY_TIMEOUT_SECONDS = 60.0

_SCHEMA = f"""
CREATE TABLE meta (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
-- The settled state: accounts after the last submitted batch. Field elements and u64s are decimal TEXT.
CREATE TABLE accounts (
    idx     INTEGER PRIMARY KEY CHECK (idx > 0),
    ax      TEXT NOT NULL,
    ay      TEXT NOT NULL,
    balance TEXT NOT NULL,
    nonce   INTEGER NOT NULL CHECK (nonce >= 0)
);
CREATE TABLE batches (
    number             INTEGER PRIMARY KEY CHECK (number > 0),
    status             TEXT NOT NULL CHECK (status IN {BATCH_STATUSES}),
    layout_fingerprint TEXT NOT NULL,
    old_root           TEXT NOT NULL,
    new_root           TEXT NOT NULL,
    pubdata            BLOB NOT NULL,
    commitment         TEXT,
    witness_inputs     TEXT NOT NULL,
    accounts_after     TEXT NOT NULL,
    proof              TEXT,
    public_inputs      TEXT,
    proof_sha256       TEXT,
    public_sha256      TEXT,
    built_at           REAL NOT NULL,
    proved_at          REAL,
    submitted_at       REAL
);
-- A registration's id is the account index it was given.
CREATE TABLE registrations (
    idx       INTEGER PRIMARY KEY CHECK (idx > 0),
    ax        TEXT NOT NULL,
    ay        TEXT NOT NULL,
    status    TEXT NOT NULL CHECK (status IN {REGISTRATION_STATUSES}),
    batch     INTEGER REFERENCES batches(number),
    slot      INTEGER,
    queued_at REAL NOT NULL
);
CREATE TABLE transfers (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    from_idx    INTEGER NOT NULL,
    to_idx      INTEGER NOT NULL,
    amount      TEXT NOT NULL,
    fee         TEXT NOT NULL,
    nonce       INTEGER NOT NULL,
    r8x         TEXT NOT NULL,
    r8y         TEXT NOT NULL,
    s           TEXT NOT NULL,
    status      TEXT NOT NULL CHECK (status IN {TRANSFER_STATUSES}),
    batch       INTEGER REFERENCES batches(number),
    slot        INTEGER,
    drop_reason TEXT,
    received_at REAL NOT NULL
);
-- The mempool policy (DESIGN section 4): one live transfer per (sender, nonce); a dropped one frees it.
CREATE UNIQUE INDEX transfers_live_sender_nonce ON transfers(from_idx, nonce) WHERE status <> 'dropped';
CREATE INDEX transfers_by_status ON transfers(status, id);
CREATE INDEX transfers_by_batch ON transfers(batch);
CREATE INDEX registrations_by_batch ON registrations(batch);
"""


class StoreError(Exception):
    """The store refuses: no store at the path, another schema version, a corrupted file or proof, a change
    that breaks its rules (batch order, statuses, a full tree). The message is one line, naming the store
    path or the batch, account or transfer concerned, and never holds a private key."""


class DuplicateTransfer(StoreError):
    """The mempool already holds a pending, batched or included transfer with the same (sender, nonce)."""


# ---------------------------------------------------------------------------------------------------
# Records


@dataclass(frozen=True)
class QueuedRegistration:
    """A registration: the public key (ax, ay) for the new account `index`; status pending, batched (in
    `batch`) or included (that batch was submitted). Has the fields executor.Registration has."""

    index: int
    ax: int
    ay: int
    status: str
    batch: Optional[int]
    queued_at: float


@dataclass(frozen=True)
class MempoolTransfer:
    """A signed transfer the mempool holds: `id` (arrival order), status pending, batched, included or
    dropped (`drop_reason` then says why), and the batch and slot it went to. `transfer` and `signature`
    pass straight through to the executor."""

    id: int
    signed: SignedTransfer
    status: str
    batch: Optional[int]
    slot: Optional[int]
    drop_reason: Optional[str]
    received_at: float

    @property
    def transfer(self) -> Transfer:
        return self.signed.transfer

    @property
    def signature(self) -> Signature:
        return self.signed.signature


@dataclass(frozen=True)
class Batch:
    """A batch as stored. Roots and the commitment C are field elements (C is None for the SHA-256
    binding); `pubdata` the exact calldata bytes; `witness_inputs` the JSON text the node stored
    (BatchWitnessInputs.to_json); `transfer_ids` in slot order; `registration_indices` in slot order;
    `dropped` (transfer id, reason) pairs; `accounts_after` {index: Account} for every account the batch
    touched; `proof` / `public_inputs` the snarkjs JSON texts once proved (their SHA-256 digests checked when
    read); times are Unix seconds."""

    number: int
    status: str
    layout_fingerprint: str
    old_root: int
    new_root: int
    pubdata: bytes
    commitment: Optional[int]
    witness_inputs: str
    transfer_ids: tuple[int, ...]
    registration_indices: tuple[int, ...]
    dropped: tuple[tuple[int, str], ...]
    accounts_after: Mapping[int, Account]
    proof: Optional[str]
    public_inputs: Optional[str]
    built_at: float
    proved_at: Optional[float]
    submitted_at: Optional[float]


# ---------------------------------------------------------------------------------------------------
# Values


_CANONICAL_DECIMAL = re.compile(r"0|[1-9][0-9]{0,77}")


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _field_element(value: Any, what: str) -> int:
    if not _is_int(value) or not 0 <= value < FIELD_MODULUS:
        raise StoreError(f"{what} must be a field element in [0, r), got {str(value)[:40]}")
    return value


def _decimal(text: Any, what: str) -> int:
    """A decimal TEXT read back from the database; anything else means the file was altered."""
    if not isinstance(text, str) or not _CANONICAL_DECIMAL.fullmatch(text):
        raise StoreError(f"corrupted store: {what} is not a canonical decimal")
    return int(text)


def _check_account(index: Any, account: Any, depth: int, what: str) -> None:
    if not _is_int(index) or not RESERVED_INDEX < index < 1 << depth:
        raise StoreError(f"{what}: account index {index!r} is outside 1..{(1 << depth) - 1}")
    if not isinstance(account, Account):
        raise StoreError(f"{what}: account {index} must be a zkrollup.state.Account, got {type(account).__name__}")
    for name in ("ax", "ay", "balance", "nonce"):
        if not _is_int(getattr(account, name)):
            raise StoreError(f"{what}: account {index} {name} must be an integer")
    _field_element(account.ax, f"{what}: account {index} ax")
    _field_element(account.ay, f"{what}: account {index} ay")
    if not 0 <= account.balance < 1 << BALANCE_BITS or not 0 <= account.nonce < 1 << NONCE_BITS:
        raise StoreError(f"{what}: account {index} balance or nonce out of range")


def _check_key(ax: int, ay: int, what: str) -> None:
    if not is_on_curve((ax, ay)) or is_low_order((ax, ay)):
        raise StoreError(f"{what}: ({str(ax)[:20]}..., {str(ay)[:20]}...) is not a Baby Jubjub point of large order")


def _accounts_to_json(accounts: Mapping[int, Account], with_nonce: bool = True) -> str:
    rows = []
    for index in sorted(accounts):
        a = accounts[index]
        row = {"index": str(index), "ax": str(a.ax), "ay": str(a.ay), "balance": str(a.balance)}
        if with_nonce:
            row["nonce"] = str(a.nonce)
        rows.append(row)
    return json.dumps(rows)


def _accounts_from_json(text: str, what: str) -> dict[int, Account]:
    try:
        rows = json.loads(text)
        accounts = {}
        for row in rows:
            index = _decimal(row["index"], f"{what} index")
            accounts[index] = Account(_decimal(row["ax"], f"{what} ax"), _decimal(row["ay"], f"{what} ay"),
                                      _decimal(row["balance"], f"{what} balance"),
                                      _decimal(row.get("nonce", "0"), f"{what} nonce"))
        return accounts
    except (ValueError, TypeError, KeyError, AttributeError) as error:
        raise StoreError(f"corrupted store: {what} is not a list of accounts") from error


def _json_text(text: Any, what: str) -> str:
    if not isinstance(text, str):
        raise StoreError(f"{what} must be JSON text (str), got {type(text).__name__}")
    try:
        json.loads(text)
    except ValueError as error:
        raise StoreError(f"{what} is not valid JSON") from error
    return text


def _sha256(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _now() -> float:
    return time.time()


# ---------------------------------------------------------------------------------------------------
# Files


def _fsync_directory(directory: Path) -> None:
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _write_keystore(path: Path, keys: Mapping[int, bytes]) -> None:
    """Atomically replace the keystore: a 0600 temp file in the same directory, fsync, rename, fsync dir."""
    document = {"version": KEYSTORE_VERSION, "keys": {str(i): keys[i].hex() for i in sorted(keys)}}
    fd, temp = tempfile.mkstemp(prefix=".keystore-", suffix=".tmp", dir=path.parent)  # mode 0600
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            json.dump(document, handle, indent=1)
            handle.write("\n")
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(temp, 0o600)
        os.replace(temp, path)
    except BaseException:
        if os.path.exists(temp):
            os.unlink(temp)
        raise
    _fsync_directory(path.parent)


def _read_keystore(path: Path) -> dict[int, bytes]:
    """The keystore's keys; StoreError (naming the file and the index, never a key) if it is missing,
    readable by others, or malformed."""
    try:
        mode = path.stat().st_mode
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError as error:
        raise StoreError(f"{path}: no keystore (the store is incomplete)") from error
    except (OSError, UnicodeDecodeError) as error:
        raise StoreError(f"{path}: cannot read the keystore") from error
    if stat.S_IMODE(mode) & 0o077:
        raise StoreError(f"{path}: the keystore is open to other users (mode {stat.S_IMODE(mode):04o}); "
                         "chmod 600 it")
    try:
        document = json.loads(text)
    except ValueError as error:
        raise StoreError(f"{path}: the keystore is not JSON") from error
    if not isinstance(document, dict) or document.get("version") != KEYSTORE_VERSION \
            or not isinstance(document.get("keys"), dict) or set(document) != {"version", "keys"}:
        raise StoreError(f"{path}: not a version-{KEYSTORE_VERSION} keystore")
    keys = {}
    for index_text, key_hex in document["keys"].items():
        if not isinstance(index_text, str) or not _CANONICAL_DECIMAL.fullmatch(index_text):
            raise StoreError(f"{path}: a keystore index is not a canonical decimal")
        if not isinstance(key_hex, str) or not re.fullmatch(r"[0-9a-f]{64}", key_hex):
            raise StoreError(f"{path}: the key of account {index_text} is not {PRIVATE_KEY_BYTES} bytes of hex")
        keys[int(index_text)] = bytes.fromhex(key_hex)
    return keys


def _connect(path: Path, create: bool) -> sqlite3.Connection:
    # mode=rw never creates a file: opening a missing store must fail, not make an empty one.
    uri = f"file:{path}?mode={'rwc' if create else 'rw'}"
    db = sqlite3.connect(uri, uri=True, timeout=BUSY_TIMEOUT_SECONDS, isolation_level=None)
    try:
        db.execute(f"PRAGMA busy_timeout = {int(BUSY_TIMEOUT_SECONDS * 1000)}")
        db.execute("PRAGMA foreign_keys = ON")
        db.execute("PRAGMA synchronous = FULL")   # an accepted transfer survives a power cut
    except BaseException:
        db.close()
        raise
    return db


# ---------------------------------------------------------------------------------------------------
# The store


class Store:
    """The sequencer's store in one data directory. Make one with `Store.create`, reopen it with
    `Store.open`; close it with `close()` or a `with` block. Safe to use from several processes at once:
    every change is one `BEGIN IMMEDIATE` transaction and writers wait up to BUSY_TIMEOUT_SECONDS for
    each other. One Store object belongs to one thread.

    Read-only after open: `layout`, `chain_id`, `fee_account`, `genesis_root`, `genesis_accounts`
    ({index: Account}, nonce 0), `created_at` (Unix seconds), `directory`.
    """

    def __init__(self, directory: Path, db: sqlite3.Connection):
        """Use Store.create or Store.open."""
        self.directory = directory
        self._db = db
        self._load_meta()

    def __repr__(self) -> str:
        return f"Store({str(self.directory)!r})"

    @property
    def database_path(self) -> Path:
        return self.directory / DATABASE_NAME

    @property
    def keystore_path(self) -> Path:
        return self.directory / KEYSTORE_NAME

    # --- creating and opening -------------------------------------------------------------------
    @classmethod
    def create(cls, directory: PathLike, layout: Layout, chain_id: int, fee_account: int,
               genesis_accounts: Mapping[int, Account]) -> "Store":
        """Make a new store in `directory` (created if missing) for a rollup deployed with these genesis
        accounts ({index: Account}, each with nonce 0; index in 1..2^D-1; key on the curve and not of low
        order). The fee account must be one of them. The genesis root is computed here (the root of exactly
        these accounts) and recorded with them. An empty keystore is written beside the database.

        StoreError if the directory already holds a store (or a keystore), or an argument breaks a rule.
        """
        directory = Path(directory)
        if not isinstance(layout, Layout):
            raise StoreError(f"layout must be a circuits.rollup.layout.Layout, got {type(layout).__name__}")
        _field_element(chain_id, "chain id")
        if not isinstance(genesis_accounts, Mapping) or not genesis_accounts:
            raise StoreError("genesis accounts must be a non-empty mapping {index: Account}")
        for index, account in genesis_accounts.items():
            _check_account(index, account, layout.depth, "genesis")
            if account.nonce != 0:
                raise StoreError(f"genesis: account {index} must start with nonce 0")
            _check_key(account.ax, account.ay, f"genesis: account {index} key")
        if not _is_int(fee_account) or fee_account not in genesis_accounts:
            raise StoreError(f"fee account {fee_account!r} is not one of the genesis accounts")
        genesis_root = RollupState(layout, genesis_accounts).root

        try:
            directory.mkdir(parents=True, exist_ok=True)
        except OSError as error:
            raise StoreError(f"{directory}: cannot make the directory: {error.strerror or error}") from error
        database, keystore = directory / DATABASE_NAME, directory / KEYSTORE_NAME
        for existing in (database, keystore):
            if existing.exists():
                raise StoreError(f"{directory} already holds a store ({existing.name} exists); refusing to overwrite it")

        # Build the database under a temporary name and rename it last: a store exists whole or not at all.
        fd, temp_name = tempfile.mkstemp(prefix=".rollup-", suffix=".sqlite.tmp", dir=directory)
        os.close(fd)
        temp = Path(temp_name)
        try:
            db = _connect(temp, create=True)
            try:
                db.execute("PRAGMA journal_mode = WAL")
                db.execute("BEGIN IMMEDIATE")
                for statement in _statements(_SCHEMA):
                    db.execute(statement)
                meta = {
                    "schema_version": str(SCHEMA_VERSION),
                    "layout": json.dumps(layout.to_json(), sort_keys=True),
                    "chain_id": str(chain_id),
                    "fee_account": str(fee_account),
                    "genesis_root": str(genesis_root),
                    "genesis_accounts": _accounts_to_json(genesis_accounts, with_nonce=False),
                    "created_at": repr(_now()),
                }
                db.executemany("INSERT INTO meta (key, value) VALUES (?, ?)", meta.items())
                db.executemany("INSERT INTO accounts (idx, ax, ay, balance, nonce) VALUES (?, ?, ?, ?, 0)",
                               [(i, str(a.ax), str(a.ay), str(a.balance)) for i, a in genesis_accounts.items()])
                db.execute("COMMIT")
            finally:
                db.close()
            _write_keystore(keystore, {})
            os.replace(temp, database)
            _fsync_directory(directory)
        except BaseException:
            for leftover in (temp, Path(f"{temp}-wal"), Path(f"{temp}-shm")):
                if leftover.exists():
                    leftover.unlink()
            if keystore.exists() and not database.exists():
                keystore.unlink()
            raise
        return cls.open(directory)

    @classmethod
    def open(cls, directory: PathLike) -> "Store":
        """Open the store in `directory`. StoreError (one line) if the directory or the store is missing, the
        file is not a readable SQLite database or fails PRAGMA quick_check, the schema version differs, or
        the keystore is missing, open to other users or malformed."""
        directory = Path(directory)
        if not directory.is_dir():
            raise StoreError(f"{directory}: no such directory")
        database = directory / DATABASE_NAME
        if not database.is_file():
            raise StoreError(f"{directory}: no store here ({DATABASE_NAME} is missing)")
        try:
            db = _connect(database, create=False)
        except sqlite3.Error as error:
            raise StoreError(f"{database}: the database is unreadable or corrupted ({_one_line(error)})") from error
        try:
            _check_database(db, database)
            _read_keystore(directory / KEYSTORE_NAME)
            return cls(directory, db)
        except BaseException:
            db.close()
            raise

    def close(self) -> None:
        self._db.close()

    def __enter__(self) -> "Store":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def _load_meta(self) -> None:
        with self._transaction("DEFERRED") as db:
            meta = dict(db.execute("SELECT key, value FROM meta"))
        try:
            self.layout = Layout.from_json(json.loads(meta["layout"]))
            self.chain_id = _decimal(meta["chain_id"], "meta chain_id")
            self.fee_account = _decimal(meta["fee_account"], "meta fee_account")
            self.genesis_root = _decimal(meta["genesis_root"], "meta genesis_root")
            self.genesis_accounts = _accounts_from_json(meta["genesis_accounts"], "meta genesis_accounts")
            self.created_at = float(meta["created_at"])
        except (KeyError, ValueError, TypeError, LayoutError) as error:
            raise StoreError(f"{self.database_path}: corrupted store metadata ({type(error).__name__})") from error

    def check_integrity(self) -> None:
        """PRAGMA quick_check over the whole file and the schema version; StoreError naming the first fault."""
        _check_database(self._db, self.database_path)

    # --- transactions ---------------------------------------------------------------------------
    @contextmanager
    def _transaction(self, mode: str = "IMMEDIATE") -> Iterator[sqlite3.Connection]:
        """One transaction: IMMEDIATE takes the write lock first (so two writers queue up instead of one
        failing on upgrade); DEFERRED gives reads one consistent snapshot. Any exception rolls it all back;
        SQLite errors become StoreError."""
        db = self._db
        try:
            db.execute(f"BEGIN {mode}")
        except sqlite3.Error as error:
            raise StoreError(f"{self.database_path}: cannot begin a transaction ({_one_line(error)})") from error
        try:
            yield db
        except BaseException as error:
            if db.in_transaction:
                db.execute("ROLLBACK")
            if isinstance(error, sqlite3.Error):
                raise StoreError(f"{self.database_path}: database error ({_one_line(error)})") from error
            raise
        else:
            try:
                db.execute("COMMIT")
            except sqlite3.Error as error:
                if db.in_transaction:
                    db.execute("ROLLBACK")
                raise StoreError(f"{self.database_path}: cannot commit ({_one_line(error)})") from error

    # --- settled accounts -----------------------------------------------------------------------
    def accounts(self) -> dict[int, Account]:
        """The settled accounts (after the last submitted batch), {index: Account} in index order."""
        with self._transaction("DEFERRED") as db:
            rows = db.execute("SELECT idx, ax, ay, balance, nonce FROM accounts ORDER BY idx").fetchall()
        return {row[0]: _account_row(row) for row in rows}

    def account(self, index: int) -> Optional[Account]:
        """The settled account at `index`, or None if it does not exist (yet)."""
        with self._transaction("DEFERRED") as db:
            row = db.execute("SELECT idx, ax, ay, balance, nonce FROM accounts WHERE idx = ?", (index,)).fetchone()
        return None if row is None else _account_row(row)

    def settled_state(self) -> RollupState:
        """The settled accounts and their tree (its root is settled_root() unless the store was altered)."""
        return RollupState(self.layout, self.accounts())

    def settled_root(self) -> int:
        """The state root after the last submitted batch (the genesis root before any)."""
        with self._transaction("DEFERRED") as db:
            row = db.execute("SELECT number, new_root FROM batches WHERE status = 'submitted' "
                             "ORDER BY number DESC LIMIT 1").fetchone()
        return self.genesis_root if row is None else _decimal(row[1], f"batch {row[0]} new_root")

    def tip_root(self) -> int:
        """The state root after the latest batch of any status: what the next batch builds on."""
        with self._transaction("DEFERRED") as db:
            return self._tip_root(db)

    def _tip_root(self, db: sqlite3.Connection) -> int:
        row = db.execute("SELECT number, new_root FROM batches ORDER BY number DESC LIMIT 1").fetchone()
        return self.genesis_root if row is None else _decimal(row[1], f"batch {row[0]} new_root")

    # --- keystore -------------------------------------------------------------------------------
    def add_key(self, index: int, private_key: bytes) -> None:
        """Keep the private key of account `index` (a settled account or a queued registration, whose
        public key must be prv2pub(private_key)). Adding the same key again does nothing; another key for
        an index that has one is refused. The keystore is rewritten atomically, under the database's write
        lock so that two processes never lose each other's keys. StoreError never shows the key."""
        if not isinstance(private_key, (bytes, bytearray)) or len(private_key) != PRIVATE_KEY_BYTES:
            raise StoreError(f"the private key for account {index} must be {PRIVATE_KEY_BYTES} bytes")
        private_key = bytes(private_key)
        with self._transaction() as db:
            row = db.execute("SELECT ax, ay FROM accounts WHERE idx = ? UNION ALL "
                             "SELECT ax, ay FROM registrations WHERE idx = ?", (index, index)).fetchone()
            if row is None:
                raise StoreError(f"account {index} is neither an account nor a queued registration")
            expected = (_decimal(row[0], f"account {index} ax"), _decimal(row[1], f"account {index} ay"))
            if tuple(prv2pub(private_key)) != expected:
                raise StoreError(f"the private key given for account {index} is not the key of that account")
            keys = _read_keystore(self.keystore_path)
            if index in keys:
                if keys[index] != private_key:
                    raise StoreError(f"the keystore already holds another key for account {index}")
                return
            keys[index] = private_key
            _write_keystore(self.keystore_path, keys)

    def private_key(self, index: int) -> bytes:
        """The private key held for account `index`; StoreError if the keystore has none."""
        keys = _read_keystore(self.keystore_path)
        if index not in keys:
            raise StoreError(f"the keystore holds no key for account {index}")
        return keys[index]

    def key_indices(self) -> list[int]:
        """The account indices whose private keys the keystore holds, ascending."""
        return sorted(_read_keystore(self.keystore_path))

    # --- registrations --------------------------------------------------------------------------
    def queue_registration(self, ax: int, ay: int) -> int:
        """Queue the registration of public key (ax, ay) and return the account index it gets: the next
        one above every settled account and queued registration (never 0). StoreError if the key is not a
        Baby Jubjub point of large order (the circuit would refuse it) or the tree is full."""
        _field_element(ax, "ax")
        _field_element(ay, "ay")
        _check_key(ax, ay, "registration key")
        with self._transaction() as db:
            highest = db.execute("SELECT max(m) FROM (SELECT max(idx) AS m FROM accounts "
                                 "UNION ALL SELECT max(idx) FROM registrations)").fetchone()[0]
            index = max(highest or 0, RESERVED_INDEX) + 1
            if index >= self.layout.n_accounts:
                raise StoreError(f"the account tree is full: all {self.layout.n_accounts - 1} indices are taken")
            db.execute("INSERT INTO registrations (idx, ax, ay, status, queued_at) VALUES (?, ?, ?, 'pending', ?)",
                       (index, str(ax), str(ay), _now()))
        return index

    def pending_registrations(self) -> list[QueuedRegistration]:
        """Registrations not yet in a batch, in queue order (= index order)."""
        return self._registrations("WHERE status = 'pending' ORDER BY idx")

    def registration(self, index: int) -> Optional[QueuedRegistration]:
        found = self._registrations("WHERE idx = ?", (index,))
        return found[0] if found else None

    def _registrations(self, where: str, args: tuple = ()) -> list[QueuedRegistration]:
        with self._transaction("DEFERRED") as db:
            rows = db.execute(f"SELECT idx, ax, ay, status, batch, queued_at FROM registrations {where}", args).fetchall()
        return [QueuedRegistration(row[0], _decimal(row[1], f"registration {row[0]} ax"),
                                   _decimal(row[2], f"registration {row[0]} ay"), row[3], row[4], row[5])
                for row in rows]

    # --- mempool --------------------------------------------------------------------------------
    def add_transfer(self, signed: SignedTransfer) -> int:
        """Add a signed transfer to the mempool and return its id (ids grow with arrival). Raises
        DuplicateTransfer if a pending, batched or included transfer has the same (sender, nonce); a dropped
        one does not count. Signature and accounts are NOT checked here: admission is the node's call."""
        if not isinstance(signed, SignedTransfer):
            raise StoreError(f"add_transfer takes a zkrollup.wallet.SignedTransfer, got {type(signed).__name__}")
        t, sig = signed.transfer, signed.signature
        with self._transaction() as db:
            holder = db.execute("SELECT id, status FROM transfers WHERE from_idx = ? AND nonce = ? "
                                "AND status <> 'dropped'", (t.from_index, t.nonce)).fetchone()
            if holder is not None:
                raise DuplicateTransfer(f"account {t.from_index} already has transfer {holder[0]} ({holder[1]}) "
                                        f"with nonce {t.nonce}")
            cursor = db.execute(
                "INSERT INTO transfers (from_idx, to_idx, amount, fee, nonce, r8x, r8y, s, status, received_at) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, 'pending', ?)",
                (t.from_index, t.to_index, str(t.amount), str(t.fee), t.nonce, str(sig.r8[0]), str(sig.r8[1]),
                 str(sig.s), _now()))
            return cursor.lastrowid

    def pending_transfers(self) -> list[MempoolTransfer]:
        """Transfers not yet in a batch, in arrival order."""
        return self._transfers("WHERE status = 'pending' ORDER BY id")

    def transfer(self, transfer_id: int) -> Optional[MempoolTransfer]:
        """The transfer with this id (any status), or None."""
        found = self._transfers("WHERE id = ?", (transfer_id,))
        return found[0] if found else None

    def _transfers(self, where: str, args: tuple = ()) -> list[MempoolTransfer]:
        with self._transaction("DEFERRED") as db:
            rows = db.execute("SELECT id, from_idx, to_idx, amount, fee, nonce, r8x, r8y, s, status, batch, slot, "
                              f"drop_reason, received_at FROM transfers {where}", args).fetchall()
        return [_transfer_row(row) for row in rows]

    # --- batches --------------------------------------------------------------------------------
    def insert_batch(self, *, old_root: int, new_root: int, pubdata: bytes, commitment: Optional[int],
                     witness_inputs: str, transfer_ids: Sequence[int], registration_indices: Sequence[int],
                     dropped: Sequence[tuple[int, str]], accounts_after: Mapping[int, Account]) -> Batch:
        """Record a built batch as the next number, in one transaction: the batch row (status `built`),
        its transfers `batched` in slot order, its dropped transfers `dropped` with their reasons, its
        registrations `batched`. Deferred transfers are simply not named and stay pending.

        old_root must be the tip root (the latest batch's new root, or the genesis root) and differ from
        new_root; pubdata must have the layout's length; commitment is C for the evaluation binding and
        None for SHA-256; witness_inputs is JSON text; accounts_after maps every touched index to its
        Account after the batch. Every named transfer and registration must be pending, none named twice.
        StoreError otherwise, and nothing is written.
        """
        layout = self.layout
        _field_element(old_root, "old_root")
        _field_element(new_root, "new_root")
        if old_root == new_root:
            raise StoreError("a batch must change the state root (the L1 refuses new_root == old_root)")
        if not isinstance(pubdata, (bytes, bytearray)) or len(pubdata) != layout.pubdata_length:
            size = len(pubdata) if isinstance(pubdata, (bytes, bytearray)) else type(pubdata).__name__
            raise StoreError(f"pubdata is {size} bytes; layout {layout.shape_id} has {layout.pubdata_length}")
        if layout.binding == "evaluation":
            _field_element(commitment, "commitment")
        elif commitment is not None:
            raise StoreError(f"the {layout.binding} binding has no commitment; got one")
        _json_text(witness_inputs, "witness_inputs")
        transfer_ids, registration_indices = list(transfer_ids), list(registration_indices)
        dropped = [(transfer_id, reason) for transfer_id, reason in dropped]
        if len(transfer_ids) > layout.n_transfers or len(registration_indices) > layout.n_registrations:
            raise StoreError(f"{len(transfer_ids)} transfers and {len(registration_indices)} registrations do not "
                             f"fit {layout.n_transfers} + {layout.n_registrations} slots")
        named = transfer_ids + [transfer_id for transfer_id, _ in dropped]
        if len(set(named)) != len(named):
            raise StoreError("a transfer is named twice among the batch's included and dropped transfers")
        if len(set(registration_indices)) != len(registration_indices):
            raise StoreError("a registration is named twice in the batch")
        for transfer_id, reason in dropped:
            if not isinstance(reason, str) or not reason:
                raise StoreError(f"dropped transfer {transfer_id} needs a reason (a non-empty string)")
        if not isinstance(accounts_after, Mapping):
            raise StoreError("accounts_after must be a mapping {index: Account}")
        for index, account in accounts_after.items():
            _check_account(index, account, layout.depth, "accounts_after")

        with self._transaction() as db:
            tip = self._tip_root(db)
            if old_root != tip:
                raise StoreError(f"the batch starts from root {str(old_root)[:12]}..., but the latest root is "
                                 f"{str(tip)[:12]}...")
            number = (db.execute("SELECT max(number) FROM batches").fetchone()[0] or 0) + 1
            db.execute(
                "INSERT INTO batches (number, status, layout_fingerprint, old_root, new_root, pubdata, commitment, "
                "witness_inputs, accounts_after, built_at) VALUES (?, 'built', ?, ?, ?, ?, ?, ?, ?, ?)",
                (number, layout.fingerprint(), str(old_root), str(new_root), bytes(pubdata),
                 None if commitment is None else str(commitment), witness_inputs, _accounts_to_json(accounts_after),
                 _now()))
            for slot, transfer_id in enumerate(transfer_ids):
                _require_status(db, "transfers", "id", transfer_id, "pending", "transfer")
                db.execute("UPDATE transfers SET status = 'batched', batch = ?, slot = ? WHERE id = ?",
                           (number, slot, transfer_id))
            for transfer_id, reason in dropped:
                _require_status(db, "transfers", "id", transfer_id, "pending", "transfer")
                db.execute("UPDATE transfers SET status = 'dropped', batch = ?, drop_reason = ? WHERE id = ?",
                           (number, reason, transfer_id))
            for slot, index in enumerate(registration_indices):
                _require_status(db, "registrations", "idx", index, "pending", "registration")
                db.execute("UPDATE registrations SET status = 'batched', batch = ?, slot = ? WHERE idx = ?",
                           (number, slot, index))
            return self._batch(db, number)

    def record_proof(self, number: int, proof_json: str, public_json: str) -> Batch:
        """Store the batch's proof and public inputs (snarkjs JSON texts, kept byte for byte with their
        SHA-256) and mark it `proved`. A built batch, or a proved one being re-proved; StoreError otherwise."""
        _json_text(proof_json, f"batch {number}: proof")
        _json_text(public_json, f"batch {number}: public inputs")
        with self._transaction() as db:
            batch = self._batch(db, number)
            if batch.status not in ("built", "proved"):
                raise StoreError(f"batch {number} is {batch.status}; only a built or proved batch takes a proof")
            db.execute("UPDATE batches SET status = 'proved', proof = ?, public_inputs = ?, proof_sha256 = ?, "
                       "public_sha256 = ?, proved_at = ? WHERE number = ?",
                       (proof_json, public_json, _sha256(proof_json), _sha256(public_json), _now(), number))
            return self._batch(db, number)

    def mark_submitted(self, number: int) -> Batch:
        """The L1 accepted batch `number`: in one transaction apply its accounts_after to the settled
        accounts, mark its transfers and registrations `included` and the batch `submitted`. It must be
        proved (with an intact proof) and every earlier batch submitted; StoreError otherwise."""
        with self._transaction() as db:
            batch = self._batch(db, number)
            if batch.status != "proved":
                raise StoreError(f"batch {number} is {batch.status}; only a proved batch can be submitted")
            unsettled = db.execute("SELECT min(number) FROM batches WHERE status <> 'submitted'").fetchone()[0]
            if unsettled != number:
                raise StoreError(f"batch {unsettled} must be submitted before batch {number}")
            for index, account in sorted(batch.accounts_after.items()):
                db.execute("INSERT INTO accounts (idx, ax, ay, balance, nonce) VALUES (?, ?, ?, ?, ?) "
                           "ON CONFLICT (idx) DO UPDATE SET ax = excluded.ax, ay = excluded.ay, "
                           "balance = excluded.balance, nonce = excluded.nonce",
                           (index, str(account.ax), str(account.ay), str(account.balance), account.nonce))
            db.execute("UPDATE transfers SET status = 'included' WHERE batch = ? AND status = 'batched'", (number,))
            db.execute("UPDATE registrations SET status = 'included' WHERE batch = ? AND status = 'batched'",
                       (number,))
            db.execute("UPDATE batches SET status = 'submitted', submitted_at = ? WHERE number = ?", (_now(), number))
            return self._batch(db, number)

    def import_settled_batch(self, *, old_root: int, new_root: int, pubdata: bytes, commitment: Optional[int],
                             proof_json: str, public_json: str, accounts_after: Mapping[int, Account]) -> Batch:
        """Record a batch that the L1 already accepted, read back from the L1 (`zkrollup sync`): stored as
        `submitted` with its proof and public inputs from the calldata, its accounts applied to the settled
        state, in one transaction. It names no mempool transfer (their signatures are not on the L1). Every
        earlier batch must be submitted and old_root must be the tip; StoreError otherwise."""
        layout = self.layout
        _field_element(old_root, "old_root")
        _field_element(new_root, "new_root")
        if not isinstance(pubdata, (bytes, bytearray)) or len(pubdata) != layout.pubdata_length:
            raise StoreError(f"pubdata does not have layout {layout.shape_id}'s {layout.pubdata_length} bytes")
        _json_text(proof_json, "proof")
        _json_text(public_json, "public inputs")
        for index, account in accounts_after.items():
            _check_account(index, account, layout.depth, "accounts_after")
        with self._transaction() as db:
            if db.execute("SELECT count(*) FROM batches WHERE status <> 'submitted'").fetchone()[0]:
                raise StoreError("the store has unsettled batches: an L1 batch cannot be imported after them")
            tip = self._tip_root(db)
            if old_root != tip:
                raise StoreError(f"the L1 batch starts from root {str(old_root)[:12]}..., but the store is at "
                                 f"{str(tip)[:12]}...")
            number = (db.execute("SELECT max(number) FROM batches").fetchone()[0] or 0) + 1
            now = _now()
            db.execute(
                "INSERT INTO batches (number, status, layout_fingerprint, old_root, new_root, pubdata, commitment, "
                "witness_inputs, accounts_after, proof, public_inputs, proof_sha256, public_sha256, built_at, "
                "proved_at, submitted_at) VALUES (?, 'submitted', ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (number, layout.fingerprint(), str(old_root), str(new_root), bytes(pubdata),
                 None if commitment is None else str(commitment), json.dumps({"imported_from_l1": True}),
                 _accounts_to_json(accounts_after), proof_json, public_json, _sha256(proof_json),
                 _sha256(public_json), now, now, now))
            for index, account in sorted(accounts_after.items()):
                db.execute("INSERT INTO accounts (idx, ax, ay, balance, nonce) VALUES (?, ?, ?, ?, ?) "
                           "ON CONFLICT (idx) DO UPDATE SET ax = excluded.ax, ay = excluded.ay, "
                           "balance = excluded.balance, nonce = excluded.nonce",
                           (index, str(account.ax), str(account.ay), str(account.balance), account.nonce))
            return self._batch(db, number)

    def unsettle_batches_after(self, count: int) -> list[int]:
        """The L1 holds only the first `count` batches (a local chain restored from an older state): put every
        later submitted batch back to `proved` (its transfers and registrations back to `batched`), and the
        settled accounts back to genesis plus batches 1..count, in one transaction. Returns the numbers put
        back. StoreError if a batch after `count` is not submitted while an earlier one is unsettled."""
        with self._transaction() as db:
            rows = db.execute("SELECT number FROM batches WHERE status = 'submitted' AND number > ? ORDER BY number",
                              (count,)).fetchall()
            numbers = [r[0] for r in rows]
            if not numbers:
                return []
            for number in numbers:
                db.execute("UPDATE batches SET status = 'proved', submitted_at = NULL WHERE number = ?", (number,))
                db.execute("UPDATE transfers SET status = 'batched' WHERE batch = ? AND status = 'included'",
                           (number,))
                db.execute("UPDATE registrations SET status = 'batched' WHERE batch = ? AND status = 'included'",
                           (number,))
            accounts = dict(self.genesis_accounts)
            for number in range(1, count + 1):
                accounts.update(self._batch(db, number).accounts_after)
            db.execute("DELETE FROM accounts")
            db.executemany("INSERT INTO accounts (idx, ax, ay, balance, nonce) VALUES (?, ?, ?, ?, ?)",
                           [(i, str(a.ax), str(a.ay), str(a.balance), a.nonce) for i, a in sorted(accounts.items())])
            return numbers

    def abandon_batch(self, number: int) -> None:
        """Give up the latest batch, built or proved but not submitted: delete it, and put its transfers
        (included and dropped) and registrations back to pending. A dropped transfer whose (sender, nonce)
        another live transfer has taken since stays dropped. StoreError for a submitted batch or one with a
        later batch on top of it."""
        with self._transaction() as db:
            batch = self._batch(db, number)
            if batch.status == "submitted":
                raise StoreError(f"batch {number} is submitted and cannot be abandoned")
            latest = db.execute("SELECT max(number) FROM batches").fetchone()[0]
            if latest != number:
                raise StoreError(f"batch {latest} builds on batch {number}: abandon it first")
            db.execute("UPDATE transfers SET status = 'pending', batch = NULL, slot = NULL "
                       "WHERE batch = ? AND status = 'batched'", (number,))
            dropped = db.execute("SELECT id, from_idx, nonce FROM transfers WHERE batch = ? AND status = 'dropped' "
                                 "ORDER BY id", (number,)).fetchall()
            for transfer_id, from_index, nonce in dropped:
                taken = db.execute("SELECT 1 FROM transfers WHERE from_idx = ? AND nonce = ? AND status <> 'dropped'",
                                   (from_index, nonce)).fetchone()
                if taken:
                    db.execute("UPDATE transfers SET batch = NULL WHERE id = ?", (transfer_id,))
                else:
                    db.execute("UPDATE transfers SET status = 'pending', batch = NULL, drop_reason = NULL "
                               "WHERE id = ?", (transfer_id,))
            db.execute("UPDATE registrations SET status = 'pending', batch = NULL, slot = NULL WHERE batch = ?",
                       (number,))
            db.execute("DELETE FROM batches WHERE number = ?", (number,))

    def batch(self, number: int) -> Optional[Batch]:
        """Batch `number`, or None. StoreError if its stored proof or public inputs fail their SHA-256."""
        with self._transaction("DEFERRED") as db:
            exists = db.execute("SELECT 1 FROM batches WHERE number = ?", (number,)).fetchone()
            return self._batch(db, number) if exists else None

    def batches(self) -> list[Batch]:
        """Every batch, by number (each proof checked against its digest)."""
        with self._transaction("DEFERRED") as db:
            numbers = [row[0] for row in db.execute("SELECT number FROM batches ORDER BY number")]
            return [self._batch(db, n) for n in numbers]

    def latest_batch(self) -> Optional[Batch]:
        """The highest-numbered batch of any status, or None before the first."""
        with self._transaction("DEFERRED") as db:
            latest = db.execute("SELECT max(number) FROM batches").fetchone()[0]
            return None if latest is None else self._batch(db, latest)

    def _batch(self, db: sqlite3.Connection, number: int) -> Batch:
        row = db.execute("SELECT number, status, layout_fingerprint, old_root, new_root, pubdata, commitment, "
                         "witness_inputs, accounts_after, proof, public_inputs, proof_sha256, public_sha256, "
                         "built_at, proved_at, submitted_at FROM batches WHERE number = ?", (number,)).fetchone()
        if row is None:
            raise StoreError(f"no batch {number}")
        (number, status, fingerprint, old_root, new_root, pubdata, commitment, witness_inputs, accounts_after,
         proof, public, proof_sha256, public_sha256, built_at, proved_at, submitted_at) = row
        what = f"batch {number}"
        for text, digest, name in ((proof, proof_sha256, "proof"), (public, public_sha256, "public-inputs text")):
            if (text is None) != (digest is None) or (text is not None and _sha256(text) != digest):
                raise StoreError(f"{what}: the stored {name} fails its SHA-256 check: corrupted, refusing it")
        if fingerprint != self.layout.fingerprint():
            raise StoreError(f"{what} was built for another layout (fingerprint {fingerprint[:12]}...)")
        included = db.execute("SELECT id FROM transfers WHERE batch = ? AND status IN ('batched', 'included') "
                              "ORDER BY slot", (number,)).fetchall()
        dropped = db.execute("SELECT id, drop_reason FROM transfers WHERE batch = ? AND status = 'dropped' "
                             "ORDER BY id", (number,)).fetchall()
        registrations = db.execute("SELECT idx FROM registrations WHERE batch = ? ORDER BY slot", (number,)).fetchall()
        return Batch(
            number=number, status=status, layout_fingerprint=fingerprint,
            old_root=_decimal(old_root, f"{what} old_root"), new_root=_decimal(new_root, f"{what} new_root"),
            pubdata=bytes(pubdata), commitment=None if commitment is None else _decimal(commitment, f"{what} commitment"),
            witness_inputs=witness_inputs, transfer_ids=tuple(r[0] for r in included),
            registration_indices=tuple(r[0] for r in registrations), dropped=tuple((r[0], r[1]) for r in dropped),
            accounts_after=_accounts_from_json(accounts_after, f"{what} accounts_after"),
            proof=proof, public_inputs=public, built_at=built_at, proved_at=proved_at, submitted_at=submitted_at)

    # --- inspection -----------------------------------------------------------------------------
    def snapshot(self) -> dict[str, Any]:
        """A plain, comparable dump: every table's rows in rowid order (one consistent read), and the
        keystore's SHA-256 (not its keys). Two snapshots are equal exactly when nothing changed."""
        with self._transaction("DEFERRED") as db:
            tables = [row[0] for row in db.execute("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")]
            dump: dict[str, Any] = {name: db.execute(f'SELECT * FROM "{name}" ORDER BY rowid').fetchall()
                                    for name in tables}
        dump[KEYSTORE_NAME] = hashlib.sha256(self.keystore_path.read_bytes()).hexdigest()
        return dump


def _statements(script: str) -> list[str]:
    """The schema's statements, one by one (executescript would COMMIT our open transaction)."""
    lines = [line for line in script.splitlines() if not line.lstrip().startswith("--")]
    return [s.strip() for s in "\n".join(lines).split(";") if s.strip()]


def _one_line(text: Any) -> str:
    return " ".join(str(text).split())


def _check_database(db: sqlite3.Connection, path: Path) -> None:
    try:
        problems = [row[0] for row in db.execute("PRAGMA quick_check")]
        if problems != ["ok"]:
            raise StoreError(f"{path}: the database is corrupted (quick_check: {_one_line(problems[0])})")
        has_meta = db.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'meta'").fetchone()
        if not has_meta:
            raise StoreError(f"{path}: not a zkrollup store (no meta table)")
        row = db.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()
    except sqlite3.Error as error:
        raise StoreError(f"{path}: the database is unreadable or corrupted ({_one_line(error)})") from error
    if row is None or row[0] != str(SCHEMA_VERSION):
        found = "none" if row is None else _one_line(row[0])[:20]
        raise StoreError(f"{path}: made by store schema version {found}; this zkrollup reads version {SCHEMA_VERSION}")


def _require_status(db: sqlite3.Connection, table: str, key: str, value: int, status: str, what: str) -> None:
    row = db.execute(f"SELECT status FROM {table} WHERE {key} = ?", (value,)).fetchone()
    if row is None:
        raise StoreError(f"no {what} {value}")
    if row[0] != status:
        raise StoreError(f"{what} {value} is {row[0]}, not {status}")


def _account_row(row: tuple) -> Account:
    index, ax, ay, balance, nonce = row
    try:
        return Account(_decimal(ax, f"account {index} ax"), _decimal(ay, f"account {index} ay"),
                       _decimal(balance, f"account {index} balance"), nonce)
    except (ValueError, TypeError) as error:
        raise StoreError(f"corrupted store: account {index}: {error}") from error


def _transfer_row(row: tuple) -> MempoolTransfer:
    (transfer_id, from_index, to_index, amount, fee, nonce, r8x, r8y, s, status, batch, slot, drop_reason,
     received_at) = row
    what = f"transfer {transfer_id}"
    try:
        transfer = Transfer(from_index, to_index, _decimal(amount, f"{what} amount"), _decimal(fee, f"{what} fee"),
                            nonce)
    except InvalidTransfer as error:
        raise StoreError(f"corrupted store: {what}: {error}") from error
    signature = Signature(Point(_decimal(r8x, f"{what} r8x"), _decimal(r8y, f"{what} r8y")), _decimal(s, f"{what} s"))
    return MempoolTransfer(transfer_id, SignedTransfer(transfer, signature), status, batch, slot, drop_reason,
                           received_at)
