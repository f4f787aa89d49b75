"""Poseidon parameters of circomlib, derived (never pasted) with the Grain LFSR of the Poseidon reference script.
Owns the round counts, round constants and Cauchy MDS matrices per width t = 2..17; the permutation itself lives in
circuits.poseidon.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

# BN254 scalar field: the field circom and circomlib work in.
FIELD_MODULUS = 21888242871839275222246405745257275088548364400416034343698204186575808495617
FIELD_BITS = 254  # n in the reference script: bits per sampled element

SBOX_ALPHA = 5  # x^5 is the smallest power that is a permutation of F_r (gcd(5, r - 1) = 1)
FULL_ROUNDS = 8  # R_F, split 4 before and 4 after the partial rounds

# R_P for t = 2..17: circomlib's values (poseidon.circom, circomlibjs poseidon_*.js), from the paper's
# calc_round_numbers.py and then rounded up to a multiple of t. They are inputs to the LFSR seed,
# so they cannot be changed without changing every constant.
PARTIAL_ROUNDS = (56, 57, 56, 60, 60, 63, 64, 63, 60, 66, 60, 65, 70, 60, 64, 68)

MIN_WIDTH = 2
MAX_WIDTH = MIN_WIDTH + len(PARTIAL_ROUNDS) - 1  # 17, i.e. 16 inputs


@dataclass(frozen=True)
class PoseidonParams:
    """Everything the permutation of one width t needs.

    round_constants[r] holds the t constants added at the start of round r (rounds are numbered
    0 .. R_F + R_P - 1, full rounds first and last). mds[i][j] is the coefficient of state[j]
    in the new state[i] (the orientation circomlibjs's poseidon_reference uses).
    """

    t: int
    full_rounds: int
    partial_rounds: int
    round_constants: tuple[tuple[int, ...], ...]
    mds: tuple[tuple[int, ...], ...]

    @property
    def n_rounds(self) -> int:
        return self.full_rounds + self.partial_rounds

    def is_full_round(self, r: int) -> bool:
        half = self.full_rounds // 2
        return r < half or r >= half + self.partial_rounds


def _self_shrinking_table() -> dict[str, str]:
    """For each byte of raw LFSR output (4 pairs, as a bit string): the bits the pairs yield."""
    table = {}
    for byte in range(256):
        bits = format(byte, "08b")
        table[bits] = "".join(bits[k + 1] for k in range(0, 8, 2) if bits[k] == "1")
    return table


class _GrainBits:
    """Grain LFSR in self-shrinking mode, the generator of generate_parameters_grain.sage.

    The 80-bit register is seeded with the parameters (field, S-box, n, t, R_F, R_P, thirty 1s,
    most significant bit first), runs 160 steps that are thrown away, and then yields a bit for each
    pair (a, b) of register outputs with a = 1 (b is the bit); pairs with a = 0 are dropped.
    """

    # Feedback: bit i+80 = bit i+62 ^ bit i+51 ^ bit i+38 ^ bit i+23 ^ bit i+13 ^ bit i. The nearest
    # tap (62) is 18 bits behind the new bit, so 18 new bits come out of one step of whole-integer
    # shifts and xors; this is what makes the derivation fast in pure Python.
    _CHUNK = 80 - 62
    _MASK = (1 << _CHUNK) - 1
    # Self-shrinking over 4 pairs (one byte of raw output) at a time.
    _SHRINK = _self_shrinking_table()

    def __init__(self, field: int, sbox: int, n: int, t: int, r_f: int, r_p: int) -> None:
        seed = (
            format(field, "02b") + format(sbox, "04b") + format(n, "012b") + format(t, "012b")
            + format(r_f, "010b") + format(r_p, "010b") + "1" * 30
        )
        # register bit k holds sequence bit (position + k): bit 0 is the oldest.
        self._register = int(seed[::-1], 2)
        self._raw_pending = ""  # raw bits not yet paired (fewer than 8)
        self._out = ""
        self._out_pos = 0
        self._discard = 160

    def _raw_bits(self, count: int) -> str:
        """The next `count` (a multiple of 18) raw LFSR bits, oldest first."""
        register = self._register
        parts = []
        for _ in range(count // self._CHUNK):
            new = (
                (register >> 62) ^ (register >> 51) ^ (register >> 38) ^ (register >> 23) ^ (register >> 13) ^ register
            ) & self._MASK
            register = (register >> self._CHUNK) | (new << 62)
            parts.append(format(new, "018b")[::-1])
        self._register = register
        return "".join(parts)

    def _refill(self) -> None:
        raw = self._raw_pending + self._raw_bits(18 * 4096)
        if self._discard:
            raw = raw[self._discard:]
            self._discard = 0
        usable = len(raw) - len(raw) % 8
        self._raw_pending = raw[usable:]
        shrink = self._SHRINK
        fresh = "".join([shrink[raw[i:i + 8]] for i in range(0, usable, 8)])
        self._out = self._out[self._out_pos:] + fresh
        self._out_pos = 0

    def take(self, n_bits: int) -> int:
        """The next n_bits output bits as an integer, the first bit most significant."""
        while len(self._out) - self._out_pos < n_bits:
            self._refill()
        bits = self._out[self._out_pos:self._out_pos + n_bits]
        self._out_pos += n_bits
        return int(bits, 2)


def _field_elements_by_rejection(grain: _GrainBits, count: int) -> list[int]:
    # Round constants: n-bit samples >= p are skipped, not reduced (the script's field == 1 branch).
    out = []
    while len(out) < count:
        candidate = grain.take(FIELD_BITS)
        if candidate < FIELD_MODULUS:
            out.append(candidate)
    return out


def _cauchy_mds(grain: _GrainBits, t: int) -> tuple[tuple[int, ...], ...]:
    # create_mds_p: 2t samples reduced mod p (no rejection here), resampled as a whole until all
    # distinct and no x_i + y_j = 0; then M[i][j] = 1 / (x_i + y_j).
    p = FIELD_MODULUS
    while True:
        samples = [grain.take(FIELD_BITS) % p for _ in range(2 * t)]
        if len(set(samples)) != 2 * t:
            continue
        xs, ys = samples[:t], samples[t:]
        if any((x + y) % p == 0 for x in xs for y in ys):
            continue
        return tuple(tuple(pow(x + y, -1, p) for y in ys) for x in xs)


@lru_cache(maxsize=None)
def poseidon_params(t: int) -> PoseidonParams:
    """circomlib's Poseidon parameters for state width t (t - 1 inputs), derived once and cached.

    The reference script also runs three security tests on the MDS matrix (algorithms 1-3 of
    eprint 2020/500) and resamples on failure; circomlib's matrices are the first candidate for
    every t, which tests/circuits/test_poseidon_native.py checks against circomlibjs's tables.
    """
    if not MIN_WIDTH <= t <= MAX_WIDTH:
        raise ValueError(f"Poseidon width t must be in {MIN_WIDTH}..{MAX_WIDTH} (1 to 16 inputs), got {t}")
    r_p = PARTIAL_ROUNDS[t - MIN_WIDTH]
    grain = _GrainBits(field=1, sbox=0, n=FIELD_BITS, t=t, r_f=FULL_ROUNDS, r_p=r_p)
    flat = _field_elements_by_rejection(grain, (FULL_ROUNDS + r_p) * t)
    round_constants = tuple(tuple(flat[r * t:(r + 1) * t]) for r in range(FULL_ROUNDS + r_p))
    # The MDS matrix continues the same stream after the round constants. The script's M acts as
    # M * state with M[i][j] = 1/(x_i + y_j); circomlib stores and applies the same orientation.
    mds = _cauchy_mds(grain, t)
    return PoseidonParams(t=t, full_rounds=FULL_ROUNDS, partial_rounds=r_p, round_constants=round_constants, mds=mds)


# ---------------------------------------------------------------------------------------------
# The optimized form (circomlibjs poseidon_opt.js / circomlib poseidon.circom, after neptune and
# appendix B of the Poseidon paper): round constants of the partial rounds folded through M^-1
# so that only cell 0 gets one, and each partial round's matrix factored into a sparse one.
# The same permutation, about half the multiplications in the partial rounds.


@dataclass(frozen=True)
class OptimizedPoseidonParams:
    """circomlib's optimized constants for width t, in circomlib's own layout (poseidon_constants_opt).

    Matrices here act on a row vector (new[j] = sum_i state[i] * m[i][j]), so `m` is the transpose of
    PoseidonParams.mds. `c` is flat: t constants before the first round, t per remaining first-half
    full round, one per partial round, t per second-half full round but the last (t*R_F + R_P in all).
    `p` is the dense matrix of the last first-half round; `s` holds 2t - 1 entries per partial round:
    [m00, w_1..w_{t-1} (first column), m01..m0,t-1 (first row)] of its sparse matrix.
    """

    t: int
    full_rounds: int
    partial_rounds: int
    c: tuple[int, ...]
    s: tuple[int, ...]
    m: tuple[tuple[int, ...], ...]
    p: tuple[tuple[int, ...], ...]


def _gauss_jordan(a: list[list[int]], rhs: list[list[int]]) -> list[list[int]]:
    """X with a * X = rhs over F_r (a square and invertible); rhs given as rows, one per row of a."""
    p = FIELD_MODULUS
    n = len(a)
    rows = [list(row) + list(extra) for row, extra in zip(a, rhs)]
    for col in range(n):
        pivot = next((i for i in range(col, n) if rows[i][col] % p), None)
        if pivot is None:
            raise ValueError("matrix is singular")
        rows[col], rows[pivot] = rows[pivot], rows[col]
        inv = pow(rows[col][col], -1, p)
        rows[col] = [x * inv % p for x in rows[col]]
        for i in range(n):
            if i != col and rows[i][col]:
                f = rows[i][col]
                rows[i] = [(x - f * y) % p for x, y in zip(rows[i], rows[col])]
    return [row[n:] for row in rows]


def _mat_inverse(a: list[list[int]]) -> list[list[int]]:
    n = len(a)
    return _gauss_jordan(a, [[int(i == j) for j in range(n)] for i in range(n)])


def _mat_mul(a: list[list[int]], b: list[list[int]]) -> list[list[int]]:
    p = FIELD_MODULUS
    cols = list(zip(*b))
    return [[sum(x * y for x, y in zip(row, col)) % p for col in cols] for row in a]


def _row_times(v: list[int], m) -> list[int]:
    p = FIELD_MODULUS
    return [sum(x * y for x, y in zip(v, col)) % p for col in zip(*m)]


@lru_cache(maxsize=None)
def poseidon_optimized_params(t: int) -> OptimizedPoseidonParams:
    """circomlib's optimized Poseidon constants for width t, derived from poseidon_params(t)."""
    base = poseidon_params(t)
    p = FIELD_MODULUS
    half = base.full_rounds // 2
    r_p = base.partial_rounds
    rc = [list(r) for r in base.round_constants]
    m = [list(col) for col in zip(*base.mds)]  # row-vector orientation
    m_inv = _mat_inverse(m)

    # Constants: a constant added after a linear layer equals M^-1 of it added before that layer,
    # which lets the S-box-free cells' constants of each partial round slide to the last one.
    c: list[int] = list(rc[0])
    for r in range(1, half):
        c += _row_times(rc[r], m_inv)
    acc = rc[half + r_p]
    partial_constants = []
    for r in range(half + r_p - 1, half - 1, -1):
        moved = _row_times(acc, m_inv)
        partial_constants.append(moved[0])
        moved[0] = 0
        acc = [(x + y) % p for x, y in zip(moved, rc[r])]
    c += _row_times(acc, m_inv)
    c += partial_constants[::-1]
    for r in range(half + r_p + 1, base.n_rounds):
        c += _row_times(rc[r], m_inv)

    # Matrices: peel one sparse factor per partial round, M_k = M * mp_{k-1}, with
    # M_k = mp_k' * sparse_k where sparse_k = [[m00, row], [w_hat, I]] (row-vector orientation).
    sparse_rounds = []
    cur = m
    for _ in range(r_p):
        m_hat = [row[1:] for row in cur[1:]]
        w = [row[0] for row in cur[1:]]
        w_hat = [x for (x,) in _gauss_jordan(m_hat, [[x] for x in w])]  # m_hat^-1 * w
        sparse_rounds.append([cur[0][0], *w_hat, *cur[0][1:]])
        mp = [[int(i == j == 0) if (i == 0 or j == 0) else cur[i][j] for j in range(t)] for i in range(t)]
        cur = _mat_mul(m, mp)
    s = [x for sparse in reversed(sparse_rounds) for x in sparse]
    return OptimizedPoseidonParams(
        t=t,
        full_rounds=base.full_rounds,
        partial_rounds=r_p,
        c=tuple(c),
        s=tuple(s),
        m=tuple(tuple(row) for row in m),
        p=tuple(tuple(row) for row in cur),
    )
