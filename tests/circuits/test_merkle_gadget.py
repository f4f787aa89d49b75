"""Merkle gadgets and the sparse native tree: roots equal the native tree's, updates reuse one path, and a
wrong sibling, a flipped or non-boolean path bit, or any perturbed internal wire is unsatisfiable."""

from __future__ import annotations

import random

import pytest

from circuits.builder import R, ConstraintSystem, first_failure
from circuits.check import check_gadget
from circuits.merkle import (
    MAX_DEPTH,
    MerkleTree,
    index_from_path_bits,
    merkle_root,
    merkle_root_native,
    merkle_update,
    merkle_update_native,
    path_bits,
    verify_proof,
    zero_hashes,
)
from circuits.poseidon import poseidon

RNG = random.Random(308)
DEPTH = 4


def test_zero_hashes_start_at_the_empty_leaf_and_hash_pairwise():
    zeros = zero_hashes(MAX_DEPTH)
    assert len(zeros) == MAX_DEPTH + 1 and zeros[0] == 0
    assert all(zeros[k + 1] == poseidon([zeros[k], zeros[k]]) for k in range(MAX_DEPTH))
    assert MerkleTree(MAX_DEPTH).root == zeros[MAX_DEPTH]


def test_path_bits_are_least_significant_first_and_invert():
    assert path_bits(0b1101, 4) == [1, 0, 1, 1]
    assert index_from_path_bits([1, 0, 1, 1]) == 13
    with pytest.raises(ValueError):
        path_bits(16, 4)


def test_sparse_tree_root_equals_a_dense_recomputation():
    tree = MerkleTree(DEPTH)
    leaves = [0] * (1 << DEPTH)
    for _ in range(10):
        index, leaf = RNG.randrange(1 << DEPTH), RNG.randrange(R)
        tree.set(index, leaf)
        leaves[index] = leaf
    level = leaves
    while len(level) > 1:
        level = [poseidon([level[i], level[i + 1]]) for i in range(0, len(level), 2)]
    assert tree.root == level[0]
    # Bit k = 1 means the level-k node is a right child: leaf 1's first sibling is leaf 0.
    assert tree.proof(1)[0] == leaves[0]


def test_native_proofs_verify_and_a_cleared_leaf_restores_the_empty_root():
    tree = MerkleTree(32)
    index = (1 << 31) + 12345
    tree.set(index, 77)
    siblings = tree.proof(index)
    assert tree.verify(index, 77, siblings) and verify_proof(tree.root, index, 77, siblings)
    assert not tree.verify(index, 78, siblings) and not tree.verify(index ^ 1, 77, siblings)
    assert merkle_root_native(77, path_bits(index, 32), siblings) == tree.root
    tree.set(index, 0)
    assert tree.root == zero_hashes(32)[32]


def build_root(depth: int):
    cs = ConstraintSystem()
    leaf = cs.private_input("leaf")
    bits = cs.private_inputs("bits", depth)
    siblings = cs.private_inputs("siblings", depth)
    cs.public_output("root", merkle_root(cs, leaf, bits, siblings))
    return cs


def build_update(depth: int):
    cs = ConstraintSystem()
    old, new = cs.private_input("old"), cs.private_input("new")
    bits = cs.private_inputs("bits", depth)
    siblings = cs.private_inputs("siblings", depth)
    old_root, new_root = merkle_update(cs, old, new, bits, siblings)
    cs.public_output("old_root", old_root)
    cs.public_output("new_root", new_root)
    return cs


@pytest.fixture(scope="module")
def tree():
    t = MerkleTree(DEPTH)
    for index in RNG.sample(range(1 << DEPTH), 6):
        t.set(index, RNG.randrange(R))
    return t


@pytest.fixture(scope="module")
def root_circuit():
    return build_root(DEPTH).compile()


def test_merkle_root_gadget_equals_the_native_tree_for_every_index(tree, root_circuit):
    for index in range(1 << DEPTH):
        witness = root_circuit.solve({"leaf": tree.get(index), "bits": path_bits(index, DEPTH),
                                      "siblings": tree.proof(index)})
        assert root_circuit.output_values(witness)["root"] == tree.root


