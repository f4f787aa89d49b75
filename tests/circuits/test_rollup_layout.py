"""The layout module is the one definition the executor, the circuit and the L1 read: its encodings round-trip,
its packing is injective and below r, its commitment is circomlibjs's Poseidon chained as documented, its
challenge is keccak256 as Solidity computes it, and a layout with other widths changes all of them at once."""

import hashlib
import random

import pytest
from Crypto.Hash import keccak as pycryptodome_keccak

from circuits.rollup import layout as lay
from circuits.rollup.layout import (ELEMENT_BYTES, Layout, LayoutError, RegistrationData, TransferData,
                                    decode_pubdata, encode_pubdata)

R = lay.R


def _random_pubdata(layout, rng, n_regs=None, n_txs=None):
    n_regs = layout.n_registrations if n_regs is None else n_regs
    n_txs = layout.n_transfers if n_txs is None else n_txs
    top = 1 << layout.depth
    regs = [RegistrationData(rng.randrange(1, top), rng.randbytes(32)) for _ in range(n_regs)]
    txs = [TransferData(rng.randrange(1, top), rng.randrange(1, top), rng.randrange(1 << 64), rng.randrange(1 << 64))
           for _ in range(n_txs)]
    return rng.randrange(1, top), regs, txs


@pytest.mark.parametrize("layout", [Layout(), Layout(depth=8, arity=2, n_transfers=3, n_registrations=1),
                                    Layout(depth=24, index_bytes=3, n_transfers=5, n_registrations=0)])
def test_pubdata_round_trips_and_has_the_layouts_length(layout):
    rng = random.Random(7)
    for n_txs in range(layout.n_transfers + 1):
        fee, regs, txs = _random_pubdata(layout, rng, n_txs=n_txs)
        data = encode_pubdata(layout, fee, regs, txs)
        assert len(data) == layout.pubdata_length
        decoded = decode_pubdata(layout, data)
        assert (decoded.fee_account, list(decoded.registrations), list(decoded.transfers)) == (fee, regs, txs)


def test_pubdata_is_big_endian_in_the_documented_order():
    layout = Layout(depth=8, arity=2, n_transfers=1, n_registrations=1)
    key = bytes(range(32))
    data = encode_pubdata(layout, 0x0A, [RegistrationData(0x0102, key)], [TransferData(3, 4, 0x0506, 7)])
    assert data == (bytes.fromhex("0000000a") + bytes.fromhex("00000102") + key + bytes.fromhex("00000003")
                    + bytes.fromhex("00000004") + (0x0506).to_bytes(8, "big") + (7).to_bytes(8, "big"))


def test_values_that_do_not_fit_their_width_are_refused():
    layout = Layout(depth=24, index_bytes=3, n_transfers=1, n_registrations=0)
    with pytest.raises(LayoutError):
        encode_pubdata(layout, 1 << 24, [], [])
    with pytest.raises(LayoutError):
        encode_pubdata(layout, 1, [], [TransferData(1, 2, 1 << 64, 0)])
    with pytest.raises(LayoutError):
        encode_pubdata(layout, 1, [], [TransferData(1, 2, 3, 4)] * 2)
    with pytest.raises(LayoutError):
        decode_pubdata(layout, bytes(layout.pubdata_length + 1))
    with pytest.raises(LayoutError):
        Layout(depth=25, index_bytes=3)
    with pytest.raises(LayoutError):
        Layout(depth=21, arity=4)


