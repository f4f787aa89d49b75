"""Witness-solver kernels: a compiled circuit's solve program, encoded by prover.solver, run over (n, 4)
Montgomery-form Fr elements, with the common hints (inverses, bit decompositions, the Poseidon S-box trace,
Montgomery-curve steps) done natively; any other hint stops the run at its step so Python can do it. What
each instruction computes is the Python step it was encoded from (circuits.builder: `_replay`, the hints).
"""

from __future__ import annotations

import numpy as np
from numba import njit

from ..constants import R
from .ir import fr_add, fr_mul, fr_one_like, fr_sub, is_zero, load_fe, store_fe

# Instructions of the flat int64 program, each a code and its operands (slots index `values`; "out" is the
# first of the step's consecutive output slots):
#   OP_MUL out a b                  a·b
#   OP_LIN out n (c, s)×n           Σ coeffs[c]·s
#   OP_PYTHON                       Python runs this hint step (its own function)
#   OP_INVERSE out x                1/x, or 0 for x = 0              (builder._field_inverse, gadgets._inverse_or_zero)
#   OP_INVERSE_GATED out x e        1/x if x·e ≠ 0, else 0           (rollup.batch._inverse_or_zero_gated)
#   OP_QUOTIENT out n d             n/d, or 0 for d = 0              (babyjub._quotient)
#   OP_BITS out x first count       bits first .. first + count − 1 of x, as 0/1 (gadgets._upper_bits, sha256)
#   OP_POSEIDON_TRACE out skip t table s_0 .. s_{t−1}                (poseidon._sbox_trace; skip: bit mask)
#   OP_MONT_ADD out u1 v1 u2 v2     1/(u2 − u1), λ, u3, v3           (babyjub._mont_add_hint, u1 ≠ u2)
#   OP_MONT_DOUBLE out u v          u², λ, u3, v3                    (babyjub._mont_double_hint, v ≠ 0)
OP_MUL, OP_LIN, OP_PYTHON, OP_INVERSE, OP_INVERSE_GATED, OP_QUOTIENT, OP_BITS, OP_POSEIDON_TRACE, \
    OP_MONT_ADD, OP_MONT_DOUBLE = range(10)

LIKE = (np.uint64(0),) * 4
_RAW_ONE = (np.uint64(1), np.uint64(0), np.uint64(0), np.uint64(0))   # mont_mul(x, 1) = x / 2^256: leaves Montgomery form
_ONE64 = np.uint64(1)
# r − 2 in 4-bit digits, most significant first: Fermat's 1/x = x^(r−2) by a fixed 4-bit window (about 250
# squarings and 75 multiplications; bit by bit takes about 250 and 125, and inverses are most of the curve steps).
_INVERSE_DIGITS = np.array([((R - 2) >> (4 * i)) & 15 for i in range(63, -1, -1)], dtype=np.int64)


@njit(cache=True)
def fr_inverse(x):
    """1/x in Fr for x in Montgomery form (0 maps to 0, as x^(r−2) does)."""
    powers = np.empty((16, 4), dtype=np.uint64)
    store_fe(powers, 0, fr_one_like(x))
    for i in range(1, 16):
        store_fe(powers, i, fr_mul(load_fe(powers, i - 1, LIKE), x))
    result = fr_one_like(x)
    for digit in _INVERSE_DIGITS:
        result = fr_mul(result, result)
        result = fr_mul(result, result)
        result = fr_mul(result, result)
        result = fr_mul(result, result)
        if digit:
            result = fr_mul(result, load_fe(powers, digit, LIKE))
    return result


