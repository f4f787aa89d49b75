"""Compiled Poseidon for Python ints: the hash the executor's account tree computes thousands of times a batch.
Each function is the twin of plain Python in circuits.poseidon (`poseidon_fast` of `poseidon`, and so on) and
returns the same ints; the permutation is the witness solver's kernel. Not the circuit gadget, not the solver.

One kernel call costs a few microseconds plus the conversion of its ints to Montgomery limbs, about as much as
the hash itself, so the batched forms (many rows, a whole Merkle path) pay it once for many hashes.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache

import numpy as np

from circuits.poseidon import MAX_INPUTS, _check_field_elements, poseidon
from prover.constants import R
from prover.kernels import poseidon as kernels
from prover.solver import _poseidon_block

__all__ = ["poseidon_fast", "poseidon_many", "poseidon_many_fast", "poseidon_path", "poseidon_path_fast"]

_MONT = (1 << 256) % R
_MONT_INV = pow(1 << 256, -1, R)
_ZERO = np.zeros((1, 4), dtype=np.uint64)


@lru_cache(maxsize=None)
def _tables(t: int) -> np.ndarray:
    """Width t's constants as the solver's Poseidon trace kernel reads them."""
    return _poseidon_block(t)


def _scratch(t: int) -> np.ndarray:
    """A buffer for the state and the S-box trace of one width-t permutation (R_F·t + R_P S-boxes)."""
    tables = _tables(t)
    return np.empty((t + 3 * (t * int(tables[0, 0]) + int(tables[1, 0])), 4), dtype=np.uint64)


def _montgomery(values: Sequence[int]) -> np.ndarray:
    """(n, 4) Montgomery limbs of field elements (already checked to be in [0, r))."""
    raw = b"".join((v * _MONT % R).to_bytes(32, "little") for v in values)
    return np.frombuffer(raw, dtype="<u8").reshape(len(values), 4).astype(np.uint64)


def _ints(limbs: np.ndarray) -> list[int]:
    raw = limbs.astype("<u8").tobytes()
    return [int.from_bytes(raw[32 * i:32 * i + 32], "little") * _MONT_INV % R for i in range(len(limbs))]


def _check_width(n_inputs: int) -> None:
    if not 1 <= n_inputs <= MAX_INPUTS:
        raise ValueError(f"Poseidon takes 1 to {MAX_INPUTS} inputs, got {n_inputs}")


def poseidon_many_fast(rows: Sequence[Sequence[int]]) -> list[int]:
    """[Poseidon(row) for row in rows] in one kernel call: the twin of `poseidon_many`. Every row must have
    the same number of inputs, 1..16, each a field element in [0, r); ValueError names what is wrong."""
    rows = [list(row) for row in rows]
    if not rows:
        return []
    width = len(rows[0])
    _check_width(width)
    for k, row in enumerate(rows):
        if len(row) != width:
            raise ValueError(f"row {k} has {len(row)} inputs, row 0 has {width}: rows are hashed at one width")
        _check_field_elements(row, f"rows[{k}]")
    inputs = _montgomery([v for row in rows for v in row]).reshape(len(rows), width, 4)
    out = np.empty((len(rows), 4), dtype=np.uint64)
    kernels.poseidon_rows(inputs, _tables(width + 1), _ZERO, _scratch(width + 1), out)
    return _ints(out)


def poseidon_many(rows: Sequence[Sequence[int]]) -> list[int]:
    """[circuits.poseidon.poseidon(row) for row in rows]: the plain twin of poseidon_many_fast."""
    return [poseidon(list(row)) for row in rows]


def poseidon_fast(inputs: Sequence[int]) -> int:
    """circomlib's Poseidon(n) of 1..16 field elements, compiled: the twin of circuits.poseidon.poseidon
    (same value, same ValueError for a bad width or an input outside [0, r))."""
    inputs = list(inputs)
    _check_width(len(inputs))
    return poseidon_many_fast([inputs])[0]


def _check_path(node: int, positions: Sequence[int], siblings: Sequence[Sequence[int]]) -> int:
    """The arity of a well-formed path; ValueError names what is wrong."""
    _check_field_elements([node], "node")
    if len(positions) != len(siblings):
        raise ValueError(f"a path needs one position per level: {len(positions)} positions, "
                         f"{len(siblings)} sibling lists")
    if not siblings:
        return 0
    arity = len(siblings[0]) + 1
    _check_width(arity)
    for k, (position, level) in enumerate(zip(positions, siblings)):
        if len(level) != arity - 1:
            raise ValueError(f"siblings[{k}] has {len(level)} entries, siblings[0] has {arity - 1}")
        if not isinstance(position, int) or isinstance(position, bool) or not 0 <= position < arity:
            raise ValueError(f"positions[{k}] must be an int in [0, {arity}), got {position!r}")
        _check_field_elements(level, f"siblings[{k}]")
    return arity


def poseidon_path(node: int, positions: Sequence[int], siblings: Sequence[Sequence[int]]) -> list[int]:
    """The parents of `node` up a Merkle path, bottom first: n_0 = node, n_{k+1} = Poseidon(siblings[k] with
    n_k inserted at positions[k]), returning [n_1, ..., n_L]; every level has the same arity
    (len(siblings[k]) + 1, 2..16). Plain Python: the twin of poseidon_path_fast. ValueError for a bad shape,
    a position outside the arity or a value outside [0, r)."""
    _check_path(node, positions, siblings)
    parents = []
    for position, level in zip(positions, siblings):
        node = poseidon([*level[:position], node, *level[position:]])
        parents.append(node)
    return parents


def poseidon_path_fast(node: int, positions: Sequence[int], siblings: Sequence[Sequence[int]]) -> list[int]:
    """poseidon_path in one kernel call (the L hashes of a leaf update in the account tree)."""
    arity = _check_path(node, positions, siblings)
    if not arity:
        return []
    flat = _montgomery([node, *(v for level in siblings for v in level)])
    out = np.empty((len(siblings), 4), dtype=np.uint64)
    kernels.poseidon_path(flat[:1], np.asarray(positions, dtype=np.int64), flat[1:].reshape(len(siblings), arity - 1, 4),
                          _tables(arity + 1), _ZERO, _scratch(arity + 1), out)
    return _ints(out)
