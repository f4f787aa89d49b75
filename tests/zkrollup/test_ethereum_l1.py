"""The contract on a real EVM and its Python twin side by side: the same proved batches, valid and invalid, sent to
`zkrollup.l1.PythonL1` and to verifier/contracts/Rollup.sol on anvil (and on eth-tester's py-evm), agree on every
root, event and accept/reject, with the same error name; and a red team that reads Rollup.sol looking for a way to
advance the root without a valid proof for exactly this calldata.

The two L1s are twins: one genesis (the same keys, accounts and root), each deployment with its own chain id (a
public input, and part of every signed message). The same transfers are signed and proved for each, so the two
rollups hold equal states, pubdata and roots while their proofs differ.
"""

from __future__ import annotations

import dataclasses
import json
import random
import shutil

import pytest
from eth_abi import encode as abi_encode
from eth_utils import keccak

from circuits import babyjub
from circuits.rollup import layout as lay
from circuits.rollup.layout import R, Layout
from verifier.curve import FIELD_MODULUS as Q
from zkrollup.l1 import GenesisAccount, L1Error, PythonL1
from zkrollup.node import RollupNode
from zkrollup.state import Account
from zkrollup.store import Store
from zkrollup.wallet import generate_keypair


SUBMIT_TYPES = ["bytes", "uint256", "uint256", "uint256[8]"]
SUBMIT_SELECTOR = keccak(text="submitBatch(bytes,uint256,uint256,uint256[8])")[:4]
#: submitBatch's head: the pubdata offset, newRoot, commitment and the proof's eight words.
HEAD_BYTES = 11 * 32
CONSTRUCTOR_TYPES = ["address", "(uint8,uint8,uint16,uint16,uint8,uint8,uint8,uint8)", "uint256",
                     "(uint32,uint256,uint256,uint64)[]", "address[]"]

# Contracts the red team deploys: a verifier that re-enters submitBatch while it is asked to verify, and a
# forwarder that puts a contract between an operator and the rollup.
ATTACKERS = """// SPDX-License-Identifier: MIT
pragma solidity 0.8.37;

contract ReentrantVerifier {
    uint256 internal constant INNER = 0x5eed;   // the commitment of the re-entering batch
    address public rollup;
    bytes public payload;

    function arm(address rollup_, bytes calldata payload_) external {
        rollup = rollup_;
        payload = payload_;
    }

    // Approves the inner batch outright; approves the outer one only if re-entering with the inner one worked.
    function verifyProof(uint256[2] calldata, uint256[2][2] calldata, uint256[2] calldata, uint256[6] calldata input)
        external returns (bool)
    {
        if (input[3] == INNER) return true;
        (bool ok, ) = rollup.call(payload);
        return ok;
    }
}

contract Forwarder {
    function forward(address target, bytes calldata data) external {
        (bool ok, bytes memory out) = target.call(data);
        if (!ok) assembly { revert(add(out, 32), mload(out)) }
    }
}
"""


# ------------------------------------------------------------------------------------------------------------
# Twins: one genesis, two L1s


@pytest.fixture(scope="module")
def deployment(genesis_template):
    """(layout, verifying key) of the session's small rollup shape (tests/zkrollup/conftest.py)."""
    l1 = PythonL1.open(genesis_template)
    yield l1.layout, l1.verifying_key
    l1.close()


@pytest.fixture(scope="module")
def contracts(deployment):
    """The verifier rendered from the verifying key and the red team's contracts, compiled in one solc run."""
    from verifier.solc import compile_sources
    from verifier.solidity import render_verifier

    return compile_sources({"Groth16Verifier.sol": render_verifier(deployment[1]), "Attackers.sol": ATTACKERS})


def _funded_account(w3):
    """A new Ethereum account with 100 ether: on anvil by its cheat method, elsewhere from an unlocked account."""
    from zkrollup.ethereum import operator_account

    account = operator_account()
    if "anvil" in w3.client_version.lower():
        w3.provider.make_request("anvil_setBalance", [account.address, hex(100 * 10**18)])
    else:
        w3.eth.send_transaction({"from": w3.eth.accounts[0], "to": account.address, "value": 100 * 10**18})
    return account


def evm_twin(python_node: RollupNode, w3, folder, contracts, *, fixed_gas=None) -> RollupNode:
    """A node whose rollup is `python_node`'s genesis deployed on an EVM chain (zkrollup.ethereum.EthereumL1): the
    same genesis accounts and root, keys, layout and proving key; its own chain id. Its operator is a new funded
    account; `node.outsider` is a second funded account that is not an operator."""
    from zkrollup.ethereum import EthereumL1

    operator, outsider = _funded_account(w3), _funded_account(w3)
    published = python_node.l1.genesis_accounts()
    l1 = EthereumL1.deploy(w3, python_node.layout, python_node.l1.verifying_key, contracts["Groth16Verifier"],
                           python_node.l1.genesis_root(), published, [operator.address], operator,
                           signers=[outsider], fixed_gas=fixed_gas)
    genesis = {a.index: Account(a.ax, a.ay, a.balance, 0) for a in published}
    store = Store.create(folder, python_node.layout, l1.chain_id, python_node.store.fee_account, genesis)
    for index in python_node.store.key_indices():
        store.add_key(index, python_node.store.private_key(index))
    config = dict(python_node.config, operator=operator.address,
                  l1={"kind": "ethereum", "endpoint": "twin", "address": l1.address, "l1_chain_id": l1.l1_chain_id})
    node = RollupNode(folder, store, l1, config)
    node.outsider = outsider.address
    return node


def _open_python_copy(genesis_template, folder) -> RollupNode:
    shutil.copytree(genesis_template, folder)
    node = RollupNode.open(folder)
    node.outsider = "0x" + "11" * 20
    return node


@pytest.fixture
def twins(genesis_template, anvil_url, contracts, tmp_path):
    """(the Python stand-in's node, its twin on the session's anvil), both at genesis."""
    from zkrollup.ethereum import connect_web3

    python = _open_python_copy(genesis_template, tmp_path / "python")
    evm = evm_twin(python, connect_web3(anvil_url), tmp_path / "evm", contracts)
    yield python, evm
    python.close()
    evm.close()


