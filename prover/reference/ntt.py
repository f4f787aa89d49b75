"""Plain-Python twin of prover.ntt: the same four transforms over Fr, computed on Python ints.

A textbook recursive radix-2 FFT, slow and meant to be read: it is what the Numba kernels compute.
The input rules (shape, dtype, size, canonical values, shift) live here and prover.ntt reuses them.
"""

from __future__ import annotations

import numpy as np

from ..constants import LIMBS, MAX_NTT_LOG_SIZE, R, root_of_unity
from ..convert import fr_from_ints, fr_to_ints, limbs_to_ints


def ntt(values: np.ndarray) -> np.ndarray:
    """Evaluations of the polynomial with these coefficients at omega^i, i = 0 .. n-1.

    omega = prover.constants.root_of_unity(log2 n), the root snarkjs uses.
    """
    log_n = check_values(values)
    coefficients = _ints(values)
    return fr_from_ints(_fft(coefficients, root_of_unity(log_n)))


def intt(values: np.ndarray) -> np.ndarray:
    """Coefficients of the polynomial of degree < n with these evaluations at omega^i."""
    log_n = check_values(values)
    evaluations = _ints(values)
    n_inv = pow(len(evaluations), -1, R)
    omega_inv = pow(root_of_unity(log_n), -1, R)
    return fr_from_ints(c * n_inv % R for c in _fft(evaluations, omega_inv))


def coset_ntt(values: np.ndarray, shift: int) -> np.ndarray:
    """Evaluations at shift * omega^i: the NTT of the coefficients c_i * shift^i."""
    log_n = check_values(values)
    shift = check_shift(shift)
    coefficients = _ints(values)
    scaled = [c * pow(shift, i, R) % R for i, c in enumerate(coefficients)]
    return fr_from_ints(_fft(scaled, root_of_unity(log_n)))


def coset_intt(values: np.ndarray, shift: int) -> np.ndarray:
    """Coefficients of the polynomial with these evaluations at shift * omega^i."""
    check_values(values)
    shift_inv = pow(check_shift(shift), -1, R)
    coefficients = fr_to_ints(intt(values))
    return fr_from_ints(c * pow(shift_inv, i, R) % R for i, c in enumerate(coefficients))


def _fft(coefficients: list[int], omega: int) -> list[int]:
    """sum_j c_j omega^(ij) for i < n, splitting even and odd coefficients (Cooley-Tukey)."""
    n = len(coefficients)
    if n == 1:
        return list(coefficients)
    omega_squared = omega * omega % R
    even = _fft(coefficients[0::2], omega_squared)
    odd = _fft(coefficients[1::2], omega_squared)
    out = [0] * n
    twiddle = 1
    for i in range(n // 2):
        t = twiddle * odd[i] % R
        out[i] = (even[i] + t) % R
        out[i + n // 2] = (even[i] - t) % R
        twiddle = twiddle * omega % R
    return out


def _ints(values: np.ndarray) -> list[int]:
    if any(v >= R for v in limbs_to_ints(values)):
        raise not_canonical_error()
    return fr_to_ints(values)


# --- Input rules shared with prover.ntt ---------------------------------------------------------

def check_values(values) -> int:
    """log2 of the domain size of an (n, 4) uint64 array, n a power of two <= 2^28; else ValueError.

    Looks only at the array's type, dtype and shape, so it is cheap on any size.
    """
    if not isinstance(values, np.ndarray):
        raise ValueError(f"expected a numpy array of shape (n, {LIMBS}), "
                         f"got {type(values).__name__}")
    if values.dtype != np.uint64:
        raise ValueError(f"expected uint64 limbs (Montgomery Fr elements), "
                         f"got dtype {values.dtype}")
    if values.ndim != 2 or values.shape[1] != LIMBS:
        raise ValueError(f"expected shape (n, {LIMBS}), got {values.shape}")
    n = values.shape[0]
    if n == 0 or n & (n - 1):
        raise ValueError(f"NTT size must be a power of two, got {n}")
    if n > 1 << MAX_NTT_LOG_SIZE:
        raise ValueError(f"NTT size {n} exceeds 2^{MAX_NTT_LOG_SIZE}, the largest power-of-two "
                         f"subgroup of Fr")
    return n.bit_length() - 1


def check_shift(shift) -> int:
    """A coset shift must be a nonzero element of Fr given as an int in (0, r)."""
    if isinstance(shift, bool) or not isinstance(shift, (int, np.integer)):
        raise ValueError(f"coset shift must be an int, got {type(shift).__name__}")
    shift = int(shift)
    if not 0 < shift < R:
        raise ValueError(f"coset shift must be a nonzero element of Fr in (0, r), got {shift}")
    return shift


def not_canonical_error() -> ValueError:
    return ValueError("values must be canonical Fr elements in Montgomery form, each below r")
