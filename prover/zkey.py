"""Groth16 proving keys in snarkjs's `.zkey` format: write them, and map them without parsing.

The file is an iden3 binary container ("zkey", version 1) of numbered sections: 1 protocol (1 =
Groth16), 2 header (field sizes and primes, nVars, nPublic, domainSize, alpha1, beta1, beta2, gamma2,
delta1, delta2), 3 IC, 4 A/B coefficients, 5 A, 6 B1, 7 B2, 8 C (private wires), 9 H, 10 contributions.
Points are affine, little-endian, Montgomery (R = 2^256): the layout of our uint64 point arrays, so
the big sections load with numpy.memmap and no copy. Coefficients are 44-byte records (matrix,
constraint, signal as uint32, value * R^2 mod r as 32 bytes), kept mapped in that layout: the QAP
kernel reads it directly (snarkjs's zkey_utils.js and groth16_prove.js define both layouts).
The verifying key lives in `verifier`; this module only extracts the points for it.
"""

from __future__ import annotations

import hashlib
import os
import struct
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .constants import G1_B, G2_B, MONT_R, Q, R, fq2_mul_ints
from .convert import limbs_to_ints

MAGIC = b"zkey"
VERSION = 1
GROTH16 = 1
FIELD_BYTES = 32
G1_BYTES = 2 * FIELD_BYTES
G2_BYTES = 4 * FIELD_BYTES
COEF_RECORD = np.dtype([("matrix", "<u4"), ("constraint", "<u4"), ("signal", "<u4"), ("value", "<u8", (4,))])


class ZkeyError(ValueError):
    """A .zkey file that cannot be used: wrong magic or version, a missing or truncated section,
    another curve, sizes that do not agree with each other, a point off the curve or a coefficient
    out of range (the message names the file and the section)."""


# Section ids and names, as snarkjs's zkey_utils.js numbers them.
SECTION_NAMES = {1: "protocol", 2: "header", 3: "IC points", 4: "coefficients", 5: "A points",
                 6: "B1 points", 7: "B2 points", 8: "C points", 9: "H points", 10: "contributions"}


