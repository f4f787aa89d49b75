"""The account tree of arity 2 or 4: the native sparse tree equals circuits.merkle's binary tree and a dense
recomputation of the 4-ary one; the gadgets equal the native roots; an update opens both roots along one
path; wrong siblings, flipped or non-boolean path bits, tampered child-selection wires and a new root from
other siblings are unsatisfiable."""

from __future__ import annotations

import random

import pytest

from circuits.builder import R, ConstraintSystem, UnsatisfiedConstraint, first_failure
from circuits.check import check_gadget
from circuits.merkle import MerkleTree, merkle_root, merkle_update
from circuits.merkle import zero_hashes as binary_zero_hashes
from circuits.poseidon import poseidon, poseidon_gadget, poseidon_permutation_reference
from circuits.rollup.layout import MAX_DEPTH, path_bits
from circuits.rollup.tree import (
    POSEIDON_NODES,
    AccountTree,
    NodeHasher,
    TreeError,
    tree_levels,
    tree_root,
    tree_root_native,
    tree_update,
    tree_update_native,
    zero_hashes,
)

RNG = random.Random(308)


def random_siblings(depth: int, arity: int) -> list[list[int]]:
    return [[RNG.randrange(R) for _ in range(arity - 1)] for _ in range(tree_levels(depth, arity))]


def populated(depth: int, arity: int, n: int) -> AccountTree:
    tree = AccountTree(depth, arity)
    for index in RNG.sample(range(1 << depth), n):
        tree.set(index, RNG.randrange(1, R))
    return tree


# ---------------------------------------------------------------------------------------------------
# Native tree


@pytest.mark.parametrize("arity", [2, 4])
def test_empty_subtree_roots_hash_arity_copies_of_the_level_below(arity):
    zeros = zero_hashes(MAX_DEPTH, arity)
    assert len(zeros) == tree_levels(MAX_DEPTH, arity) + 1 and zeros[0] == 0
    assert all(zeros[k + 1] == poseidon([zeros[k]] * arity) for k in range(len(zeros) - 1))
    assert AccountTree(MAX_DEPTH, arity).root == zeros[-1]
    if arity == 2:
        assert zeros == binary_zero_hashes(MAX_DEPTH)


@pytest.mark.parametrize("depth", [5, 32])
def test_binary_tree_roots_and_proofs_equal_circuits_merkle(depth):
    tree, reference = AccountTree(depth, 2), MerkleTree(depth)
    indices = [RNG.randrange(1 << depth) for _ in range(8)]
    for index in indices + indices[:3]:   # rewrites and clears too
        leaf = RNG.choice([0, RNG.randrange(R)])
        tree.set(index, leaf)
        reference.set(index, leaf)
        assert tree.root == reference.root
    for index in indices:
        assert tree.proof(index) == [[s] for s in reference.proof(index)]


@pytest.mark.parametrize("depth", [2, 4, 6])
def test_four_ary_root_and_proofs_equal_a_dense_recomputation(depth):
    n = 1 << depth
    dense = [RNG.choice([0, RNG.randrange(R)]) for _ in range(n)]
    tree = AccountTree(depth, 4)
    for index, leaf in enumerate(dense):
        tree.set(index, leaf)
    # Every node of every level, children in index order: level k + 1 hashes consecutive groups of four.
    levels = [dense]
    while len(levels[-1]) > 1:
        below = levels[-1]
        levels.append([poseidon(below[i:i + 4]) for i in range(0, len(below), 4)])
    assert tree.root == levels[-1][0]
    for index in range(n):
        expected = []
        for k, nodes in enumerate(levels[:-1]):
            position = index // 4 ** k
            group = nodes[position - position % 4:position - position % 4 + 4]
            expected.append(group[:position % 4] + group[position % 4 + 1:])
        assert tree.proof(index) == expected


