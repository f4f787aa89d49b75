"""The compiled Poseidon for Python ints (prover.poseidon) equals circomlib's Poseidon as circuits.poseidon
computes it, for every width, one row, many rows and a Merkle path; it refuses what the plain one refuses;
an account tree hashing with it has the plain tree's roots, and the rollup state builds its trees with it."""

from __future__ import annotations

import random

import pytest

from circuits.poseidon import FIELD_MODULUS as R
from circuits.poseidon import poseidon
from circuits.rollup.layout import Layout
from circuits.rollup.tree import AccountTree, NodeHasher
from prover.poseidon import (poseidon_fast, poseidon_many, poseidon_many_fast, poseidon_path,
                             poseidon_path_fast)

RNG = random.Random(7)


@pytest.fixture(params=[(poseidon_fast, poseidon_many_fast, poseidon_path_fast),
                        (poseidon, poseidon_many, poseidon_path)], ids=["numba", "python"])
def twins(request):
    return request.param


@pytest.mark.parametrize("n_inputs", range(1, 17))
def test_compiled_poseidon_equals_the_plain_one_on_random_inputs(n_inputs):
    for _ in range(3):
        inputs = [RNG.randrange(R) for _ in range(n_inputs)]
        assert poseidon_fast(inputs) == poseidon(inputs)
    extremes = [R - 1 if i % 2 else 0 for i in range(n_inputs)]
    assert poseidon_fast(extremes) == poseidon(extremes)


def test_compiled_poseidon_matches_circomlibjs_published_vectors():
    # circomlibjs test/poseidon.js: poseidon([1, 2]) and poseidon([1, 2, 3, 4]).
    assert poseidon_fast([1, 2]) == 0x115cc0f5e7d690413df64c6b9662e9cf2a3617f2743245519e19607a4417189a
    assert poseidon_fast([1, 2, 3, 4]) == 0x299c867db6c1fdd79dcefa40e4510b9837e60ebb1ce0663dbaa525df65250465


@pytest.mark.parametrize("width", [1, 2, 4, 5, 16])
def test_many_rows_hash_each_row_as_one_call_would(twins, width):
    _, many, _ = twins
    rows = [[RNG.randrange(R) for _ in range(width)] for _ in range(9)]
    assert many(rows) == [poseidon(row) for row in rows]
    assert many([]) == []


@pytest.mark.parametrize("arity", [2, 4, 16])
def test_path_hashes_each_level_with_the_node_at_its_position(twins, arity):
    _, _, path = twins
    levels = 6
    leaf = RNG.randrange(R)
    siblings = [[RNG.randrange(R) for _ in range(arity - 1)] for _ in range(levels)]
    positions = [RNG.randrange(arity) for _ in range(levels)]
    positions[0], positions[-1] = 0, arity - 1     # both ends of a level
    expected, node = [], leaf
    for position, others in zip(positions, siblings):
        node = poseidon(others[:position] + [node] + others[position:])
        expected.append(node)
    assert path(leaf, positions, siblings) == expected
    assert path(leaf, [], []) == []


@pytest.mark.parametrize("inputs, message", [
    ([], "1 to 16 inputs"), ([1] * 17, "1 to 16 inputs"), ([1, R], "not a field element"),
    ([-1], "not a field element"), ([1, "2"], "not a field element")])
def test_bad_inputs_are_refused_as_the_plain_poseidon_refuses_them(twins, inputs, message):
    one, many, _ = twins
    for call in (lambda: one(inputs), lambda: many([inputs])):
        with pytest.raises(ValueError, match=message):
            call()
    with pytest.raises(ValueError, match=message):
        poseidon(inputs)


def test_rows_of_different_widths_are_refused_by_the_batched_form():
    with pytest.raises(ValueError, match="row 1 has 3 inputs, row 0 has 2"):
        poseidon_many_fast([[1, 2], [1, 2, 3]])


@pytest.mark.parametrize("positions, siblings, message", [
    ([0], [[1, 2, 3], [4, 5, 6]], "one position per level"),
    ([0, 4], [[1, 2, 3], [4, 5, 6]], r"positions\[1\] must be an int in \[0, 4\)"),
    ([0, -1], [[1, 2, 3], [4, 5, 6]], r"positions\[1\]"),
    ([0, 1], [[1, 2, 3], [4, 5]], r"siblings\[1\] has 2 entries"),
    ([0, 1], [[1, 2, 3], [4, 5, R]], r"siblings\[1\]\[2\] is not a field element")])
def test_malformed_paths_are_refused_naming_the_fault(twins, positions, siblings, message):
    _, _, path = twins
    with pytest.raises(ValueError, match=message):
        path(1, positions, siblings)


def test_account_tree_with_the_compiled_hasher_has_the_plain_trees_roots_and_nodes():
    compiled = NodeHasher(poseidon_fast, many=poseidon_many_fast, path=poseidon_path_fast)
    depth, arity = 20, 4
    leaves = {RNG.randrange(1, 1 << depth): RNG.randrange(1, R) for _ in range(40)}
    plain, fast = AccountTree(depth, arity), AccountTree(depth, arity, compiled)
    for index, leaf in leaves.items():
        plain.set(index, leaf)
        fast.set(index, leaf)
        assert fast.root == plain.root
    assert AccountTree.from_leaves(depth, arity, leaves, compiled)._nodes == plain._nodes == fast._nodes


def test_rollup_state_builds_its_tree_with_the_compiled_hasher_and_copies_keep_it():
    from circuits.eddsa import prv2pub
    from zkrollup.state import COMPILED_NODES, Account, RollupState

    layout = Layout(depth=8, arity=4, n_transfers=1, n_registrations=1)
    accounts = {i: Account(*prv2pub(bytes([i]) * 32), 100 * i, 0) for i in range(1, 4)}
    state = RollupState(layout, accounts)
    assert state.tree.hasher is COMPILED_NODES
    copy = state.copy()
    assert copy.tree.hasher is COMPILED_NODES
    copy.set(5, Account(*prv2pub(bytes([5]) * 32), 7, 0))
    plain = AccountTree.from_leaves(8, 4, {i: a.leaf for i, a in copy.accounts.items()})
    assert copy.root == plain.root != state.root
