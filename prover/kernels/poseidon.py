"""Poseidon hashes for the native side (the executor's account tree): rows of inputs hashed independently, and
a Merkle path hashed bottom-up, over (n, 4) Montgomery-form Fr elements. The permutation is the witness
solver's (`prover.kernels.solve._poseidon_trace`, circomlib's optimized constants); only the hash's output
cell is derived here. What each kernel computes is `circuits.poseidon.poseidon` (see prover.poseidon).
"""

from __future__ import annotations

import numpy as np
from numba import njit

from .ir import fr_add, fr_mul, load_fe, store_fe
from .solve import _poseidon_trace

LIKE = (np.uint64(0),) * 4
_NO_SKIP = 0    # trace every S-box: the scratch trace is thrown away except the last round's


@njit(cache=True)
def _hash_scratch(scratch, t, tables, zero):
    """Poseidon output cell 0 of the permutation of scratch[0:t] (the state [0, inputs...]), using
    scratch[t:] for the S-box trace. The last full round adds no constant, so its output is
    Σ_i x5_i · m[i][0] over that round's t S-box outputs, the last t of the trace."""
    full_rounds = np.int64(tables[0, 0])
    partial_rounds = np.int64(tables[1, 0])
    m0 = 3 + np.int64(tables[2, 0])
    state_slots = np.arange(t)
    _poseidon_trace(scratch, t, _NO_SKIP, t, 0, state_slots, tables, zero)
    last = t + 3 * (t * full_rounds + partial_rounds - t)
    acc = zero
    for i in range(t):
        acc = fr_add(acc, fr_mul(load_fe(scratch, last + 3 * i + 2, LIKE), load_fe(tables, m0 + i * t, LIKE)))
    return acc


@njit(cache=True)
def poseidon_rows(rows, tables, zero, scratch, out):
    """out[k] = Poseidon(rows[k]) for an (n, width, 4) array of inputs (Montgomery form); `tables` is the
    width + 1 block of prover.solver._poseidon_block, `zero` the Montgomery zero as a (1, 4) array and
    `scratch` an (t + trace, 4) buffer (t = width + 1)."""
    t = rows.shape[1] + 1
    z = load_fe(zero, 0, LIKE)
    for k in range(rows.shape[0]):
        store_fe(scratch, 0, z)
        for i in range(t - 1):
            store_fe(scratch, i + 1, load_fe(rows[k], i, LIKE))
        store_fe(out, k, _hash_scratch(scratch, t, tables, z))


@njit(cache=True)
def poseidon_path(node, positions, siblings, tables, zero, scratch, out):
    """The parents along a Merkle path: with n_0 = node[0], n_{k+1} = Poseidon(siblings[k] with n_k inserted
    at positions[k]) and out[k] = n_{k+1}. siblings: (L, arity − 1, 4), positions: int64 (L,), out: (L, 4);
    `tables`, `zero`, `scratch` as poseidon_rows with width = arity."""
    t = siblings.shape[1] + 2
    z = load_fe(zero, 0, LIKE)
    current = load_fe(node, 0, LIKE)
    for k in range(siblings.shape[0]):
        store_fe(scratch, 0, z)
        j = 0
        for i in range(t - 1):
            if i == positions[k]:
                store_fe(scratch, i + 1, current)
            else:
                store_fe(scratch, i + 1, load_fe(siblings[k], j, LIKE))
                j += 1
        current = _hash_scratch(scratch, t, tables, z)
        store_fe(out, k, current)