@pytest.mark.parametrize("depth, arity", [(7, 2), (6, 4)])
def test_bulk_construction_equals_incremental_sets(depth, arity):
    leaves = {RNG.randrange(1 << depth): RNG.randrange(R) for _ in range(25)}
    leaves[0] = 0                          # zero is the empty leaf: not stored
    incremental = AccountTree(depth, arity)
    for index, leaf in leaves.items():
        incremental.set(index, leaf)
    bulk = AccountTree.from_leaves(depth, arity, leaves)
    assert bulk.root == incremental.root
    assert list(bulk.items()) == sorted((i, v) for i, v in leaves.items() if v) == list(incremental.items())
    assert all(bulk.proof(i) == incremental.proof(i) for i in leaves)
    assert bulk._nodes == incremental._nodes


def test_dense_bulk_construction_hashes_each_non_empty_node_once():
    calls = []
    zero_hashes(20, 4)   # empty-subtree roots are computed once per arity, not per tree
    counting = NodeHasher(lambda xs: calls.append(1) or poseidon(xs))
    AccountTree.from_leaves(20, 4, {i: i + 1 for i in range(64)}, counting)
    # 64 leaves fill 16 parents, 4, 1, then a lone path of 7 nodes up to the root.
    assert len(calls) == 16 + 4 + 1 + 7


def reference_poseidon(children):
    """Poseidon computed round by round (the slow oracle permutation), not by the tree's default."""
    return poseidon_permutation_reference([0, *children])[0]


def batched(node):
    """A hasher given all three forms, the batched ones built without `node`'s fold (as a compiled one is)."""
    def many(rows):
        return [node(list(row)) for row in reversed(rows)][::-1]

    def path(leaf, positions, siblings):
        parents = []
        for position, others in zip(positions, siblings):
            children = list(others)
            children.insert(position, leaf)
            leaf = node(children)
            parents.append(leaf)
        return parents
    return NodeHasher(node, many=many, path=path)


@pytest.mark.parametrize("arity", [2, 4])
@pytest.mark.parametrize("hasher", [NodeHasher(reference_poseidon), batched(reference_poseidon)],
                         ids=["node only", "node, many, path"])
def test_a_tree_with_another_poseidon_hasher_has_the_same_roots_nodes_and_proofs(hasher, arity):
    depth = 8
    leaves = {RNG.randrange(1, 1 << depth): RNG.randrange(1, R) for _ in range(12)}
    default, other = AccountTree(depth, arity), AccountTree(depth, arity, hasher)
    for index, leaf in leaves.items():
        default.set(index, leaf)
        other.set(index, leaf)
        assert other.root == default.root
    assert other._nodes == default._nodes
    bulk = AccountTree.from_leaves(depth, arity, leaves, hasher)
    assert bulk.root == default.root and bulk._nodes == default._nodes
    copied = other.copy()
    assert copied.hasher is hasher
    index = next(iter(leaves))
    copied.set(index, 0)
    default.set(index, 0)
    assert copied.root == default.root != other.root
    assert all(other.proof(i) == AccountTree.from_leaves(depth, arity, leaves).proof(i) for i in leaves)


def test_a_hasher_that_is_not_poseidon_gives_other_roots():
    """The injection is live: the tree really hashes with what it is given (so the test above can fail)."""
    wrong = NodeHasher(lambda xs: (poseidon(xs) + 1) % R)
    leaves = {3: 5, 9: 7}
    assert AccountTree.from_leaves(6, 4, leaves, wrong).root != AccountTree.from_leaves(6, 4, leaves).root
    tree = AccountTree(6, 4, wrong)
    tree.set(3, 5)
    assert tree.root != AccountTree.from_leaves(6, 4, {3: 5}, POSEIDON_NODES).root


def test_clearing_every_leaf_restores_the_empty_tree_and_stores_nothing():
    tree = populated(8, 4, 20)
    for index, _ in list(tree.items()):
        tree.set(index, 0)
    assert tree.root == zero_hashes(8, 4)[-1] and len(tree) == 0
    assert all(not level for level in tree._nodes)


