"""Native Poseidon hash with circomlib's parameters, equal to circomlibjs `poseidon` for 1 to 16 inputs.
Plain Python ints: a round-by-round reference permutation and a fast one with circomlib's optimized
constants (both from circuits.poseidon_constants; the fast one unrolled into straight-line code per width);
beside them the circuit gadgets (`poseidon_gadget`, ...), which follow the optimized permutation step by
step: only S-boxes cost constraints (3 each).
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache, partial

from circuits.builder import LinearCombination, _coerce, linear_sum

from circuits.poseidon_constants import (
    FIELD_MODULUS,
    MAX_WIDTH,
    SBOX_ALPHA,
    OptimizedPoseidonParams,
    PoseidonParams,
    poseidon_optimized_params,
    poseidon_params,
)

__all__ = [
    "FIELD_MODULUS",
    "MAX_INPUTS",
    "OptimizedPoseidonParams",
    "PoseidonParams",
    "poseidon",
    "poseidon_ex",
    "poseidon_ex_gadget",
    "poseidon_gadget",
    "poseidon_permutation_gadget",
    "poseidon_optimized_params",
    "poseidon_params",
    "poseidon_permutation",
    "poseidon_permutation_loops",
    "poseidon_permutation_reference",
    "poseidon_round",
]

MAX_INPUTS = MAX_WIDTH - 1  # 16


def _check_field_elements(values: Sequence[int], what: str) -> None:
    # circomlibjs silently reduces mod r; we refuse instead, so that two different integers can
    # never hash to the same leaf by aliasing.
    for i, v in enumerate(values):
        if not isinstance(v, int) or not 0 <= v < FIELD_MODULUS:
            raise ValueError(f"{what}[{i}] is not a field element in [0, r): {v!r}")


def _check_width(t: int) -> None:
    if not 2 <= t <= MAX_WIDTH:
        raise ValueError(f"Poseidon state width must be 2..{MAX_WIDTH}, got {t}")


def poseidon_round(params: PoseidonParams, state: Sequence[int], r: int) -> list[int]:
    """Round r of the permutation as the paper states it: add round constants, S-box (every cell in a
    full round, cell 0 in a partial one), multiply by the MDS matrix. The view a gadget mirrors."""
    p = FIELD_MODULUS
    state = [(s + c) % p for s, c in zip(state, params.round_constants[r])]
    if params.is_full_round(r):
        state = [pow(s, SBOX_ALPHA, p) for s in state]
    else:
        state[0] = pow(state[0], SBOX_ALPHA, p)
    return [sum(m * s for m, s in zip(row, state)) % p for row in params.mds]


def poseidon_permutation_reference(state: Sequence[int]) -> list[int]:
    """The Poseidon permutation, round by round (circomlibjs poseidon_reference.js). Slow; the oracle."""
    _check_width(len(state))
    _check_field_elements(state, "state")
    params = poseidon_params(len(state))
    st = list(state)
    for r in range(params.n_rounds):
        st = poseidon_round(params, st, r)
    return st


def poseidon_permutation(state: Sequence[int]) -> list[int]:
    """The Poseidon permutation of width len(state) (2..17), with circomlib's optimized constants
    (circomlibjs poseidon_opt.js): the same function as poseidon_permutation_reference, 3-5 times as fast.
    Runs the straight-line form of `poseidon_permutation_loops` (see `_straight_line`)."""
    t = len(state)
    _check_width(t)
    _check_field_elements(state, "state")
    return _straight_line(t, False)(*state)


def poseidon_permutation_loops(state: Sequence[int]) -> list[int]:
    """poseidon_permutation written as loops over the optimized constants: the readable form of what
    `_straight_line` unrolls (and the oracle the tests hold it to)."""
    t = len(state)
    _check_width(t)
    _check_field_elements(state, "state")
    opt: OptimizedPoseidonParams = poseidon_optimized_params(t)
    p = FIELD_MODULUS
    c, m_cols = opt.c, list(zip(*opt.m))
    half = opt.full_rounds // 2

    def full_round(st: list[int], constants: Sequence[int], cols) -> list[int]:
        st = [pow(x, 5, p) + k for x, k in zip(st, constants)]
        return [sum(a * b for a, b in zip(st, col)) % p for col in cols]

    st = [(x + k) % p for x, k in zip(state, c[:t])]
    for r in range(half - 1):
        st = full_round(st, c[(r + 1) * t:(r + 2) * t], m_cols)
    st = full_round(st, c[half * t:(half + 1) * t], list(zip(*opt.p)))

    # Partial rounds: one S-box, one constant, and a sparse matrix (first row, first column, identity).
    # Cells 1..t-1 only ever gain x0 * k, so they are reduced once after the partial rounds, not per round.
    st0, rest = st[0], st[1:]
    for constant, m00, first_column, first_row in _partial_round_schedule(t):
        x0 = pow(st0, 5, p) + constant
        st0 = (m00 * x0 + sum(a * b for a, b in zip(first_column, rest))) % p
        rest = [x + x0 * k for x, k in zip(rest, first_row)]
    st = [st0] + [x % p for x in rest]

    base = (half + 1) * t + opt.partial_rounds
    for r in range(half - 1):
        st = full_round(st, c[base + r * t:base + (r + 1) * t], m_cols)
    return full_round(st, (0,) * t, m_cols)


def _straight_line_source(t: int, trace: bool) -> str:
    """Python source of `permute(s0, ..., s{t-1})`: the optimized permutation of width t with every loop
    unrolled and every constant a literal. A 254-bit multiplication costs about as much as the loop, zip and
    generator machinery around it, so unrolling halves the time. With `trace`, it returns instead the
    (x^2, x^4, x^5) of every S-box in order (each reduced mod r), as `_sbox_trace` needs."""
    opt = poseidon_optimized_params(t)
    c = opt.c
    half = opt.full_rounds // 2
    cells = [f"s{i}" for i in range(t)]
    lines = [f"def permute({', '.join(cells)}):"]
    if trace:
        lines.append("    trace = []")
        lines.append("    record = trace.extend")

    def sbox(x: str, constant: int, out: str) -> None:
        plus = f" + {constant}" if constant else ""
        if trace:
            lines.append(f"    x2 = {x} * {x} % p")
            lines.append("    x4 = x2 * x2 % p")
            lines.append(f"    x5 = x4 * {x} % p")
            lines.append("    record((x2, x4, x5))")
            lines.append(f"    {out} = x5{plus}")
        else:
            lines.append(f"    {out} = pow({x}, 5, p){plus}")

    def full_round(constants: Sequence[int], matrix) -> None:
        for i in range(t):
            sbox(cells[i], constants[i], f"y{i}")
        for j in range(t):
            lines.append(f"    s{j} = (" + " + ".join(f"y{i} * {matrix[i][j]}" for i in range(t)) + ") % p")

    for i in range(t):
        lines.append(f"    s{i} = (s{i} + {c[i]}) % p")
    for r in range(half - 1):
        full_round(c[(r + 1) * t:(r + 2) * t], opt.m)
    full_round(c[half * t:(half + 1) * t], opt.p)
    for constant, m00, first_column, first_row in _partial_round_schedule(t):
        sbox("s0", constant, "x")
        lines.append(f"    s0 = (x * {m00} + "
                     + " + ".join(f"s{i + 1} * {k}" for i, k in enumerate(first_column)) + ") % p")
        # Cells 1..t-1 stay unreduced through the partial rounds (the next S-box or product reduces).
        lines.extend(f"    s{i + 1} += x * {k}" for i, k in enumerate(first_row))
    base = (half + 1) * t + opt.partial_rounds
    for r in range(half - 1):
        full_round(c[base + r * t:base + (r + 1) * t], opt.m)
    full_round((0,) * t, opt.m)
    lines.append("    return trace" if trace else f"    return [{', '.join(cells)}]")
    return "\n".join(lines) + "\n"


@lru_cache(maxsize=None)
def _straight_line(t: int, trace: bool):
    """The compiled function of `_straight_line_source(t, trace)` (built once per width and mode)."""
    namespace = {"p": FIELD_MODULUS}
    exec(compile(_straight_line_source(t, trace), f"<poseidon permutation t={t}>", "exec"), namespace)
    return namespace["permute"]


@lru_cache(maxsize=None)
def _partial_round_schedule(t: int) -> tuple[tuple[int, int, tuple[int, ...], tuple[int, ...]], ...]:
    """Per partial round of the optimized form: (constant, m00, first column below m00, first row after m00)."""
    opt = poseidon_optimized_params(t)
    base = (opt.full_rounds // 2 + 1) * t
    width = 2 * t - 1
    return tuple(
        (opt.c[base + r], opt.s[width * r], opt.s[width * r + 1:width * r + t], opt.s[width * r + t:width * (r + 1)])
        for r in range(opt.partial_rounds)
    )


def poseidon_ex(inputs: Sequence[int], init_state: int = 0, n_outs: int = 1) -> list[int]:
    """circomlib's PoseidonEx / circomlibjs poseidon(inputs, initState, nOut): permute
    [init_state, *inputs] and return the first n_outs cells."""
    if not 1 <= len(inputs) <= MAX_INPUTS:
        raise ValueError(f"Poseidon takes 1 to {MAX_INPUTS} inputs, got {len(inputs)}")
    if not 1 <= n_outs <= len(inputs) + 1:
        raise ValueError(f"n_outs must be in 1..{len(inputs) + 1}, got {n_outs}")
    _check_field_elements([init_state], "init_state")
    _check_field_elements(inputs, "inputs")
    return poseidon_permutation([init_state, *inputs])[:n_outs]


def poseidon(inputs: Sequence[int]) -> int:
    """circomlib's Poseidon(n), n = len(inputs) in 1..16: permute [0, *inputs], output cell 0."""
    return poseidon_ex(inputs)[0]