def test_merkle_update_gadget_gives_the_native_old_and_new_roots(tree):
    compiled = build_update(DEPTH).compile()
    index, new_leaf = 5, RNG.randrange(R)
    siblings = tree.proof(index)
    witness = compiled.solve({"old": tree.get(index), "new": new_leaf, "bits": path_bits(index, DEPTH),
                              "siblings": siblings})
    after = MerkleTree(DEPTH)
    after._nodes = dict(tree._nodes)
    after.set(index, new_leaf)
    outputs = compiled.output_values(witness)
    assert (outputs["old_root"], outputs["new_root"]) == (tree.root, after.root)
    assert (tree.root, after.root) == merkle_update_native(tree.get(index), new_leaf, path_bits(index, DEPTH),
                                                          siblings)


def test_merkle_update_shares_path_bits_and_siblings_between_both_roots():
    cs = build_update(DEPTH)
    compiled = cs.compile()
    # Exactly the inputs old, new, D bits and D siblings: no second path exists to disagree with the first.
    assert compiled.r1cs.n_private_inputs == 2 + 2 * DEPTH
    assert cs.n_constraints == 2 * DEPTH * 241 + DEPTH + 2   # + one boolean check per bit, 2 output wires


def test_merkle_root_at_depth_20_costs_241_per_level_plus_the_bit_checks():
    assert build_root(20).n_constraints == 20 * 241 + 20 + 1


def _solve_unchecked(compiled, tree, index, **changes):
    assignment = {"leaf": tree.get(index), "bits": path_bits(index, DEPTH), "siblings": tree.proof(index)}
    assignment.update(changes)
    return compiled.solve(assignment, check=False)


def test_wrong_sibling_opens_to_a_different_root(tree, root_circuit):
    index = 3
    siblings = tree.proof(index)
    for level in range(DEPTH):
        wrong = list(siblings)
        wrong[level] = (wrong[level] + 1) % R
        witness = _solve_unchecked(root_circuit, tree, index, siblings=wrong)
        assert first_failure(root_circuit.r1cs, witness) is None
        assert root_circuit.output_values(witness)["root"] != tree.root


def test_flipped_path_bit_opens_to_a_different_root(tree, root_circuit):
    index = 9
    for level in range(DEPTH):
        bits = path_bits(index, DEPTH)
        bits[level] ^= 1
        witness = _solve_unchecked(root_circuit, tree, index, bits=bits)
        assert root_circuit.output_values(witness)["root"] != tree.root


def test_claimed_root_with_a_flipped_bit_violates_a_constraint(tree, root_circuit):
    honest = _solve_unchecked(root_circuit, tree, 9)
    bits = path_bits(9, DEPTH)
    bits[2] ^= 1
    flipped = _solve_unchecked(root_circuit, tree, 9, bits=bits)
    flipped[1] = honest[1]   # claim the honest root with the wrong path
    assert first_failure(root_circuit.r1cs, flipped) is not None


def test_non_boolean_path_bit_is_rejected(tree, root_circuit):
    for value in (2, R - 1, (R + 1) // 2):
        bits = path_bits(6, DEPTH)
        bits[1] = value
        witness = _solve_unchecked(root_circuit, tree, 6, bits=bits)
        failure = first_failure(root_circuit.r1cs, witness)
        assert failure is not None and "assert_bool" in failure.gadget


def test_every_perturbed_internal_wire_violates_a_constraint(tree, root_circuit):
    witness = root_circuit.solve({"leaf": tree.get(2), "bits": path_bits(2, DEPTH), "siblings": tree.proof(2)})
    first_internal = 1 + root_circuit.r1cs.n_public + root_circuit.r1cs.n_private_inputs
    for i in [1, *range(first_internal, len(witness))]:
        tampered = list(witness)
        tampered[i] = (tampered[i] + 1) % R
        assert first_failure(root_circuit.r1cs, tampered) is not None, f"wire {i} is free"


def test_under_constraint_checker_finds_no_free_wire_in_a_merkle_update():
    report = check_gadget(
        lambda cs, w: merkle_update(cs, w["old"], w["new"], w["bits"], w["siblings"]),
        {"old": 5, "new": 6, "bits": [1, 0], "siblings": [RNG.randrange(R), RNG.randrange(R)]}, replay=False)
    report.assert_sound()


def test_gadget_refuses_mismatched_path_shapes():
    cs = ConstraintSystem()
    with pytest.raises(Exception):
        merkle_root(cs, cs.private_input("leaf"), cs.private_inputs("b", 3), cs.private_inputs("s", 2))
