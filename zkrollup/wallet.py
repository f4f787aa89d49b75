"""The wallet: key pairs, transfers, their EdDSA-Poseidon signatures and the signed-transfer JSON document that
any circomlibjs-based wallet can produce. Not the mempool or the state (`zkrollup.store`), nor what a transfer
does to balances (the executor): here a transfer is only well-formed and signed, or refused with one line.
"""

from __future__ import annotations

import json
import re
import secrets
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Union

from circuits.babyjub import FIELD_MODULUS, SUBGROUP_ORDER, Point, is_on_curve
from circuits.eddsa import Signature, prv2pub, sign_poseidon, verify_poseidon
from circuits.rollup.layout import BALANCE_BITS, MAX_DEPTH, NONCE_BITS, RESERVED_INDEX, transfer_message

__all__ = [
    "PRIVATE_KEY_BYTES",
    "InvalidTransfer",
    "KeyPair",
    "SignedTransfer",
    "Transfer",
    "canonical_decimal",
    "generate_keypair",
    "read_transfer",
    "sign_transfer",
    "write_transfer",
]

PathLike = Union[str, Path]

#: circomlibjs wallets use 32-byte private keys (eddsa.prv2pub hashes them with blake512).
PRIVATE_KEY_BYTES = 32

#: The fields of a signed-transfer document, in the order to_json writes them.
DOCUMENT_FIELDS = ("from", "to", "amount", "fee", "nonce", "signature")
SIGNATURE_FIELDS = ("R8", "S")

# Integer fields of a Transfer: (document name, attribute, exclusive upper bound, what the bound is called).
_TRANSFER_FIELDS = (
    ("from", "from_index", 1 << MAX_DEPTH, f"2^{MAX_DEPTH} (an account index)"),
    ("to", "to_index", 1 << MAX_DEPTH, f"2^{MAX_DEPTH} (an account index)"),
    ("amount", "amount", 1 << BALANCE_BITS, f"2^{BALANCE_BITS} (a u{BALANCE_BITS})"),
    ("fee", "fee", 1 << BALANCE_BITS, f"2^{BALANCE_BITS} (a u{BALANCE_BITS})"),
    ("nonce", "nonce", 1 << NONCE_BITS, f"2^{NONCE_BITS} (a u{NONCE_BITS})"),
)

_CANONICAL_DECIMAL = re.compile(r"0|[1-9][0-9]*")
# A field element has at most 77 decimal digits; longer strings are refused before int() sees them.
_MAX_DIGITS = len(str(FIELD_MODULUS))
# A signed-transfer document is a few hundred bytes, three levels deep.
_MAX_FILE_BYTES = 1 << 16
_MAX_NESTING = 8


class InvalidTransfer(ValueError):
    """A transfer or signed-transfer document that breaks a rule; the message is one line naming the field
    (as the JSON document names it, e.g. `amount` or `signature.R8[0]`) and the rule, prefixed with the file
    path when the document was read from a file."""


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def canonical_decimal(value: Any, name: str) -> int:
    """The integer a canonical decimal string spells: digits only, no sign, no leading zeros (except "0"
    itself), no hex, no exponent, at most 77 digits (a field element's length); the format snarkjs and
    circomlibjs (`BigInt.toString()`) write. InvalidTransfer names `name` and the rule otherwise."""
    if not isinstance(value, str):
        kind = "a boolean" if isinstance(value, bool) else "null" if value is None else type(value).__name__
        raise InvalidTransfer(f"{name}: expected a decimal string, got {kind}")
    if value.startswith("-"):
        raise InvalidTransfer(f"{name}: must not be negative, got {_short(value)}")
    if not _CANONICAL_DECIMAL.fullmatch(value):
        raise InvalidTransfer(f"{name}: {_short(value)} is not a canonical decimal string "
                              "(digits only: no sign, leading zeros, hex, exponent or spaces)")
    if len(value) > _MAX_DIGITS:
        raise InvalidTransfer(f"{name}: a decimal of {len(value)} digits is larger than any field element")
    return int(value)


# ---------------------------------------------------------------------------------------------------
# Keys


@dataclass(frozen=True)
class KeyPair:
    """A Baby Jubjub key pair as circomlibjs makes one: `private_key` (32 bytes; never shown by repr) and
    `public_key` = eddsa.prv2pub(private_key), a point (ax, ay) of the prime-order subgroup."""

    private_key: bytes = field(repr=False)
    public_key: Point

    def __post_init__(self):
        if not isinstance(self.private_key, bytes) or len(self.private_key) != PRIVATE_KEY_BYTES:
            raise ValueError(f"a private key is {PRIVATE_KEY_BYTES} bytes")
        if prv2pub(self.private_key) != self.public_key:
            raise ValueError("the public key is not the one of this private key")

    @classmethod
    def from_private_key(cls, private_key: bytes) -> "KeyPair":
        """The key pair of a 32-byte private key (ValueError for another length, without echoing the bytes)."""
        if not isinstance(private_key, (bytes, bytearray, memoryview)) or len(private_key) != PRIVATE_KEY_BYTES:
            raise ValueError(f"a private key is {PRIVATE_KEY_BYTES} bytes")
        private_key = bytes(private_key)
        return cls(private_key, prv2pub(private_key))


