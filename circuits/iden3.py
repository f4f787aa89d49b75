"""Read and write iden3 binary `.r1cs` (version 1) and `.wtns` (version 2) files over BN254's scalar field.

Owns the container format and these two section layouts; not `.zkey` or `.ptau` (prover/), nor `.sym`.
Format (iden3/r1csfile doc, snarkjs wtns_utils): magic(4) ‖ version u32 ‖ n_sections u32 ‖ per section:
type u32 ‖ size u64 ‖ bytes. All integers little-endian; field elements n8 = 32 bytes, standard form.
r1cs sections: 1 header (n8, prime, nWires, nPubOut, nPubIn, nPrvIn u32, nLabels u64, nConstraints u32),
2 constraints (per constraint A, B, C: nTerms u32 then (wire u32, coeff n8) each), 3 wire -> label (u64 each).
wtns sections: 1 header (n8, prime, nWitness u32), 2 values (n8 each). Sections may come in any order.
"""

from __future__ import annotations

import os
import struct
from typing import BinaryIO, Iterator, Sequence, Union

import numpy as np

from .builder import FIELD_BYTES, R, R1CS, SparseMatrix, TOP_LEVEL, ints_to_limbs, limbs_to_ints

PathOrFile = Union[str, os.PathLike, BinaryIO]

R1CS_MAGIC, R1CS_VERSION = b"r1cs", 1
WTNS_MAGIC, WTNS_VERSION = b"wtns", 2
_KNOWN_PRIMES = {
    0x73EDA753299D7D483339D80809A1D80553BDA402FFFE5BFEFFFFFFFF00000001: "BLS12-381's scalar field",
    21888242871839275222246405745257275088696311157297823662689037894645226208583: "BN254's base field q",
    0xFFFFFFFF00000001: "Goldilocks",
}
_TERM = 4 + FIELD_BYTES
_R_LIMBS = ints_to_limbs([R])[0]


class Iden3FormatError(ValueError):
    """A `.r1cs` or `.wtns` file is malformed or not one we support; the message says what is wrong."""


class WrongMagic(Iden3FormatError):
    pass


class UnsupportedVersion(Iden3FormatError):
    pass


class MissingSection(Iden3FormatError):
    pass


class TruncatedFile(Iden3FormatError):
    pass


class UnsupportedField(Iden3FormatError):
    pass


class MalformedSection(Iden3FormatError):
    pass


# ---------------------------------------------------------------------------------------------------
# Container


def _read_bytes(source: PathOrFile | bytes) -> bytes:
    if isinstance(source, (bytes, bytearray, memoryview)):
        return bytes(source)
    if hasattr(source, "read"):
        return source.read()
    with open(source, "rb") as f:
        return f.read()


def _write_bytes(target: PathOrFile, data: bytes) -> None:
    if hasattr(target, "write"):
        target.write(data)
    else:
        with open(target, "wb") as f:
            f.write(data)


def _container(sections: Sequence[tuple[int, bytes]], magic: bytes, version: int) -> bytes:
    parts = [magic, struct.pack("<II", version, len(sections))]
    for kind, body in sections:
        parts.append(struct.pack("<IQ", kind, len(body)))
        parts.append(body)
    return b"".join(parts)


def shown_magic(prefix: bytes) -> str:
    """A file's first bytes for a message: quoted text when printable ("r1cs"), else hex (0x7f454c46)."""
    if prefix and all(32 <= b < 127 for b in prefix):
        return '"' + prefix.decode("ascii") + '"'
    return "0x" + prefix.hex() if prefix else "nothing (an empty file)"


def _sections(data: bytes, magic: bytes, version: int, what: str) -> dict[int, memoryview]:
    if len(data) < 12:
        if data[:len(magic)] != magic[:len(data)]:
            raise WrongMagic(f"not a {what} file: its magic number is {shown_magic(data[:4])}, not {shown_magic(magic)}")
        raise TruncatedFile(f"{what} file is {len(data)} bytes, shorter than its 12-byte header")
    if data[:4] != magic:
        raise WrongMagic(f"not a {what} file: its magic number is {shown_magic(data[:4])}, not {shown_magic(magic)}")
    found_version, n_sections = struct.unpack_from("<II", data, 4)
    if found_version != version:
        raise UnsupportedVersion(f"{what} version {found_version} is not supported (only version {version})")
    view = memoryview(data)
    sections: dict[int, memoryview] = {}
    pos = 12
    for i in range(n_sections):
        if pos + 12 > len(data):
            raise TruncatedFile(f"{what} file ends inside the header of section {i + 1} of {n_sections}")
        kind, size = struct.unpack_from("<IQ", data, pos)
        pos += 12
        if pos + size > len(data):
            raise TruncatedFile(f"{what} section {kind} declares {size} bytes but only {len(data) - pos} remain")
        if kind in sections:
            raise MalformedSection(f"{what} section {kind} appears twice")
        sections[kind] = view[pos:pos + size]
        pos += size
    if pos != len(data):
        raise MalformedSection(f"{what} file has {len(data) - pos} bytes after its last section")
    return sections


