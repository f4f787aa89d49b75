"""Groth16 proving keys in snarkjs's `.zkey` format: write them, and map them without parsing.

The file is an iden3 binary container ("zkey", version 1) of numbered sections: 1 protocol (1 =
Groth16), 2 header (field sizes and primes, nVars, nPublic, domainSize, alpha1, beta1, beta2, gamma2,
delta1, delta2), 3 IC, 4 A/B coefficients, 5 A, 6 B1, 7 B2, 8 C (private wires), 9 H, 10 contributions.
Points are affine, little-endian, Montgomery (R = 2^256): the layout of our uint64 point arrays, so
the big sections load with numpy.memmap and no copy. Coefficients are stored as value * R^2 mod r.
The verifying key lives in `verifier`; this module only extracts the points for it.
"""

from __future__ import annotations

import hashlib
import os
import struct
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .constants import Q, R

MAGIC = b"zkey"
VERSION = 1
GROTH16 = 1
FIELD_BYTES = 32
G1_BYTES = 2 * FIELD_BYTES
G2_BYTES = 4 * FIELD_BYTES
COEF_RECORD = np.dtype([("matrix", "<u4"), ("constraint", "<u4"), ("signal", "<u4"), ("value", "<u8", (4,))])


class ZkeyError(ValueError):
    """A .zkey file that cannot be used: wrong magic or version, a missing or truncated section,
    another curve, or sizes that do not agree with each other."""


@dataclass(frozen=True)
class ProvingKey:
    """A Groth16 proving key; the array fields may be read-only views into a mapped file.

    Point arrays are affine Montgomery uint64: G1 (n, 2, 4), G2 (n, 2, 2, 4); single points drop n.
    `coef_*` are the A and B matrix entries with extra rows for the public inputs, as snarkjs stores
    them (values in Montgomery-squared standard form: value * R^2 mod r).
    """

    n_vars: int
    n_public: int
    domain_size: int
    alpha_g1: np.ndarray
    beta_g1: np.ndarray
    beta_g2: np.ndarray
    gamma_g2: np.ndarray
    delta_g1: np.ndarray
    delta_g2: np.ndarray
    ic_g1: np.ndarray        # n_public + 1
    a_g1: np.ndarray         # n_vars
    b_g1: np.ndarray         # n_vars
    b_g2: np.ndarray         # n_vars
    c_g1: np.ndarray         # n_vars - n_public - 1 (private wires)
    h_g1: np.ndarray         # domain_size
    coef_matrix: np.ndarray  # uint32: 0 = A, 1 = B
    coef_constraint: np.ndarray
    coef_signal: np.ndarray
    coef_value: np.ndarray   # (n_coefs, 4) uint64
    circuit_hash: bytes = b"\0" * 64

    @property
    def log_domain_size(self) -> int:
        return self.domain_size.bit_length() - 1


def domain_size_for(n_constraints: int, n_public: int) -> int:
    """snarkjs's domain: 2^(floor(log2(nConstraints + nPublic)) + 1), room for the nPublic + 1 extra rows."""
    return 1 << ((n_constraints + n_public).bit_length())


# --- Reading -----------------------------------------------------------------------------------------

def read_sections(path: str | os.PathLike, magic: bytes = MAGIC, version: int = VERSION) -> dict[int, tuple[int, int]]:
    """The section table of an iden3 binary file: id -> (payload offset, payload size)."""
    path = Path(path)
    size = path.stat().st_size
    with open(path, "rb") as f:
        head = f.read(12)
        if len(head) < 12:
            raise ZkeyError(f"{path}: too short to be a .{magic.decode()} file")
        if head[:4] != magic:
            raise ZkeyError(f"{path}: wrong magic {head[:4]!r}, expected {magic!r}")
        file_version, n_sections = struct.unpack("<II", head[4:])
        if file_version != version:
            raise ZkeyError(f"{path}: unsupported version {file_version}, expected {version}")
        sections: dict[int, tuple[int, int]] = {}
        offset = 12
        for _ in range(n_sections):
            f.seek(offset)
            raw = f.read(12)
            if len(raw) < 12:
                raise ZkeyError(f"{path}: truncated section table")
            section_id, section_size = struct.unpack("<IQ", raw)
            if offset + 12 + section_size > size:
                raise ZkeyError(f"{path}: section {section_id} is truncated")
            if section_id in sections:
                raise ZkeyError(f"{path}: section {section_id} appears twice")
            sections[section_id] = (offset + 12, section_size)
            offset += 12 + section_size
    return sections