# ---------------------------------------------------------------------------------------------------
# Circuit gadgets. Linear layers and round constants are free linear combinations; each S-box x^5 is
# x2 = x·x, x4 = x2·x2, x5 = x4·x (3 constraints, none when x is a constant). Full rounds cost 3t,
# partial rounds 3: 3·(t·R_F + R_P), less 3 per constant cell of the first round (Poseidon(2), t = 3,
# whose capacity cell is the constant 0: 240, as circomlib's at --O2).
# The S-box wires are filled by one hint per permutation (the native permutation, recording its S-boxes)
# and then constrained: the same R1CS as three `cs.mul`s per S-box, but a witness is solved at native
# speed instead of re-evaluating the long linear combinations of the partial rounds.


def _optimized_rounds(state, sbox, lin):
    """The optimized permutation's steps over any arithmetic: sbox(x) -> x^5, lin(values, coeffs) -> Σ."""
    t = len(state)
    opt = poseidon_optimized_params(t)
    c, m_cols, p_cols = opt.c, list(zip(*opt.m)), list(zip(*opt.p))
    half = opt.full_rounds // 2

    def full_round(st, constants, columns):
        st = [lin((sbox(x), k), (1, 1)) for x, k in zip(st, constants)]
        return [lin(st, col) for col in columns]

    st = [lin((x, k), (1, 1)) for x, k in zip(state, c[:t])]
    for r in range(half - 1):
        st = full_round(st, c[(r + 1) * t:(r + 2) * t], m_cols)
    st = full_round(st, c[half * t:(half + 1) * t], p_cols)
    st0, rest = st[0], st[1:]
    for constant, m00, first_column, first_row in _partial_round_schedule(t):
        x0 = lin((sbox(st0), constant), (1, 1))
        st0 = lin([x0, *rest], (m00, *first_column))
        rest = [lin((x, x0), (1, k)) for x, k in zip(rest, first_row)]
    st = [st0, *rest]
    base = (half + 1) * t + opt.partial_rounds
    for r in range(half - 1):
        st = full_round(st, c[base + r * t:base + (r + 1) * t], m_cols)
    return full_round(st, (0,) * t, m_cols)