@pytest.mark.parametrize("arity", [2, 4])
def test_proof_verifies_and_a_wrong_leaf_index_or_sibling_does_not(arity):
    tree = populated(32, arity, 5)
    index = (1 << 31) + 12345
    tree.set(index, 77)
    siblings = tree.proof(index)
    assert tree.verify(index, 77, siblings)
    assert tree_root_native(77, path_bits(index, 32), siblings, arity) == tree.root
    assert not tree.verify(index, 78, siblings)
    assert not tree.verify(index ^ 1, 77, siblings)
    wrong = [list(level) for level in siblings]
    wrong[7][-1] = (wrong[7][-1] + 1) % R
    assert not tree.verify(index, 77, wrong)
    copy = tree.copy()
    copy.set(index, 78)
    assert tree.verify(index, 77, siblings) and copy.verify(index, 78, siblings)


def test_bad_shapes_indices_and_leaves_raise_tree_errors_naming_the_fault():
    tree = AccountTree(4, 4)
    with pytest.raises(TreeError, match="outside a tree of depth 4"):
        tree.set(16, 1)
    with pytest.raises(TreeError, match="outside a tree of depth 4"):
        tree.get(-1)
    with pytest.raises(TreeError, match="leaf must be a field element"):
        tree.set(3, R)
    with pytest.raises(TreeError, match="leaf 3 must be a field element"):
        AccountTree.from_leaves(4, 4, {3: -1})
    with pytest.raises(TreeError, match="even depth"):
        AccountTree(5, 4)
    with pytest.raises(TreeError, match="arity"):
        AccountTree(4, 3)
    with pytest.raises(TreeError, match="depth must be 1..32"):
        AccountTree(33, 2)
    with pytest.raises(TreeError, match="needs 2 sibling lists, got 1"):
        tree.verify(3, 0, [[0, 0, 0]])
    with pytest.raises(TreeError, match=r"siblings\[1\] must list the 3 other children"):
        tree_root_native(0, path_bits(3, 4), [[0, 0, 0], [0, 0]], 4)
    with pytest.raises(TreeError, match=r"siblings\[0\]\[2\] must be a field element"):
        tree_root_native(0, path_bits(3, 4), [[0, 0, R], [0, 0, 0]], 4)
    with pytest.raises(TreeError, match="path bits"):
        tree_root_native(0, [0, 2, 0, 0], [[0, 0, 0], [0, 0, 0]], 4)
    with pytest.raises(TreeError, match="needs 2 sibling lists"):
        tree_root(ConstraintSystem(), 0, [0, 0, 0, 0], [[0, 0, 0]], 4)


# ---------------------------------------------------------------------------------------------------
# Gadgets


def root_circuit(depth: int, arity: int):
    """leaf opens to the public output `root` along private bits and siblings."""
    cs = ConstraintSystem()
    leaf, bits = cs.private_input("leaf"), cs.private_inputs("bits", depth)
    siblings = [cs.private_inputs(f"siblings{k}", arity - 1) for k in range(tree_levels(depth, arity))]
    cs.public_output("root", tree_root(cs, leaf, bits, siblings, arity))
    return cs.compile()


def root_assignment(leaf: int, index: int, siblings, depth: int) -> dict:
    return {"leaf": leaf, "bits": path_bits(index, depth), **{f"siblings{k}": s for k, s in enumerate(siblings)}}


def opening_circuit(depth: int, arity: int):
    """leaf opens to the public INPUT `root`: what a verifier checks; a wrong witness cannot satisfy it."""
    cs = ConstraintSystem()
    root, leaf, bits = cs.public_input("root"), cs.private_input("leaf"), cs.private_inputs("bits", depth)
    siblings = [cs.private_inputs(f"siblings{k}", arity - 1) for k in range(tree_levels(depth, arity))]
    cs.assert_equal(tree_root(cs, leaf, bits, siblings, arity), root)
    return cs.compile()


def update_circuit(depth: int, arity: int):
    """old_leaf -> new_leaf at one path turns the public old_root into the public new_root."""
    cs = ConstraintSystem()
    old_root, new_root = cs.public_input("old_root"), cs.public_input("new_root")
    old, new, bits = cs.private_input("old"), cs.private_input("new"), cs.private_inputs("bits", depth)
    siblings = [cs.private_inputs(f"siblings{k}", arity - 1) for k in range(tree_levels(depth, arity))]
    roots = tree_update(cs, old, new, bits, siblings, arity)
    cs.assert_equal(roots[0], old_root)
    cs.assert_equal(roots[1], new_root)
    return cs.compile()


