"""NTT and inverse NTT over BN254's Fr on power-of-two domains up to 2^28, plain and on cosets.

Arrays in and out are (n, 4) uint64 Fr vectors in Montgomery form; inputs are never modified. The
work happens in the Numba kernels of prover.kernels.ntt; prover.reference.ntt is the plain twin.
"""

from __future__ import annotations

import numpy as np

from .arrays import kernel_input
from .constants import R, root_of_unity
from .convert import fr_from_ints
from .kernels import ntt as kernels
from .reference.ntt import check_shift, check_values, not_canonical_error

_ONE = fr_from_ints([1])

# One twiddle table, for the largest domain used so far: (log2 of its domain, w^0 .. w^(n/2 - 1)).
# Smaller domains read it with a stride, so memory stays at 16 bytes per point of that domain.
_twiddles: tuple[int, np.ndarray] = (0, np.zeros((0, 4), dtype=np.uint64))


def ntt(values: np.ndarray) -> np.ndarray:
    """Evaluations of the polynomial with these coefficients at omega^i, i = 0 .. n-1.

    omega = prover.constants.root_of_unity(log2 n), the root snarkjs uses.
    """
    log_n = check_values(values)
    return _transform(values, log_n, inverse=False, shift=None)


def intt(values: np.ndarray) -> np.ndarray:
    """Coefficients of the polynomial of degree < n with these evaluations at omega^i."""
    log_n = check_values(values)
    return _transform(values, log_n, inverse=True, shift=None)


def coset_ntt(values: np.ndarray, shift: int) -> np.ndarray:
    """Evaluations at shift * omega^i: the NTT of the coefficients c_i * shift^i."""
    log_n = check_values(values)
    return _transform(values, log_n, inverse=False, shift=check_shift(shift))


def coset_intt(values: np.ndarray, shift: int) -> np.ndarray:
    """Coefficients of the polynomial with these evaluations at shift * omega^i."""
    log_n = check_values(values)
    return _transform(values, log_n, inverse=True, shift=check_shift(shift))


def _transform(values: np.ndarray, log_n: int, inverse: bool, shift: int | None) -> np.ndarray:
    source = kernel_input(values)
    if kernels.count_not_below_r(source):
        raise not_canonical_error()
    n = 1 << log_n
    n_inv = fr_from_ints([pow(n, -1, R)])
    # Scaling rides along with the bit-reversal pass where it can: the coset powers before a forward
    # transform, 1/n before a plain inverse one. A coset inverse scales its output afterwards.
    if not inverse and shift is not None:
        mode, first, ratio = kernels.SCALE_GEOMETRIC, _ONE, fr_from_ints([shift])
    elif inverse and shift is None:
        mode, first, ratio = kernels.SCALE_CONSTANT, n_inv, _ONE
    else:
        mode, first, ratio = kernels.SCALE_NONE, _ONE, _ONE
    out = np.empty((n, 4), dtype=np.uint64)
    kernels.permute_bit_reversed(source, out, log_n, inverse, mode, first, ratio)
    _butterflies(out, log_n)
    if inverse and shift is not None:
        kernels.scale_by_powers(out, n_inv, fr_from_ints([pow(shift, -1, R)]))
    return out


def _butterflies(values: np.ndarray, log_n: int) -> None:
    """All decimation-in-time stages, in place, on bit-reversed input."""
    twiddle_log, twiddles = _twiddles_for(log_n)
    log_block = min(log_n, kernels.LOG_BLOCK)
    if log_block:
        kernels.butterflies_in_blocks(values, twiddles, twiddle_log, log_block)
    log_m = log_block
    while log_m + 2 <= log_n:
        kernels.butterfly_stage_pair(values, twiddles, twiddle_log, log_m)
        log_m += 2
    if log_m < log_n:
        kernels.butterfly_stage(values, twiddles, twiddle_log, log_m)


def _twiddles_for(log_n: int) -> tuple[int, np.ndarray]:
    global _twiddles
    if _twiddles[0] < log_n:
        _twiddles = (log_n, _twiddle_range(log_n, 0, 1 << (log_n - 1)))
    return _twiddles


def _twiddle_range(log_size: int, start: int, count: int) -> np.ndarray:
    """w^start .. w^(start+count-1) for w = root_of_unity(log_size), as an (count, 4) array."""
    out = np.empty((count, 4), dtype=np.uint64)
    kernels.fr_powers(out, fr_from_ints([root_of_unity(log_size)]), start)
    return out
