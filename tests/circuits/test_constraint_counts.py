"""The checked-in constraint-count table (circuits/constraint_counts.json) matches what the gadgets build.

A changed count must come with a changed table, so a regression (or an improvement) is a visible diff.
Regenerate the table after an intended change with: .venv/bin/python tests/circuits/test_constraint_counts.py
"""

from __future__ import annotations

import json
import random
from pathlib import Path

import pytest

from circuits import gadgets as g
from circuits.builder import R, ConstraintSystem

TABLE_PATH = Path(__file__).resolve().parents[2] / "circuits" / "constraint_counts.json"


def _fresh(n: int):
    cs = ConstraintSystem()
    return cs, cs.private_inputs("x", n)


def _checked(n_inputs: int, bits: int):
    """Inputs already range-checked (their check is not counted): the circomlib comparison."""
    cs, xs = _fresh(n_inputs)
    for x in xs:
        g.range_check(cs, x, bits)
    return cs, xs, cs.n_constraints


def _to_binary(n):
    cs, (x,) = _fresh(1)
    g.to_binary(cs, x, n)
    return cs.n_constraints


def _strict():
    cs, (x,) = _fresh(1)
    g.to_binary_strict(cs, x)
    return cs.n_constraints


def _from_binary(n):
    cs, bits = _fresh(n)
    g.from_binary(cs, bits)
    return cs.n_constraints


def _bits_at_most_r_minus_1():
    cs, bits = _fresh(254)
    for b in bits:
        cs.assert_bool(b)
    before = cs.n_constraints
    g.assert_bits_at_most(cs, bits, R - 1)
    return cs.n_constraints - before