def _prove_next(node, transfers=(), registrations=()):
    """Queue registrations (key pairs) and transfers ((from, to, amount, fee)), build the batch and prove it."""
    for key_pair in registrations:
        node.register_account(key_pair)
    for transfer in transfers:
        node.transfer(*transfer)
    batch, dropped = node.build_batch()
    assert dropped == []
    return node.prove_batch(batch.number)


def _chain(l1):
    """What a refused call must leave as it was."""
    return l1.state_root(), l1.batch_count(), l1.events()


def _outcome(node, call: dict):
    """("accepted", event) or ("refused", error name); a refusal must change nothing."""
    before = _chain(node.l1)
    try:
        receipt = node.l1.submit_batch(**call)
    except L1Error as refused:
        assert _chain(node.l1) == before, f"{refused.error} changed the L1's state"
        return "refused", refused.error
    return "accepted", receipt.event


def _call(node, batch, **changes) -> dict:
    call = dict(pubdata=batch.pubdata, new_root=batch.new_root, commitment=batch.commitment,
                proof=node._proof_of(batch), sender=node.operator)
    return call | changes


# ------------------------------------------------------------------------------------------------------------
# Side by side: each kind of invalid batch


@pytest.fixture(scope="module")
def proved_twins(genesis_template, anvil_url, contracts, tmp_path_factory):
    """Twins at genesis with the same batch (a registration and two transfers, one paying the fee account)
    proved for each: (python node, its batch, evm node, its batch). Refused calls change nothing, so the cases
    below share them."""
    from zkrollup.ethereum import connect_web3

    folder = tmp_path_factory.mktemp("proved-twins")
    python = _open_python_copy(genesis_template, folder / "python")
    evm = evm_twin(python, connect_web3(anvil_url), folder / "evm", contracts)
    key_pair = generate_keypair()
    batches = [_prove_next(node, [(2, 3, 100, 5), (3, 1, 7, 1)], [key_pair]) for node in (python, evm)]
    yield python, batches[0], evm, batches[1]
    python.close()
    evm.close()


@pytest.fixture(scope="module")
def other_key(deployment):
    """A second setup of the same batch circuit: a key the deployments were not made with."""
    from prover.setup import setup
    from zkrollup import keys

    return setup(keys.circuit_for(deployment[0]).r1cs, quiet=True)


def _proof_under(key, node, batch):
    from circuits.rollup.batch import BatchWitnessInputs
    from prover.groth16 import prove
    from zkrollup import keys

    circuit = keys.circuit_for(node.layout)
    proof, _ = prove(key, circuit.witness(BatchWitnessInputs.from_json(json.loads(batch.witness_inputs))))
    return proof