@pytest.mark.parametrize("depth, arity", [(3, 2), (4, 2), (2, 4), (6, 4), (20, 4)])
def test_gadget_root_equals_the_native_root_for_random_paths(depth, arity):
    compiled = root_circuit(depth, arity)
    for _ in range(3):
        index, leaf, siblings = RNG.randrange(1 << depth), RNG.randrange(R), random_siblings(depth, arity)
        witness = compiled.solve(root_assignment(leaf, index, siblings, depth))
        assert compiled.output_values(witness)["root"] == tree_root_native(leaf, path_bits(index, depth),
                                                                           siblings, arity)


@pytest.mark.parametrize("arity", [2, 4])
def test_gadget_root_equals_the_populated_trees_root_for_every_index(arity):
    depth = 4
    tree, compiled = populated(depth, arity, 6), root_circuit(depth, arity)
    for index in range(1 << depth):
        witness = compiled.solve(root_assignment(tree.get(index), index, tree.proof(index), depth))
        assert compiled.output_values(witness)["root"] == tree.root


def test_binary_gadgets_build_the_same_r1cs_as_circuits_merkle():
    depth = 5

    def build(use_tree: bool, update: bool):
        cs = ConstraintSystem()
        old, new, bits = cs.private_input("old"), cs.private_input("new"), cs.private_inputs("bits", depth)
        siblings = cs.private_inputs("siblings", depth)
        if update:
            roots = (tree_update(cs, old, new, bits, [[s] for s in siblings], 2) if use_tree
                     else merkle_update(cs, old, new, bits, siblings))
        else:
            roots = (tree_root(cs, old, bits, [[s] for s in siblings], 2) if use_tree
                     else merkle_root(cs, old, bits, siblings)), new
        cs.public_output("old_root", roots[0])
        cs.public_output("new_root", roots[1])
        return cs.compile().r1cs

    assert build(True, False) == build(False, False)
    assert build(True, True) == build(False, True)


@pytest.mark.parametrize("depth, arity", [(5, 2), (6, 4)])
def test_update_gadget_gives_the_native_old_and_new_roots(depth, arity):
    tree = populated(depth, arity, 10)
    index, new_leaf = RNG.randrange(1 << depth), RNG.randrange(R)
    after = tree.copy()
    after.set(index, new_leaf)
    siblings = tree.proof(index)
    assert tree_update_native(tree.get(index), new_leaf, path_bits(index, depth), siblings, arity) == \
        (tree.root, after.root)
    compiled = update_circuit(depth, arity)
    compiled.solve({"old_root": tree.root, "new_root": after.root, "old": tree.get(index), "new": new_leaf,
                    "bits": path_bits(index, depth), **{f"siblings{k}": s for k, s in enumerate(siblings)}})


@pytest.mark.parametrize("arity", [2, 4])
def test_update_has_one_path_for_both_roots(arity):
    depth = 4
    compiled = update_circuit(depth, arity)
    # old, new, D bits and L·(arity − 1) siblings: no second path exists to disagree with the first.
    assert compiled.r1cs.n_private_inputs == 2 + depth + tree_levels(depth, arity) * (arity - 1)


def _other_leaf_also_changed(depth: int, arity: int):
    """The gnark issue 308 attack: a new root in which a second leaf changed as well."""
    tree = populated(depth, arity, 8)
    index, other = 5, 9
    new_leaf = RNG.randrange(R)
    honest = tree.copy()
    honest.set(index, new_leaf)
    forged = honest.copy()
    forged.set(other, RNG.randrange(R))
    return tree, index, new_leaf, honest, forged


