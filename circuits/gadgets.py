"""Small gadgets every circuit needs: bits, range checks, comparators, zero tests, multiplexers.

Each gadget `g(cs, ...)` sits beside its native twin `g_native(...)`, a plain function of ints computing the
same outputs (raising ValueError where the circuit would be unsatisfiable). Hashes and curves live elsewhere.

Field facts used throughout: 2**253 < r < 2**254, so an n-bit value with n <= 253 has exactly one
representation, and comparisons of n-bit values (n <= 252) never wrap around the field.
"""

from __future__ import annotations

from functools import partial
from typing import Sequence

from .builder import R, ConstraintSystem, ConstraintSystemError, LinearCombination, LinearLike, _coerce, linear_sum

_POWERS_OF_TWO = tuple(1 << i for i in range(256))
_NEGATED_POWERS_OF_TWO = tuple(R - (1 << i) for i in range(254))

#: Widest to_binary without the alias check: every n-bit value (n <= 253) is below r.
MAX_BITS = 253
#: Widest comparison: a - b + 2**n must fit in 253 bits.
MAX_COMPARE_BITS = 252
#: Bits of a full field element (to_binary_strict).
FIELD_BITS = 254


def _check_width(n: int, limit: int, what: str) -> None:
    if not isinstance(n, int) or not 0 <= n <= limit:
        raise ConstraintSystemError(f"{what} supports 0 <= n <= {limit} bits, got {n!r}")


# ---------------------------------------------------------------------------------------------------
# Bits


def _upper_bits(n: int, x: int) -> list[int]:
    """Hint: bits 1 .. n-1 of x (bit 0 is derived linearly in the circuit)."""
    return [(x >> i) & 1 for i in range(1, n)]


def _decompose(cs: ConstraintSystem, x: LinearCombination, n: int) -> list[LinearCombination]:
    """n boolean values b with Σ 2^i b_i ≡ x (mod r), in n constraints.

    Bit 0 is not a wire: it is x − Σ_{i≥1} 2^i b_i, and its boolean constraint doubles as the
    recomposition check (circom's --O2 reaches the same count by substitution).
    """
    if n == 1:
        cs.assert_bool(x)
        return [x]
    upper = cs.hint(partial(_upper_bits, n), [x], n - 1)
    for bit in upper:
        cs.assert_bool(bit)
    low = linear_sum([x, *upper], (1, *_NEGATED_POWERS_OF_TWO[1:n]))
    cs.assert_bool(low)
    return [low] + upper


def to_binary(cs: ConstraintSystem, x: LinearLike, n: int) -> list[LinearCombination]:
    """Little-endian bits of x, constrained boolean and recomposing to x: x < 2**n or unsatisfiable.

    n <= 253 so the decomposition is unique. Costs n constraints (0 for a constant). Bits 1.. are wires;
    bit 0 is the linear combination x − Σ_{i≥1} 2^i b_i (see _decompose).
    """
    _check_width(n, MAX_BITS, "to_binary")
    x = _coerce(x)
    if x.is_constant():
        return [LinearCombination._constant(b) for b in to_binary_native(x.constant_value, n)]
    with cs.gadget("to_binary"):
        if n == 0:
            cs.assert_zero(x)
            return []
        bits = _decompose(cs, x, n)
    cs.mark_range_checked(x, n)
    return bits


def to_binary_native(x: int, n: int) -> list[int]:
    if not 0 <= x < (1 << n):
        raise ValueError(f"{x} does not fit in {n} bits")
    return [(x >> i) & 1 for i in range(n)]


def from_binary(cs: ConstraintSystem, bits: Sequence[LinearLike]) -> LinearCombination:
    """Σ 2^i bits[i], asserting every bit boolean (free for bits already known boolean). len(bits) <= 253."""
    _check_width(len(bits), MAX_BITS, "from_binary")
    with cs.gadget("from_binary"):
        for bit in bits:
            cs.assert_bool(bit)
        total = linear_sum(bits, _POWERS_OF_TWO)
    if not total.is_constant():
        cs.mark_range_checked(total, len(bits))
    return total


def from_binary_native(bits: Sequence[int]) -> int:
    if any(b not in (0, 1) for b in bits):
        raise ValueError("bits must be 0 or 1")
    return sum(b << i for i, b in enumerate(bits))


def range_check(cs: ConstraintSystem, x: LinearLike, n: int) -> None:
    """Constrain 0 <= x < 2**n (n <= 253). Free when constraints already force it."""
    _check_width(n, MAX_BITS, "range_check")
    known = cs.known_bits(x)
    if known is not None and known <= n:
        return
    with cs.gadget("range_check"):
        to_binary(cs, x, n)


