"""The Python L1 stand-in has the contract's semantics: it derives the binding's public inputs from the calldata
itself, verifies, and only then advances the root; every refusal names the contract's error and changes
nothing (root, batch count, events)."""

import dataclasses

import pytest

from circuits.rollup.layout import R
from zkrollup.l1 import GenesisAccount, L1Error, PythonL1


@pytest.fixture
def proved(node):
    """A node with one proved, unsubmitted batch: (node, batch, proof)."""
    node.transfer(2, 3, 100, 5)
    batch, _ = node.build_batch()
    batch = node.prove_batch(batch.number)
    return node, batch, node._proof_of(batch)


def _state(l1):
    return l1.state_root(), l1.batch_count(), l1.events()


def _refused(l1, error, **changes):
    before = _state(l1)
    with pytest.raises(L1Error) as refused:
        l1.submit_batch(**changes)
    assert refused.value.error == error
    assert _state(l1) == before


def _call(node, batch, proof, **changes):
    call = dict(pubdata=batch.pubdata, new_root=batch.new_root, commitment=batch.commitment, proof=proof,
                sender=node.operator)
    call.update(changes)
    return call


def test_a_valid_batch_advances_the_root_and_emits_the_event(proved):
    node, batch, proof = proved
    old = node.l1.state_root()
    receipt = node.l1.submit_batch(**_call(node, batch, proof))
    assert (receipt.event.batch_number, receipt.event.old_root, receipt.event.new_root) == (1, old, batch.new_root)
    assert node.l1.state_root() == batch.new_root and node.l1.events() == [receipt.event]
    assert node.l1.submitted_pubdata(1) == batch.pubdata and receipt.gas_used > 200_000


@pytest.mark.parametrize("position", [0, 5, -1])
def test_one_changed_byte_of_calldata_is_an_invalid_proof(proved, position):
    node, batch, proof = proved
    tampered = bytearray(batch.pubdata)
    tampered[position] ^= 0x40
    _refused(node.l1, "InvalidProof", **_call(node, batch, proof, pubdata=bytes(tampered)))


def test_a_tampered_proof_a_wrong_root_or_commitment_is_an_invalid_proof(proved):
    node, batch, proof = proved
    q = 21888242871839275222246405745257275088696311157297823662689037894645226208583
    _refused(node.l1, "InvalidProof", **_call(node, batch, dataclasses.replace(proof, a=(proof.a[0], q - proof.a[1]))))
    _refused(node.l1, "InvalidProof", **_call(node, batch, dataclasses.replace(proof, a=proof.c, c=proof.a)))
    _refused(node.l1, "InvalidProof", **_call(node, batch, proof, new_root=batch.new_root + 1))
    _refused(node.l1, "InvalidProof", **_call(node, batch, proof, commitment=batch.commitment + 1))


def test_a_proof_off_the_curve_is_refused_as_invalid(proved):
    node, batch, proof = proved
    _refused(node.l1, "InvalidProof", **_call(node, batch, dataclasses.replace(proof, a=(proof.a[0], proof.a[1] + 1))))


def test_a_proof_under_another_key_is_an_invalid_proof(proved):
    from prover.groth16 import prove
    from prover.setup import setup
    from circuits.rollup.batch import BatchWitnessInputs
    import json

    node, batch, _ = proved
    circuit, _ = node.circuit_and_key()
    other_key = setup(circuit.r1cs, quiet=True)
    witness = circuit.witness(BatchWitnessInputs.from_json(json.loads(batch.witness_inputs)))
    foreign, _ = prove(other_key, witness)
    _refused(node.l1, "InvalidProof", **_call(node, batch, foreign))


def test_calldata_of_the_wrong_length_is_refused(proved):
    node, batch, proof = proved
    _refused(node.l1, "PubdataLength", **_call(node, batch, proof, pubdata=batch.pubdata[:-1]))
    _refused(node.l1, "PubdataLength", **_call(node, batch, proof, pubdata=batch.pubdata + b"\0"))
    _refused(node.l1, "PubdataLength", **_call(node, batch, proof, pubdata=b""))


def test_roots_and_commitments_at_or_above_r_are_refused(proved):
    node, batch, proof = proved
    _refused(node.l1, "RootOutOfRange", **_call(node, batch, proof, new_root=batch.new_root + R))
    _refused(node.l1, "CommitmentOutOfRange", **_call(node, batch, proof, commitment=batch.commitment + R))


def test_an_unchanged_root_and_a_non_operator_are_refused(proved):
    node, batch, proof = proved
    _refused(node.l1, "RootUnchanged", **_call(node, batch, proof, new_root=node.l1.state_root()))
    _refused(node.l1, "NotOperator", **_call(node, batch, proof, sender="0x" + "00" * 20))


def test_a_batch_built_on_a_stale_root_is_refused(proved):
    node, batch, proof = proved
    node.l1.submit_batch(**_call(node, batch, proof))
    # Replaying the same batch: its proof binds the old root, which is no longer the L1's.
    _refused(node.l1, "RootUnchanged", **_call(node, batch, proof))
    node.transfer(3, 4, 1, 0)
    second, _ = node.build_batch()
    _refused(node.l1, "InvalidProof", **_call(node, second, proof))


def test_genesis_accounts_are_checked_as_the_constructor_checks_them(tmp_path, node):
    vk = node.l1.verifying_key
    good = node.l1.genesis_accounts()[0]
    bad_cases = [
        [dataclasses.replace(good, index=0)],
        [good, good],
        [dataclasses.replace(good, index=node.layout.n_accounts)],
        [dataclasses.replace(good, balance=1 << 64)],
        [dataclasses.replace(good, ax=good.ax + 1)],
        [GenesisAccount(5, 0, 1, 0)],                    # the identity: of low order
    ]
    for i, accounts in enumerate(bad_cases):
        with pytest.raises(L1Error) as refused:
            PythonL1.deploy(tmp_path / str(i), node.layout, vk, 1, accounts, ["0xop"])
        assert refused.value.error == "InvalidGenesis"
