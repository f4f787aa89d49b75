"""The Solidity verifier rendered from a key: on anvil beside snarkjs's own verifier for the same .zkey, both
accept the valid proof and reject every tampered one, agreeing with our Python verifier; ours reverts with a
named error on malformed input where snarkjs's returns false; ours costs no more gas; snarkjs's calldata text
is reproduced byte for byte; and the in-process py-evm chain runs it too (including one without the
BN254 precompiles, where only ours refuses to answer)."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest
from py_ecc import bn128

from circuits.builder import ConstraintSystem
from prover.groth16 import prove, verifying_key
from prover.setup import setup
from prover.zkey import write_zkey
from verifier import snarkjs
from verifier.curve import CURVE_ORDER as R, FIELD_MODULUS as Q
from verifier.groth16 import verify
from verifier.solc import SolcError, compile_sources
from verifier.solidity import (ERRORS, compile_verifier, error_selector, render_verifier, solidity_calldata,
                               verifier_arguments)
from verifier.types import BadPoint, Proof, VerifierInputError

pytestmark = pytest.mark.node

ROOT = Path(__file__).resolve().parents[2]
SNARKJS = ROOT / "node_modules" / ".bin" / "snarkjs"
GAS = 2_000_000        # explicit: an estimate would be wrong for snarkjs's verifier (see the gas tests)
SIZES = (1, 6)         # public inputs of the two keys compared side by side


def _circuit(n_public: int):
    """out = y^3 + sum x_i * y, with x_1..x_{n-1} public inputs: n public signals (out first), each bound
    by a constraint (an unconstrained public input would have IC_i at infinity, a key we refuse)."""
    cs = ConstraintSystem()
    xs = cs.public_inputs("x", n_public - 1) if n_public > 1 else []
    y = cs.private_input("y")
    total = cs.mul(cs.mul(y, y), y)
    for x in xs:
        total = total + cs.mul(x, y)
    if n_public == 0:
        cs.assert_equal(total, 125)
    else:
        cs.public_output("out", total)
    circuit = cs.compile()
    inputs = {"y": 5, **({"x": list(range(3, 3 + n_public - 1))} if n_public > 1 else {})}
    return circuit, circuit.solve(inputs)


def _snarkjs(*args, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run([str(SNARKJS), *map(str, args)], cwd=cwd, capture_output=True, text=True, timeout=120)


# --- keys, proofs and both verifiers for each size, made once --------------------------------------------

@pytest.fixture(scope="module")
def work(tmp_path_factory):
    if shutil.which("node") is None:
        pytest.skip("node is not installed")
    if not SNARKJS.exists():
        pytest.skip("node_modules/.bin/snarkjs is missing: run npm ci")
    return tmp_path_factory.mktemp("solidity")


@pytest.fixture(scope="module")
def keys(work):
    """{n: SimpleNamespace(pk, vk, witness, proof, public)} for n in SIZES, plus 0 (no public input)."""
    from types import SimpleNamespace

    made = {}
    for n in (*SIZES, 0):
        circuit, witness = _circuit(n)
        pk = setup(circuit.r1cs, quiet=True)
        proof, public = prove(pk, witness)
        write_zkey(work / f"k{n}.zkey", pk)
        made[n] = SimpleNamespace(circuit=circuit, pk=pk, vk=verifying_key(pk), witness=witness, proof=proof,
                                  public=public)
    return made


@pytest.fixture(scope="module")
def compiled(work, keys):
    """All contracts in one compiler run: Ours{n} (rendered here) and Theirs{n} (`snarkjs zkey export
    solidityverifier` on the same .zkey, its contract renamed so that they can share one compilation)."""
    sources = {}
    for n in (*SIZES, 0):
        sources[f"Ours{n}.sol"] = render_verifier(keys[n].vk, contract_name=f"Ours{n}")
    for n in SIZES:
        done = _snarkjs("zkey", "export", "solidityverifier", f"k{n}.zkey", f"theirs{n}.sol", cwd=work)
        assert done.returncode == 0, done.stdout + done.stderr
        text = (work / f"theirs{n}.sol").read_text()
        sources[f"Theirs{n}.sol"] = text.replace("contract Groth16Verifier", f"contract Theirs{n}")
    return compile_sources(sources)


@pytest.fixture(scope="module")
def chain(anvil_url, compiled):
    """(web3, {name: deployed contract}) on anvil."""
    from web3 import Web3

    w3 = Web3(Web3.HTTPProvider(anvil_url))
    return w3, {name: _deploy(w3, contract) for name, contract in compiled.items()}


def _deploy(w3, contract):
    sender = w3.eth.accounts[0]
    tx = w3.eth.contract(abi=contract.abi, bytecode=contract.bytecode).constructor().transact(
        {"from": sender, "gas": 3_000_000})
    receipt = w3.eth.wait_for_transaction_receipt(tx)
    assert receipt.status == 1
    return w3.eth.contract(address=receipt.contractAddress, abi=contract.abi)


def _abi_errors(contract) -> dict[int, str]:
    """selector -> error name, computed from the compiled ABI (not from verifier.solidity's table)."""
    found = {}
    for entry in contract.abi:
        if entry["type"] == "error":
            signature = f"{entry['name']}({','.join(i['type'] for i in entry['inputs'])})"
            found[error_selector(signature)] = entry["name"]
    return found


def _outcome(contract, arguments, gas: int = GAS):
    """True / False as verifyProof returned it, or (error name, argument) for a revert with a custom error."""
    import ast

    from eth_tester.exceptions import TransactionFailed
    from web3.exceptions import ContractCustomError

    try:
        return contract.functions.verifyProof(*arguments).call({"gas": gas})
    except ContractCustomError as error:       # a JSON-RPC node: the revert data as hex
        data = bytes.fromhex(error.data[2:])
    except TransactionFailed as error:         # eth-tester: "execution reverted: b'...'"
        data = ast.literal_eval(str(error.args[0]).removeprefix("execution reverted: "))
    name = _abi_errors(contract)[int.from_bytes(data[:4], "big")]
    return (name, int.from_bytes(data[4:36], "big"))


def _python(vk, arguments):
    """What verifier.groth16.verify says of the same words: True, False, or "refused" (VerifierInputError)."""
    a, ((x_im, x_re), (y_im, y_re)), c = arguments[:3]
    public = arguments[3] if len(arguments) == 4 else []
    try:
        return verify(vk, public, Proof(tuple(a), ((x_re, x_im), (y_re, y_im)), tuple(c)))
    except VerifierInputError:
        return "refused"


def _moved_g1(point):
    moved = bn128.add((bn128.FQ(point[0]), bn128.FQ(point[1])), bn128.G1)
    return [int(moved[0]), int(moved[1])]


def _moved_g2(words):
    """B + G2's generator, in EIP-197 order as given."""
    (x_im, x_re), (y_im, y_re) = words
    moved = bn128.add((bn128.FQ2([x_re, x_im]), bn128.FQ2([y_re, y_im])), bn128.G2)
    (mx_re, mx_im), (my_re, my_im) = (tuple(int(c) for c in f.coeffs) for f in moved)
    return [[mx_im, mx_re], [my_im, my_re]]


def _cases(keys, n, point_outside_g2):
    """{case: (verifyProof arguments, what ours must answer, what snarkjs's answers)} for the key with n inputs."""
    key = keys[n]
    a, b, c, public = verifier_arguments(key.proof, key.public)
    last = n - 1
    other = setup(key.circuit.r1cs, quiet=True)
    other_proof, _ = prove(other, key.witness)
    bad_witness = list(key.witness)
    bad_witness[-1] = (bad_witness[-1] + 1) % R
    forged, forged_public = prove(key.pk, bad_witness, check=False)   # the prover's own check bypassed
    (gx_re, gx_im), (gy_re, gy_im) = point_outside_g2
    bumped = list(public)
    bumped[last] = (bumped[last] + 1) % R
    over_r = list(public)
    over_r[last] += R
    return {
        "valid": ((a, b, c, public), True, True),
        "A moved": ((_moved_g1(a), b, c, public), False, False),
        "B moved": ((a, _moved_g2(b), c, public), False, False),
        "C moved": ((a, b, _moved_g1(c), public), False, False),
        "A and C swapped": ((c, b, a, public), False, False),
        "wrong public input": ((a, b, c, bumped), False, False),
        "proof under another key": (verifier_arguments(other_proof, key.public), False, False),
        "unsatisfied witness": (verifier_arguments(forged, forged_public), False, False),
        "public input + r": ((a, b, c, over_r), ("PublicInputNotInField", last), False),
        "A.x + q": (([a[0] + Q, a[1]], b, c, public), ("ProofCoordinateNotInField", 0), False),
        "A.y + q": (([a[0], a[1] + Q], b, c, public), ("ProofCoordinateNotInField", 1), False),
        "B.x.re + q": ((a, [[b[0][0], b[0][1] + Q], b[1]], c, public), ("ProofCoordinateNotInField", 3), False),
        "B.y.im + q": ((a, [b[0], [b[1][0] + Q, b[1][1]]], c, public), ("ProofCoordinateNotInField", 4), False),
        "C.y + q": ((a, b, [c[0], c[1] + Q], public), ("ProofCoordinateNotInField", 7), False),
        "A off the curve": (([a[0], (a[1] + 1) % Q], b, c, public), ("PrecompileFailed", 8), False),
        "C off the curve": ((a, b, [(c[0] + 1) % Q, c[1]], public), ("PrecompileFailed", 8), False),
        "B on the twist outside G2": ((a, [[gx_im, gx_re], [gy_im, gy_re]], c, public), ("PrecompileFailed", 8),
                                      False),
    }


@pytest.mark.parametrize("n", SIZES)
def test_both_verifiers_accept_the_valid_proof_and_reject_each_tampered_one_as_python_does(
        chain, keys, n, point_outside_g2):
    _, contracts = chain
    ours, theirs = contracts[f"Ours{n}"], contracts[f"Theirs{n}"]
    found, expected = {}, {}
    for case, (arguments, ours_says, theirs_say) in _cases(keys, n, point_outside_g2).items():
        python = _python(keys[n].vk, arguments)
        found[case] = (_outcome(ours, arguments), _outcome(theirs, arguments), python)
        # Python refuses exactly what ours reverts on, and accepts exactly what ours accepts.
        expected[case] = (ours_says, theirs_say, "refused" if isinstance(ours_says, tuple) else ours_says)
    assert found == expected


def test_the_verifier_with_no_public_inputs_takes_three_arguments_and_verifies(chain, keys, work):
    _, contracts = chain
    ours = contracts["Ours0"]
    function = next(e for e in ours.abi if e.get("name") == "verifyProof")
    assert [i["type"] for i in function["inputs"]] == ["uint256[2]", "uint256[2][2]", "uint256[2]"]
    a, b, c = verifier_arguments(keys[0].proof, [])
    assert _outcome(ours, (a, b, c)) is True
    assert _outcome(ours, (_moved_g1(a), b, c)) is False
    # snarkjs renders `uint[0] calldata _pubSignals` for such a key, which Solidity refuses.
    done = _snarkjs("zkey", "export", "solidityverifier", "k0.zkey", "theirs0.sol", cwd=work)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "uint[0]" in (work / "theirs0.sol").read_text()
    with pytest.raises(SolcError, match="Array with zero length"):
        compile_sources({"Theirs0.sol": (work / "theirs0.sol").read_text()})


def test_the_abi_is_snarkjs_s(compiled):
    for n in SIZES:
        ours = next(e for e in compiled[f"Ours{n}"].abi if e["type"] == "function")
        theirs = next(e for e in compiled[f"Theirs{n}"].abi if e["type"] == "function")
        assert ({k: ours[k] for k in ("name", "inputs", "outputs", "stateMutability")}
                == {k: theirs[k] for k in ("name", "inputs", "outputs", "stateMutability")})
        assert [e["type"] for e in compiled[f"Ours{n}"].abi] == ["error"] * len(ERRORS) + ["function"]


def test_the_error_selectors_in_the_source_are_those_of_the_abi(compiled):
    assert set(_abi_errors(compiled["Ours1"]).values()) == set(ERRORS)
    for selector, name in _abi_errors(compiled["Ours1"]).items():
        assert error_selector(ERRORS[name].signature) == selector


# --- gas -------------------------------------------------------------------------------------------------

def _transaction_gas(w3, contract, arguments) -> int:
    tx = contract.functions.verifyProof(*arguments).transact({"from": w3.eth.accounts[0], "gas": GAS})
    receipt = w3.eth.wait_for_transaction_receipt(tx)
    assert receipt.status == 1
    return receipt.gasUsed


@pytest.mark.parametrize("n", SIZES)
def test_a_verify_transaction_costs_no_more_gas_than_snarkjs_s(chain, keys, n, capsys):
    w3, contracts = chain
    arguments = verifier_arguments(keys[n].proof, keys[n].public)
    ours = _transaction_gas(w3, contracts[f"Ours{n}"], arguments)
    theirs = _transaction_gas(w3, contracts[f"Theirs{n}"], arguments)
    with capsys.disabled():
        print(f"\nverifyProof transaction, {n} public input(s): ours {ours} gas, snarkjs {theirs} gas")
    # EIP-1108: pairing 45,000 + 4 x 34,000, ecMul 6,000 and ecAdd 150 per input, on top of the 21,000 of a
    # transaction: what any verifier must pay (so the precompiles really ran).
    assert 21_000 + 181_000 + 6_150 * n < ours <= theirs


def test_the_gas_estimate_is_enough_for_ours_and_too_little_for_snarkjs_s(chain, keys):
    w3, contracts = chain
    arguments = verifier_arguments(keys[1].proof, keys[1].public)
    sender = w3.eth.accounts[0]
    # Ours reverts when a precompile runs out of gas, so eth_estimateGas finds a limit at which it answers true.
    ours = contracts["Ours1"].functions.verifyProof(*arguments)
    assert _outcome(contracts["Ours1"], arguments, gas=ours.estimate_gas({"from": sender})) is True
    assert _outcome(contracts["Ours1"], arguments, gas=150_000) == ("PrecompileFailed", 8)
    # snarkjs's answers false when the pairing runs out of gas: the estimate is a limit where it says false.
    theirs = contracts["Theirs1"].functions.verifyProof(*arguments)
    assert _outcome(contracts["Theirs1"], arguments, gas=theirs.estimate_gas({"from": sender})) is False


# --- render: what it refuses ------------------------------------------------------------------------------

def test_a_forgeable_key_is_not_rendered(keys):
    from dataclasses import replace

    vk = keys[1].vk
    with pytest.raises(BadPoint, match="gamma_2 equals delta_2"):
        render_verifier(replace(vk, delta_g2=vk.gamma_g2))
    with pytest.raises(BadPoint, match="leaves public input 1 unbound"):
        render_verifier(replace(vk, gamma_abc_g1=(vk.gamma_abc_g1[0], None)))


@pytest.mark.parametrize("name", ["", "1Verifier", "Verifier {", "a-b"])
def test_a_contract_name_that_is_not_an_identifier_is_refused(keys, name):
    with pytest.raises(ValueError, match="not a Solidity identifier"):
        render_verifier(keys[1].vk, contract_name=name)


# --- calldata: snarkjs's text ------------------------------------------------------------------------------

def test_calldata_is_byte_identical_to_snarkjs_soliditycalldata(work, keys):
    other = setup(keys[1].circuit.r1cs, quiet=True)
    proofs = [(keys[n].proof, keys[n].public) for n in (*SIZES, 0)]
    proofs += [prove(keys[6].pk, keys[6].witness), prove(other, keys[1].witness)]
    for i, (proof, public) in enumerate(proofs):
        snarkjs.write_proof(proof, work / f"proof{i}.json")
        snarkjs.write_public_inputs(public, work / f"public{i}.json")
        done = _snarkjs("zkey", "export", "soliditycalldata", f"public{i}.json", f"proof{i}.json", cwd=work)
        assert done.returncode == 0, done.stderr
        ours = solidity_calldata(proof, public)
        assert done.stdout == ours + "\n"
        # The text is the arguments verifyProof takes, as JSON list items.
        words = json.loads(f"[{ours}]")
        expected = verifier_arguments(proof, public) + (() if public else ([],))
        assert [_ints(w) for w in words] == [list(e) if not isinstance(e, list) else e for e in expected]


def _ints(value):
    return [_ints(v) for v in value] if isinstance(value, list) else int(value, 16)


# --- in-process py-evm (eth-tester): explicit gas, few calls (a pairing takes about 0.7 s) -------------------

def _tester_web3(vm_class=None):
    from eth_tester import EthereumTester, PyEVMBackend
    from web3 import Web3

    backend = PyEVMBackend(vm_configuration=((0, vm_class),)) if vm_class else PyEVMBackend()
    return Web3(Web3.EthereumTesterProvider(EthereumTester(backend)))


def _prague_without_bn254_precompiles():
    """py-evm's Prague with 0x06, 0x07 and 0x08 taken out: calls to them succeed with no data, as on a chain
    that lacks them. (Reaches into py-evm's class layout: computation_class._precompiles.)"""
    from eth.vm.forks.prague import PragueVM
    from eth.vm.forks.prague.computation import PragueComputation
    from eth.vm.forks.prague.state import PragueState

    gone = {i.to_bytes(20, "big") for i in (6, 7, 8)}

    class Computation(PragueComputation):
        _precompiles = {k: v for k, v in PragueComputation._precompiles.items() if k not in gone}

    class State(PragueState):
        computation_class = Computation

    class VM(PragueVM):
        _state_class = State

    return VM


def test_on_py_evm_ours_accepts_a_valid_proof_and_names_a_public_input_over_r(keys):
    w3 = _tester_web3()
    ours = _deploy(w3, compile_verifier(keys[1].vk))
    a, b, c, public = verifier_arguments(keys[1].proof, keys[1].public)
    assert _outcome(ours, (a, b, c, public)) is True
    assert _outcome(ours, (a, b, c, [public[0] + R])) == ("PublicInputNotInField", 0)


def test_without_the_precompiles_ours_reverts_where_snarkjs_s_answers_true(compiled, keys):
    w3 = _tester_web3(_prague_without_bn254_precompiles())
    ours, theirs = _deploy(w3, compiled["Ours1"]), _deploy(w3, compiled["Theirs1"])
    a, b, c, public = verifier_arguments(keys[1].proof, keys[1].public)
    # Any proof will do on such a chain: snarkjs's reads its own pairing input back as the answer, and its
    # first word (A.x) is taken as true when odd. Here a made-up "proof" whose A.x is odd.
    nonsense = ([3, 5], b, c, [12345])
    assert _outcome(ours, nonsense) == ("PrecompileFailed", 7)
    assert _outcome(theirs, nonsense) is True
    assert _outcome(ours, (a, b, c, public)) == ("PrecompileFailed", 7)