def range_check_native(x: int, n: int) -> bool:
    return 0 <= x < (1 << n)


def assert_bits_at_most(cs: ConstraintSystem, bits: Sequence[LinearLike], bound: int) -> None:
    """Constrain the integer Σ 2^i bits[i] <= bound, for boolean bits (asserted) and a constant bound.

    Scanning from the top bit, p = 1 while the bits so far equal the bound's. Where the bound has a run of
    zeros, p·Σ(run) = 0 forbids a 1 there while equal (a sum of at most 254 bits cannot wrap); where it
    has a one, p ← p·bit. About (#ones + #zero-runs) constraints: the idea of gnark's
    mustBeLessOrEqCst, with zero runs merged.
    """
    n = len(bits)
    if bound < 0:
        raise ConstraintSystemError("bound must be non-negative")
    bits = [_coerce(b) for b in bits]
    with cs.gadget("bits_at_most"):
        for bit in bits:
            cs.assert_bool(bit)
        if bound >= (1 << n) - 1:
            return
        equal_so_far: LinearCombination = LinearCombination._constant(1)
        i = n - 1
        while i >= 0:
            if (bound >> i) & 1:
                # Below a lowest run of ones nothing is checked, so p is no longer needed there.
                if bound & ((1 << i) - 1) == (1 << i) - 1:
                    break
                equal_so_far = cs.mul(equal_so_far, bits[i])
                i -= 1
            else:
                run = []
                while i >= 0 and not (bound >> i) & 1:
                    run.append(bits[i])
                    i -= 1
                cs.assert_product(equal_so_far, linear_sum(run), 0)


def assert_bits_at_most_native(bits: Sequence[int], bound: int) -> None:
    if from_binary_native(bits) > bound:
        raise ValueError("bits exceed the bound")


def bits_greater_than_constant(cs: ConstraintSystem, bits: Sequence[LinearLike], bound: int) -> LinearCombination:
    """1 if the integer Σ 2^i bits[i] > bound else 0, for boolean bits (asserted) and a constant bound
    (what circomlib's CompConstant computes, e.g. the sign of a packed Baby Jubjub point).

    From the top bit, p = 1 while the bits equal the bound's: p ← p·b where the bound has a 1 and
    p ← p·(1 − b) where it has a 0; at a 0 of the bound, p·b = p_before − p_after is the event "first
    difference, and it is larger", so the result is the sum of those drops: one product per bit.
    """
    n = len(bits)
    if bound < 0:
        raise ConstraintSystemError("bound must be non-negative")
    bits = [_coerce(b) for b in bits]
    with cs.gadget("bits_greater_than_constant"):
        for bit in bits:
            cs.assert_bool(bit)
        if bound >= (1 << n) - 1:
            return LinearCombination._constant(0)
        equal_so_far: LinearCombination = LinearCombination._constant(1)
        greater: list[LinearCombination] = []
        for i in range(n - 1, -1, -1):
            if (bound >> i) & 1:
                equal_so_far = cs.mul(equal_so_far, bits[i])
            else:
                after = cs.mul(equal_so_far, 1 - bits[i])
                greater.append(equal_so_far - after)
                equal_so_far = after
        out = linear_sum(greater)
    cs.mark_range_checked(out, 1)
    return out


def bits_greater_than_constant_native(bits: Sequence[int], bound: int) -> int:
    return int(from_binary_native(bits) > bound)


def to_binary_strict(cs: ConstraintSystem, x: LinearLike) -> list[LinearCombination]:
    """The 254 little-endian bits of x as an integer < r: the unique canonical decomposition.

    A plain 254-bit decomposition would also accept x + r (< 2**254) for small x; the bound check on
    the bits forbids that aliased representation (circomlib's Num2Bits_strict / AliasCheck).
    """
    x = _coerce(x)
    if x.is_constant():
        return [LinearCombination._constant(b) for b in to_binary_native(x.constant_value, FIELD_BITS)]
    with cs.gadget("to_binary_strict"):
        bits = _decompose(cs, x, FIELD_BITS)
        assert_bits_at_most(cs, bits, R - 1)
    return bits


def to_binary_strict_native(x: int) -> list[int]:
    if not 0 <= x < R:
        raise ValueError("a field element must be in [0, r)")
    return to_binary_native(x, FIELD_BITS)


# ---------------------------------------------------------------------------------------------------
# Zero and equality tests


def _inverse_or_zero(x: int) -> int:
    return pow(x, -1, R) if x else 0