@dataclass(frozen=True)
class ProvingKey:
    """A Groth16 proving key; the array fields may be read-only views into a mapped file.

    Point arrays are affine Montgomery uint64: G1 (n, 2, 4), G2 (n, 2, 2, 4); single points drop n.
    `coefficients` (COEF_RECORD records, possibly mapped from the file) are the A and B matrix
    entries with extra rows for the public inputs, as snarkjs stores them (values in
    Montgomery-squared standard form: value * R^2 mod r); `coef_*` are views of its fields.
    `source` is the file the key was loaded from, for error messages (None when made in memory).
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
    coefficients: np.ndarray  # (n_coefs,) COEF_RECORD
    circuit_hash: bytes = b"\0" * 64
    source: str | None = None

    @property
    def log_domain_size(self) -> int:
        return self.domain_size.bit_length() - 1

    @property
    def coef_matrix(self) -> np.ndarray:
        """uint32 per entry: 0 = A, 1 = B."""
        return self.coefficients["matrix"]

    @property
    def coef_constraint(self) -> np.ndarray:
        return self.coefficients["constraint"]

    @property
    def coef_signal(self) -> np.ndarray:
        return self.coefficients["signal"]

    @property
    def coef_value(self) -> np.ndarray:
        """(n_coefs, 4) uint64 limbs of value * R^2 mod r (a strided view)."""
        return self.coefficients["value"]

    @property
    def name(self) -> str:
        """How error messages name this key: its file, else "the proving key"."""
        return self.source or "the proving key"


def coefficient_records(matrix, constraint, signal, value) -> np.ndarray:
    """The .zkey coefficient section as COEF_RECORD records from its columns (value: (n, 4) limbs)."""
    records = np.empty(len(matrix), dtype=COEF_RECORD)
    records["matrix"] = matrix
    records["constraint"] = constraint
    records["signal"] = signal
    records["value"] = value
    return records


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
            from circuits.iden3 import shown_magic

            raise ZkeyError(f"{path}: not a .{magic.decode()} file: its magic number is {shown_magic(head[:4])}, "
                            f"not {shown_magic(magic)}")
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


def _need(sections, path, section_id):
    if section_id not in sections:
        raise ZkeyError(f"{path}: missing section {section_id} ({SECTION_NAMES[section_id]})")
    return sections[section_id]


def _map(path, sections, section_id, dtype, shape, mmap, skip=0):
    """Section `section_id` (after `skip` bytes) as an array of `shape`: mapped read-only when its
    offset suits the dtype's alignment, else read into an aligned copy (snarkjs's sections sit
    wherever the previous ones end)."""
    offset, size = _need(sections, path, section_id)
    dtype = np.dtype(dtype)
    count = int(np.prod(shape)) * dtype.itemsize
    if size != skip + count:
        raise ZkeyError(f"{path}: section {section_id} ({SECTION_NAMES[section_id]}) has {size} bytes, "
                        f"expected {skip + count}")
    offset += skip
    if count == 0:
        return np.zeros(shape, dtype)
    if mmap and offset % dtype.alignment == 0:
        return np.memmap(path, dtype=dtype, mode="r", offset=offset, shape=shape)
    with open(path, "rb") as f:
        f.seek(offset)
        return np.frombuffer(f.read(count), dtype=dtype).reshape(shape).copy()


def load_zkey(path: str | os.PathLike, mmap: bool = True) -> ProvingKey:
    """Map a snarkjs/zkrollup Groth16 .zkey; the point and coefficient sections stay on disk until
    touched (the prover reads them in place).

    Checked here: the container, the section sizes against the header, BN254's primes, and that
    the header's points and the IC points are on their curves (a handful). The big sections are
    checked where they are used: coefficients as the prover reads them, and the point sections
    when a proof fails its self-check (`check_points`). Raises ZkeyError naming the file and section.
    """
    path = Path(path)
    sections = read_sections(path)
    with open(path, "rb") as f:
        offset, size = _need(sections, path, 1)
        f.seek(offset)
        (protocol,) = struct.unpack("<I", f.read(4))
        if protocol != GROTH16:
            raise ZkeyError(f"{path}: protocol {protocol} is not Groth16")
        offset, size = _need(sections, path, 2)
        f.seek(offset)
        header = f.read(size)
        offset, size = _need(sections, path, 4)
        f.seek(offset)
        raw = f.read(4)
    if len(raw) < 4:
        raise ZkeyError(f"{path}: section 4 (coefficients) is truncated")
    (n_coefs,) = struct.unpack("<I", raw)
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
        raise ZkeyError(f"{path}: section 2 (header) is truncated") from exc
    except ValueError as exc:
        if isinstance(exc, ZkeyError):
            raise
        raise ZkeyError(f"{path}: section 2 (header) is truncated") from exc
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
    for label, point in (("alpha1", alpha_g1), ("beta1", beta_g1), ("beta2", beta_g2), ("gamma2", gamma_g2),
                         ("delta1", delta_g1), ("delta2", delta_g2)):
        if first_off_curve(point[None]) is not None:
            raise ZkeyError(f"{path}: section 2 (header): {label} is not on the curve")

    circuit_hash = b"\0" * 64
    if 10 in sections:
        offset, size = sections[10]
        if size >= 64:
            with open(path, "rb") as f:
                f.seek(offset)
                circuit_hash = f.read(64)

    key = ProvingKey(
        n_vars=n_vars, n_public=n_public, domain_size=domain_size,
        alpha_g1=alpha_g1, beta_g1=beta_g1, beta_g2=beta_g2, gamma_g2=gamma_g2,
        delta_g1=delta_g1, delta_g2=delta_g2,
        ic_g1=_map(path, sections, 3, np.uint64, (n_public + 1, 2, 4), mmap),
        a_g1=_map(path, sections, 5, np.uint64, (n_vars, 2, 4), mmap),
        b_g1=_map(path, sections, 6, np.uint64, (n_vars, 2, 4), mmap),
        b_g2=_map(path, sections, 7, np.uint64, (n_vars, 2, 2, 4), mmap),
        c_g1=_map(path, sections, 8, np.uint64, (n_vars - n_public - 1, 2, 4), mmap),
        h_g1=_map(path, sections, 9, np.uint64, (domain_size, 2, 4), mmap),
        coefficients=_map(path, sections, 4, COEF_RECORD, (n_coefs,), mmap, skip=4),
        circuit_hash=circuit_hash,
        source=str(path),
    )
    bad = first_off_curve(key.ic_g1)
    if bad is not None:
        raise ZkeyError(f"{path}: section 3 (IC points): point {bad} is not on the curve")
    return key


# --- Checking the sections ---------------------------------------------------------------------------

_POINT_SECTIONS = (("ic_g1", 3), ("a_g1", 5), ("b_g1", 6), ("b_g2", 7), ("c_g1", 8), ("h_g1", 9))


def first_off_curve(points: np.ndarray) -> int | None:
    """The index of the first point of a small G1 (n, 2, 4) or G2 (n, 2, 2, 4) Montgomery array that
    is not on its curve (a coordinate >= q counts as off; (0, 0) is infinity), else None.

    Python ints: for the header's points and the IC section, where loading a kernel costs more."""
    r_inv = pow(MONT_R, -1, Q)
    width = 2 if points.ndim == 3 else 4  # coordinates per point: x, y or x0, x1, y0, y1
    raw = limbs_to_ints(points)
    for i in range(len(points)):
        coordinates = raw[width * i:width * (i + 1)]
        if any(v >= Q for v in coordinates):
            return i
        if not any(coordinates):
            continue
        c = [v * r_inv % Q for v in coordinates]
        if width == 2:
            x, y = c
            if (y * y - x * x * x - G1_B) % Q:
                return i
            continue
        x, y = (c[0], c[1]), (c[2], c[3])
        lhs, x3 = fq2_mul_ints(y, y), fq2_mul_ints(fq2_mul_ints(x, x), x)
        if (lhs[0] - x3[0] - G2_B[0]) % Q or (lhs[1] - x3[1] - G2_B[1]) % Q:
            return i
    return None


