"""The Solidity Groth16 verifier rendered from a `VerifyingKey`, and proofs written as its calldata.

Owns the contract's text (our own template, the key baked in as constants) and snarkjs's calldata text;
not the compiler settings (verifier/solc.py) nor any chain (zkrollup/).

Sources: EIP-196 (ecAdd 0x06, ecMul 0x07), EIP-197 (pairing check 0x08, its G2 encoding: imaginary part
first), EIP-1108 (their gas prices: 150, 6,000, 45,000 + 34,000 per pair); snarkjs 0.7's
`templates/verifier_groth16.sol.ejs` (the ABI, kept identical so the two contracts are interchangeable) and
`src/groth16_exportsoliditycalldata.js` (the calldata text, reproduced byte for byte).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Sequence

from eth_hash.auto import keccak

from verifier.curve import CURVE_ORDER, FIELD_MODULUS
from verifier.groth16 import check_public_inputs, prepare_verifying_key
from verifier.snarkjs import proof_to_json
from verifier.types import G2, MalformedInput, Proof, VerifyingKey

__all__ = ["ERRORS", "ContractError", "render_verifier", "compile_verifier", "verifier_arguments",
           "solidity_calldata", "error_selector"]

_IDENTIFIER = re.compile(r"[A-Za-z_$][A-Za-z0-9_$]*")


@dataclass(frozen=True)
class ContractError:
    """A custom error the rendered contract reverts with: its Solidity signature and what it means."""

    signature: str
    meaning: str

    @property
    def name(self) -> str:
        return self.signature.split("(")[0]


#: The contract's custom errors, by name. Every malformed call reverts with one of them; a well-formed
#: proof that does not verify returns false.
ERRORS = {e.name: e for e in (
    ContractError("PublicInputNotInField(uint256)",
                  "public input `index` (0-based) is not below the scalar field modulus r"),
    ContractError("ProofCoordinateNotInField(uint256)",
                  "proof coordinate `index` is not below the base field modulus q; indices follow the "
                  "calldata: 0-1 A (x, y), 2-5 B (x.im, x.re, y.im, y.re), 6-7 C (x, y)"),
    ContractError("PrecompileFailed(uint256)",
                  "the call to precompile 0x06 (ecAdd), 0x07 (ecMul) or 0x08 (pairing) failed or answered "
                  "with the wrong length: a proof point off its curve or B outside G2 (0x08), too little gas, "
                  "or a chain without the EIP-196/197 precompiles (which answers success with no data)"),
)}


def error_selector(signature: str) -> int:
    """The 4-byte selector of a Solidity error or function signature: keccak256(signature)[:4], as an int."""
    return int.from_bytes(keccak(signature.encode())[:4], "big")


def _g2_words(point: G2) -> tuple[int, int, int, int]:
    """EIP-197's encoding of a G2 point: x.im, x.re, y.im, y.re (our tuples are real part first)."""
    (x_re, x_im), (y_re, y_im) = point
    return (x_im, x_re, y_im, y_re)


def _negate_g2(point: G2) -> G2:
    x, (y_re, y_im) = point
    return (x, ((-y_re) % FIELD_MODULUS, (-y_im) % FIELD_MODULUS))


# Memory layout of verifyProof (bytes). The pairing input is four (G1, G2) pairs of 6 words each, written
# in place from 0x00; vk_x accumulates in the first pair's G1 slot and ecMul works in the slot after it
# (overwritten by -gamma once the public inputs are folded in), so no word is copied twice.
_VK_X = 0x00
_MUL_IN = 0x40          # IC_i.x, IC_i.y, s_i  ->  s_i * IC_i at 0x40, right after vk_x: ecAdd reads 0x00..0x80
_PAIR = 0xC0            # bytes per (G1, G2) pair


def _word(value: int) -> str:
    return f"0x{value:064x}"


