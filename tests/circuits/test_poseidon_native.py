"""Native Poseidon: derived constants equal circomlib's published tables, outputs equal circomlibjs's."""

from __future__ import annotations

import json
import random
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from circuits.poseidon import (
    FIELD_MODULUS,
    MAX_INPUTS,
    poseidon,
    poseidon_ex,
    _sbox_trace,
    _sbox_trace_loops,
    poseidon_permutation,
    poseidon_permutation_loops,
    poseidon_permutation_reference,
)
from circuits.poseidon_constants import (
    PARTIAL_ROUNDS,
    poseidon_optimized_params,
    poseidon_params,
)

REPO = Path(__file__).resolve().parents[2]
CIRCOMLIBJS = REPO / "node_modules" / "circomlibjs"
R = FIELD_MODULUS


def _cases_per_width() -> list[list[int]]:
    rng = random.Random(20240611)
    cases = []
    for n in range(1, MAX_INPUTS + 1):
        cases.append([0] * n)
        cases.append([R - 1] * n)
        cases.append(list(range(1, n + 1)))
        cases += [[rng.randrange(R) for _ in range(n)] for _ in range(4)]
    return cases


POSEIDON_CASES = _cases_per_width()  # 7 per width, 112 in all
POSEIDON_EX_CASES = [([5, 6, 7], 0, 4), ([1, 2], 123456789, 3), ([R - 1] * 16, R - 1, 17), ([9], 1, 1)]


@pytest.fixture(scope="module")
def circomlibjs_answers(run_circomlibjs) -> dict[str, list]:
    requests = [{"op": "poseidon", "inputs": [str(x) for x in case]} for case in POSEIDON_CASES]
    requests += [
        {"op": "poseidonEx", "inputs": [str(x) for x in inputs], "initState": str(init), "nOut": n_outs}
        for inputs, init, n_outs in POSEIDON_EX_CASES
    ]
    answers = run_circomlibjs(requests)
    return {"poseidon": answers[:len(POSEIDON_CASES)], "poseidonEx": answers[len(POSEIDON_CASES):]}


# --- constants ------------------------------------------------------------------------------

def test_partial_round_counts_are_circomlibs():
    assert PARTIAL_ROUNDS == (56, 57, 56, 60, 60, 63, 64, 63, 60, 66, 60, 65, 70, 60, 64, 68)
    assert all(poseidon_params(t).partial_rounds == PARTIAL_ROUNDS[t - 2] for t in (2, 3, 17))
    assert poseidon_params(3).full_rounds == 8


def test_derived_constants_equal_published_values():
    # circomlib circuits/poseidon_constants.circom (raw POSEIDON_C), the halo2/PoseidonT3 tables of
    # circomlib's t = 3 parameters, and circomlibjs poseidon_constants_opt.json.
    t2, t3 = poseidon_params(2), poseidon_params(3)
    assert t2.round_constants[0][0] == 4417881134626180770308697923359573201005643519861877412381846989312604493735
    assert t3.round_constants[0][0] == 6745197990210204598374042828761989596302876299545964402857411729872131034734
    assert t3.round_constants[0][0] == 0x0EE9A592BA9A9518D05986D656F40C2114C4993C11BB29938D21D47304CD8E6E
    assert t3.round_constants[1][0] == 21328925083209914769191926116470334003273872494252651254811226518870906634704
    assert t3.round_constants[-1][-1] == 0x1DA55CC900F0D21F4A3E694391918A1B3C23B2AC773C6B3EF88E2E4228325161
    assert t3.mds[0][0] == 0x109B7F411BA0E4C9B2B70CAF5C36A7B194BE7C11AD24378BFEDB68592BA8118B
    assert t3.mds[0][1] == 0x16ED41E13BB9C0C66AE119424FDDBCBC9314DC9FDBDEEA55D6C64543DC4903E0
    assert len(t3.round_constants) == 8 + 57 and all(len(rc) == 3 for rc in t3.round_constants)
    assert poseidon_optimized_params(3).c[3] == 0x084D520E4E5BB469E1F9075CB7C490EFA59565EEDAE2D00CA8EF88CEEA2B0197


def _circomlibjs_table(name: str) -> dict:
    path = CIRCOMLIBJS / "src" / name
    if not path.is_file():
        pytest.skip(f"{path} is missing (npm ci): the whole-table comparison needs it")
    return json.loads(path.read_text())


def _as_int(value: str) -> int:
    return int(value, 16) if value.startswith("0x") else int(value)