@njit(cache=True)
def run_program(code, pc, values, coeffs, constants, poseidon_tables):
    """Run instructions from code[pc] over `values` ((n_slots, 4) uint64, Montgomery form) until the end
    (returns -1) or an OP_PYTHON instruction (returns its position). `coeffs` holds the LIN coefficients,
    `constants` = [one, zero, Montgomery-curve A, 2A] and `poseidon_tables` the Poseidon constants (all
    Montgomery form). A native hint that meets a case it leaves to Python (a zero denominator of a curve
    step) also returns its position: Python then runs that step's own function."""
    one = load_fe(constants, 0, LIKE)
    zero = load_fe(constants, 1, LIKE)
    n = code.shape[0]
    while pc < n:
        op = code[pc]
        if op == OP_MUL:
            store_fe(values, code[pc + 1], fr_mul(load_fe(values, code[pc + 2], LIKE), load_fe(values, code[pc + 3], LIKE)))
            pc += 4
        elif op == OP_LIN:
            count = code[pc + 2]
            acc = zero
            for k in range(count):
                term = pc + 3 + 2 * k
                acc = fr_add(acc, fr_mul(load_fe(coeffs, code[term], LIKE), load_fe(values, code[term + 1], LIKE)))
            store_fe(values, code[pc + 1], acc)
            pc += 3 + 2 * count
        elif op == OP_PYTHON:
            return pc
        elif op == OP_INVERSE:
            store_fe(values, code[pc + 1], fr_inverse(load_fe(values, code[pc + 2], LIKE)))   # fr_inverse(0) = 0
            pc += 3
        elif op == OP_INVERSE_GATED:
            x = load_fe(values, code[pc + 2], LIKE)
            if is_zero(load_fe(values, code[pc + 3], LIKE)):
                x = zero
            store_fe(values, code[pc + 1], fr_inverse(x))
            pc += 4
        elif op == OP_QUOTIENT:
            # numerator / denominator, 0 when the denominator is 0 (fr_inverse(0) = 0 gives exactly that)
            store_fe(values, code[pc + 1], fr_mul(load_fe(values, code[pc + 2], LIKE), fr_inverse(load_fe(values, code[pc + 3], LIKE))))
            pc += 4
        elif op == OP_BITS:
            x = fr_mul(load_fe(values, code[pc + 2], LIKE), _RAW_ONE)     # standard form
            out, first, count = code[pc + 1], code[pc + 3], code[pc + 4]
            for k in range(count):
                bit = first + k
                if (x[bit >> 6] >> np.uint64(bit & 63)) & _ONE64:
                    store_fe(values, out + k, one)
                else:
                    store_fe(values, out + k, zero)
            pc += 5
        elif op == OP_POSEIDON_TRACE:
            t = code[pc + 3]
            _poseidon_trace(values, code[pc + 1], code[pc + 2], t, code[pc + 4], code[pc + 5:pc + 5 + t], poseidon_tables, zero)
            pc += 5 + t
        elif op == OP_MONT_ADD:
            u1 = load_fe(values, code[pc + 2], LIKE)
            v1 = load_fe(values, code[pc + 3], LIKE)
            u2 = load_fe(values, code[pc + 4], LIKE)
            v2 = load_fe(values, code[pc + 5], LIKE)
            out = code[pc + 1]
            du = fr_sub(u2, u1)
            if is_zero(du):
                return pc
            a = load_fe(constants, 2, LIKE)
            inv = fr_inverse(du)
            lam = fr_mul(fr_sub(v2, v1), inv)
            u3 = fr_sub(fr_sub(fr_sub(fr_mul(lam, lam), a), u1), u2)
            store_fe(values, out, inv)
            store_fe(values, out + 1, lam)
            store_fe(values, out + 2, u3)
            store_fe(values, out + 3, fr_sub(fr_mul(lam, fr_sub(u1, u3)), v1))
            pc += 6
        elif op == OP_MONT_DOUBLE:
            u = load_fe(values, code[pc + 2], LIKE)
            v = load_fe(values, code[pc + 3], LIKE)
            out = code[pc + 1]
            if is_zero(v):
                return pc
            a = load_fe(constants, 2, LIKE)
            uu = fr_mul(u, u)
            numerator = fr_add(fr_add(fr_add(fr_add(uu, uu), uu), fr_mul(load_fe(constants, 3, LIKE), u)), one)
            lam = fr_mul(numerator, fr_inverse(fr_add(v, v)))
            u3 = fr_sub(fr_sub(fr_sub(fr_mul(lam, lam), a), u), u)
            store_fe(values, out, uu)
            store_fe(values, out + 1, lam)
            store_fe(values, out + 2, u3)
            store_fe(values, out + 3, fr_sub(fr_mul(lam, fr_sub(u, u3)), v))
            pc += 4
        else:
            return pc
    return -1