def render_verifier(vk: VerifyingKey, *, contract_name: str = "Groth16Verifier") -> str:
    """The Solidity source of a Groth16 verifier for `vk` (BN254), its points baked in as constants.

    ABI, as snarkjs's verifier for the same key (N = vk.n_public >= 1):
    `verifyProof(uint256[2] _pA, uint256[2][2] _pB, uint256[2] _pC, uint256[N] _pubSignals) view returns (bool)`,
    _pB in EIP-197 order ([[x.im, x.re], [y.im, y.re]], as `snarkjs zkey export soliditycalldata` writes it).
    A key with no public inputs gets `verifyProof(_pA, _pB, _pC)` (Solidity has no `uint256[0]`; snarkjs's
    template renders one and does not compile).

    The contract checks e(A, B) e(alpha, -beta) e(vk_x, -gamma) e(C, -delta) = 1 with
    vk_x = IC_0 + sum s_i IC_i (ecMul, ecAdd, one 4-pair pairing call). It returns true only when the
    pairing precompile answers exactly 1, false for a well-formed proof that does not verify, and reverts
    with a custom error (ERRORS) for a public input >= r, a proof coordinate >= q, or any precompile call
    that fails or answers with the wrong length. Compiles with solc >= 0.8.4 (custom errors).

    The key is checked first as `verifier.groth16.verify` checks it (points on their curves and in their
    groups; alpha, beta, gamma, delta and IC_i (i >= 1) not at infinity; gamma != delta, which would let
    anyone forge proofs): BadPoint / MalformedInput otherwise. ValueError for a contract name that is not
    a Solidity identifier.
    """
    if not isinstance(contract_name, str) or not _IDENTIFIER.fullmatch(contract_name):
        raise ValueError(f"contract name {contract_name!r} is not a Solidity identifier")
    prepare_verifying_key(vk)
    n = vk.n_public
    ic = [point if point is not None else (0, 0) for point in vk.gamma_abc_g1]  # IC_0 may be O: EIP-196's (0, 0)

    constants = [
        "    // Verifying key. G2 points in EIP-197 order (x.im, x.re, y.im, y.re); beta, gamma and delta are",
        "    // negated so that the proof's A enters the pairing as it is.",
        f"    uint256 internal constant ALPHA_X = {_word(vk.alpha_g1[0])};",
        f"    uint256 internal constant ALPHA_Y = {_word(vk.alpha_g1[1])};",
    ]
    for name, point in (("BETA", vk.beta_g2), ("GAMMA", vk.gamma_g2), ("DELTA", vk.delta_g2)):
        for part, word in zip(("X_IM", "X_RE", "Y_IM", "Y_RE"), _g2_words(_negate_g2(point))):
            constants.append(f"    uint256 internal constant NEG_{name}_{part} = {_word(word)};")
    for i, (x, y) in enumerate(ic):
        constants.append(f"    uint256 internal constant IC{i}_X = {_word(x)};")
        constants.append(f"    uint256 internal constant IC{i}_Y = {_word(y)};")

    def fail(error: str, argument) -> str:
        return f"fail({error_selector(ERRORS[error].signature):#010x}, {argument})"

    body = [
        "            // Reverts with a custom error: its selector, then one uint256 argument.",
        "            function fail(selector, argument) {",
        "                mstore(0x00, shl(224, selector))",
        "                mstore(0x04, argument)",
        "                revert(0x00, 0x24)",
        "            }",
        "",
    ]
    if n:
        body.append("            // Every public input below r: s and s + r must not both pass as one statement.")
        for i in range(n):
            body.append(f"            if iszero(lt(calldataload({_signal(i)}), R)) "
                        f"{{ {fail('PublicInputNotInField', i)} }}")
        body.append("")
    in_field = "lt(calldataload(_pA), Q)"
    for i in range(1, 8):
        in_field = f"and({in_field}, lt(calldataload(add(_pA, {32 * i})), Q))"
    body += [
        "            // Every proof coordinate below q (the precompiles would refuse them too, but unnamed).",
        "            // _pA, _pB and _pC are consecutive in the calldata: 8 words from _pA. One branch when all",
        "            // are in range; the loop naming the first bad one runs only on the way to a revert.",
        f"            if iszero({in_field}) {{",
        "                for { let i := 0 } 1 { i := add(i, 1) } {",
        "                    if iszero(lt(calldataload(add(_pA, shl(5, i))), Q)) "
        f"{{ {fail('ProofCoordinateNotInField', 'i')} }}",
        "                }",
        "            }",
        "",
        "            // vk_x = IC_0 + sum s_i IC_i, accumulated at 0x00 (EIP-196: ecMul 0x07, ecAdd 0x06). Success",
        "            // and the answer's length are tested one after the other: Yul evaluates arguments right to",
        "            // left, so and(staticcall(...), eq(returndatasize(), ...)) would read the length first.",
        f"            mstore({_VK_X:#04x}, IC0_X)",
        f"            mstore({_VK_X + 0x20:#04x}, IC0_Y)",
    ]
    for i in range(1, n + 1):
        body += [
            f"            mstore({_MUL_IN:#04x}, IC{i}_X)",
            f"            mstore({_MUL_IN + 0x20:#04x}, IC{i}_Y)",
            f"            mstore({_MUL_IN + 0x40:#04x}, calldataload({_signal(i - 1)}))",
            f"            if iszero(staticcall(gas(), 0x07, {_MUL_IN:#04x}, 0x60, {_MUL_IN:#04x}, 0x40)) "
            f"{{ {fail('PrecompileFailed', '0x07')} }}",
            f"            if iszero(eq(returndatasize(), 0x40)) {{ {fail('PrecompileFailed', '0x07')} }}",
            f"            if iszero(staticcall(gas(), 0x06, {_VK_X:#04x}, 0x80, {_VK_X:#04x}, 0x40)) "
            f"{{ {fail('PrecompileFailed', '0x06')} }}",
            f"            if iszero(eq(returndatasize(), 0x40)) {{ {fail('PrecompileFailed', '0x06')} }}",
        ]

    pair = [f"            // Pairing input from 0x00: (vk_x, -gamma) (A, B) (alpha, -beta) (C, -delta), "
            f"{_PAIR:#x} bytes a pair."]
    for offset, name in zip(range(0x40, 0xC0, 0x20), ("X_IM", "X_RE", "Y_IM", "Y_RE")):
        pair.append(f"            mstore({offset:#05x}, NEG_GAMMA_{name})")
    pair.append(f"            calldatacopy({_PAIR:#05x}, _pA, 0xc0)   // A, then B (already in EIP-197 order)")
    pair += [f"            mstore({2 * _PAIR:#05x}, ALPHA_X)", f"            mstore({2 * _PAIR + 0x20:#05x}, ALPHA_Y)"]
    for offset, name in zip(range(2 * _PAIR + 0x40, 3 * _PAIR, 0x20), ("X_IM", "X_RE", "Y_IM", "Y_RE")):
        pair.append(f"            mstore({offset:#05x}, NEG_BETA_{name})")
    pair.append(f"            calldatacopy({3 * _PAIR:#05x}, _pC, 0x40)")
    for offset, name in zip(range(3 * _PAIR + 0x40, 4 * _PAIR, 0x20), ("X_IM", "X_RE", "Y_IM", "Y_RE")):
        pair.append(f"            mstore({offset:#05x}, NEG_DELTA_{name})")
    pair += [
        "",
        "            // EIP-197: one 32-byte word, 1 when the product of pairings is 1, else 0.",
        f"            if iszero(staticcall(gas(), 0x08, 0x00, {4 * _PAIR:#x}, 0x00, 0x20)) "
        f"{{ {fail('PrecompileFailed', '0x08')} }}",
        f"            if iszero(eq(returndatasize(), 0x20)) {{ {fail('PrecompileFailed', '0x08')} }}",
        "            mstore(0x00, eq(mload(0x00), 1))",
        "            return(0x00, 0x20)",
    ]
    signals = f", uint256[{n}] calldata _pubSignals" if n else ""
    errors = []
    for e in ERRORS.values():
        errors.append(f"    /// {e.meaning}")
        errors.append(f"    error {e.signature.replace('(uint256)', '(uint256 ' + _argument(e) + ')')};")

    return "\n".join([
        "// SPDX-License-Identifier: MIT",
        "// Groth16 verifier over BN254 for one verifying key, rendered by zkrollup (verifier/solidity.py).",
        "// Same ABI as snarkjs's verifier; EIP-196/197 precompiles; reverts on malformed input.",
        "pragma solidity >=0.8.4 <0.9.0;",
        "",
        f"contract {contract_name} {{",
        *errors,
        "",
        "    /// BN254 scalar field modulus r (public inputs live in F_r).",
        f"    uint256 internal constant R = {CURVE_ORDER};",
        "    /// BN254 base field modulus q (point coordinates live in F_q).",
        f"    uint256 internal constant Q = {FIELD_MODULUS};",
        "",
        *constants,
        "",
        f"    /// @notice Whether (_pA, _pB, _pC) is a valid Groth16 proof for the {n} public input(s) under this key.",
        "    /// @dev _pB is [[x.im, x.re], [y.im, y.re]] (EIP-197). Reverts with a custom error on malformed input.",
        f"    function verifyProof(uint256[2] calldata _pA, uint256[2][2] calldata _pB, uint256[2] calldata _pC"
        f"{signals}) public view returns (bool) {{",
        "        // Memory from 0x00 is ours: this block ends in return or revert, so no Solidity code runs after it.",
        "        assembly {",
        *body,
        "",
        *pair,
        "        }",
        "    }",
        "}",
        "",
    ])