def _need(sections, path, section_id, name):
    if section_id not in sections:
        raise ZkeyError(f"{path}: missing section {section_id} ({name})")
    return sections[section_id]


def _map(path, sections, section_id, name, dtype, shape, mmap):
    offset, size = _need(sections, path, section_id, name)
    count = int(np.prod(shape)) * np.dtype(dtype).itemsize
    if size != count:
        raise ZkeyError(f"{path}: section {section_id} ({name}) has {size} bytes, expected {count}")
    if count == 0:
        return np.zeros(shape, dtype)
    if mmap and offset % 8 == 0:
        return np.memmap(path, dtype=dtype, mode="r", offset=offset, shape=shape)
    with open(path, "rb") as f:  # unaligned for uint64, or mapping not wanted: one copy
        f.seek(offset)
        return np.frombuffer(f.read(count), dtype=dtype).reshape(shape).copy()


def load_zkey(path: str | os.PathLike, mmap: bool = True) -> ProvingKey:
    """Map a snarkjs/zkrollup Groth16 .zkey; the point sections stay on disk until touched."""
    path = Path(path)
    sections = read_sections(path)
    with open(path, "rb") as f:
        offset, size = _need(sections, path, 1, "protocol")
        f.seek(offset)
        (protocol,) = struct.unpack("<I", f.read(4))
        if protocol != GROTH16:
            raise ZkeyError(f"{path}: protocol {protocol} is not Groth16")
        offset, size = _need(sections, path, 2, "header")
        f.seek(offset)
        header = f.read(size)
    try:
        pos = 0
        (n8q,) = struct.unpack_from("<I", header, pos); pos += 4
        q = int.from_bytes(header[pos:pos + n8q], "little"); pos += n8q
        (n8r,) = struct.unpack_from("<I", header, pos); pos += 4
        r = int.from_bytes(header[pos:pos + n8r], "little"); pos += n8r
        if q != Q or r != R:
            raise ZkeyError(f"{path}: the key is not over BN254 (bn128)")
        n_vars, n_public, domain_size = struct.unpack_from("<III", header, pos); pos += 12
        points = np.frombuffer(header, dtype="<u8", count=(3 * G1_BYTES + 3 * G2_BYTES) // 8, offset=pos)
    except struct.error as exc:
        raise ZkeyError(f"{path}: header section is truncated") from exc
    except ValueError as exc:
        if isinstance(exc, ZkeyError):
            raise
        raise ZkeyError(f"{path}: header section is truncated") from exc
    if domain_size & (domain_size - 1) or domain_size == 0:
        raise ZkeyError(f"{path}: domain size {domain_size} is not a power of two")
    if not 0 < n_public + 1 <= n_vars:
        raise ZkeyError(f"{path}: nPublic {n_public} does not fit nVars {n_vars}")
    g1, g2 = (2, 4), (2, 2, 4)
    cursor = 0

    def take(shape):
        nonlocal cursor
        count = int(np.prod(shape))
        out = points[cursor:cursor + count].astype(np.uint64).reshape(shape)
        cursor += count
        return out

    alpha_g1, beta_g1, beta_g2, gamma_g2, delta_g1, delta_g2 = (
        take(g1), take(g1), take(g2), take(g2), take(g1), take(g2))

    coef_offset, coef_size = _need(sections, path, 4, "coefficients")
    with open(path, "rb") as f:
        f.seek(coef_offset)
        raw = f.read(4)
        if len(raw) < 4:
            raise ZkeyError(f"{path}: coefficient section is truncated")
        (n_coefs,) = struct.unpack("<I", raw)
    if coef_size != 4 + n_coefs * COEF_RECORD.itemsize:
        raise ZkeyError(f"{path}: coefficient section has {coef_size} bytes for {n_coefs} entries")
    coefs = np.fromfile(path, dtype=COEF_RECORD, count=n_coefs, offset=coef_offset + 4)
    if n_coefs and (coefs["signal"].max() >= n_vars or coefs["constraint"].max() >= domain_size
                    or coefs["matrix"].max() > 1):
        raise ZkeyError(f"{path}: a coefficient refers to a wire or row outside the key")

    circuit_hash = b"\0" * 64
    if 10 in sections:
        offset, size = sections[10]
        if size >= 64:
            with open(path, "rb") as f:
                f.seek(offset)
                circuit_hash = f.read(64)

    return ProvingKey(
        n_vars=n_vars, n_public=n_public, domain_size=domain_size,
        alpha_g1=alpha_g1, beta_g1=beta_g1, beta_g2=beta_g2, gamma_g2=gamma_g2,
        delta_g1=delta_g1, delta_g2=delta_g2,
        ic_g1=_map(path, sections, 3, "IC", np.uint64, (n_public + 1, 2, 4), mmap),
        a_g1=_map(path, sections, 5, "A points", np.uint64, (n_vars, 2, 4), mmap),
        b_g1=_map(path, sections, 6, "B1 points", np.uint64, (n_vars, 2, 4), mmap),
        b_g2=_map(path, sections, 7, "B2 points", np.uint64, (n_vars, 2, 2, 4), mmap),
        c_g1=_map(path, sections, 8, "C points", np.uint64, (n_vars - n_public - 1, 2, 4), mmap),
        h_g1=_map(path, sections, 9, "H points", np.uint64, (domain_size, 2, 4), mmap),
        coef_matrix=coefs["matrix"].astype(np.uint32),
        coef_constraint=coefs["constraint"].astype(np.uint32),
        coef_signal=coefs["signal"].astype(np.uint32),
        coef_value=np.ascontiguousarray(coefs["value"]).astype(np.uint64),
        circuit_hash=circuit_hash,
    )


# --- Writing ------------------------------------------------------------------------------------------

def _field_bytes(value: int) -> bytes:
    return value.to_bytes(FIELD_BYTES, "little")


def _le(array: np.ndarray) -> bytes:
    return np.ascontiguousarray(array, dtype=np.uint64).astype("<u8").tobytes()


def write_zkey(path: str | os.PathLike, key: ProvingKey) -> None:
    """Write `key` as a .zkey that snarkjs reads (prove, export verificationkey).

    Written to a temporary file and renamed, so an interrupted write never leaves a half key.
    """
    header = b"".join([
        struct.pack("<I", FIELD_BYTES), _field_bytes(Q), struct.pack("<I", FIELD_BYTES), _field_bytes(R),
        struct.pack("<III", key.n_vars, key.n_public, key.domain_size),
        _le(key.alpha_g1), _le(key.beta_g1), _le(key.beta_g2), _le(key.gamma_g2),
        _le(key.delta_g1), _le(key.delta_g2),
    ])
    coefs = np.empty(len(key.coef_matrix), dtype=COEF_RECORD)
    coefs["matrix"] = key.coef_matrix
    coefs["constraint"] = key.coef_constraint
    coefs["signal"] = key.coef_signal
    coefs["value"] = key.coef_value
    sections = [
        (1, [struct.pack("<I", GROTH16)]),
        (2, [header]),
        (3, [_le(key.ic_g1)]),
        (4, [struct.pack("<I", len(coefs)), coefs.tobytes()]),
        (5, [_le(key.a_g1)]),
        (6, [_le(key.b_g1)]),
        (7, [_le(key.b_g2)]),
        (8, [_le(key.c_g1)]),
        (9, [_le(key.h_g1)]),
        (10, [key.circuit_hash, struct.pack("<I", 0)]),  # hash, then zero MPC contributions
    ]
    path = Path(path)
    tmp = path.with_name(path.name + ".partial")
    with open(tmp, "wb") as f:
        f.write(MAGIC + struct.pack("<II", VERSION, len(sections)))
        for section_id, parts in sections:
            f.write(struct.pack("<IQ", section_id, sum(len(p) for p in parts)))
            for part in parts:
                f.write(part)
    os.replace(tmp, path)


def circuit_hash_of(n_vars: int, n_public: int, matrices) -> bytes:
    """BLAKE2b-512 over the sizes and the A, B, C matrices: names the circuit a key was made for."""
    h = hashlib.blake2b(digest_size=64)
    h.update(struct.pack("<II", n_vars, n_public))
    for m in matrices:
        for part in (m.indptr, m.indices, m.coeffs):
            h.update(np.ascontiguousarray(part).astype("<u8").tobytes())
    return h.digest()
