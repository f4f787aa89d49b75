"""BN254 (alt_bn128) parameters, derived in one place.

Everything the kernels, the twins and the tests need about the curve comes from here; the tests
check these against py_ecc's published values. Nothing here is fast code.
"""

from __future__ import annotations

# Base field Fq and scalar field Fr (the order of G1 and of G2's subgroup).
Q = 21888242871839275222246405745257275088696311157297823662689037894645226208583
R = 21888242871839275222246405745257275088548364400416034343698204186575808495617

LIMBS = 4
LIMB_BITS = 64
LIMB_MASK = (1 << LIMB_BITS) - 1
MONT_R = 1 << (LIMBS * LIMB_BITS)  # Montgomery radix 2^256, as in snarkjs .zkey files

# E(Fq): y^2 = x^3 + 3; the twist E'(Fq2): y^2 = x^3 + 3 / (9 + u), with Fq2 = Fq[u] / (u^2 + 1).
G1_B = 3
FQ2_NON_RESIDUE = (9, 1)


def fq2_mul_ints(a: tuple[int, int], b: tuple[int, int]) -> tuple[int, int]:
    """(a0 + a1 u)(b0 + b1 u) in Fq2 with u^2 = -1, on Python ints."""
    return ((a[0] * b[0] - a[1] * b[1]) % Q, (a[0] * b[1] + a[1] * b[0]) % Q)


def fq2_inv_ints(a: tuple[int, int]) -> tuple[int, int]:
    """1 / (a0 + a1 u) = (a0 - a1 u) / (a0^2 + a1^2)."""
    norm_inv = pow((a[0] * a[0] + a[1] * a[1]) % Q, -1, Q)
    return (a[0] * norm_inv % Q, (-a[1]) * norm_inv % Q)


G2_B = fq2_mul_ints((3, 0), fq2_inv_ints(FQ2_NON_RESIDUE))

G1_GENERATOR = (1, 2)
G2_GENERATOR = (
    (
        10857046999023057135944570762232829481370756359578518086990519993285655852781,
        11559732032986387107991004021392285783925812861821192530917403151452391805634,
    ),
    (
        8495653923123431417604973247489272438418190587263600148770280649306958101930,
        4082367875863433681332203403145435568316851327593401208105741076214120093531,
    ),
)

# Fr's multiplicative group has 2-adicity 28; 5 generates it (as in snarkjs/ffjavascript).
FR_TWO_ADICITY = 28
FR_GENERATOR = 5
FR_ROOT_OF_UNITY = pow(FR_GENERATOR, (R - 1) >> FR_TWO_ADICITY, R)  # order exactly 2^28
MAX_NTT_LOG_SIZE = FR_TWO_ADICITY


def root_of_unity(log_size: int) -> int:
    """A primitive 2^log_size-th root of unity in Fr (the one snarkjs uses)."""
    if not 0 <= log_size <= FR_TWO_ADICITY:
        raise ValueError(f"Fr has no root of unity of order 2^{log_size} (max 2^{FR_TWO_ADICITY})")
    return pow(FR_ROOT_OF_UNITY, 1 << (FR_TWO_ADICITY - log_size), R)


def to_limbs(value: int) -> tuple[int, int, int, int]:
    """Little-endian 64-bit limbs of a non-negative int below 2^256."""
    return tuple((value >> (LIMB_BITS * i)) & LIMB_MASK for i in range(LIMBS))  # type: ignore[return-value]


def from_limbs(limbs) -> int:
    return sum(int(v) << (LIMB_BITS * i) for i, v in enumerate(limbs))
