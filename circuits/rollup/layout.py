"""The rollup's layout: the one definition of everything the executor, the batch circuit, the L1 stand-in
and the contract must agree on (docs/DESIGN.md §4, checklist item 10). Not the circuit itself
(`circuits.rollup.batch`), the tree (`circuits.rollup.tree`) or any state (`zkrollup`).

What lives here: tree arity and depth and the path-bit order; the account leaf; the signed transfer message;
the pubdata encoding (field order, widths, byte order) and its packing into 31-byte field elements; the
commitment hash chain over those elements and the L1's challenge and evaluation (the "evaluation claim"
data binding), or the SHA-256 `data_hash` binding; the deployment chain id; the reserved account 0; the
public-input order. The byte-building helpers are generic over ints and circuit linear combinations, so
the native encoder and the circuit build pubdata with the very same code.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass
from typing import Any, NamedTuple, Sequence, TypeVar

from circuits.builder import LinearCombination, linear_sum
from circuits.poseidon import FIELD_MODULUS, poseidon
from circuits.rollup import defaults

__all__ = [
    "ARITIES",
    "BALANCE_BITS",
    "BINDINGS",
    "COMMITMENT_CHUNK",
    "ELEMENT_BYTES",
    "MAX_DEPTH",
    "NONCE_BITS",
    "PUBKEY_BYTES",
    "RESERVED_INDEX",
    "Layout",
    "LayoutError",
    "Pubdata",
    "RegistrationData",
    "TransferData",
    "account_leaf",
    "challenge",
    "commitment",
    "data_hash",
    "decode_pubdata",
    "deployment_chain_id",
    "encode_pubdata",
    "evaluation",
    "byte_value",
    "int_field_byte_bits",
    "int_field_bytes",
    "packed_point_byte_bits",
    "keccak256",
    "level_position",
    "pack_elements",
    "packed_point_bytes",
    "path_bits",
    "pubdata_elements",
    "public_inputs",
    "transfer_message",
]

R = FIELD_MODULUS

#: The tree may hash 2 or 4 children per node (4-ary: one Poseidon(4), 297 constraints, per two index bits).
ARITIES = (2, 4)
#: At most 2^32 accounts.
MAX_DEPTH = 32
#: Account 0 is reserved: its leaf stays 0 forever, and no enabled slot may name it (so all-zero pubdata
#: means exactly "disabled slot").
RESERVED_INDEX = 0
#: Balances, amounts and fees are u64; nonces u32.
BALANCE_BITS = 64
NONCE_BITS = 32
#: A packed Baby Jubjub public key (circomlibjs babyJub.packPoint) in registration pubdata.
PUBKEY_BYTES = 32
#: pubdata is cut into big-endian elements of 31 bytes (< 2^248 < r, so the packing is injective).
ELEMENT_BYTES = 31
#: The commitment chain absorbs up to 15 elements per Poseidon(16) call, beside the running value.
COMMITMENT_CHUNK = 15
#: Data bindings: the evaluation claim (default) or SHA-256 of the pubdata (Hermez v1, zkSync Lite).
BINDINGS = ("evaluation", "sha256")

PUBLIC_INPUTS = {
    "evaluation": ("old_root", "new_root", "chain_id", "commitment", "challenge", "evaluation"),
    "sha256": ("old_root", "new_root", "chain_id", "data_hash"),
}


class LayoutError(ValueError):
    """A layout parameter, a value to encode, or a pubdata byte string does not fit the layout."""


@dataclass(frozen=True)
class Layout:
    """The shape of one batch circuit and its data. Two batches with equal layouts share a proving key.

    depth: index bits D (2^D accounts, 1..32; even for arity 4); arity: 2 or 4 children per node;
    n_transfers / n_registrations: slots per batch (each with an `enabled` bit); binding: "evaluation" or
    "sha256"; index_bytes / amount_bytes / fee_bytes: pubdata widths (big-endian); index_bytes * 8 >= D and
    amount/fee widths hold 64 bits and at most 32 bytes (Rollup.sol's constructor checks the same).
    """

    depth: int = defaults.DEPTH
    arity: int = defaults.ARITY
    n_transfers: int = defaults.TRANSFERS
    n_registrations: int = defaults.REGISTRATIONS
    binding: str = defaults.BINDING
    index_bytes: int = 4
    amount_bytes: int = 8
    fee_bytes: int = 8

    def __post_init__(self):
        for name in ("depth", "arity", "n_transfers", "n_registrations", "index_bytes", "amount_bytes",
                     "fee_bytes"):
            value = getattr(self, name)
            if not isinstance(value, int) or isinstance(value, bool):
                raise LayoutError(f"layout {name} must be an integer, got {value!r}")
        if self.arity not in ARITIES:
            raise LayoutError(f"tree arity must be one of {ARITIES}, got {self.arity}")
        if not 1 <= self.depth <= MAX_DEPTH:
            raise LayoutError(f"tree depth must be 1..{MAX_DEPTH} index bits, got {self.depth}")
        if self.arity == 4 and self.depth % 2:
            raise LayoutError(f"a 4-ary tree needs an even depth in index bits, got {self.depth}")
        if self.n_transfers < 0 or self.n_registrations < 0 or self.n_transfers + self.n_registrations == 0:
            raise LayoutError("a batch needs at least one transfer or registration slot")
        if self.binding not in BINDINGS:
            raise LayoutError(f"data binding must be one of {BINDINGS}, got {self.binding!r}")
        if not self.depth <= 8 * self.index_bytes <= 32:
            raise LayoutError(f"index_bytes = {self.index_bytes} cannot hold {self.depth}-bit indices (max 4 bytes)")
        for name in ("amount_bytes", "fee_bytes"):
            if getattr(self, name) * 8 < BALANCE_BITS:
                raise LayoutError(f"{name} must hold {BALANCE_BITS} bits")
            if getattr(self, name) > 32:
                raise LayoutError(f"{name} = {getattr(self, name)} is wider than a 32-byte word (the contract's limit)")

    # --- tree -----------------------------------------------------------------------------------
    @property
    def n_accounts(self) -> int:
        return 1 << self.depth

    @property
    def levels(self) -> int:
        """Tree levels between a leaf and the root: D for a binary tree, D/2 for a 4-ary one."""
        return self.depth if self.arity == 2 else self.depth // 2

    # --- pubdata --------------------------------------------------------------------------------
    @property
    def registration_bytes(self) -> int:
        return self.index_bytes + PUBKEY_BYTES

    @property
    def transfer_bytes(self) -> int:
        return 2 * self.index_bytes + self.amount_bytes + self.fee_bytes

    @property
    def pubdata_length(self) -> int:
        """Bytes of pubdata per batch: fee account ‖ registrations ‖ transfers (fixed for the shape)."""
        return (self.index_bytes + self.n_registrations * self.registration_bytes
                + self.n_transfers * self.transfer_bytes)

    @property
    def n_elements(self) -> int:
        """Field elements the pubdata packs into (never 0: the fee account is always there)."""
        return -(-self.pubdata_length // ELEMENT_BYTES)

    @property
    def public_input_names(self) -> tuple[str, ...]:
        return PUBLIC_INPUTS[self.binding]

    # --- identity -------------------------------------------------------------------------------
    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, obj: Any) -> "Layout":
        """A layout from its to_json() form; LayoutError names an unknown or missing field."""
        if not isinstance(obj, dict):
            raise LayoutError("a layout is a JSON object")
        known = set(cls.__dataclass_fields__)
        unknown = set(obj) - known
        if unknown:
            raise LayoutError(f"unknown layout field(s): {', '.join(sorted(unknown))}")
        return cls(**obj)

    @property
    def shape_id(self) -> str:
        """A short readable name of the circuit shape, e.g. `d20-a4-t4-r2-evaluation`."""
        base = f"d{self.depth}-a{self.arity}-t{self.n_transfers}-r{self.n_registrations}-{self.binding}"
        if (self.index_bytes, self.amount_bytes, self.fee_bytes) != (4, 8, 8):
            base += f"-w{self.index_bytes}.{self.amount_bytes}.{self.fee_bytes}"
        return base

    def fingerprint(self) -> str:
        """SHA-256 (hex) of the canonical JSON of the layout: what a batch file records to name its shape."""
        return hashlib.sha256(json.dumps(self.to_json(), sort_keys=True).encode()).hexdigest()


# ---------------------------------------------------------------------------------------------------
# Tree paths


def path_bits(index: int, depth: int) -> list[int]:
    """The D bits of a leaf index, least significant first: the path from the leaf up.

    Binary tree: bit k says whether the level-k node is the right child. 4-ary tree: level k's position
    among its parent's four children is bits[2k] + 2·bits[2k + 1] (the k-th base-4 digit of the index).
    """
    if not isinstance(index, int) or not 0 <= index < 1 << depth:
        raise LayoutError(f"account index {index!r} is outside a tree of depth {depth}")
    return [(index >> k) & 1 for k in range(depth)]


def level_position(bits: Sequence[int], level: int, arity: int) -> int:
    """The position (0..arity-1) of the level-`level` node among its siblings, from the path bits."""
    if arity == 2:
        return bits[level]
    return bits[2 * level] + 2 * bits[2 * level + 1]


# ---------------------------------------------------------------------------------------------------
# Leaves and messages


def _field(value: int, what: str) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or not 0 <= value < R:
        raise LayoutError(f"{what} must be a field element in [0, r), got {value!r}")
    return value


def account_leaf(ax: int, ay: int, balance: int, nonce: int) -> int:
    """The account leaf Poseidon(ax, ay, balance, nonce), (ax, ay) the Baby Jubjub public key. Empty slot: 0."""
    if not 0 <= balance < 1 << BALANCE_BITS:
        raise LayoutError(f"balance {balance} is not a u64")
    if not 0 <= nonce < 1 << NONCE_BITS:
        raise LayoutError(f"nonce {nonce} is not a u{NONCE_BITS}")
    return poseidon([_field(ax, "ax"), _field(ay, "ay"), balance, nonce])


def transfer_message(chain_id: int, from_index: int, to_index: int, amount: int, fee: int, nonce: int) -> int:
    """The field element a transfer's EdDSA-Poseidon signature signs:
    Poseidon(chain_id, from, to, amount, fee, nonce) (chain_id binds it to one deployment, as EIP-155)."""
    values = (chain_id, from_index, to_index, amount, fee, nonce)
    for name, value in zip(("chain_id", "from", "to", "amount", "fee", "nonce"), values):
        _field(value, name)
    return poseidon(list(values))


# ---------------------------------------------------------------------------------------------------
# Ethereum-side hashing


def keccak256(data: bytes) -> bytes:
    """Ethereum's keccak256 (not NIST SHA3-256), 32 bytes."""
    from eth_hash.auto import keccak

    return keccak(bytes(data))


def deployment_chain_id(l1_chain_id: int, contract_address: bytes) -> int:
    """The rollup's chain id, unique to one deployment: keccak256(uint256(l1_chain_id) ‖ address) >> 3
    (Solidity: `uint256(keccak256(abi.encodePacked(block.chainid, address(this)))) >> 3`), so < 2^253 < r."""
    if not isinstance(l1_chain_id, int) or not 0 <= l1_chain_id < 1 << 256:
        raise LayoutError(f"L1 chain id must be a uint256, got {l1_chain_id!r}")
    if len(contract_address) != 20:
        raise LayoutError(f"a contract address is 20 bytes, got {len(contract_address)}")
    return int.from_bytes(keccak256(l1_chain_id.to_bytes(32, "big") + bytes(contract_address)), "big") >> 3


# ---------------------------------------------------------------------------------------------------
# Pubdata: field order, widths and byte order, built by generic helpers shared with the circuit.

T = TypeVar("T", int, LinearCombination)


def _weighted_sum(values: Sequence, weights: Sequence[int]):
    if all(isinstance(v, int) for v in values):
        return sum(v * w for v, w in zip(values, weights))
    return linear_sum(values, weights)


def byte_value(bits: Sequence):
    """The value of one byte from its 8 bits, least significant first (int or linear combination)."""
    return _weighted_sum(list(bits), [1 << i for i in range(8)])


def int_field_byte_bits(bits: Sequence, width: int) -> list[list]:
    """The big-endian bytes of an unsigned field of `width` bytes, each as its 8 bits (least significant
    first), from the value's bits (least significant first, at most 8·width of them; missing high bits are
    the constant 0). Works on ints or circuit linear combinations."""
    if len(bits) > 8 * width:
        raise LayoutError(f"{len(bits)} bits do not fit a {width}-byte field")
    padded = list(bits) + [0] * (8 * width - len(bits))
    return [padded[8 * k:8 * k + 8] for k in range(width)][::-1]


def int_field_bytes(bits: Sequence, width: int) -> list:
    """int_field_byte_bits as byte values."""
    return [byte_value(b) for b in int_field_byte_bits(bits, width)]


def packed_point_byte_bits(bits: Sequence) -> list[list]:
    """The 32 bytes of circomlibjs babyJub.packPoint, each as 8 bits (least significant first), from its 256
    little-endian bits (bit 8k + j is bit j of byte k: y's 254 bits, a 0, the sign of x), in packPoint's
    own byte order."""
    if len(bits) != 8 * PUBKEY_BYTES:
        raise LayoutError(f"a packed point has {8 * PUBKEY_BYTES} bits, got {len(bits)}")
    return [list(bits[8 * k:8 * k + 8]) for k in range(PUBKEY_BYTES)]


def packed_point_bytes(bits: Sequence) -> list:
    """packed_point_byte_bits as byte values."""
    return [byte_value(b) for b in packed_point_byte_bits(bits)]


def pack_elements(byte_values: Sequence) -> list:
    """pubdata bytes -> field elements: consecutive 31-byte big-endian chunks, the last zero-padded on the
    right. Each element < 2^248 < r. Works on ints or circuit linear combinations (the packing is linear)."""
    elements = []
    for start in range(0, len(byte_values), ELEMENT_BYTES):
        chunk = list(byte_values[start:start + ELEMENT_BYTES])
        chunk += [0] * (ELEMENT_BYTES - len(chunk))
        elements.append(_weighted_sum(chunk, [256 ** (ELEMENT_BYTES - 1 - j) for j in range(ELEMENT_BYTES)]))
    return elements


def pubdata_elements(pubdata: bytes) -> list[int]:
    """pack_elements over a byte string."""
    return pack_elements(list(pubdata))


class RegistrationData(NamedTuple):
    """A registration as published: the new account's index and its packed public key (32 bytes)."""

    index: int
    packed_pubkey: bytes


class TransferData(NamedTuple):
    """A transfer as published (no nonce or signature: the proof vouches for them)."""

    from_index: int
    to_index: int
    amount: int
    fee: int


@dataclass(frozen=True)
class Pubdata:
    """Decoded pubdata of one batch: enabled slots only, in slot order."""

    fee_account: int
    registrations: tuple[RegistrationData, ...]
    transfers: tuple[TransferData, ...]


def _uint(value: int, width: int, what: str) -> bytes:
    if not isinstance(value, int) or isinstance(value, bool) or not 0 <= value < 1 << (8 * width):
        raise LayoutError(f"{what} = {value!r} does not fit {width} bytes")
    return value.to_bytes(width, "big")


def encode_pubdata(layout: Layout, fee_account: int, registrations: Sequence[RegistrationData],
                   transfers: Sequence[TransferData]) -> bytes:
    """fee_account ‖ registration slots (index ‖ packed key) ‖ transfer slots (from ‖ to ‖ amount ‖ fee),
    big-endian, unused slots all zero; always layout.pubdata_length bytes. LayoutError if too many or too wide."""
    if len(registrations) > layout.n_registrations or len(transfers) > layout.n_transfers:
        raise LayoutError(f"{len(registrations)} registrations and {len(transfers)} transfers do not fit "
                          f"{layout.n_registrations} + {layout.n_transfers} slots")
    out = bytearray(_uint(fee_account, layout.index_bytes, "fee account"))
    for reg in registrations:
        if len(reg.packed_pubkey) != PUBKEY_BYTES:
            raise LayoutError(f"a packed public key is {PUBKEY_BYTES} bytes")
        out += _uint(reg.index, layout.index_bytes, "registration index") + bytes(reg.packed_pubkey)
    out += bytes(layout.registration_bytes * (layout.n_registrations - len(registrations)))
    for t in transfers:
        out += (_uint(t.from_index, layout.index_bytes, "from") + _uint(t.to_index, layout.index_bytes, "to")
                + _uint(t.amount, layout.amount_bytes, "amount") + _uint(t.fee, layout.fee_bytes, "fee"))
    out += bytes(layout.transfer_bytes * (layout.n_transfers - len(transfers)))
    assert len(out) == layout.pubdata_length
    return bytes(out)


def decode_pubdata(layout: Layout, data: bytes) -> Pubdata:
    """Inverse of encode_pubdata: all-zero slots are disabled and dropped. LayoutError on a wrong length, or
    a zero slot between enabled ones is kept as is (the circuit forbids index 0 in enabled slots)."""
    if len(data) != layout.pubdata_length:
        raise LayoutError(f"pubdata is {len(data)} bytes; this layout ({layout.shape_id}) has {layout.pubdata_length}")
    ib = layout.index_bytes
    pos = ib
    fee_account = int.from_bytes(data[:ib], "big")
    registrations = []
    for _ in range(layout.n_registrations):
        chunk = data[pos:pos + layout.registration_bytes]
        pos += layout.registration_bytes
        if any(chunk):
            registrations.append(RegistrationData(int.from_bytes(chunk[:ib], "big"), bytes(chunk[ib:])))
    transfers = []
    for _ in range(layout.n_transfers):
        chunk = data[pos:pos + layout.transfer_bytes]
        pos += layout.transfer_bytes
        if any(chunk):
            a = 2 * ib
            transfers.append(TransferData(int.from_bytes(chunk[:ib], "big"), int.from_bytes(chunk[ib:a], "big"),
                                          int.from_bytes(chunk[a:a + layout.amount_bytes], "big"),
                                          int.from_bytes(chunk[a + layout.amount_bytes:], "big")))
    return Pubdata(fee_account, tuple(registrations), tuple(transfers))


# ---------------------------------------------------------------------------------------------------
# Data binding


def commitment(elements: Sequence[int]) -> int:
    """C, the Poseidon hash chain over the pubdata elements: c = 0, then c = Poseidon(c, e_i, ..., e_{i+14})
    for each run of up to 15 elements (the last run may be shorter; the count is fixed by the layout)."""
    if not elements:
        raise LayoutError("the commitment needs at least one element")
    c = 0
    for start in range(0, len(elements), COMMITMENT_CHUNK):
        c = poseidon([c, *elements[start:start + COMMITMENT_CHUNK]])
    return c


def challenge(pubdata: bytes, commitment_value: int) -> int:
    """z = keccak256(keccak256(pubdata) ‖ uint256(C)) mod r: what the L1 derives from the calldata it received
    and the commitment C the proof binds (C is fixed before z exists, so z cannot be steered)."""
    _field(commitment_value, "commitment")
    digest = keccak256(keccak256(pubdata) + commitment_value.to_bytes(32, "big"))
    return int.from_bytes(digest, "big") % R


def evaluation(elements: Sequence[int], z: int) -> int:
    """y = Σ e_j·z^j mod r, by Horner from the highest power (as the contract does with mulmod)."""
    y = 0
    for e in reversed(elements):
        y = (y * z + e) % R
    return y


def data_hash(pubdata: bytes) -> int:
    """The SHA-256 binding's public input: sha256(pubdata) as a big-endian integer, top 3 bits cleared (< 2^253)."""
    return int.from_bytes(hashlib.sha256(pubdata).digest(), "big") & ((1 << 253) - 1)


def public_inputs(layout: Layout, old_root: int, new_root: int, chain_id: int, pubdata: bytes,
                  commitment_value: int | None = None) -> list[int]:
    """The Groth16 public inputs, in the circuit's order, as an L1 derives them from what it holds and the
    calldata it received: (old_root, new_root, chain_id, C, z, y) or (old_root, new_root, chain_id, data_hash).
    C is the prover's claim (the proof binds it); z and y are computed here from the pubdata, never taken."""
    if len(pubdata) != layout.pubdata_length:
        raise LayoutError(f"pubdata is {len(pubdata)} bytes; this layout ({layout.shape_id}) has {layout.pubdata_length}")
    head = [_field(old_root, "old_root"), _field(new_root, "new_root"), _field(chain_id, "chain_id")]
    if layout.binding == "sha256":
        return head + [data_hash(pubdata)]
    if commitment_value is None:
        raise LayoutError("the evaluation binding needs the batch's commitment C")
    z = challenge(pubdata, commitment_value)
    return head + [commitment_value, z, evaluation(pubdata_elements(pubdata), z)]
