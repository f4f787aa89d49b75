"""Groth16 setup, prove, verify: valid proofs hold, every kind of tampering is rejected, and keys,
proofs and verifying keys interchange with snarkjs (both directions) and circom-compiled circuits."""

from dataclasses import replace

import numpy as np
import pytest

from circuits.builder import ConstraintSystem
from circuits.iden3 import write_r1cs, write_wtns
from prover import zkey
from prover.constants import R
from prover.groth16 import ProvingError, prove, verifying_key
from prover.setup import setup
from prover.witness import load_wtns
from verifier import snarkjs
from verifier.groth16 import verify
from verifier.types import BadPublicInput, VerifierInputError



def _chain_circuit(rounds=40):
    """out = f(y) by `rounds` multiplications; x is a public input that is only carried along."""
    cs = ConstraintSystem()
    cs.public_input("x")
    y = cs.private_input("y")
    acc = y
    for i in range(rounds):
        acc = cs.mul(acc, acc + i)
    cs.public_output("out", acc)
    return cs.compile()


@pytest.fixture(scope="module")
def circuit():
    return _chain_circuit()


@pytest.fixture(scope="module")
def key(circuit):
    return setup(circuit.r1cs, quiet=True)


@pytest.fixture(scope="module")
def witness(circuit):
    return circuit.solve({"x": 5, "y": 7})


@pytest.fixture(scope="module")
def proof_and_public(key, witness):
    return prove(key, witness)


def test_valid_proof_verifies(key, proof_and_public):
    proof, public = proof_and_public
    assert verify(verifying_key(key), public, proof)


def test_public_inputs_are_the_wires_after_the_constant(witness, proof_and_public):
    _, public = proof_and_public
    assert list(public) == witness[1:3]


@pytest.mark.parametrize("part", ["a", "b", "c"])
def test_proof_with_a_moved_point_is_rejected(key, proof_and_public, part):
    from py_ecc import bn128

    proof, public = proof_and_public
    if part == "b":
        moved = bn128.add((bn128.FQ2(list(proof.b[0])), bn128.FQ2(list(proof.b[1]))), bn128.G2)
        new = (tuple(int(c) for c in moved[0].coeffs), tuple(int(c) for c in moved[1].coeffs))
    else:
        p = getattr(proof, part)
        moved = bn128.add((bn128.FQ(p[0]), bn128.FQ(p[1])), bn128.G1)
        new = (int(moved[0]), int(moved[1]))
    assert not verify(verifying_key(key), public, replace(proof, **{part: new}))


def test_proof_with_swapped_a_and_c_is_rejected(key, proof_and_public):
    proof, public = proof_and_public
    assert not verify(verifying_key(key), public, replace(proof, a=proof.c, c=proof.a))


def test_wrong_public_input_is_rejected(key, proof_and_public):
    proof, public = proof_and_public
    assert not verify(verifying_key(key), [public[0], public[1] + 1], proof)
    assert not verify(verifying_key(key), [public[1], public[0]], proof)


def test_public_input_plus_r_is_refused(key, proof_and_public):
    proof, public = proof_and_public
    with pytest.raises(BadPublicInput):
        verify(verifying_key(key), [public[0], public[1] + R], proof)


def test_wrong_number_of_public_inputs_is_refused(key, proof_and_public):
    proof, public = proof_and_public
    with pytest.raises(VerifierInputError):
        verify(verifying_key(key), list(public)[:1], proof)


def test_proof_under_another_key_is_rejected(circuit, proof_and_public):
    other = setup(circuit.r1cs, quiet=True)
    proof, public = proof_and_public
    assert not verify(verifying_key(other), public, proof)


def test_two_proofs_of_one_witness_differ_and_both_verify(key, witness):
    first, public = prove(key, witness)
    second, _ = prove(key, witness)
    assert first != second
    assert verify(verifying_key(key), public, first) and verify(verifying_key(key), public, second)


def test_unsatisfied_witness_is_refused_by_the_prover(key, circuit, witness):
    bad = list(witness)
    bad[-1] = (bad[-1] + 1) % R
    with pytest.raises(ProvingError, match="does not satisfy"):
        prove(key, bad)
    with pytest.raises(ProvingError, match="constraint"):
        prove(key, bad, r1cs=circuit.r1cs)


def test_unsatisfied_witness_forced_through_is_rejected_by_the_verifier(key, witness):
    for wire in (3, len(witness) - 1):
        bad = list(witness)
        bad[wire] = (bad[wire] + 1) % R
        proof, public = prove(key, bad, check=False)
        assert not verify(verifying_key(key), public, proof)


def test_witness_of_the_wrong_length_or_out_of_range_is_refused(key, witness):
    with pytest.raises(ProvingError, match="wires"):
        prove(key, witness[:-1])
    with pytest.raises(ProvingError, match=r"\[0, r\)"):
        prove(key, witness[:-1] + [R])
    with pytest.raises(ProvingError, match="constant wire"):
        prove(key, [2] + witness[1:])


def test_zkey_round_trips_through_a_file(tmp_path, key, witness):
    path = tmp_path / "k.zkey"
    zkey.write_zkey(path, key)
    loaded = zkey.load_zkey(path)
    for name in ("alpha_g1", "beta_g2", "ic_g1", "a_g1", "b_g1", "b_g2", "c_g1", "h_g1",
                 "coef_matrix", "coef_constraint", "coef_signal", "coef_value"):
        assert np.array_equal(np.asarray(getattr(loaded, name)), np.asarray(getattr(key, name))), name
    assert loaded.circuit_hash == key.circuit_hash
    proof, public = prove(loaded, witness)
    assert verify(verifying_key(loaded), public, proof)


