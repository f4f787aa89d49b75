"""BLAKE-512, the SHA-3 finalist (Aumasson et al., "SHA-3 proposal BLAKE", v1.3), NOT BLAKE2b.
circomlibjs's EdDSA derives keys and nonces with it (npm blake-hash); this is its native twin, pure Python.
Its constants are derived here (digits of pi, square roots of primes) and checked against published values.
"""

from __future__ import annotations

from math import isqrt

__all__ = ["BLAKE512_CONSTANTS", "BLAKE512_IV", "SIGMA", "blake512"]

_MASK64 = (1 << 64) - 1
_BLOCK_BYTES = 128
_ROUNDS = 16


def _pi_fraction_bits(n_bits: int) -> int:
    """The first n_bits of the fractional part of pi, by Machin's formula in fixed point."""
    guard = 64
    one = 1 << (n_bits + 2 + guard)

    def arctan_inverse(x: int) -> int:  # arctan(1/x) = sum (-1)^k / ((2k+1) x^(2k+1))
        total, power, k = 0, one // x, 0
        while power:
            term = power // (2 * k + 1)
            total += -term if k % 2 else term
            power //= x * x
            k += 1
        return total

    pi = 16 * arctan_inverse(5) - 4 * arctan_inverse(239)
    return (pi >> (2 + guard)) & ((1 << n_bits) - 1)


def _sqrt_fraction_word(prime: int) -> int:
    """First 64 bits of the fractional part of sqrt(prime)."""
    return isqrt(prime << 128) & _MASK64


# Section 2.2.1 of the BLAKE paper: c_0..c_15 are the first 1024 bits of pi's fractional part, and
# the IV is SHA-512's (fractional parts of the square roots of the first eight primes).
BLAKE512_CONSTANTS: tuple[int, ...] = tuple(
    (_pi_fraction_bits(1024) >> (64 * (15 - i))) & _MASK64 for i in range(16)
)
BLAKE512_IV: tuple[int, ...] = tuple(_sqrt_fraction_word(q) for q in (2, 3, 5, 7, 11, 13, 17, 19))

# The ten message permutations sigma_0..sigma_9 (round r uses sigma_{r mod 10}); shared with BLAKE2.
SIGMA: tuple[tuple[int, ...], ...] = (
    (0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15),
    (14, 10, 4, 8, 9, 15, 13, 6, 1, 12, 0, 2, 11, 7, 5, 3),
    (11, 8, 12, 0, 5, 2, 15, 13, 10, 14, 3, 6, 7, 1, 9, 4),
    (7, 9, 3, 1, 13, 12, 11, 14, 2, 6, 5, 10, 4, 0, 15, 8),
    (9, 0, 5, 7, 2, 4, 10, 15, 14, 1, 11, 12, 6, 8, 3, 13),
    (2, 12, 6, 10, 0, 11, 8, 3, 4, 13, 7, 5, 15, 14, 1, 9),
    (12, 5, 1, 15, 14, 13, 4, 10, 0, 7, 6, 3, 9, 2, 8, 11),
    (13, 11, 7, 14, 12, 1, 3, 9, 5, 0, 15, 4, 8, 6, 2, 10),
    (6, 15, 14, 9, 11, 3, 0, 8, 12, 2, 13, 7, 1, 4, 10, 5),
    (10, 2, 8, 4, 7, 6, 1, 5, 15, 11, 9, 14, 3, 12, 13, 0),
)

# G acts on the four columns, then the four diagonals, of the 4x4 state.
_G_POSITIONS = (
    (0, 4, 8, 12), (1, 5, 9, 13), (2, 6, 10, 14), (3, 7, 11, 15),
    (0, 5, 10, 15), (1, 6, 11, 12), (2, 7, 8, 13), (3, 4, 9, 14),
)


def _rotr(x: int, n: int) -> int:
    return ((x >> n) | (x << (64 - n))) & _MASK64


def _compress(h: list[int], block: bytes, counter: int) -> list[int]:
    """The compression function of section 2.2 with salt 0; counter = message bits hashed so far."""
    c = BLAKE512_CONSTANTS
    m = [int.from_bytes(block[8 * i:8 * i + 8], "big") for i in range(16)]
    t0, t1 = counter & _MASK64, counter >> 64
    v = list(h) + [c[0], c[1], c[2], c[3], t0 ^ c[4], t0 ^ c[5], t1 ^ c[6], t1 ^ c[7]]
    for r in range(_ROUNDS):
        s = SIGMA[r % 10]
        for i, (a, b, cc, d) in enumerate(_G_POSITIONS):
            x, y = s[2 * i], s[2 * i + 1]
            v[a] = (v[a] + v[b] + (m[x] ^ c[y])) & _MASK64
            v[d] = _rotr(v[d] ^ v[a], 32)
            v[cc] = (v[cc] + v[d]) & _MASK64
            v[b] = _rotr(v[b] ^ v[cc], 25)
            v[a] = (v[a] + v[b] + (m[y] ^ c[x])) & _MASK64
            v[d] = _rotr(v[d] ^ v[a], 16)
            v[cc] = (v[cc] + v[d]) & _MASK64
            v[b] = _rotr(v[b] ^ v[cc], 11)
    return [h[i] ^ v[i] ^ v[i + 8] for i in range(8)]


def blake512(data: bytes) -> bytes:
    """BLAKE-512 digest (64 bytes) of data, equal to npm blake-hash's createBlakeHash("blake512")."""
    data = bytes(data)
    n_bits = 8 * len(data)
    # Pad with a 1 bit, zeros up to 895 mod 1024 bits, a final 1 bit (the BLAKE-512 marker), then
    # the 128-bit big-endian bit length.
    zeros = (_BLOCK_BYTES - 17 - len(data)) % _BLOCK_BYTES
    if zeros == 0:
        padding = b"\x81"
    else:
        padding = b"\x80" + b"\x00" * (zeros - 1) + b"\x01"
    padded = data + padding + n_bits.to_bytes(16, "big")
    h = list(BLAKE512_IV)
    for offset in range(0, len(padded), _BLOCK_BYTES):
        # The counter is the number of message bits up to the end of this block, or 0 for a block
        # that holds padding only.
        counter = min(8 * (offset + _BLOCK_BYTES), n_bits) if offset < len(data) else 0
        h = _compress(h, padded[offset:offset + _BLOCK_BYTES], counter)
    return b"".join(w.to_bytes(8, "big") for w in h)