def check_points(key: ProvingKey) -> None:
    """Raise ZkeyError naming the section and the first point of the key that is not on its curve.

    Every point section of a proving key, with the compiled curve kernels (about as long as one
    pass over the key: small next to the MSMs). Subgroup membership is not checked here: a
    flipped byte leaves a point off the curve, and the proof's own check covers the rest.
    """
    from . import curve

    for field, section in _POINT_SECTIONS:
        points = getattr(key, field)
        ok = (curve.g2_is_on_curve if points.ndim == 4 else curve.g1_is_on_curve)(points)
        if not ok.all():
            where = int(np.flatnonzero(~ok)[0])
            raise ZkeyError(f"{key.name}: section {section} ({SECTION_NAMES[section]}): point {where} "
                            "is not on the curve")


def describe_bad_coefficient(key: ProvingKey, index: int) -> str:
    """Why coefficient `index` of the key cannot be used (as found by the QAP kernel)."""
    record = key.coefficients[index]
    value = int.from_bytes(np.asarray(record["value"], dtype="<u8").tobytes(), "little")
    if record["matrix"] > 1:
        why = f"matrix {int(record['matrix'])} is neither A (0) nor B (1)"
    elif record["constraint"] >= key.domain_size:
        why = f"row {int(record['constraint'])} is outside the domain of {key.domain_size}"
    elif record["signal"] >= key.n_vars:
        why = f"wire {int(record['signal'])} is outside the key's {key.n_vars} wires"
    elif value >= R:
        why = "its value is not below r"
    else:
        why = "it is out of range"
    return f"{key.name}: section 4 (coefficients): entry {index}: {why}"


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
    coefs = np.ascontiguousarray(key.coefficients, dtype=COEF_RECORD)
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