def is_zero(cs: ConstraintSystem, x: LinearLike) -> LinearCombination:
    """1 if x = 0 else 0. Two constraints: x·inv = 1 − out and x·out = 0 (circomlib IsZero)."""
    x = _coerce(x)
    if x.is_constant():
        return LinearCombination._constant(int(x.constant_value == 0))
    with cs.gadget("is_zero"):
        inv, = cs.hint(_inverse_or_zero, [x])
        out = 1 - cs.mul(x, inv)
        cs.assert_product(x, out, 0)
    cs.mark_range_checked(out, 1)
    return out


def is_zero_native(x: int) -> int:
    return int(x % R == 0)


def is_equal(cs: ConstraintSystem, a: LinearLike, b: LinearLike) -> LinearCombination:
    """1 if a = b else 0 (two constraints)."""
    with cs.gadget("is_equal"):
        return is_zero(cs, _coerce(a) - _coerce(b))


def is_equal_native(a: int, b: int) -> int:
    return int((a - b) % R == 0)


# ---------------------------------------------------------------------------------------------------
# Comparators (no wraparound: inputs are range-checked to n bits unless already known to fit)


def _ensure_bits(cs: ConstraintSystem, x: LinearCombination, n: int) -> None:
    known = cs.known_bits(x)
    if known is None or known > n:
        if x.is_constant():
            raise ConstraintSystemError(f"constant {x.constant_value} does not fit in {n} bits")
        range_check(cs, x, n)


def _compare_inputs(n: int, *values: int) -> None:
    _check_width(n, MAX_COMPARE_BITS, "comparison")
    for v in values:
        if not 0 <= v < (1 << n):
            raise ValueError(f"{v} does not fit in {n} bits")


def less_than(cs: ConstraintSystem, a: LinearLike, b: LinearLike, n: int) -> LinearCombination:
    """1 if a < b else 0, for a, b in [0, 2**n), n <= 252.

    Precondition enforced here: a and b are range-checked to n bits unless the builder already knows
    they fit (then this costs n + 1 constraints, as circomlib's LessThan at --O2).
    out = 1 − bit n of a + 2**n − b, which lies in (0, 2**(n+1)) without wrapping.
    """
    _check_width(n, MAX_COMPARE_BITS, "less_than")
    a, b = _coerce(a), _coerce(b)
    with cs.gadget("less_than"):
        _ensure_bits(cs, a, n)
        _ensure_bits(cs, b, n)
        bits = to_binary(cs, a + (1 << n) - b, n + 1)
    out = 1 - bits[n]
    cs.mark_range_checked(out, 1)
    return out


def less_than_native(a: int, b: int, n: int) -> int:
    _compare_inputs(n, a, b)
    return int(a < b)


def less_or_equal(cs: ConstraintSystem, a: LinearLike, b: LinearLike, n: int) -> LinearCombination:
    """1 if a <= b else 0 (same preconditions and cost as less_than)."""
    with cs.gadget("less_or_equal"):
        out = 1 - less_than(cs, b, a, n)
    cs.mark_range_checked(out, 1)
    return out


def less_or_equal_native(a: int, b: int, n: int) -> int:
    _compare_inputs(n, a, b)
    return int(a <= b)


def greater_than(cs: ConstraintSystem, a: LinearLike, b: LinearLike, n: int) -> LinearCombination:
    return less_than(cs, b, a, n)


def greater_than_native(a: int, b: int, n: int) -> int:
    return less_than_native(b, a, n)


def greater_or_equal(cs: ConstraintSystem, a: LinearLike, b: LinearLike, n: int) -> LinearCombination:
    return less_or_equal(cs, b, a, n)


def greater_or_equal_native(a: int, b: int, n: int) -> int:
    return less_or_equal_native(b, a, n)


def assert_less_or_equal(cs: ConstraintSystem, a: LinearLike, b: LinearLike, n: int) -> None:
    """Constrain a <= b for a, b in [0, 2**n), n <= 252: b − a fits in n bits.

    If a > b, b − a ≡ r − (a − b) > r − 2**n > 2**n, so no n-bit decomposition exists. Inputs are
    range-checked unless already known to fit: n constraints, plus n per unchecked input.
    """
    _check_width(n, MAX_COMPARE_BITS, "assert_less_or_equal")
    a, b = _coerce(a), _coerce(b)
    with cs.gadget("assert_less_or_equal"):
        _ensure_bits(cs, a, n)
        _ensure_bits(cs, b, n)
        difference = b - a
        if difference.is_constant():
            if not difference.constant_value < (1 << n):
                raise ConstraintSystemError("assert_less_or_equal of constants fails")
            return
        to_binary(cs, difference, n)


def assert_less_or_equal_native(a: int, b: int, n: int) -> None:
    _compare_inputs(n, a, b)
    if a > b:
        raise ValueError(f"{a} > {b}")