def _require(sections: dict[int, memoryview], kind: int, name: str, what: str) -> memoryview:
    if kind not in sections:
        raise MissingSection(f"{what} file has no section {kind} ({name})")
    return sections[kind]


def _check_field(n8: int, prime_bytes: bytes, what: str) -> None:
    if n8 != FIELD_BYTES:
        raise UnsupportedField(f"{what} field elements are {n8} bytes; only BN254's scalar field (32 bytes) "
                               f"is supported")
    prime = int.from_bytes(prime_bytes, "little")
    if prime != R:
        known = _KNOWN_PRIMES.get(prime)
        raise UnsupportedField(f"{what} prime is {prime}" + (f" ({known})" if known else "")
                               + f"; only BN254's scalar field r = {R} is supported")


def _below_r(limbs: np.ndarray) -> np.ndarray:
    """Per row of (n, 4) little-endian limbs: value < r."""
    below = np.zeros(len(limbs), dtype=bool)
    undecided = np.ones(len(limbs), dtype=bool)
    for k in (3, 2, 1, 0):
        below |= undecided & (limbs[:, k] < _R_LIMBS[k])
        undecided &= limbs[:, k] == _R_LIMBS[k]
    return below


# ---------------------------------------------------------------------------------------------------
# .r1cs


def _r1cs_parts(r1cs: R1CS) -> Iterator[bytes]:
    """The `.r1cs` file as a stream of byte strings (constraints in chunks, to bound memory)."""
    header = struct.pack("<I", FIELD_BYTES) + R.to_bytes(FIELD_BYTES, "little") + struct.pack(
        "<IIIIQI", r1cs.n_wires, r1cs.n_public_outputs, r1cs.n_public_inputs, r1cs.n_private_inputs,
        r1cs.n_labels, r1cs.n_constraints)
    constraints_size = 12 * r1cs.n_constraints + _TERM * (r1cs.a.nnz + r1cs.b.nnz + r1cs.c.nnz)
    labels = np.ascontiguousarray(r1cs.wire_labels, dtype="<u8").tobytes()
    yield R1CS_MAGIC + struct.pack("<II", R1CS_VERSION, 3)
    yield struct.pack("<IQ", 1, len(header)) + header
    yield struct.pack("<IQ", 2, constraints_size)
    for r0 in range(0, r1cs.n_constraints, _ROWS_PER_CHUNK):
        yield _constraints_bytes(r1cs, r0, min(r1cs.n_constraints, r0 + _ROWS_PER_CHUNK))
    yield struct.pack("<IQ", 3, len(labels)) + labels


def r1cs_to_bytes(r1cs: R1CS) -> bytes:
    """The iden3 `.r1cs` bytes of this constraint system (gadget annotations are not stored)."""
    return b"".join(_r1cs_parts(r1cs))


_ROWS_PER_CHUNK = 1 << 16


def _constraints_bytes(r1cs: R1CS, r0: int, r1: int) -> bytes:
    """Constraints r0 .. r1-1 in file order: constraint i's A, B, C (each: count, then its terms)."""
    matrices = (r1cs.a, r1cs.b, r1cs.c)
    counts = np.stack([np.diff(x.indptr[r0:r1 + 1]) for x in matrices], axis=1).reshape(-1)   # (3·rows,)
    seg_sizes = 4 + _TERM * counts
    seg_starts = np.concatenate([[0], np.cumsum(seg_sizes)[:-1]]).astype(np.int64)
    total = int(seg_sizes.sum())
    out = np.zeros(total, dtype=np.uint8)
    count_bytes = counts.astype("<u4").view(np.uint8).reshape(-1, 4)
    is_term = np.ones(total, dtype=bool)
    for k in range(4):
        out[seg_starts + k] = count_bytes[:, k]
        is_term[seg_starts + k] = False
    records, keys = [], []
    for which, x in enumerate(matrices):
        s, e = int(x.indptr[r0]), int(x.indptr[r1])
        rec = np.empty((e - s, _TERM), dtype=np.uint8)
        rec[:, :4] = x.indices[s:e].astype("<u4").view(np.uint8).reshape(-1, 4)
        rec[:, 4:] = np.ascontiguousarray(x.coeffs[s:e], dtype="<u8").view(np.uint8).reshape(-1, FIELD_BYTES)
        records.append(rec)
        rows = np.repeat(np.arange(r1 - r0, dtype=np.int64), np.diff(x.indptr[r0:r1 + 1]))
        keys.append(rows * 3 + which)
    order = np.argsort(np.concatenate(keys), kind="stable")    # by (constraint, matrix), rows kept in order
    out[is_term] = np.concatenate(records)[order].reshape(-1)
    return out.tobytes()