def generate_keypair() -> KeyPair:
    """A fresh key pair from 32 bytes of the OS CSPRNG (`secrets.token_bytes`)."""
    return KeyPair.from_private_key(secrets.token_bytes(PRIVATE_KEY_BYTES))


# ---------------------------------------------------------------------------------------------------
# Transfers


@dataclass(frozen=True)
class Transfer:
    """A transfer of `amount` from account `from_index` to `to_index`, paying `fee` to the batch's fee
    account; `nonce` is the sender's nonce it consumes. Indices are in [1, 2^32) (account 0 is reserved;
    whether an index exists in a tree of depth D is the executor's question), amount and fee are u64,
    the nonce u32. InvalidTransfer names the first field that breaks its rule."""

    from_index: int
    to_index: int
    amount: int
    fee: int
    nonce: int

    def __post_init__(self):
        for name, attribute, bound, bound_name in _TRANSFER_FIELDS:
            value = getattr(self, attribute)
            if not _is_int(value):
                raise InvalidTransfer(f"{name}: expected an integer, got {type(value).__name__}")
            if value < 0:
                raise InvalidTransfer(f"{name}: must not be negative, got {value}")
            if value >= bound:
                raise InvalidTransfer(f"{name}: {value} is not below {bound_name}")
        for name, value in (("from", self.from_index), ("to", self.to_index)):
            if value == RESERVED_INDEX:
                raise InvalidTransfer(f"{name}: account {RESERVED_INDEX} is reserved and cannot send or receive")

    def message(self, chain_id: int) -> int:
        """The field element the sender signs: layout.transfer_message(chain_id, from, to, amount, fee, nonce)
        = Poseidon(chain_id, from, to, amount, fee, nonce). LayoutError if chain_id is not in [0, r)."""
        return transfer_message(chain_id, self.from_index, self.to_index, self.amount, self.fee, self.nonce)


@dataclass(frozen=True)
class SignedTransfer:
    """A transfer and the sender's EdDSA-Poseidon signature of `transfer.message(chain_id)`.

    Its JSON document (to_json / from_json), every number a canonical decimal string:
    `{"from": "1", "to": "2", "amount": "100", "fee": "1", "nonce": "0",
      "signature": {"R8": ["<x>", "<y>"], "S": "<s>"}}`
    R8 and S are what circomlibjs eddsa.signPoseidon returns (its F.toObject(R8[i]) and S).
    """

    transfer: Transfer
    signature: Signature

    def verify(self, public_key: tuple[int, int], chain_id: int) -> bool:
        """True when the signature signs this transfer for this chain id under public_key (ax, ay):
        circuits.eddsa.verify_poseidon, so also S < l, R8 and A on the curve, A not of low order."""
        return verify_poseidon(self.transfer.message(chain_id), self.signature, tuple(public_key))

    def to_json(self) -> dict[str, Any]:
        """The JSON document (a dict of decimal strings), keys in DOCUMENT_FIELDS order."""
        t, sig = self.transfer, self.signature
        return {
            "from": str(t.from_index),
            "to": str(t.to_index),
            "amount": str(t.amount),
            "fee": str(t.fee),
            "nonce": str(t.nonce),
            "signature": {"R8": [str(sig.r8[0]), str(sig.r8[1])], "S": str(sig.s)},
        }

    @classmethod
    def from_json(cls, obj: Any) -> "SignedTransfer":
        """Read a signed-transfer document strictly: exactly DOCUMENT_FIELDS (and R8, S in the signature),
        canonical decimal strings, the Transfer's ranges, R8 a point of Baby Jubjub with coordinates < r,
        S < l. Whether the signature verifies needs the sender's key: that is `verify`'s question.
        InvalidTransfer names the field and the broken rule."""
        _check_fields(obj, DOCUMENT_FIELDS, "", "a signed transfer")
        values = {}
        for name, attribute, _, _ in _TRANSFER_FIELDS:
            values[attribute] = canonical_decimal(obj[name], name)
        transfer = Transfer(**values)
        return cls(transfer, _signature_from_json(obj["signature"]))