def test_elements_are_31_byte_big_endian_chunks_below_r_and_injective():
    rng = random.Random(3)
    for length in (1, 30, 31, 32, 62, 100):
        data = rng.randbytes(length)
        elements = lay.pubdata_elements(data)
        assert len(elements) == -(-length // ELEMENT_BYTES)
        assert all(0 <= e < 1 << 248 < R for e in elements)
        padded = data + bytes(-length % ELEMENT_BYTES)
        assert b"".join(e.to_bytes(ELEMENT_BYTES, "big") for e in elements) == padded


def test_the_commitment_is_circomlibjs_poseidon_chained_over_runs_of_15(run_circomlibjs):
    elements = [random.Random(i).randrange(1 << 248) for i in range(40)]
    runs = [elements[0:15], elements[15:30], elements[30:40]]
    # Ask circomlibjs for each link of the chain c = Poseidon(c, run...).
    c = 0
    for run in runs:
        c = int(run_circomlibjs([{"op": "poseidon", "inputs": [str(v) for v in [c, *run]]}])[0])
    assert lay.commitment(elements) == c


def test_the_challenge_is_keccak_of_keccak_of_pubdata_and_the_commitment():
    data, commitment = b"\x01\x02\x03" * 20, 123456789

    def keccak(b):
        return pycryptodome_keccak.new(digest_bits=256, data=b).digest()

    expected = int.from_bytes(keccak(keccak(data) + commitment.to_bytes(32, "big")), "big") % R
    assert lay.challenge(data, commitment) == expected
    assert lay.keccak256(b"").hex() == "c5d2460186f7233c927e7db2dcc703c0e500b653ca82273b7bfad8045d85a470"


def test_the_evaluation_is_the_polynomial_of_the_elements_at_z():
    elements, z = [5, 7, 11], 3
    assert lay.evaluation(elements, z) == (5 + 7 * 3 + 11 * 9) % R


def test_the_deployment_chain_id_is_below_r_and_depends_on_chain_and_address():
    a = lay.deployment_chain_id(1, b"\x11" * 20)
    assert a < 1 << 253 and a == int.from_bytes(lay.keccak256((1).to_bytes(32, "big") + b"\x11" * 20), "big") >> 3
    assert a != lay.deployment_chain_id(2, b"\x11" * 20) != lay.deployment_chain_id(1, b"\x12" * 20)


def test_public_inputs_come_in_the_circuits_order_for_both_bindings():
    layout = Layout(depth=8, arity=2, n_transfers=1, n_registrations=0)
    data = encode_pubdata(layout, 1, [], [TransferData(1, 2, 3, 4)])
    c = lay.commitment(lay.pubdata_elements(data))
    z = lay.challenge(data, c)
    assert lay.public_inputs(layout, 10, 20, 30, data, c) == [10, 20, 30, c, z,
                                                             lay.evaluation(lay.pubdata_elements(data), z)]
    sha = Layout(depth=8, arity=2, n_transfers=1, n_registrations=0, binding="sha256")
    digest = int.from_bytes(hashlib.sha256(data).digest(), "big") & ((1 << 253) - 1)
    assert lay.public_inputs(sha, 10, 20, 30, data) == [10, 20, 30, digest]
    with pytest.raises(LayoutError):
        lay.public_inputs(layout, 10, 20, 30, data + b"\0", c)


def test_other_widths_change_the_executor_the_circuit_and_the_l1_together():
    """A layout with 3-byte indices: the executor's pubdata has the new length, the circuit built from the same
    layout accepts the witness, and the public inputs the L1 derives are exactly the circuit's public wires."""
    from circuits.builder import is_satisfied
    from circuits.eddsa import sign_poseidon
    from circuits.rollup.batch import build_batch_circuit
    from zkrollup.executor import PendingTransfer, Registration, execute_batch
    from zkrollup.state import Account, RollupState
    from zkrollup.wallet import KeyPair

    layout = Layout(depth=6, arity=2, n_transfers=1, n_registrations=1, index_bytes=3)
    keys = {i: KeyPair.from_private_key(bytes([i]) * 32) for i in (1, 2, 3)}
    state = RollupState(layout, {i: Account(*keys[i].public_key, 100 * i, 0) for i in (1, 2)})
    chain_id = 77
    message = lay.transfer_message(chain_id, 2, 1, 30, 2, 0)
    transfer = PendingTransfer(2, 1, 30, 2, 0, sign_poseidon(keys[2].private_key, message))
    result = execute_batch(state, chain_id, 1, [Registration(5, *keys[3].public_key)], [transfer])
    assert len(result.pubdata) == 3 + (3 + 32) + (3 + 3 + 8 + 8) == layout.pubdata_length
    circuit = build_batch_circuit(layout)
    witness = circuit.witness(result.inputs)
    assert is_satisfied(circuit.r1cs, witness)
    public = lay.public_inputs(layout, state.root, result.new_root, chain_id, result.pubdata, result.inputs.commitment)
    assert witness[1:1 + len(public)] == public