def write_r1cs(target: PathOrFile, r1cs: R1CS) -> None:
    if hasattr(target, "write"):
        for part in _r1cs_parts(r1cs):
            target.write(part)
    else:
        with open(target, "wb") as f:
            for part in _r1cs_parts(r1cs):
                f.write(part)


def read_r1cs(source: PathOrFile | bytes) -> R1CS:
    """Parse an iden3 `.r1cs` file (a path, a binary file, or bytes) into an R1CS.

    Accepts what snarkjs's reader and setup accept: only the constant wire and the public outputs and
    inputs must be wires; `n_private_inputs` is kept as the header declares it, which for circom --O2 may
    count inputs it removed from the witness. Raises an Iden3FormatError subclass naming the problem:
    WrongMagic, UnsupportedVersion, MissingSection, TruncatedFile, UnsupportedField (not BN254's r) or
    MalformedSection (inconsistent counts, a wire out of range or named twice in one row, a coefficient >= r).
    """
    data = _read_bytes(source)
    sections = _sections(data, R1CS_MAGIC, R1CS_VERSION, ".r1cs")
    if 4 in sections or 5 in sections:
        raise MalformedSection(".r1cs has custom-gate sections (4, 5): PLONK custom gates are not supported")
    header = _require(sections, 1, "header", ".r1cs")
    if len(header) < 4:
        raise TruncatedFile(".r1cs header section is shorter than its field size")
    n8, = struct.unpack_from("<I", header, 0)
    if len(header) != n8 + 32:
        raise MalformedSection(f".r1cs header section is {len(header)} bytes; expected {n8 + 32} for n8 = {n8}")
    _check_field(n8, bytes(header[4:4 + n8]), ".r1cs")
    n_wires, n_out, n_pub, n_prv, n_labels, n_constraints = struct.unpack_from("<IIIIQI", header, 4 + n8)
    # Only the constant wire and the public ones must be wires: circom --O2 removes private inputs that are
    # unused or only linearly used from the witness yet still counts them in nPrvInputs ("2 private inputs
    # (1 belong to witness)"), and snarkjs's setup and prover never use that count (r1csfile, zkey_new.js).
    if 1 + n_out + n_pub > n_wires:
        raise MalformedSection(f".r1cs header counts are inconsistent: {n_wires} wires but 1 + {n_out} outputs"
                               f" + {n_pub} public inputs")
    body = _require(sections, 2, "constraints", ".r1cs")
    matrices = _parse_constraints(bytes(body), n_constraints, n_wires)
    if 3 in sections:
        labels_bytes = sections[3]
        if len(labels_bytes) != 8 * n_wires:
            raise MalformedSection(f".r1cs wire-to-label section is {len(labels_bytes)} bytes; "
                                   f"expected 8 x {n_wires} wires")
        labels = np.frombuffer(labels_bytes, dtype="<u8").astype(np.uint64)
    else:
        labels = np.arange(n_wires, dtype=np.uint64)
    return R1CS(n_wires=n_wires, n_public_outputs=n_out, n_public_inputs=n_pub, n_private_inputs=n_prv,
                a=matrices[0], b=matrices[1], c=matrices[2], wire_labels=labels, n_labels=n_labels,
                constraint_gadget=np.zeros(n_constraints, dtype=np.int32),
                gadget_names=(TOP_LEVEL,))