def _flip_bit(data: bytes, bit: int) -> bytes:
    out = bytearray(data)
    out[bit // 8] ^= 0x80 >> (bit % 8)
    return bytes(out)


def _negate_g1(point):
    return point[0], Q - point[1]


@dataclasses.dataclass
class Side:
    """One L1's view of a case: its node and proved batch, its twin's, and a key from another setup."""

    node: RollupNode
    batch: object
    twin: RollupNode
    twin_batch: object
    other_key: object


def _with_proof(parts):
    """A change of the call: the proof with the parts `parts(proof)` returns ({"a": ..., ...}) replaced."""
    def change(s, call):
        return {"proof": dataclasses.replace(call["proof"], **parts(call["proof"]))}
    return change


# (what is wrong, the error both L1s name, the change to the valid call as a function of (Side, that call)).
CASES = [
    ("proof A negated", "InvalidProof", _with_proof(lambda p: {"a": _negate_g1(p.a)})),
    ("proof B negated", "InvalidProof",
     _with_proof(lambda p: {"b": (p.b[0], ((Q - p.b[1][0]) % Q, (Q - p.b[1][1]) % Q))})),
    ("proof C negated", "InvalidProof", _with_proof(lambda p: {"c": _negate_g1(p.c)})),
    ("proof A and C swapped", "InvalidProof", _with_proof(lambda p: {"a": p.c, "c": p.a})),
    ("proof B with each coordinate's parts swapped", "InvalidProof",
     _with_proof(lambda p: {"b": tuple((im, re) for re, im in p.b)})),
    ("proof A off the curve", "InvalidProof", _with_proof(lambda p: {"a": (p.a[0], (p.a[1] + 1) % Q)})),
    ("proof A.x not below q", "InvalidProof", _with_proof(lambda p: {"a": (p.a[0] + Q, p.a[1])})),
    ("proof C as (0, 0), the EVM's point at infinity", "InvalidProof", _with_proof(lambda p: {"c": (0, 0)})),
    ("proof under another setup of the circuit", "InvalidProof",
     lambda s, call: {"proof": _proof_under(s.other_key, s.node, s.batch)}),
    ("proof for the twin deployment (another chain id)", "InvalidProof",
     lambda s, call: {"proof": s.twin._proof_of(s.twin_batch)}),
    ("pubdata: fee account bit flipped", "InvalidProof",
     lambda s, call: {"pubdata": _flip_bit(s.batch.pubdata, 31)}),
    ("pubdata: registered key bit flipped", "InvalidProof",
     lambda s, call: {"pubdata": _flip_bit(s.batch.pubdata, 8 * 20)}),
    ("pubdata: transfer amount bit flipped", "InvalidProof",
     lambda s, call: {"pubdata": _flip_bit(s.batch.pubdata, 8 * 55 + 7)}),
    ("pubdata: last bit flipped (in the last, partial element)", "InvalidProof",
     lambda s, call: {"pubdata": _flip_bit(s.batch.pubdata, 8 * len(s.batch.pubdata) - 1)}),
    ("pubdata one byte short", "PubdataLength", lambda s, call: {"pubdata": s.batch.pubdata[:-1]}),
    ("pubdata one byte long", "PubdataLength", lambda s, call: {"pubdata": s.batch.pubdata + b"\0"}),
    ("pubdata one element long", "PubdataLength",
     lambda s, call: {"pubdata": s.batch.pubdata + bytes(31)}),
    ("pubdata empty", "PubdataLength", lambda s, call: {"pubdata": b""}),
    ("newRoot + 1", "InvalidProof", lambda s, call: {"new_root": s.batch.new_root + 1}),
    ("newRoot + r", "RootOutOfRange", lambda s, call: {"new_root": s.batch.new_root + R}),
    ("newRoot = r", "RootOutOfRange", lambda s, call: {"new_root": R}),
    ("newRoot = 2^256 - 1", "RootOutOfRange", lambda s, call: {"new_root": (1 << 256) - 1}),
    ("newRoot = stateRoot", "RootUnchanged", lambda s, call: {"new_root": s.batch.old_root}),
    ("commitment + 1", "InvalidProof", lambda s, call: {"commitment": s.batch.commitment + 1}),
    ("commitment + r", "CommitmentOutOfRange",
     lambda s, call: {"commitment": s.batch.commitment + R}),
    ("commitment = r", "CommitmentOutOfRange", lambda s, call: {"commitment": R}),
    ("sender not an operator", "NotOperator", lambda s, call: {"sender": s.node.outsider}),
    ("not an operator, and short pubdata", "NotOperator",
     lambda s, call: {"sender": s.node.outsider, "pubdata": b""}),
    ("short pubdata, and newRoot >= r", "PubdataLength",
     lambda s, call: {"pubdata": b"", "new_root": R}),
    ("newRoot >= r, and commitment >= r", "RootOutOfRange",
     lambda s, call: {"new_root": R, "commitment": R}),
    ("newRoot = stateRoot, and commitment >= r", "RootUnchanged",
     lambda s, call: {"new_root": s.batch.old_root, "commitment": R}),
    ("commitment None (the interface's 'no commitment')", "CommitmentOutOfRange",
     lambda s, call: {"commitment": None}),
]


#: Cases where the two L1s differ today (the reports of these discrepancies).
DISCREPANCIES: dict[str, str] = {}   # none left: the reports were fixed in Rollup.sol, PythonL1 and EthereumL1


@pytest.mark.parametrize("what, error, change", [
    pytest.param(*case, id=case[0], marks=[pytest.mark.xfail(strict=True, reason=f"discrepancy: {DISCREPANCIES[case[0]]}")]
                 if case[0] in DISCREPANCIES else []) for case in CASES])
def test_an_invalid_batch_is_refused_alike_and_changes_nothing(proved_twins, other_key, what, error, change):
    python, python_batch, evm, evm_batch = proved_twins
    outcomes = []
    for side in (Side(python, python_batch, evm, evm_batch, other_key), Side(evm, evm_batch, python, python_batch,
                                                                           other_key)):
        call = _call(side.node, side.batch)
        outcomes.append(_outcome(side.node, call | change(side, call)))
    assert outcomes == [("refused", error), ("refused", error)], f"{what}: PythonL1, Rollup.sol"


def test_the_twins_hold_one_genesis_and_build_the_same_batch(proved_twins):
    python, python_batch, evm, evm_batch = proved_twins
    assert python.l1.genesis_root() == evm.l1.genesis_root() == python.l1.state_root() == evm.l1.state_root()
    assert python.l1.genesis_accounts() == evm.l1.genesis_accounts()
    assert python.chain_id != evm.chain_id
    assert evm.chain_id == lay.deployment_chain_id(evm.l1.l1_chain_id, bytes.fromhex(evm.l1.address[2:]))
    assert (python_batch.pubdata, python_batch.new_root, python_batch.commitment) == \
           (evm_batch.pubdata, evm_batch.new_root, evm_batch.commitment)
    assert python_batch.proof != evm_batch.proof


# ------------------------------------------------------------------------------------------------------------
# Side by side: a sequence of batches


def test_a_sequence_of_batches_gives_the_same_roots_events_and_refusals(twins):
    python, evm = twins
    newcomer = generate_keypair()

    def both(step):
        outcomes = [step(node) for node in twins]
        assert outcomes[0] == outcomes[1], f"PythonL1 and Rollup.sol differ: {outcomes}"
        assert python.l1.state_root() == evm.l1.state_root() and python.l1.events() == evm.l1.events()
        return outcomes[0]

    # A registration (index 5) and a transfer to it in the same batch, and one to the fee account.
    first = both(lambda node: _prove_next(node, [(2, 5, 100, 5), (4, 1, 1, 0)], [newcomer]).new_root)
    assert both(lambda node: _outcome(node, _call(node, node.batch(1)))) == \
           ("accepted", python.l1.events()[0]) and python.l1.state_root() == first
    assert both(lambda node: _outcome(node, _call(node, node.batch(1)))) == ("refused", "RootUnchanged")
    for node in twins:
        node.store.mark_submitted(1)

    # Two batches built on each other, proved before either is submitted; the second is sent first.
    both(lambda node: _prove_next(node, [(5, 2, 50, 2), (1, 5, 3, 0)]).number)
    both(lambda node: _prove_next(node, [(3, 3, 9, 1), (2, 4, 1_000, 0)]).number)     # a transfer to oneself
    assert both(lambda node: _outcome(node, _call(node, node.batch(3)))) == ("refused", "InvalidProof")
    for number in (2, 3):
        assert both(lambda node: _outcome(node, _call(node, node.batch(number))))[0] == "accepted"
    # The stale batch 2 again: its proof binds an old root the L1 has left (the contract reads it from storage).
    assert both(lambda node: _outcome(node, _call(node, node.batch(2)))) == ("refused", "InvalidProof")
    assert both(lambda node: _outcome(node, _call(node, node.batch(3)))) == ("refused", "RootUnchanged")

    assert [e.batch_number for e in evm.l1.events()] == [1, 2, 3]
    assert [(e.old_root, e.new_root) for e in evm.l1.events()] == \
           [(python.batch(n).old_root, python.batch(n).new_root) for n in (1, 2, 3)]
    assert [evm.l1.submitted_pubdata(n) for n in (1, 2, 3)] == [python.l1.submitted_pubdata(n) for n in (1, 2, 3)]


@pytest.fixture(scope="module")
def eth_tester_twins(genesis_template, contracts, tmp_path_factory):
    """Twins on eth-tester's in-process py-evm (pure-Python pairings: one valid batch and one invalid, with a fixed
    gas limit, since estimating a pairing's gas there takes seconds), each with one batch proved:
    ((python node, batch), (evm node, batch))."""
    from web3 import Web3

    folder = tmp_path_factory.mktemp("eth-tester-twins")
    python = _open_python_copy(genesis_template, folder / "python")
    evm = evm_twin(python, Web3(Web3.EthereumTesterProvider()), folder / "evm", contracts, fixed_gas=3_000_000)
    yield [(node, _prove_next(node, [(2, 3, 100, 5)])) for node in (python, evm)]
    python.close()
    evm.close()


def test_eth_tester_refuses_a_tampered_batch_by_name(eth_tester_twins):
    outcomes = [_outcome(node, _call(node, batch, pubdata=_flip_bit(batch.pubdata, 8 * 41 + 3)))
                for node, batch in eth_tester_twins]
    assert outcomes == [("refused", "InvalidProof")] * 2


def test_eth_tester_py_evm_agrees_with_the_python_l1(eth_tester_twins):
    from eth_tester.exceptions import TransactionFailed

    (python, python_batch), (evm, evm_batch) = eth_tester_twins
    assert _outcome(python, _call(python, python_batch, pubdata=_flip_bit(python_batch.pubdata, 8 * 41 + 3))) == \
           ("refused", "InvalidProof")
    before = _chain(evm.l1)
    with pytest.raises((L1Error, TransactionFailed)) as refused:
        evm.l1.submit_batch(**_call(evm, evm_batch, pubdata=_flip_bit(evm_batch.pubdata, 8 * 41 + 3)))
    # the revert is InvalidProof, by name (L1Error) or by selector (eth-tester's TransactionFailed, see above)
    assert getattr(refused.value, "error", None) == "InvalidProof" or \
        repr(keccak(text="InvalidProof()")[:4]) in str(refused.value)
    assert _chain(evm.l1) == before
    accepted = [_outcome(node, _call(node, batch)) for node, batch in eth_tester_twins]
    assert accepted[0] == accepted[1] == ("accepted", python.l1.events()[0])
    assert evm.l1.state_root() == python_batch.new_root and evm.l1.events() == python.l1.events()


# ------------------------------------------------------------------------------------------------------------
# The verifier contract on its own: public inputs >= r


def test_the_verifier_contract_refuses_a_public_input_not_below_r(proved_twins):
    """The rollup range-checks newRoot and the commitment itself and derives the rest below r; the verifier
    must still refuse x + r for any input, as our verifier does, never reduce it and accept."""
    from verifier.groth16 import verify
    from verifier.solidity import error_selector, verifier_arguments
    from verifier.types import BadPublicInput

    _, _, evm, batch = proved_twins
    l1 = evm.l1
    proof = evm._proof_of(batch)
    public = lay.public_inputs(evm.layout, batch.old_root, batch.new_root, l1.chain_id, batch.pubdata,
                               batch.commitment)
    abi = [{"type": "function", "name": "verifyProof", "stateMutability": "view",
            "inputs": [{"name": "a", "type": "uint256[2]"}, {"name": "b", "type": "uint256[2][2]"},
                       {"name": "c", "type": "uint256[2]"}, {"name": "input", "type": "uint256[6]"}],
            "outputs": [{"name": "", "type": "bool"}]}]
    verifier = l1.w3.eth.contract(address=l1.verifier_address, abi=abi)
    a, b, c, inputs = verifier_arguments(proof, public)
    assert verifier.functions.verifyProof(a, b, c, inputs).call() is True
    for i in range(len(public)):
        for bad in (public[i] + R, (1 << 256) - 1):
            shifted = list(public)
            shifted[i] = bad
            with pytest.raises(BadPublicInput):
                verify(l1.verifying_key, shifted, proof)
            calldata = bytes.fromhex(verifier.encode_abi("verifyProof", [a, b, c, shifted])[2:])
            answer = _raw_call(l1.w3, l1.verifier_address, calldata)
            assert answer["error"] == error_selector("PublicInputNotInField(uint256)").to_bytes(4, "big") \
                + i.to_bytes(32, "big"), f"input {i} = {bad}"


# ------------------------------------------------------------------------------------------------------------
# Genesis: the constructor refuses what PythonL1.deploy refuses


def _raw_call(w3, to: str | None, data: bytes, sender: str | None = None) -> dict:
    """eth_call with hand-made calldata: {"output": bytes} or {"error": revert data (bytes, maybe empty)}."""
    tx = {"to": to, "data": "0x" + bytes(data).hex(), "gas": hex(30_000_000)}
    if sender is not None:
        tx["from"] = sender
    if to is None:
        del tx["to"]
    answer = w3.provider.make_request("eth_call", [tx, "latest"])
    if "error" in answer:
        data = answer["error"].get("data") or "0x"
        data = data.get("data", "0x") if isinstance(data, dict) else data
        return {"error": bytes.fromhex(data[2:])}
    return {"output": bytes.fromhex(answer["result"][2:])}


def _error_name(abi: list, data: bytes) -> str | None:
    for entry in abi:
        if entry.get("type") == "error":
            signature = f"{entry['name']}({','.join(i['type'] for i in entry['inputs'])})"
            if keccak(text=signature)[:4] == data[:4]:
                return entry["name"]
    return None


def _small_order_points() -> list[tuple[int, int]]:
    """The 8 Baby Jubjub points P with 8·P = O: the subgroup-order multiple of a point of full order."""
    y = 2
    while True:
        u = (1 - y * y) * pow(babyjub.A - babyjub.D * y * y, -1, R) % R
        x = babyjub.field_sqrt(u)
        if x is not None:
            t = babyjub.scalar_mul((x, y), babyjub.SUBGROUP_ORDER)
            if babyjub.scalar_mul(t, 4) != babyjub.IDENTITY:
                points = [babyjub.scalar_mul(t, k) for k in range(8)]
                return [(p[0], p[1]) for p in points]
        y += 1


#: Genesis accounts encoded with 256-bit fields: the same words as (uint32, uint256, uint256, uint64) for values that
#: fit, and a way to hand the contract an index or balance its types cannot hold.
WIDE_CONSTRUCTOR_TYPES = CONSTRUCTOR_TYPES[:3] + ["(uint256,uint256,uint256,uint256)[]", "address[]"]


@pytest.fixture(scope="module")
def constructor_call(contracts, anvil_url, deployment):
    """A function: (genesis root, accounts as (index, ax, ay, balance) in the given order, layout) -> None if
    Rollup.sol's constructor (run by eth_call on anvil, arguments encoded by hand) deploys, else its revert data.
    `constructor_call.error_name(data)` names a custom error."""
    from zkrollup.ethereum import BINDING_CODE, connect_web3, rollup_artifact

    w3 = connect_web3(anvil_url)
    artifact = rollup_artifact()
    deployer = w3.eth.accounts[0]     # anvil's unlocked development account
    sent = w3.eth.send_transaction({"from": deployer, "data": "0x" + contracts["Groth16Verifier"].bytecode.hex()})
    verifier = w3.eth.wait_for_transaction_receipt(sent)["contractAddress"]

    def call(root, accounts, layout=deployment[0]):
        shape = (layout.depth, layout.arity, layout.n_transfers, layout.n_registrations,
                 BINDING_CODE[layout.binding], layout.index_bytes, layout.amount_bytes, layout.fee_bytes)
        arguments = abi_encode(WIDE_CONSTRUCTOR_TYPES, [verifier, shape, root, list(accounts), [deployer]])
        return _raw_call(w3, None, artifact.bytecode + arguments, deployer).get("error")

    call.error_name = lambda data: _error_name(artifact.abi, data)
    return call


@pytest.fixture
def python_deploy(deployment, tmp_path):
    """A function: (genesis root, accounts as (index, ax, ay, balance), layout) -> None if PythonL1.deploy accepts
    the genesis, else its error name."""
    vk = deployment[1]
    folders = iter(range(1_000))

    def deploy(root, accounts, layout=deployment[0]):
        folder = tmp_path / f"l1-{next(folders)}"
        folder.mkdir()
        try:
            PythonL1.deploy(folder, layout, vk, root,
                            [GenesisAccount(*a) for a in accounts], ["0xop"]).close()
        except L1Error as refused:
            return refused.error
        return None

    return deploy


KEY = babyjub.scalar_mul(babyjub.GENERATOR, 12345)
OTHER_KEY = babyjub.scalar_mul(babyjub.GENERATOR, 777)
GOOD = [(2, KEY[0], KEY[1], 1000), (5, OTHER_KEY[0], OTHER_KEY[1], 7)]
BAD_GENESIS = [
    ("index 0 (reserved)", 1, [(0, *KEY, 1)]),
    ("index 2^depth", 1, [(None, *KEY, 1)]),      # None: the layout's first index past the tree
    ("a repeated index", 1, [GOOD[0], GOOD[0]]),
    ("ax off the curve", 1, [(2, KEY[0] + 1, KEY[1], 1)]),
    ("ax + r (on the curve mod r)", 1, [(2, KEY[0] + R, KEY[1], 1)]),
    ("ay + r", 1, [(2, KEY[0], KEY[1] + R, 1)]),
    ("the root = r", R, GOOD),
    ("the root = 2^256 - 1", (1 << 256) - 1, GOOD),
] + [(f"small-order key {p}", 1, [(3, *p, 1)]) for p in _small_order_points()]


def test_the_constructor_deploys_what_the_python_deployment_deploys(constructor_call, python_deploy):
    for root, accounts in ((1, GOOD), (R - 1, []), (0, [GOOD[1]])):
        assert constructor_call(root, accounts) is None
        assert python_deploy(root, accounts) is None


@pytest.mark.parametrize("what, root, accounts", BAD_GENESIS, ids=[c[0] for c in BAD_GENESIS])
def test_the_constructor_refuses_what_the_python_deployment_refuses(constructor_call, python_deploy, deployment,
                                                                    what, root, accounts):
    accounts = [(deployment[0].n_accounts if a[0] is None else a[0], *a[1:]) for a in accounts]
    reverted = constructor_call(root, accounts)
    assert reverted is not None and constructor_call.error_name(reverted) == "InvalidGenesis"
    assert python_deploy(root, accounts) == "InvalidGenesis"


@pytest.mark.parametrize("what, account", [("balance 2^64", (2, *KEY, 1 << 64)),
                                           ("index 2^32", (1 << 32, *KEY, 1))])
def test_a_genesis_value_beyond_its_field_type_is_refused_by_both(constructor_call, python_deploy, what, account):
    """The contract's uint64 balance and uint32 index make its ABI decoder revert before any check runs."""
    assert constructor_call(1, [account]) is not None
    assert python_deploy(1, [account]) == "InvalidGenesis"


def test_a_balance_beyond_u64_is_named_invalid_genesis_by_both(constructor_call):
    reverted = constructor_call(1, [(2, *KEY, 1 << 64)])
    assert reverted is not None and constructor_call.error_name(reverted) == "InvalidGenesis"


def test_genesis_accounts_out_of_index_order_are_refused_by_both(constructor_call, python_deploy):
    reversed_order = GOOD[::-1]
    assert constructor_call.error_name(constructor_call(1, reversed_order)) == "InvalidGenesis"
    assert python_deploy(1, reversed_order) == "InvalidGenesis"


# ------------------------------------------------------------------------------------------------------------
# Red team: calldata the ABI allows, and calldata it does not


def _submit_calldata(pubdata: bytes, new_root: int, commitment: int, words, *, gap: bytes = b"", padding=None,
                     decoy: bytes | None = None, trailer: bytes = b"") -> bytes:
    """submitBatch's calldata built by hand. Canonical by default; else the tail (length word, pubdata, padding)
    starts after `gap` bytes (a non-canonical offset), with `padding` in place of the zero padding (b"" for none),
    a `decoy` pubdata where a canonical decoder would look, and `trailer` bytes after everything."""
    pad = bytes(-len(pubdata) % 32) if padding is None else padding
    decoy_part = b""
    if decoy is not None:
        decoy_part = len(decoy).to_bytes(32, "big") + decoy + bytes(-len(decoy) % 32)
    offset = HEAD_BYTES + len(decoy_part) + len(gap)
    head = b"".join(v.to_bytes(32, "big") for v in (offset, new_root, commitment, *words))
    tail = len(pubdata).to_bytes(32, "big") + pubdata + pad
    return SUBMIT_SELECTOR + head + decoy_part + gap + tail + trailer


def _verifier_call(l1, calldata: bytes, sender: str) -> tuple[list[int], list[int]] | None:
    """What the rollup asks its verifier when it runs `calldata` (anvil's debug_traceCall): (the proof's 8 words,
    the public inputs), or None if it never calls the verifier."""
    tx = {"from": sender, "to": l1.address, "data": "0x" + calldata.hex(), "gas": hex(30_000_000)}
    trace = l1.w3.provider.make_request("debug_traceCall", [tx, "latest", {"tracer": "callTracer"}])["result"]
    calls = [c for c in trace.get("calls", []) if c["to"].lower() == l1.verifier_address.lower()]
    if not calls:
        return None
    assert len(calls) == 1
    data = bytes.fromhex(calls[0]["input"][2:])[4:]
    words = [int.from_bytes(data[i:i + 32], "big") for i in range(0, len(data), 32)]
    return words[:8], words[8:]


def _send(w3, account, to: str, data: bytes, value: int = 0) -> int:
    """Sign and send a transaction with hand-made calldata (fixed gas, so nothing is simulated first); its status."""
    base = w3.eth.get_block("latest").get("baseFeePerGas", 0) or 0
    tx = {"to": to, "data": "0x" + data.hex(), "value": value, "gas": 3_000_000, "chainId": w3.eth.chain_id,
          "nonce": w3.eth.get_transaction_count(account.address, "pending"),
          "maxFeePerGas": 2 * base + 10**9, "maxPriorityFeePerGas": 10**9}
    sent = w3.eth.send_raw_transaction(account.sign_transaction(tx).raw_transaction)
    return w3.eth.wait_for_transaction_receipt(sent)["status"]


@pytest.fixture(scope="module")
def evm_call(proved_twins):
    """(the EVM node, its proved batch, the batch's proof as submitBatch's eight words)."""
    from zkrollup.ethereum import proof_words

    _, _, evm, batch = proved_twins
    return evm, batch, proof_words(evm._proof_of(batch))


def test_hand_made_canonical_calldata_is_what_eth_abi_encodes(evm_call):
    evm, batch, words = evm_call
    canonical = _submit_calldata(batch.pubdata, batch.new_root, batch.commitment, words)
    assert canonical == SUBMIT_SELECTOR + abi_encode(SUBMIT_TYPES, [batch.pubdata, batch.new_root,
                                                                    batch.commitment, words])
    assert _raw_call(evm.l1.w3, evm.l1.address, canonical, evm.operator) == {"output": b""}


def ceil32(n: int) -> int:
    return -(-n // 32) * 32


def _malformed_calldata(batch, words) -> list[tuple[str, bytes]]:
    canonical = _submit_calldata(batch.pubdata, batch.new_root, batch.commitment, words)
    end_of_pubdata = 4 + HEAD_BYTES + 32 + len(batch.pubdata)

    def with_word(position: int, value: int) -> bytes:      # position: the word's index after the selector
        out = bytearray(canonical)
        out[4 + 32 * position:4 + 32 * position + 32] = value.to_bytes(32, "big")
        return bytes(out)

    body = canonical[4:]
    cases = [("no calldata", b""), ("the selector alone", SUBMIT_SELECTOR)]
    cases += [(f"truncated to {k} bytes", canonical[:k])
              for k in [4 + 32 * i for i in range(1, 12)] + [4 + HEAD_BYTES + 16, 4 + HEAD_BYTES + 32,
                                                            end_of_pubdata - 31, end_of_pubdata - 1]]
    cases += [(f"pubdata length word {n}", with_word(11, n))
              for n in (len(batch.pubdata) + 1, ceil32(len(batch.pubdata)), len(batch.pubdata) + 33, 1 << 64,
                        (1 << 256) - 1, 0)]
    cases += [(f"pubdata offset {n:#x}", with_word(0, n))
              for n in (0, 0x20, HEAD_BYTES + 32, len(body), len(body) - 31, 1 << 64, (1 << 256) - 1)]
    cases += [
        ("the proof as a dynamic uint256[] of 8",
         SUBMIT_SELECTOR + abi_encode(["bytes", "uint256", "uint256", "uint256[]"],
                                      [batch.pubdata, batch.new_root, batch.commitment, words])),
        ("seven proof words", _submit_calldata(batch.pubdata, batch.new_root, batch.commitment, words[:7])),
        ("nine proof words", _submit_calldata(batch.pubdata, batch.new_root, batch.commitment, words + [1])),
        ("another function's selector", keccak(text="submitBatch(bytes,uint256,uint256,uint256[7])")[:4] + body),
    ]
    return cases


def test_malformed_calldata_reverts_and_changes_nothing(evm_call):
    evm, batch, words = evm_call
    l1, signer = evm.l1, evm.l1.signers[evm.operator]
    before = _chain(l1)
    for what, calldata in _malformed_calldata(batch, words):
        answer = _raw_call(l1.w3, l1.address, calldata, evm.operator)
        assert "error" in answer, f"{what}: the call succeeded"
        assert _send(l1.w3, signer, l1.address, calldata) == 0, f"{what}: the transaction succeeded"
        assert _chain(l1) == before, what
    # a valid call with ether attached: submitBatch is not payable
    canonical = _submit_calldata(batch.pubdata, batch.new_root, batch.commitment, words)
    assert _send(l1.w3, signer, l1.address, canonical, value=1) == 0 and _chain(l1) == before


def test_a_length_word_the_calldata_can_hold_is_a_pubdata_length_error(evm_call):
    """Truncation and impossible lengths fail in the ABI decoder (no error data); a length that fits the calldata
    reaches the contract's own check, which names it as PythonL1 would."""
    evm, batch, words = evm_call
    canonical = bytearray(_submit_calldata(batch.pubdata, batch.new_root, batch.commitment, words))
    canonical[4 + HEAD_BYTES:4 + HEAD_BYTES + 32] = (len(batch.pubdata) + 1).to_bytes(32, "big")
    answer = _raw_call(evm.l1.w3, evm.l1.address, bytes(canonical), evm.operator)
    assert _error_name(evm.l1.artifact.abi, answer["error"]) == "PubdataLength"


def _accepted_encodings(batch, words) -> list[tuple[str, bytes]]:
    """Encodings of the valid batch's call that the ABI admits besides the canonical one."""
    real = dict(pubdata=batch.pubdata, new_root=batch.new_root, commitment=batch.commitment, words=words)
    decoy = _flip_bit(batch.pubdata, 8 * 55 + 7)
    return [
        ("canonical", _submit_calldata(**real)),
        ("dirty padding after the pubdata", _submit_calldata(**real, padding=b"\xff" * (-len(batch.pubdata) % 32))),
        ("no padding: the pubdata ends the calldata", _submit_calldata(**real, padding=b"")),
        ("a gap of junk before the pubdata", _submit_calldata(**real, gap=b"\xff" * 64)),
        ("an unaligned offset", _submit_calldata(**real, gap=b"\x07")),
        ("a decoy pubdata where a canonical decoder looks", _submit_calldata(**real, decoy=decoy)),
        ("junk after the padded pubdata", _submit_calldata(**real, trailer=b"\xee" * 40)),
    ]


def test_every_encoding_the_abi_admits_gives_the_verifier_layouts_inputs(evm_call):
    """However the calldata lays the pubdata out, the contract hands its verifier exactly
    layout.public_inputs(stateRoot, newRoot, chainId, pubdata, C) for the bytes the ABI's offset points at, and the
    proof's words in order, so only the proved pubdata can pass."""
    evm, batch, words = evm_call
    expected = lay.public_inputs(evm.layout, evm.l1.state_root(), batch.new_root, evm.l1.chain_id, batch.pubdata,
                                 batch.commitment)
    for what, calldata in _accepted_encodings(batch, words):
        assert _verifier_call(evm.l1, calldata, evm.operator) == (words, expected), what
        assert _raw_call(evm.l1.w3, evm.l1.address, calldata, evm.operator) == {"output": b""}, what


def test_pubdata_the_offset_points_at_is_the_pubdata_that_is_checked(evm_call):
    """The proved pubdata where a canonical decoder looks, a decoy where the offset points: the decoy is verified
    (and fails), never the bytes a naive reader would take for the data."""
    evm, batch, words = evm_call
    decoy = _flip_bit(batch.pubdata, 8 * 55 + 7)
    calldata = _submit_calldata(decoy, batch.new_root, batch.commitment, words, decoy=batch.pubdata)
    expected = lay.public_inputs(evm.layout, evm.l1.state_root(), batch.new_root, evm.l1.chain_id, decoy,
                                 batch.commitment)
    assert _verifier_call(evm.l1, calldata, evm.operator) == (words, expected)
    answer = _raw_call(evm.l1.w3, evm.l1.address, calldata, evm.operator)
    assert _error_name(evm.l1.artifact.abi, answer["error"]) == "InvalidProof"


# Layouts whose pubdata ends at every kind of element boundary: a whole number of 31-byte elements, one byte into
# an element, a single partial element, SMALL's 26-byte tail, and the SHA-256 binding.
BINDING_LAYOUTS = [
    Layout(depth=4, arity=4, n_transfers=5, n_registrations=0),     # 124 bytes = 4 x 31
    Layout(depth=4, arity=4, n_transfers=27, n_registrations=0),    # 652 bytes = 21 x 31 + 1
    Layout(depth=4, arity=4, n_transfers=1, n_registrations=0),     # 28 bytes: one partial element
    Layout(depth=4, arity=4, n_transfers=2, n_registrations=1),     # 88 bytes = 2 x 31 + 26
    Layout(depth=6, arity=2, n_transfers=2, n_registrations=1, binding="sha256"),
    Layout(depth=20, arity=4, n_transfers=3, n_registrations=2, index_bytes=3, amount_bytes=12, fee_bytes=9),
]


@pytest.mark.parametrize("layout", BINDING_LAYOUTS, ids=[f"{l.shape_id}-{l.pubdata_length}B" for l in BINDING_LAYOUTS])
def test_the_contracts_challenge_and_evaluation_are_layouts(layout, deployment, contracts, anvil_url):
    """Random pubdata (not even valid batches) under random encodings: the public inputs the contract derives
    equal layout.py's challenge and evaluation (or data_hash), byte for byte."""
    from zkrollup.ethereum import EthereumL1, connect_web3

    w3 = connect_web3(anvil_url)
    deployer = _funded_account(w3)
    # SMALL's verifier stands in for every shape: the trace shows what it is asked, whatever it answers
    l1 = EthereumL1.deploy(w3, layout, deployment[1], contracts["Groth16Verifier"], 1, [], [deployer.address],
                           deployer)
    rng = random.Random(layout.pubdata_length)
    for trial in range(12):
        pubdata = bytes(rng.randrange(256) for _ in range(layout.pubdata_length))
        if trial == 0:
            pubdata = b"\xff" * layout.pubdata_length
        new_root = rng.randrange(2, R)
        commitment = 0 if layout.binding == "sha256" else rng.randrange(R)
        words = [rng.randrange(1 << 256) for _ in range(8)]
        pad = -len(pubdata) % 32
        encoding = rng.choice([{}, {"padding": bytes(rng.randrange(1, 256) for _ in range(pad))},
                               {"padding": b""}, {"gap": bytes(rng.randrange(1, 40))}])
        calldata = _submit_calldata(pubdata, new_root, commitment, words, **encoding)
        expected = lay.public_inputs(layout, 1, new_root, l1.chain_id, pubdata, commitment or None)
        assert _verifier_call(l1, calldata, deployer.address) == (words, expected), (trial, encoding)


# ------------------------------------------------------------------------------------------------------------
# Red team: re-entering through the verifier, and a contract between the operator and the rollup


def test_a_verifier_cannot_reenter_submit_batch(contracts, anvil_url, deployment):
    """A verifier that tries to submit another batch while it is asked to verify (and approves the outer batch
    only if that worked) gets nowhere: the rollup calls it with STATICCALL. The control shows the same re-entry
    does advance the root when made outside a static call."""
    from zkrollup.ethereum import BINDING_CODE, connect_web3, rollup_artifact

    layout = deployment[0]
    w3 = connect_web3(anvil_url)
    operator = w3.eth.accounts[0]
    attacker_contract = contracts["ReentrantVerifier"]
    sent = w3.eth.send_transaction({"from": operator, "data": "0x" + attacker_contract.bytecode.hex()})
    attacker = w3.eth.contract(address=w3.eth.wait_for_transaction_receipt(sent)["contractAddress"],
                               abi=attacker_contract.abi)
    shape = (layout.depth, layout.arity, layout.n_transfers, layout.n_registrations, BINDING_CODE[layout.binding],
             layout.index_bytes, layout.amount_bytes, layout.fee_bytes)
    artifact = rollup_artifact()
    data = artifact.bytecode + abi_encode(CONSTRUCTOR_TYPES, [attacker.address, shape, 1, [],
                                                             [operator, attacker.address]])
    sent = w3.eth.send_transaction({"from": operator, "data": "0x" + data.hex()})
    rollup = w3.eth.contract(address=w3.eth.wait_for_transaction_receipt(sent)["contractAddress"], abi=artifact.abi)
    pubdata = bytes(layout.pubdata_length)
    inner = _submit_calldata(pubdata, 2, 0x5EED, [0] * 8)
    w3.eth.wait_for_transaction_receipt(attacker.functions.arm(rollup.address, inner).transact({"from": operator}))

    outer = _submit_calldata(pubdata, 3, 7, [0] * 8)
    answer = _raw_call(w3, rollup.address, outer, operator)
    assert _error_name(artifact.abi, answer["error"]) == "InvalidProof"
    status = w3.eth.wait_for_transaction_receipt(
        w3.eth.send_transaction({"from": operator, "to": rollup.address, "data": "0x" + outer.hex(), "gas": 3_000_000}))["status"]
    assert status == 0
    assert rollup.functions.stateRoot().call() == 1 and rollup.functions.batchCount().call() == 0

    # control: the attacker's verifyProof called in a plain transaction re-enters, and the root moves
    w3.eth.wait_for_transaction_receipt(attacker.functions.verifyProof([0, 0], [[0, 0], [0, 0]], [0, 0],
                                                                       [0, 0, 0, 7, 0, 0]).transact({"from": operator}))
    assert rollup.functions.stateRoot().call() == 2 and rollup.functions.batchCount().call() == 1


def test_an_operator_cannot_submit_through_another_contract(evm_call, contracts):
    """msg.sender, not tx.origin: an operator's valid batch relayed by a contract that is not an operator is
    NotOperator."""
    evm, batch, words = evm_call
    l1 = evm.l1
    w3, signer = l1.w3, l1.signers[evm.operator]
    compiled = contracts["Forwarder"]
    sent = w3.eth.send_transaction({"from": w3.eth.accounts[0], "data": "0x" + compiled.bytecode.hex()})
    forwarder = w3.eth.contract(address=w3.eth.wait_for_transaction_receipt(sent)["contractAddress"], abi=compiled.abi)
    canonical = _submit_calldata(batch.pubdata, batch.new_root, batch.commitment, words)
    relayed = bytes.fromhex(forwarder.encode_abi("forward", [l1.address, canonical])[2:])
    before = _chain(l1)
    answer = _raw_call(w3, forwarder.address, relayed, evm.operator)
    assert _error_name(l1.artifact.abi, answer["error"]) == "NotOperator"
    assert _send(w3, signer, forwarder.address, relayed) == 0 and _chain(l1) == before


def test_submit_batch_is_the_only_way_to_change_the_rollup(deployment):
    """The ABI has one state-changing function, no fallback or receive: no operator can be added, no root set."""
    from zkrollup.ethereum import rollup_artifact

    abi = rollup_artifact().abi
    changing = [e["name"] for e in abi if e["type"] == "function" and e["stateMutability"] not in ("view", "pure")]
    assert changing == ["submitBatch"]
    assert not [e for e in abi if e["type"] in ("fallback", "receive")]


# ------------------------------------------------------------------------------------------------------------
# Smaller discrepancies between the stand-in and the contract


def test_a_nonzero_commitment_under_the_sha256_binding_is_refused_alike(evm_call, deployment, contracts, tmp_path):
    from zkrollup.ethereum import EthereumL1

    evm, batch, _ = evm_call
    sha = dataclasses.replace(deployment[0], binding="sha256")
    w3 = evm.l1.w3
    operator = _funded_account(w3)
    on_evm = EthereumL1.deploy(w3, sha, deployment[1], contracts["Groth16Verifier"], 1, [], [operator.address],
                               operator)
    (tmp_path / "python").mkdir()
    on_python = PythonL1.deploy(tmp_path / "python", sha, deployment[1], 1, [], [operator.address])
    call = dict(pubdata=bytes(sha.pubdata_length), new_root=2, commitment=5, proof=evm._proof_of(batch),
                sender=operator.address)
    outcomes = []
    for l1 in (on_python, on_evm):
        with pytest.raises(L1Error) as refused:
            l1.submit_batch(**call)
        outcomes.append(refused.value.error)
    assert outcomes == ["CommitmentOutOfRange", "CommitmentOutOfRange"]


def test_a_word_wider_than_32_bytes_is_refused_by_the_layout_and_the_constructor(constructor_call):
    """Layout (and so PythonL1) and Rollup.sol's constructor both refuse amount or fee widths above 32 bytes."""
    from circuits.rollup.layout import LayoutError

    with pytest.raises(LayoutError, match="32-byte word"):
        Layout(depth=4, arity=4, n_transfers=2, n_registrations=1, amount_bytes=33)
    wide = dataclasses.replace(Layout(depth=4, arity=4, n_transfers=2, n_registrations=1), amount_bytes=32)
    assert constructor_call(1, [], wide) is None
    object.__setattr__(wide, "amount_bytes", 33)         # past Layout's own check, straight to the contract
    assert constructor_call.error_name(constructor_call(1, [], wide)) == "InvalidLayout"