def _check_fields(obj: Any, fields: tuple[str, ...], prefix: str, what: str) -> None:
    if not isinstance(obj, dict):
        where = f"{prefix.rstrip('.')}: " if prefix else ""
        raise InvalidTransfer(f"{where}{what} is a JSON object, got {_json_kind(obj)}")
    for name in fields:
        if name not in obj:
            raise InvalidTransfer(f"{prefix}{name}: missing field")
    for name in obj:
        if name not in fields:
            shown = name if len(name) <= 40 else name[:37] + "..."
            raise InvalidTransfer(f"{prefix}{shown}: unknown field (expected only {', '.join(fields)})")


def _json_kind(value: Any) -> str:
    if isinstance(value, list):
        return "an array"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, bool):
        return "a boolean"
    if value is None:
        return "null"
    return "a number" if isinstance(value, (int, float)) else type(value).__name__


def _signature_from_json(obj: Any) -> Signature:
    _check_fields(obj, SIGNATURE_FIELDS, "signature.", "a signature")
    r8 = obj["R8"]
    if not isinstance(r8, list) or len(r8) != 2:
        raise InvalidTransfer(f"signature.R8: expected an array of two decimal strings, got {_json_kind(r8)}"
                              + (f" of {len(r8)}" if isinstance(r8, list) else ""))
    coordinates = []
    for i, value in enumerate(r8):
        number = canonical_decimal(value, f"signature.R8[{i}]")
        if number >= FIELD_MODULUS:
            raise InvalidTransfer(f"signature.R8[{i}]: not below the field modulus r")
        coordinates.append(number)
    if not is_on_curve(coordinates):
        raise InvalidTransfer("signature.R8: not a point of Baby Jubjub (a·x² + y² ≠ 1 + d·x²·y²)")
    s = canonical_decimal(obj["S"], "signature.S")
    if s >= SUBGROUP_ORDER:
        raise InvalidTransfer("signature.S: not below the subgroup order l (S and S + l would both verify)")
    return Signature(r8=Point(*coordinates), s=s)


def sign_transfer(key: Union[KeyPair, bytes], transfer: Transfer, chain_id: int) -> SignedTransfer:
    """Sign transfer.message(chain_id) with a KeyPair or a 32-byte private key: circomlibjs
    eddsa.signPoseidon, deterministic, so equal inputs give the very same signature."""
    private_key = key.private_key if isinstance(key, KeyPair) else key
    if not isinstance(private_key, (bytes, bytearray)) or len(private_key) != PRIVATE_KEY_BYTES:
        raise ValueError(f"a private key is {PRIVATE_KEY_BYTES} bytes")
    return SignedTransfer(transfer, sign_poseidon(bytes(private_key), transfer.message(chain_id)))


# ---------------------------------------------------------------------------------------------------
# Files


def _nesting_depth(text: str) -> int:
    """Deepest bracket nesting outside strings (json.loads recurses on nesting)."""
    depth = deepest = 0
    in_string = escaped = False
    for char in text:
        if in_string:
            if escaped:
                escaped = False
            elif char == "\\":
                escaped = True
            elif char == '"':
                in_string = False
        elif char == '"':
            in_string = True
        elif char in "[{":
            depth += 1
            deepest = max(deepest, depth)
        elif char in "]}":
            depth -= 1
    return deepest


def read_transfer(path: PathLike) -> SignedTransfer:
    """A signed transfer from a JSON file (UTF-8, at most 64 KiB). InvalidTransfer, its message prefixed with
    the path, for an unreadable file, text that is not JSON, or a document from_json refuses."""
    try:
        try:
            with open(path, "rb") as handle:
                data = handle.read(_MAX_FILE_BYTES + 1)
        except OSError as error:
            raise InvalidTransfer(f"cannot read: {error.strerror or error}") from error
        if len(data) > _MAX_FILE_BYTES:
            raise InvalidTransfer(f"larger than {_MAX_FILE_BYTES} bytes: not a signed transfer")
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError as error:
            raise InvalidTransfer("not UTF-8 text") from error
        if _nesting_depth(text) > _MAX_NESTING:
            raise InvalidTransfer(f"JSON nested deeper than {_MAX_NESTING} levels: not a signed transfer")
        try:
            obj = json.loads(text)
        except ValueError as error:
            reason = f"{error.msg} at line {error.lineno} column {error.colno}" if isinstance(
                error, json.JSONDecodeError) else "a number is far too long"
            raise InvalidTransfer(f"not JSON ({reason})") from error
        return SignedTransfer.from_json(obj)
    except InvalidTransfer as error:
        raise InvalidTransfer(f"{path}: {error}") from error


def write_transfer(path: PathLike, signed: SignedTransfer) -> None:
    """Write signed.to_json() as a JSON file (two-space indentation, final newline)."""
    Path(path).write_text(json.dumps(signed.to_json(), indent=2) + "\n", encoding="utf-8")