@pytest.mark.node
@pytest.mark.parametrize("t", range(2, MAX_INPUTS + 2))
def test_every_derived_constant_equals_circomlibjs_tables(t):
    raw = _circomlibjs_table("poseidon_constants.json")
    params = poseidon_params(t)
    assert [c for rc in params.round_constants for c in rc] == [_as_int(c) for c in raw["C"][t - 2]]
    assert [list(row) for row in params.mds] == [[_as_int(c) for c in row] for row in raw["M"][t - 2]]

    opt_table = _circomlibjs_table("poseidon_constants_opt.json")
    opt = poseidon_optimized_params(t)
    assert list(opt.c) == [_as_int(c) for c in opt_table["C"][t - 2]]
    assert list(opt.s) == [_as_int(c) for c in opt_table["S"][t - 2]]
    assert [list(row) for row in opt.m] == [[_as_int(c) for c in row] for row in opt_table["M"][t - 2]]
    assert [list(row) for row in opt.p] == [[_as_int(c) for c in row] for row in opt_table["P"][t - 2]]


def test_width_outside_circomlibs_range_has_no_parameters():
    for t in (0, 1, 18):
        with pytest.raises(ValueError):
            poseidon_params(t)


# --- hash outputs ---------------------------------------------------------------------------

def test_known_vector_poseidon_of_1_2():
    assert poseidon([1, 2]) == 7853200120776062878684798364095072458815029376092732009249414926327459813530


@pytest.mark.node
def test_poseidon_equals_circomlibjs_for_1_to_16_inputs(circomlibjs_answers):
    for case, expected in zip(POSEIDON_CASES, circomlibjs_answers["poseidon"], strict=True):
        assert poseidon(case) == int(expected), f"{len(case)} inputs: {case}"


@pytest.mark.node
def test_poseidon_ex_equals_circomlibjs_with_initial_state_and_several_outputs(circomlibjs_answers):
    for (inputs, init, n_outs), expected in zip(POSEIDON_EX_CASES, circomlibjs_answers["poseidonEx"], strict=True):
        assert poseidon_ex(inputs, init, n_outs) == [int(x) for x in expected]


@settings(max_examples=40, deadline=None)
@given(st.integers(2, MAX_INPUTS + 1).flatmap(lambda t: st.lists(st.integers(0, R - 1), min_size=t, max_size=t)))
def test_optimized_permutation_equals_round_by_round_permutation(state):
    assert poseidon_permutation(state) == poseidon_permutation_reference(state)


@settings(max_examples=40, deadline=None)
@given(st.integers(2, MAX_INPUTS + 1).flatmap(lambda t: st.lists(st.integers(0, R - 1), min_size=t, max_size=t)))
def test_straight_line_permutation_equals_the_loop_form(state):
    assert poseidon_permutation(state) == poseidon_permutation_loops(state)


@settings(max_examples=30, deadline=None)
@given(st.integers(2, MAX_INPUTS + 1).flatmap(
    lambda t: st.tuples(st.lists(st.integers(0, R - 1), min_size=t, max_size=t),
                        st.sets(st.integers(0, t - 1), max_size=t - 1).map(lambda s: tuple(sorted(s))))))
def test_sbox_trace_hint_equals_the_trace_of_the_gadgets_own_steps(case):
    # The hint the Poseidon gadget's S-box wires come from, against the same steps the gadget follows.
    state, skipped = case
    assert _sbox_trace(skipped, *state) == _sbox_trace_loops(skipped, *state)


def test_poseidon_is_cell_zero_of_the_permutation_of_zero_and_inputs():
    assert poseidon([3, 4, 5]) == poseidon_permutation_reference([0, 3, 4, 5])[0]


# --- bad input ------------------------------------------------------------------------------

@pytest.mark.parametrize("inputs", [[], list(range(17))])
def test_input_count_outside_1_to_16_is_rejected(inputs):
    with pytest.raises(ValueError, match="1 to 16 inputs"):
        poseidon(inputs)


@pytest.mark.parametrize("bad", [R, -1, R + 5, 2**256])
def test_input_that_is_not_a_field_element_is_rejected_not_reduced(bad):
    with pytest.raises(ValueError, match="field element"):
        poseidon([1, bad])


def test_too_many_outputs_are_rejected():
    with pytest.raises(ValueError, match="n_outs"):
        poseidon_ex([1, 2], 0, 4)


def test_native_twins_import_only_the_standard_library_and_circuits():
    # docs/DESIGN.md §2: circuits/ imports nothing of ours; these modules need nothing but the stdlib.
    import ast

    allowed = {"__future__", "collections", "dataclasses", "functools", "math", "typing", "circuits"}
    for name in ("poseidon_constants", "poseidon", "babyjub", "blake512", "eddsa"):
        tree = ast.parse((REPO / "circuits" / f"{name}.py").read_text())
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                roots = {alias.name.split(".")[0] for alias in node.names}
            elif isinstance(node, ast.ImportFrom):
                roots = {(node.module or "").split(".")[0]}
            else:
                continue
            assert roots <= allowed, f"circuits/{name}.py imports {roots - allowed}"