def _native_lin(values, coeffs):
    return sum(v * k for v, k in zip(values, coeffs)) % FIELD_MODULUS


def _sbox_trace(skipped: tuple[int, ...], *state: int) -> list[int]:
    """Hint: (x^2, x^4, x^5) of every S-box of the permutation of `state`, in order, leaving out the
    S-boxes numbered in `skipped` (those whose input is a constant in the circuit: first-round ones, so
    S-box i of them is cell i)."""
    trace = _straight_line(len(state), True)(*state)
    if skipped:
        trace = [v for i, v in enumerate(trace) if i // 3 not in skipped]
    return trace


def _sbox_trace_loops(skipped: tuple[int, ...], *state: int) -> list[int]:
    """_sbox_trace computed over `_optimized_rounds` (the gadget's own steps): the oracle of the fast one."""
    p = FIELD_MODULUS
    trace: list[int] = []
    count = 0

    def sbox(x):
        nonlocal count
        x2 = x * x % p
        x4 = x2 * x2 % p
        x5 = x4 * x % p
        if count not in skipped:
            trace.extend((x2, x4, x5))
        count += 1
        return x5

    _optimized_rounds(list(state), sbox, _native_lin)
    return trace


def poseidon_permutation_gadget(cs, state):
    """The Poseidon permutation of width len(state) (2..17) in a circuit: the same steps as
    poseidon_permutation (circomlib's optimized constants), returning t linear combinations.

    Builds exactly the R1CS of `_permutation_stepwise` (same rows, same terms in the same order), but
    after the first round it copies the combinations from `_symbolic_rounds`, computed once per width,
    instead of recomputing the long sums of the partial rounds for every hash."""
    state = [_coerce(x) for x in state]
    t = len(state)
    _check_width(t)
    if all(x.is_constant() for x in state):
        return [cs.constant(v) for v in poseidon_permutation([x.constant_value for x in state])]
    constant_cells = tuple((i, x.constant_value) for i, x in enumerate(state) if x.is_constant())
    sbox_inputs, outputs = _symbolic_rounds(t, constant_cells)
    skipped = tuple(i for i, _ in constant_cells)
    round_constants = poseidon_optimized_params(t).c
    with cs.gadget(f"poseidon_permutation(t={t})"):
        wires = cs.hint(partial(_sbox_trace, skipped), state, 3 * len(sbox_inputs))
        # Symbolic wire ids: 0 is the constant 1, 1..t the input cells, t + 1 + j the output of S-box j.
        wire_of = [0] * (t + 1) + [x5.single_wire for x5 in wires[2::3]]
        first_round = [linear_sum((x, k), (1, 1)) for i, (x, k) in enumerate(zip(state, round_constants)) if i not in skipped]
        for j, terms in enumerate(sbox_inputs):
            x = first_round[j] if j < len(first_round) else LinearCombination({wire_of[w]: c for w, c in terms})
            x2, x4, x5 = wires[3 * j:3 * j + 3]
            # The trace hint computed x2, x4, x5 from these same values, so solve need not re-check them.
            cs.assert_product(x, x, x2, holds_by_construction=True)
            cs.assert_product(x2, x2, x4, holds_by_construction=True)
            cs.assert_product(x4, x, x5, holds_by_construction=True)
        return [LinearCombination({wire_of[w]: c for w, c in terms}) for terms in outputs]


@lru_cache(maxsize=256)
def _symbolic_rounds(t: int, constant_cells: tuple[tuple[int, int], ...]):
    """The gadget's steps over symbolic wires (0: the constant 1; 1..t: the input cells; t + 1 + j: the
    output of the j-th S-box whose input is not constant), the cells in `constant_cells` (index, value)
    being those constants. Returns (the terms of each such S-box's input, the terms of the t outputs), each
    a tuple of (symbolic wire, coefficient) in the order linear_sum builds them, so that renaming the
    symbols gives the very combinations the step-by-step build makes."""
    constants = dict(constant_cells)
    state = [LinearCombination._constant(constants[i]) if i in constants else LinearCombination._wire(1 + i)
             for i in range(t)]
    sbox_inputs: list[tuple[tuple[int, int], ...]] = []

    def sbox(x):
        if x.is_constant():
            return LinearCombination._constant(pow(x.constant_value, SBOX_ALPHA, FIELD_MODULUS))
        sbox_inputs.append(tuple(x.terms.items()))
        return LinearCombination._wire(t + len(sbox_inputs))

    outputs = [tuple(x.terms.items()) for x in _optimized_rounds(state, sbox, linear_sum)]
    n_first = t - len(constants)
    # Past the first round nothing reads an input cell (the renaming relies on it): each cell was S-boxed.
    assert all(w == 0 or w > t for terms in sbox_inputs[n_first:] + outputs for w, _ in terms)
    return tuple(sbox_inputs), tuple(outputs)


def _permutation_stepwise(cs, state):
    """poseidon_permutation_gadget computed step by step over the circuit's own combinations: the
    definition its R1CS is held to."""
    state = [_coerce(x) for x in state]
    t = len(state)
    _check_width(t)
    if all(x.is_constant() for x in state):
        return [cs.constant(v) for v in poseidon_permutation([x.constant_value for x in state])]
    # Only first-round S-boxes can see a constant: after one dense MDS layer every cell depends on a wire.
    skipped = tuple(i for i, x in enumerate(state) if x.is_constant())
    n_sboxes = t * poseidon_optimized_params(t).full_rounds + poseidon_optimized_params(t).partial_rounds
    with cs.gadget(f"poseidon_permutation(t={t})"):
        wires = cs.hint(partial(_sbox_trace, skipped), state, 3 * (n_sboxes - len(skipped)))
        position = 0

        def sbox(x):
            nonlocal position
            if x.is_constant():
                return cs.constant(pow(x.constant_value, SBOX_ALPHA, FIELD_MODULUS))
            x2, x4, x5 = wires[position:position + 3]
            position += 3
            cs.assert_product(x, x, x2, holds_by_construction=True)
            cs.assert_product(x2, x2, x4, holds_by_construction=True)
            cs.assert_product(x4, x, x5, holds_by_construction=True)
            return x5

        out = _optimized_rounds(state, sbox, linear_sum)
        assert position == len(wires)
        return out


def poseidon_ex_gadget(cs, inputs, init_state=0, n_outs: int = 1):
    """circomlib's PoseidonEx(nInputs, nOuts) in a circuit: permute [init_state, *inputs], return the
    first n_outs cells (linear combinations). Twin of poseidon_ex."""
    if not 1 <= len(inputs) <= MAX_INPUTS:
        raise ValueError(f"Poseidon takes 1 to {MAX_INPUTS} inputs, got {len(inputs)}")
    if not 1 <= n_outs <= len(inputs) + 1:
        raise ValueError(f"n_outs must be in 1..{len(inputs) + 1}, got {n_outs}")
    with cs.gadget(f"poseidon({len(inputs)})"):
        return poseidon_permutation_gadget(cs, [init_state, *inputs])[:n_outs]


def poseidon_gadget(cs, inputs):
    """circomlib's Poseidon(n) in a circuit, n = len(inputs) in 1..16: the twin of poseidon(inputs).
    Returns a linear combination (of the last round's S-box wires) equal to poseidon(values)."""
    return poseidon_ex_gadget(cs, inputs)[0]