@pytest.mark.parametrize("arity", [2, 4])
def test_new_root_computed_with_other_siblings_is_unsatisfiable(arity):
    depth = 4
    tree, index, new_leaf, honest, forged = _other_leaf_also_changed(depth, arity)
    compiled = update_circuit(depth, arity)

    def assignment(new_root, siblings):
        return {"old_root": tree.root, "new_root": new_root, "old": tree.get(index), "new": new_leaf,
                "bits": path_bits(index, depth), **{f"siblings{k}": s for k, s in enumerate(siblings)}}

    compiled.solve(assignment(honest.root, tree.proof(index)))
    # Whichever path the prover gives, the forged new root needs siblings the old root does not open with.
    for siblings in (tree.proof(index), forged.proof(index)):
        with pytest.raises(UnsatisfiedConstraint):
            compiled.solve(assignment(forged.root, siblings))


@pytest.fixture(scope="module", params=[2, 4])
def opening(request):
    arity, depth = request.param, 4
    # Every leaf distinct, so no two subtrees are equal: a flipped bit would otherwise open an equal
    # neighbour, which is a true statement about that neighbour.
    tree = populated(depth, arity, 1 << depth)
    return arity, depth, tree, opening_circuit(depth, arity)


def _opening_assignment(tree: AccountTree, index: int, depth: int, **changes) -> dict:
    assignment = {"root": tree.root, **root_assignment(tree.get(index), index, tree.proof(index), depth)}
    assignment.update(changes)
    return assignment


def test_honest_opening_is_satisfied(opening):
    arity, depth, tree, compiled = opening
    for index in range(1 << depth):
        compiled.solve(_opening_assignment(tree, index, depth))


def test_any_wrong_sibling_is_unsatisfiable(opening):
    arity, depth, tree, compiled = opening
    index = 6
    siblings = tree.proof(index)
    for k in range(len(siblings)):
        for j in range(arity - 1):
            wrong = [list(level) for level in siblings]
            wrong[k][j] = (wrong[k][j] + 1) % R
            with pytest.raises(UnsatisfiedConstraint):
                compiled.solve(_opening_assignment(tree, index, depth, **{f"siblings{k}": wrong[k]}))


def test_any_flipped_path_bit_is_unsatisfiable(opening):
    arity, depth, tree, compiled = opening
    index = 9
    for k in range(depth):
        bits = path_bits(index, depth)
        bits[k] ^= 1
        with pytest.raises(UnsatisfiedConstraint):
            compiled.solve(_opening_assignment(tree, index, depth, bits=bits))