@njit(cache=True)
def _poseidon_trace(values, out, skip_mask, t, table, state_slots, tables, zero):
    """circuits.poseidon._sbox_trace natively: the optimized permutation (circomlib's constants) of the
    t values at `state_slots`, writing (x^2, x^4, x^5) of every S-box not in `skip_mask` (bit i: first-round
    S-box i) to consecutive slots from `out`. `tables[table:]` holds, per width: R_F, R_P and len(c) as the
    first limb of three elements, then c, the t×t matrices m and p (row-major, m[i][j] the coefficient of
    cell i in new cell j), then s (2t − 1 per partial round): OptimizedPoseidonParams in Montgomery form."""
    full_rounds = np.int64(tables[table, 0])
    partial_rounds = np.int64(tables[table + 1, 0])
    c0 = table + 3
    m0 = c0 + np.int64(tables[table + 2, 0])
    p0 = m0 + t * t
    s0 = p0 + t * t
    half = full_rounds // 2
    state = np.empty((t, 4), dtype=np.uint64)
    sboxed = np.empty((t, 4), dtype=np.uint64)
    for i in range(t):
        store_fe(state, i, fr_add(load_fe(values, state_slots[i], LIKE), load_fe(tables, c0 + i, LIKE)))
    position = out
    count = 0
    for r in range(full_rounds):
        if r < half:
            constants = c0 + (r + 1) * t
            matrix = p0 if r == half - 1 else m0
        else:
            constants = c0 + (half + 1) * t + partial_rounds + (r - half) * t
            matrix = m0
        for i in range(t):
            x = load_fe(state, i, LIKE)
            x2 = fr_mul(x, x)
            x4 = fr_mul(x2, x2)
            x5 = fr_mul(x4, x)
            if not (count < t and (skip_mask >> count) & 1):
                store_fe(values, position, x2)
                store_fe(values, position + 1, x4)
                store_fe(values, position + 2, x5)
                position += 3
            count += 1
            if r < full_rounds - 1:
                x5 = fr_add(x5, load_fe(tables, constants + i, LIKE))
            store_fe(sboxed, i, x5)
        for j in range(t):
            acc = zero
            for i in range(t):
                acc = fr_add(acc, fr_mul(load_fe(sboxed, i, LIKE), load_fe(tables, matrix + i * t + j, LIKE)))
            store_fe(state, j, acc)
        if r == half - 1:
            # the partial rounds: one S-box, one constant, the sparse matrix (m00, first column, first row)
            for pr in range(partial_rounds):
                x = load_fe(state, 0, LIKE)
                x2 = fr_mul(x, x)
                x4 = fr_mul(x2, x2)
                x5 = fr_mul(x4, x)
                store_fe(values, position, x2)
                store_fe(values, position + 1, x4)
                store_fe(values, position + 2, x5)
                position += 3
                count += 1
                x0 = fr_add(x5, load_fe(tables, c0 + (half + 1) * t + pr, LIKE))
                row = s0 + (2 * t - 1) * pr
                acc = fr_mul(x0, load_fe(tables, row, LIKE))
                for i in range(1, t):
                    acc = fr_add(acc, fr_mul(load_fe(state, i, LIKE), load_fe(tables, row + i, LIKE)))
                for i in range(1, t):
                    store_fe(state, i, fr_add(load_fe(state, i, LIKE), fr_mul(x0, load_fe(tables, row + t - 1 + i, LIKE))))
                store_fe(state, 0, acc)


@njit(cache=True)
def to_montgomery(values, r_squared):
    """Standard-form (n, 4) values into Montgomery form, in place: x·2^256 = mont_mul(x, 2^512 mod r)."""
    r2 = load_fe(r_squared, 0, LIKE)
    for i in range(values.shape[0]):
        store_fe(values, i, fr_mul(load_fe(values, i, LIKE), r2))


@njit(cache=True)
def from_montgomery(values):
    """Montgomery-form (n, 4) values into standard form, in place: mont_mul(x·2^256, 1) = x."""
    for i in range(values.shape[0]):
        store_fe(values, i, fr_mul(load_fe(values, i, LIKE), _RAW_ONE))


@njit(cache=True)
def first_failing_row(rows, a_ptr, a_wires, a_ids, a_table, b_ptr, b_wires, b_ids, b_table,
                      c_ptr, c_wires, c_ids, c_table, z, constants):
    """Position in `rows` of the first row i with (A·z)_i·(B·z)_i != (C·z)_i, or -1. z: (n_wires, 4)
    Montgomery form; each matrix is CSR with its terms' coefficients as indices into its Montgomery table."""
    zero = load_fe(constants, 1, LIKE)
    for k in range(rows.shape[0]):
        i = rows[k]
        a = _dot(a_ptr, a_wires, a_ids, a_table, z, i, zero)
        b = _dot(b_ptr, b_wires, b_ids, b_table, z, i, zero)
        c = _dot(c_ptr, c_wires, c_ids, c_table, z, i, zero)
        if not is_zero(fr_sub(fr_mul(a, b), c)):
            return k
    return -1


@njit(cache=True)
def _dot(ptr, wires, ids, table, z, i, zero):
    acc = zero
    for term in range(ptr[i], ptr[i + 1]):
        acc = fr_add(acc, fr_mul(load_fe(table, ids[term], LIKE), load_fe(z, wires[term], LIKE)))
    return acc
