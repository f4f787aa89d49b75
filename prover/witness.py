"""Witness files for the prover: iden3 `.wtns` (version 2) mapped straight into (n, 4) limb arrays.

`circuits.iden3` reads and writes `.wtns` as Python ints for circuit work; this reader is the
prover's path, which never turns a million field elements into Python objects.
"""

from __future__ import annotations

import os
import struct

import numpy as np

from .arrays import below_modulus
from .constants import R
from .zkey import ZkeyError, read_sections


class WitnessFileError(ValueError):
    """A .wtns file that is malformed, truncated, over another field, or holds values >= r."""


def load_wtns(path: str | os.PathLike) -> np.ndarray:
    """The witness in `path` as (n, 4) uint64 standard-form limbs."""
    try:
        sections = read_sections(path, magic=b"wtns", version=2)
    except ZkeyError as exc:
        raise WitnessFileError(str(exc)) from exc
    if 1 not in sections or 2 not in sections:
        raise WitnessFileError(f"{path}: missing section {1 if 1 not in sections else 2}")
    offset, size = sections[1]
    with open(path, "rb") as f:
        f.seek(offset)
        header = f.read(size)
    if len(header) != 40 or struct.unpack_from("<I", header)[0] != 32:
        raise WitnessFileError(f"{path}: header is not that of a 32-byte field")
    if int.from_bytes(header[4:36], "little") != R:
        raise WitnessFileError(f"{path}: the witness is not over BN254's scalar field")
    (n,) = struct.unpack_from("<I", header, 36)
    offset, size = sections[2]
    if size != 32 * n:
        raise WitnessFileError(f"{path}: {size} bytes of values for {n} wires")
    values = np.fromfile(path, dtype="<u8", count=4 * n, offset=offset).astype(np.uint64).reshape(n, 4)
    ok = below_modulus(values, R)
    if not ok.all():
        raise WitnessFileError(f"{path}: witness[{int(np.flatnonzero(~ok)[0])}] is not below r")
    return values