def test_non_boolean_path_bit_is_rejected_by_its_boolean_check(opening):
    arity, depth, tree, compiled = opening
    for k in range(depth):
        for value in (2, R - 1, (R + 1) // 2):
            bits = path_bits(6, depth)
            bits[k] = value
            with pytest.raises(UnsatisfiedConstraint) as failed:
                compiled.solve(_opening_assignment(tree, 6, depth, bits=bits))
            assert "assert_bool" in failed.value.gadget


def _assert_selection_wires_are_determined(compiled, inputs: dict, arity: int, depth: int,
                                           n_openings: int) -> None:
    """Every wire that places the path node among its siblings breaks a constraint when a cheating prover
    changes it, alone or followed by an honest recomputation of everything after it. The roots are
    outputs here, not pinned to inputs, so a free wire would show as a satisfied witness."""
    # Arity 4: each level's position products (shared by the openings) and children products;
    # arity 2: circuits.merkle's swap products.
    selection = ("/position", "/children") if arity == 4 else (f"merkle_root(depth={depth})",)
    real = set(compiled.order)   # not the solver's scratch slots
    wires = [w for w, gadget in enumerate(compiled.wire_gadget) if gadget.endswith(selection) and w in real]
    levels = tree_levels(depth, arity)
    assert len(wires) == (levels * (2 + 3 * n_openings) if arity == 4 else levels * n_openings)
    honest = compiled.solve_internal(inputs)
    for wire in wires:
        for value in ((honest[wire] + 1) % R, 1 - honest[wire] if honest[wire] in (0, 1) else 0):
            single = list(honest)
            single[wire] = value
            replayed = compiled.solve_internal(inputs, overrides={wire: value})
            for internal in (single, replayed):
                assert first_failure(compiled.r1cs, compiled.to_layout(internal)) is not None, \
                    f"wire {wire} ({compiled.wire_gadget[wire]}) set to {value} still satisfies the circuit"


@pytest.mark.parametrize("arity", [2, 4])
def test_tampered_child_selection_wire_is_unsatisfiable(arity):
    depth = 4
    tree, index = populated(depth, arity, 1 << depth), 6
    inputs = root_assignment(tree.get(index), index, tree.proof(index), depth)
    _assert_selection_wires_are_determined(root_circuit(depth, arity), inputs, arity, depth, 1)


def test_tampered_child_selection_wire_of_a_four_ary_update_is_unsatisfiable():
    depth, arity = 4, 4
    cs = ConstraintSystem()
    old, new, bits = cs.private_input("old"), cs.private_input("new"), cs.private_inputs("bits", depth)
    siblings = [cs.private_inputs(f"siblings{k}", 3) for k in range(tree_levels(depth, arity))]
    old_root, new_root = tree_update(cs, old, new, bits, siblings, arity)
    cs.public_output("old_root", old_root)
    cs.public_output("new_root", new_root)
    tree, index = populated(depth, arity, 9), 11
    inputs = {"old": tree.get(index), "new": RNG.randrange(R), "bits": path_bits(index, depth),
              **{f"siblings{k}": s for k, s in enumerate(tree.proof(index))}}
    _assert_selection_wires_are_determined(cs.compile(), inputs, arity, depth, 2)


@pytest.mark.parametrize("position", range(4))
def test_under_constraint_checker_finds_no_free_wire_in_a_four_ary_placement(position):
    """Every position and children wire, perturbed alone and replayed, for the node at each position."""
    from circuits.rollup.tree import _children4, _place4

    def build(cs, w):
        for b in w["bits"]:
            cs.assert_bool(b)
        placement = _place4(cs, w["bits"][0], w["bits"][1], w["siblings"])
        return _children4(cs, w["node"], placement)

    report = check_gadget(build, {"node": RNG.randrange(R), "bits": [position & 1, position >> 1],
                                  "siblings": [RNG.randrange(R) for _ in range(3)]})
    report.assert_sound()
    assert report.n_wires_checked == 5


def test_under_constraint_checker_finds_no_free_wire_in_a_four_ary_update():
    report = check_gadget(
        lambda cs, w: tree_update(cs, w["old"], w["new"], w["bits"], [w["s0"], w["s1"]], 4),
        {"old": 5, "new": 6, "bits": [0, 1, 1, 1], "s0": [RNG.randrange(R) for _ in range(3)],
         "s1": [RNG.randrange(R) for _ in range(3)]}, replay=False)
    report.assert_sound()
    assert report.n_wires_checked > 2 * 2 * 297


def _poseidon_constraints(n_inputs: int) -> int:
    cs = ConstraintSystem()
    poseidon_gadget(cs, cs.private_inputs("x", n_inputs))
    return cs.n_constraints


def _gadget_constraints(depth: int, arity: int, update: bool) -> int:
    cs = ConstraintSystem()
    old, new, bits = cs.private_input("old"), cs.private_input("new"), cs.private_inputs("bits", depth)
    siblings = [cs.private_inputs(f"s{k}", arity - 1) for k in range(tree_levels(depth, arity))]
    if update:
        tree_update(cs, old, new, bits, siblings, arity)
    else:
        tree_root(cs, old, bits, siblings, arity)
    return cs.n_constraints


def test_four_ary_level_costs_one_poseidon4_and_five_placement_constraints():
    levels, poseidon4 = 10, _poseidon_constraints(4)
    assert _gadget_constraints(20, 4, update=False) == levels * (poseidon4 + 5) + 20
    # The update shares t = b0·b1 and the sibling-only product between its two openings.
    assert _gadget_constraints(20, 4, update=True) == levels * (2 * poseidon4 + 2 * 3 + 2) + 20


def test_binary_level_costs_one_poseidon2_and_one_swap():
    assert _gadget_constraints(20, 2, update=False) == 20 * (_poseidon_constraints(2) + 1) + 20