@pytest.mark.parametrize("damage, message", [
    (lambda b: b[:-10], "truncated"),
    (lambda b: b"zkex" + b[4:], "magic"),
    (lambda b: b[:4] + (7).to_bytes(4, "little") + b[8:], "version"),
    (lambda b: b[:20], "truncated"),
])
def test_damaged_zkey_is_refused_with_a_clear_error(tmp_path, key, damage, message):
    path = tmp_path / "k.zkey"
    zkey.write_zkey(path, key)
    path.write_bytes(damage(path.read_bytes()))
    with pytest.raises(zkey.ZkeyError, match=message):
        zkey.load_zkey(path)


def test_key_for_another_circuit_is_refused(key):
    other = _chain_circuit(rounds=10)
    with pytest.raises(ProvingError, match="wires"):
        prove(key, other.solve({"x": 1, "y": 2}))


def test_domain_size_follows_snarkjs():
    assert zkey.domain_size_for(40, 2) == 64
    assert zkey.domain_size_for(62, 2) == 128  # 64 rows + the 3 extra would not fit 64
    assert zkey.domain_size_for(61, 2) == 64  # 61 + 3 rows fit exactly


# --- interop with snarkjs and circom ---------------------------------------------------------------

@pytest.fixture(scope="module")
def our_files(tmp_path_factory, run_snarkjs, circuit, key, witness, proof_and_public):
    folder = tmp_path_factory.mktemp("ours")
    write_r1cs(folder / "c.r1cs", circuit.r1cs)
    write_wtns(folder / "w.wtns", witness)
    zkey.write_zkey(folder / "c.zkey", key)
    proof, public = proof_and_public
    snarkjs.write_proof(proof, folder / "proof.json")
    snarkjs.write_public_inputs(public, folder / "public.json")
    snarkjs.write_verifying_key(verifying_key(key), folder / "vk.json")
    return folder


@pytest.mark.node
def test_snarkjs_verifies_our_proof(run_snarkjs, our_files):
    assert "OK" in run_snarkjs("groth16", "verify", "vk.json", "public.json", "proof.json", cwd=our_files)


@pytest.mark.node
def test_snarkjs_exports_the_same_verification_key_from_our_zkey(run_snarkjs, our_files):
    run_snarkjs("zkey", "export", "verificationkey", "c.zkey", "vk_snarkjs.json", cwd=our_files)
    assert (our_files / "vk_snarkjs.json").read_bytes() == (our_files / "vk.json").read_bytes()


@pytest.mark.node
def test_snarkjs_proves_with_our_zkey_and_we_verify_it(run_snarkjs, our_files, key):
    run_snarkjs("groth16", "prove", "c.zkey", "w.wtns", "p2.json", "pub2.json", cwd=our_files)
    proof = snarkjs.read_proof(our_files / "p2.json")
    public = snarkjs.read_public_inputs(our_files / "pub2.json")
    assert verify(verifying_key(key), public, proof)


@pytest.mark.node
def test_we_prove_a_circom_circuit_with_a_snarkjs_key_and_snarkjs_verifies(run_snarkjs, snarkjs_key):
    pk = zkey.load_zkey(snarkjs_key / "main.zkey")
    proof, public = prove(pk, load_wtns(snarkjs_key / "w.wtns"))
    snarkjs.write_proof(proof, snarkjs_key / "ours_proof.json")
    snarkjs.write_public_inputs(public, snarkjs_key / "ours_public.json")
    assert "OK" in run_snarkjs("groth16", "verify", "vk.json", "ours_public.json", "ours_proof.json", cwd=snarkjs_key)
    assert verify(snarkjs.read_verifying_key(snarkjs_key / "vk.json"), public, proof)


@pytest.mark.node
def test_an_uncontributed_snarkjs_key_is_refused_as_forgeable(run_snarkjs, snarkjs_key):
    # snarkjs's zkey before any contribution has gamma = delta: proofs for it can be forged.
    run_snarkjs("zkey", "export", "verificationkey", "main0.zkey", "vk0.json", cwd=snarkjs_key)
    vk0 = snarkjs.read_verifying_key(snarkjs_key / "vk0.json")
    assert vk0.gamma_g2 == vk0.delta_g2
    proof, public = prove(zkey.load_zkey(snarkjs_key / "main.zkey"), load_wtns(snarkjs_key / "w.wtns"))
    with pytest.raises(VerifierInputError, match="forged"):
        verify(vk0, public, proof)


@pytest.mark.node
def test_our_verifier_accepts_snarkjs_proofs_and_rejects_tampered_ones(run_snarkjs, snarkjs_key):
    run_snarkjs("groth16", "prove", "main.zkey", "w.wtns", "sj_proof.json", "sj_public.json", cwd=snarkjs_key)
    vk = snarkjs.read_verifying_key(snarkjs_key / "vk.json")
    proof = snarkjs.read_proof(snarkjs_key / "sj_proof.json")
    public = list(snarkjs.read_public_inputs(snarkjs_key / "sj_public.json"))
    assert verify(vk, public, proof)
    public[-1] = (public[-1] + 1) % R
    assert not verify(vk, public, proof)