def _parse_constraints(body: bytes, n_constraints: int, n_wires: int) -> list[SparseMatrix]:
    counts = np.empty(3 * n_constraints, dtype=np.int64)
    count_positions = np.empty(3 * n_constraints, dtype=np.int64)
    unpack = struct.Struct("<I").unpack_from
    size = len(body)
    pos = 0
    for k in range(3 * n_constraints):
        if pos + 4 > size:
            raise TruncatedFile(f".r1cs constraints section ends inside constraint {k // 3} "
                                f"of {n_constraints}")
        n, = unpack(body, pos)
        counts[k] = n
        count_positions[k] = pos
        pos += 4 + _TERM * n
    if pos > size:
        raise TruncatedFile(f".r1cs constraints section ends inside constraint {n_constraints - 1}")
    if pos != size:
        raise MalformedSection(f".r1cs constraints section has {size - pos} bytes beyond its "
                               f"{n_constraints} constraints")
    raw = np.frombuffer(body, dtype=np.uint8)
    is_term = np.ones(size, dtype=bool)
    for k in range(4):
        is_term[count_positions + k] = False
    records = raw[is_term].reshape(-1, _TERM)
    which = np.tile(np.arange(3), n_constraints)
    term_matrix = np.repeat(which, counts)
    matrices = []
    for m in range(3):
        rows = records[term_matrix == m]
        wires = rows[:, :4].copy().view("<u4").reshape(-1).astype(np.int64)
        coeffs = rows[:, 4:].copy().view("<u8").reshape(-1, 4).astype(np.uint64)
        if len(wires) and int(wires.max()) >= n_wires:
            raise MalformedSection(f".r1cs constraint refers to wire {int(wires.max())} but there are "
                                   f"{n_wires} wires")
        if not _below_r(coeffs).all():
            raise MalformedSection(".r1cs constraint has a coefficient >= r")
        indptr = np.concatenate([[0], np.cumsum(counts[m::3])]).astype(np.int64)
        _refuse_repeated_wires(indptr, wires, "ABC"[m])
        matrices.append(SparseMatrix(indptr, wires, coeffs))
    return matrices


def _refuse_repeated_wires(indptr: np.ndarray, wires: np.ndarray, name: str) -> None:
    """A wire named twice in one linear combination means two circuits: snarkjs's reader keeps the last
    coefficient (r1csfile readLC builds an object keyed by wire), a CSR product adds them. circom never
    writes one (nor does our writer), so it is refused. Rows circom writes are sorted: checked in O(n)."""
    if len(wires) < 2:
        return
    row_of_term = np.repeat(np.arange(len(indptr) - 1, dtype=np.int64), np.diff(indptr))
    same_row = row_of_term[1:] == row_of_term[:-1]
    if not (same_row & (wires[1:] <= wires[:-1])).any():
        return                                           # strictly increasing within every row
    keys = np.sort((row_of_term.astype(np.uint64) << np.uint64(32)) | wires.astype(np.uint64))  # both < 2^32
    repeated = np.flatnonzero(keys[1:] == keys[:-1])
    if len(repeated):
        key = int(keys[repeated[0]])
        raise MalformedSection(f".r1cs constraint {key >> 32} names wire {key & 0xFFFFFFFF} twice "
                               f"in its {name} terms (snarkjs would keep only the last coefficient)")


# ---------------------------------------------------------------------------------------------------
# .wtns


def wtns_to_bytes(witness: Sequence[int]) -> bytes:
    """The iden3 `.wtns` (version 2) bytes of a witness vector (values in [0, r))."""
    for i, v in enumerate(witness):
        if not 0 <= v < R:
            raise ValueError(f"witness value {i} = {v} is outside [0, r)")
    header = struct.pack("<I", FIELD_BYTES) + R.to_bytes(FIELD_BYTES, "little") + struct.pack("<I", len(witness))
    values = b"".join(int(v).to_bytes(FIELD_BYTES, "little") for v in witness)
    return _container([(1, header), (2, values)], WTNS_MAGIC, WTNS_VERSION)


def write_wtns(target: PathOrFile, witness: Sequence[int]) -> None:
    _write_bytes(target, wtns_to_bytes(witness))


def read_wtns(source: PathOrFile | bytes) -> list[int]:
    """Parse an iden3 `.wtns` file into the witness vector (Python ints). Errors as read_r1cs."""
    data = _read_bytes(source)
    sections = _sections(data, WTNS_MAGIC, WTNS_VERSION, ".wtns")
    header = _require(sections, 1, "header", ".wtns")
    if len(header) < 4:
        raise TruncatedFile(".wtns header section is shorter than its field size")
    n8, = struct.unpack_from("<I", header, 0)
    if len(header) != n8 + 8:
        raise MalformedSection(f".wtns header section is {len(header)} bytes; expected {n8 + 8} for n8 = {n8}")
    _check_field(n8, bytes(header[4:4 + n8]), ".wtns")
    n_witness, = struct.unpack_from("<I", header, 4 + n8)
    values = _require(sections, 2, "witness values", ".wtns")
    if len(values) != n8 * n_witness:
        raise MalformedSection(f".wtns values section is {len(values)} bytes; expected {n8} x {n_witness}")
    limbs = np.frombuffer(values, dtype="<u8").reshape(-1, 4)
    if not _below_r(limbs).all():
        raise MalformedSection(".wtns has a value >= r")
    return limbs_to_ints(limbs)