def _bits_greater_than_half():
    cs, bits = _fresh(254)
    for b in bits:
        cs.assert_bool(b)
    before = cs.n_constraints
    g.bits_greater_than_constant(cs, bits, (R - 1) // 2)
    return cs.n_constraints - before


def _comparator(fn, n, checked):
    if checked:
        cs, (a, b), before = _checked(2, n)
    else:
        (cs, (a, b)), before = _fresh(2), 0
    fn(cs, a, b, n)
    return cs.n_constraints - before


def _is_zero():
    cs, (x,) = _fresh(1)
    g.is_zero(cs, x)
    return cs.n_constraints


def _is_equal():
    cs, (a, b) = _fresh(2)
    g.is_equal(cs, a, b)
    return cs.n_constraints


def _select(condition_checked):
    cs, (c, a, b) = _fresh(3)
    if condition_checked:
        cs.assert_bool(c)
    before = cs.n_constraints
    cs.select(c, a, b)
    return cs.n_constraints - before


def _mux(k, n_tables, constant):
    cs, bits = _fresh(k)
    for b in bits:
        cs.assert_bool(b)
    before = cs.n_constraints
    rng = random.Random(k * 10 + n_tables)
    if constant:
        tables = [[rng.randrange(R) for _ in range(1 << k)] for _ in range(n_tables)]
    else:
        tables = [cs.private_inputs(f"t{i}", 1 << k) for i in range(n_tables)]
    g.multi_mux(cs, bits, tables)
    return cs.n_constraints - before


def _inverse():
    cs, (x,) = _fresh(1)
    cs.inverse(x)
    return cs.n_constraints


def _div():
    cs, (a, b) = _fresh(2)
    cs.div(a, b)
    return cs.n_constraints


def _poseidon(n_inputs):
    from circuits.poseidon import poseidon_gadget

    cs, xs = _fresh(n_inputs)
    poseidon_gadget(cs, xs)
    return cs.n_constraints


def _merkle(update: bool, depth: int = 20):
    from circuits.merkle import merkle_root, merkle_update

    cs, xs = _fresh(2 + 2 * depth)
    bits, siblings = xs[2:2 + depth], xs[2 + depth:]
    if update:
        merkle_update(cs, xs[0], xs[1], bits, siblings)
    else:
        merkle_root(cs, xs[0], bits, siblings)
    return cs.n_constraints


def _account_tree(arity: int, update: bool, depth: int = 20):
    from circuits.rollup.tree import tree_levels, tree_root, tree_update

    levels = tree_levels(depth, arity)
    cs, xs = _fresh(2 + depth + levels * (arity - 1))
    bits, flat = xs[2:2 + depth], xs[2 + depth:]
    siblings = [flat[k * (arity - 1):(k + 1) * (arity - 1)] for k in range(levels)]
    if update:
        tree_update(cs, xs[0], xs[1], bits, siblings, arity)
    else:
        tree_root(cs, xs[0], bits, siblings, arity)
    return cs.n_constraints


def _babyjub(which):
    from circuits import babyjub as bj

    cs, xs = _fresh(4)
    p, q = (xs[0], xs[1]), (xs[2], xs[3])
    before = 0
    if which == "add":
        bj.point_add_gadget(cs, p, q)
    elif which == "not_low_order":
        bj.assert_not_low_order(cs, p)
    elif which == "on_curve":
        bj.assert_on_curve(cs, p)
    elif which == "pack":
        bj.pack_point_gadget(cs, p)
    else:
        bits = cs.private_inputs("k", 251 if which == "fixed_base" else 254)
        for b in bits:
            cs.assert_bool(b)
        before = cs.n_constraints
        if which == "fixed_base":
            bj.fixed_base_mul_gadget(cs, bj.BASE8, bits)
        elif which == "prime_order":
            bj.scalar_mul_prime_order_gadget(cs, p, bits)
        else:
            bj.scalar_mul_gadget(cs, p, bits)
    return cs.n_constraints - before


def _eddsa():
    from circuits.eddsa import verify_poseidon_gadget

    cs, xs = _fresh(7)
    verify_poseidon_gadget(cs, xs[0], xs[1], (xs[2], xs[3]), (xs[4], xs[5]), xs[6])
    return cs.n_constraints


def _sha256_bytes(n_bytes, bits_known_boolean):
    from circuits.sha256 import sha256_bits, sha256_bytes

    if bits_known_boolean:
        cs, bits = _fresh(8 * n_bytes)
        for b in bits:
            cs.assert_bool(b)
        before = cs.n_constraints
        sha256_bits(cs, bits)
        return cs.n_constraints - before
    cs, data = _fresh(n_bytes)
    sha256_bytes(cs, data)
    return cs.n_constraints


#: name -> function returning the constraint count of that gadget at fixed parameters.
CATALOG = {
    **{f"poseidon({n} inputs)": (lambda n=n: _poseidon(n)) for n in range(1, 17)},
    "merkle_root(depth 20)": lambda: _merkle(False),
    "merkle_update(depth 20), one path for both roots": lambda: _merkle(True),
    "account tree_root(arity 2, depth 20)": lambda: _account_tree(2, False),
    "account tree_root(arity 4, depth 20)": lambda: _account_tree(4, False),
    "account tree_update(arity 2, depth 20), one path for both roots": lambda: _account_tree(2, True),
    "account tree_update(arity 4, depth 20), one path for both roots": lambda: _account_tree(4, True),
    "babyjub point_add": lambda: _babyjub("add"),
    "babyjub assert_on_curve": lambda: _babyjub("on_curve"),
    "babyjub assert_not_low_order": lambda: _babyjub("not_low_order"),
    "babyjub pack_point (strict y, exact sign of x)": lambda: _babyjub("pack"),
    "babyjub scalar_mul(254 bits), any point on the curve": lambda: _babyjub("variable"),
    "babyjub scalar_mul_prime_order(254 bits)": lambda: _babyjub("prime_order"),
    "babyjub fixed_base_mul(B8, 251 bits)": lambda: _babyjub("fixed_base"),
    "eddsa_poseidon verifier (with enabled)": _eddsa,
    "sha256(24 bytes), input bits known boolean": lambda: _sha256_bytes(24, True),
    "sha256(55 bytes, one block), input bits known boolean": lambda: _sha256_bytes(55, True),
    "sha256(64 bytes, two blocks), byte inputs range-checked here": lambda: _sha256_bytes(64, False),
    "to_binary(64)": lambda: _to_binary(64),
    "to_binary(253)": lambda: _to_binary(253),
    "to_binary_strict (254 bits, < r)": _strict,
    "from_binary(64)": lambda: _from_binary(64),
    "range_check(64)": lambda: _to_binary(64),
    "assert_bits_at_most(254 bits, r - 1), bits known boolean": _bits_at_most_r_minus_1,
    "bits_greater_than_constant(254 bits, (r - 1) / 2), bits known boolean": _bits_greater_than_half,
    "less_than(64), inputs already range-checked": lambda: _comparator(g.less_than, 64, True),
    "less_than(64), inputs range-checked here": lambda: _comparator(g.less_than, 64, False),
    "less_than(252), inputs already range-checked": lambda: _comparator(g.less_than, 252, True),
    "less_or_equal(64), inputs already range-checked": lambda: _comparator(g.less_or_equal, 64, True),
    "assert_less_or_equal(64), inputs already range-checked": lambda: _comparator(g.assert_less_or_equal, 64, True),
    "assert_less_or_equal(64), inputs range-checked here": lambda: _comparator(g.assert_less_or_equal, 64, False),
    "assert_less_than(64), inputs already range-checked": lambda: _comparator(g.assert_less_than, 64, True),
    "is_zero": _is_zero,
    "is_equal": _is_equal,
    "select, condition known boolean": lambda: _select(True),
    "select, condition checked here": lambda: _select(False),
    "mux(2 bits), constant table, selectors known boolean": lambda: _mux(2, 1, True),
    "mux(3 bits), constant table, selectors known boolean": lambda: _mux(3, 1, True),
    "multi_mux(3 bits, 4 constant tables), selectors known boolean": lambda: _mux(3, 4, True),
    "mux(3 bits), wire values, selectors known boolean": lambda: _mux(3, 1, False),
    "inverse": _inverse,
    "div": _div,
}


def current_counts() -> dict[str, int]:
    return {name: build() for name, build in CATALOG.items()}


def _table() -> dict:
    return json.loads(TABLE_PATH.read_text())


def test_every_catalogued_gadget_has_a_row_in_the_table_and_no_row_is_orphaned():
    table = _table()["gadgets"]
    assert set(table) == set(CATALOG), (
        f"missing rows: {sorted(set(CATALOG) - set(table))}; orphaned rows: {sorted(set(table) - set(CATALOG))}")


@pytest.mark.parametrize("name", sorted(CATALOG))
def test_constraint_count_matches_the_checked_in_table(name):
    row = _table()["gadgets"].get(name)
    assert row is not None, f"{name} has no row in {TABLE_PATH.name}"
    assert CATALOG[name]() == row["constraints"], (
        f"{name}: built {CATALOG[name]()} constraints, the table says {row['constraints']}; "
        f"update {TABLE_PATH.name} if the change is intended")


def test_constraint_counts_are_no_larger_than_circomlibs():
    rows = _table()["gadgets"]
    compared = {name: row for name, row in rows.items() if row.get("circomlib") is not None}
    assert compared, "the table records no circomlib counts"
    larger = {name: (row["constraints"], row["circomlib"]) for name, row in compared.items()
              if row["constraints"] > row["circomlib"]}
    assert not larger, f"larger than circomlib (ours, circomlib): {larger}"


if __name__ == "__main__":
    table = _table() if TABLE_PATH.exists() else {"gadgets": {}}
    rows = table["gadgets"]
    for name, count in current_counts().items():
        rows[name] = {**rows.get(name, {}), "constraints": count}
        rows[name].setdefault("circomlib", None)
    for name in set(rows) - set(CATALOG):
        del rows[name]
    table["gadgets"] = dict(sorted(rows.items()))
    TABLE_PATH.write_text(json.dumps(table, indent=2, ensure_ascii=False) + "\n")
    print(json.dumps(table["gadgets"], indent=2, ensure_ascii=False))