def _signal(i: int) -> str:
    """The calldata offset of public input i, in Yul."""
    return f"add(_pubSignals, {32 * i})" if i else "_pubSignals"


def _argument(error: ContractError) -> str:
    return "precompile" if error.name == "PrecompileFailed" else "index"


def compile_verifier(vk: VerifyingKey, *, contract_name: str = "Groth16Verifier"):
    """The rendered verifier compiled with verifier/solc.py: a `CompiledContract` (abi, bytecode, runtime).

    Raises what `render_verifier` raises, and `SolcError` when Node/solc-js is missing or compilation fails."""
    from verifier.solc import compile_sources

    return compile_sources({f"{contract_name}.sol": render_verifier(vk, contract_name=contract_name)})[contract_name]


def verifier_arguments(proof: Proof, public_inputs: Sequence[int]):
    """`(pA, pB, pC, pubSignals)` as Python ints for a web3 call of `verifyProof`: pA = [x, y],
    pB = [[x.im, x.re], [y.im, y.re]] (EIP-197), pC = [x, y], pubSignals = the inputs (omitted, so a
    3-tuple, when there are none). A point at infinity is written as snarkjs writes it ((0, 1) in G1),
    which the precompiles refuse. Raises BadPoint for a point off its curve, BadPublicInput for an input
    outside [0, r), MalformedInput for a wrong type."""
    if not isinstance(proof, Proof):
        raise MalformedInput(f"expected a Proof, got {type(proof).__name__}")
    if isinstance(public_inputs, (str, bytes)) or not isinstance(public_inputs, Sequence):
        raise MalformedInput(f"public inputs: expected a sequence of ints, got {type(public_inputs).__name__}")
    inputs = check_public_inputs(public_inputs, len(public_inputs))
    obj = proof_to_json(proof)
    a = [int(v) for v in obj["pi_a"][:2]]
    (x_re, x_im), (y_re, y_im) = ((int(c) for c in fq2) for fq2 in obj["pi_b"][:2])
    b = [[x_im, x_re], [y_im, y_re]]
    c = [int(v) for v in obj["pi_c"][:2]]
    return (a, b, c, list(inputs)) if inputs else (a, b, c)


def solidity_calldata(proof: Proof, public_inputs: Sequence[int]) -> str:
    """The text `snarkjs zkey export soliditycalldata public.json proof.json` prints for this proof and these
    inputs, byte for byte, without the final newline that `console.log` adds:
    `["0xA.x", "0xA.y"],[["0xB.x.im", ...],[...]],["0xC.x", "0xC.y"],["0xs_1",...]` (64 hex digits each).
    Raises as `verifier_arguments`."""
    arguments = verifier_arguments(proof, public_inputs)
    a, b, c = arguments[:3]
    inputs = arguments[3] if len(arguments) == 4 else []

    def word(value: int) -> str:
        return f'"0x{value:064x}"'

    return (f"[{word(a[0])}, {word(a[1])}],"
            f"[[{word(b[0][0])}, {word(b[0][1])}],[{word(b[1][0])}, {word(b[1][1])}]],"
            f"[{word(c[0])}, {word(c[1])}],"
            f"[{','.join(word(s) for s in inputs)}]")