def assert_less_than(cs: ConstraintSystem, a: LinearLike, b: LinearLike, n: int) -> None:
    """Constrain a < b for a, b in [0, 2**n), n <= 252: b − a − 1 fits in n bits."""
    _check_width(n, MAX_COMPARE_BITS, "assert_less_than")
    a, b = _coerce(a), _coerce(b)
    with cs.gadget("assert_less_than"):
        _ensure_bits(cs, a, n)
        _ensure_bits(cs, b, n)
        difference = b - a - 1
        if difference.is_constant():
            if not difference.constant_value < (1 << n):
                raise ConstraintSystemError("assert_less_than of constants fails")
            return
        to_binary(cs, difference, n)


def assert_less_than_native(a: int, b: int, n: int) -> None:
    _compare_inputs(n, a, b)
    if not a < b:
        raise ValueError(f"{a} >= {b}")


# ---------------------------------------------------------------------------------------------------
# Selection


def select(cs: ConstraintSystem, cond: LinearLike, if_true: LinearLike, if_false: LinearLike) -> LinearCombination:
    """cond ? if_true : if_false, asserting cond boolean (one constraint, two if cond was unchecked)."""
    return cs.select(cond, if_true, if_false)


def select_native(cond: int, if_true: int, if_false: int) -> int:
    if cond not in (0, 1):
        raise ValueError("condition must be 0 or 1")
    return if_true if cond else if_false


def _mobius(values: Sequence[LinearCombination]) -> list[LinearCombination]:
    """Coefficients c_S of the multilinear polynomial Σ_S c_S Π_{i∈S} s_i taking values[index] at the
    bits of index (subset S given as a bit mask)."""
    coeffs = list(values)
    k = len(coeffs).bit_length() - 1
    for i in range(k):
        step = 1 << i
        for mask in range(len(coeffs)):
            if mask & step:
                coeffs[mask] = coeffs[mask] - coeffs[mask ^ step]
    return coeffs


def multi_mux(cs: ConstraintSystem, selector_bits: Sequence[LinearLike],
              tables: Sequence[Sequence[LinearLike]]) -> list[LinearCombination]:
    """For each table of 2**k values, the entry at index Σ 2^i selector_bits[i] (bits asserted boolean).

    Constant tables (e.g. fixed-base windows): the products of the low k − 1 bits are shared by all
    tables, then one product with the top bit per table (circomlib's MultiMux3: 1 + n for k = 3).
    Tables with wires: a tree of selects, 2**k − 1 per table.
    """
    bits = [_coerce(s) for s in selector_bits]
    k = len(bits)
    tables = [[_coerce(v) for v in t] for t in tables]
    for t in tables:
        if len(t) != 1 << k:
            raise ConstraintSystemError(f"a mux over {k} selector bits needs {1 << k} values, got {len(t)}")
    with cs.gadget("mux"):
        for bit in bits:
            cs.assert_bool(bit)
        if k == 0:
            return [t[0] for t in tables]
        if all(v.is_constant() for t in tables for v in t):
            low, top = bits[:-1], bits[-1]
            monomials = [LinearCombination._constant(1)]
            for bit in low:
                monomials = monomials + [cs.mul(m, bit) for m in monomials]
            half = 1 << (k - 1)
            outs = []
            for t in tables:
                lower = _combine(_mobius(t[:half]), monomials)
                upper = _combine(_mobius(t[half:]), monomials)
                outs.append(lower + cs.mul(top, upper - lower))
            return outs
        outs = []
        for t in tables:
            level = t
            for bit in bits:
                level = [cs.select(bit, level[j + 1], level[j]) for j in range(0, len(level), 2)]
            outs.append(level[0])
        return outs


def _combine(coeffs: Sequence[LinearCombination], monomials: Sequence[LinearCombination]) -> LinearCombination:
    return linear_sum(monomials, [c.constant_value for c in coeffs])


def multi_mux_native(selector_bits: Sequence[int], tables: Sequence[Sequence[int]]) -> list[int]:
    index = from_binary_native(selector_bits)
    for t in tables:
        if len(t) != 1 << len(selector_bits):
            raise ValueError("table size must be 2**len(selector_bits)")
    return [t[index] for t in tables]


def mux(cs: ConstraintSystem, selector_bits: Sequence[LinearLike], values: Sequence[LinearLike]) -> LinearCombination:
    """values[Σ 2^i selector_bits[i]] (see multi_mux for the cost)."""
    return multi_mux(cs, selector_bits, [values])[0]


def mux_native(selector_bits: Sequence[int], values: Sequence[int]) -> int:
    return multi_mux_native(selector_bits, [values])[0]
