"""snarkjs's JSON files for Groth16: verification_key.json, proof.json and public.json, read and written.

Written byte for byte as the snarkjs CLI writes them (bfj with `space: 1`, no final newline).
Reading checks shape, ranges and curve equations, naming the key; every number must be its canonical
decimal string (`verifier.types.canonical_decimal`: one text per number); G2 subgroup checks are `verify`'s.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any, Optional, Sequence, Union

from verifier.curve import (
    CURVE_ORDER,
    FIELD_MODULUS,
    Gt,
    check_g1,
    check_g2_on_curve,
    default_backend_name,
    get_backend,
)
from verifier.types import (G1, G2, BadPoint, BadPublicInput, MalformedInput, Proof, VerifierInputError,
                            VerifyingKey, canonical_decimal)

PathLike = Union[str, Path]


# ---------------------------------------------------------------------------------------------
# Text: snarkjs writes every file with bfj.write(path, obj, {space: 1}).


def dumps(value: Any) -> str:
    """JSON text as snarkjs's CLI writes it: one-space indentation, `"key": value`, no final newline.

    Equal to JavaScript's JSON.stringify(value, null, 1) except for empty containers, which bfj
    writes across two lines ("[\\n]"), as here.
    """
    return _dumps(value, "")


def _dumps(value: Any, indentation: str) -> str:
    inner = indentation + " "
    if isinstance(value, dict):
        items = [f'\n{inner}{json.dumps(str(key))}: {_dumps(item, inner)}' for key, item in value.items()]
        return "{" + ",".join(items) + f"\n{indentation}}}"
    if isinstance(value, (list, tuple)):
        items = [f"\n{inner}{_dumps(item, inner)}" for item in value]
        return "[" + ",".join(items) + f"\n{indentation}]"
    if isinstance(value, str):
        return json.dumps(value)
    if isinstance(value, bool) or value is None:
        return json.dumps(value)
    if isinstance(value, int):
        return str(value)
    raise TypeError(f"snarkjs JSON holds strings, ints, lists and objects, not {type(value).__name__}")


def _write_text(path: PathLike, value: Any) -> None:
    Path(path).write_text(dumps(value), encoding="utf-8")


def _read_json(path: PathLike) -> Any:
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as error:
        raise MalformedInput(f"{path}: cannot read: {error.strerror or error}") from error
    except UnicodeDecodeError as error:
        raise MalformedInput(f"{path}: not UTF-8 text") from error
    if _nesting_depth(text) > _MAX_NESTING:
        raise MalformedInput(f"{path}: JSON nested more than {_MAX_NESTING} deep; snarkjs files need 4")
    try:
        return json.loads(text)
    except json.JSONDecodeError as error:
        raise MalformedInput(f"{path}: not valid JSON ({error.msg} at line {error.lineno} column {error.colno})") from error
    except ValueError as error:  # e.g. an integer literal past Python's 4300-digit conversion limit
        raise MalformedInput(f"{path}: a number in the JSON is far too large to be a field element") from error


# py_ecc raises the interpreter's recursion limit to 100000 when imported, so json.loads on deeply
# nested input overflows the C stack (a segfault) before any RecursionError: measure depth first.
_MAX_NESTING = 16
_JSON_STRING = re.compile(r'"(?:[^"\\]|\\.)*"')
_BRACKET = re.compile(r"[\[\]{}]")


def _nesting_depth(text: str) -> int:
    depth = deepest = 0
    for bracket in _BRACKET.findall(_JSON_STRING.sub('""', text)):
        depth += 1 if bracket in "[{" else -1
        deepest = max(deepest, depth)
    return deepest


def _read(path: PathLike, parse):
    """Parse the JSON file at `path`; any refusal names the file first, for the CLI's one line."""
    obj = _read_json(path)
    try:
        return parse(obj)
    except VerifierInputError as error:
        raise type(error)(f"{path}: {error}") from error


# ---------------------------------------------------------------------------------------------
# Numbers and points.


def _coordinate(value: Any, key: str) -> int:
    """A base-field coordinate: its canonical decimal string, < q (BadPoint otherwise)."""
    return canonical_decimal(value, key, below=FIELD_MODULUS, below_name="the base field modulus q",
                             too_large=BadPoint)


def _list(value: Any, key: str, lengths: Sequence[int]) -> list:
    if not isinstance(value, list) or len(value) not in lengths:
        wanted = " or ".join(str(n) for n in lengths)
        raise MalformedInput(f"{key}: expected a list of {wanted} elements")
    return value


def _fq2(value: Any, key: str) -> tuple[int, int]:
    c0, c1 = _list(value, key, (2,))
    return (_coordinate(c0, f"{key}[0]"), _coordinate(c1, f"{key}[1]"))


def g1_from_json(value: Any, key: str) -> G1:
    """[x, y, z] (z = "1"; z = "0" is infinity, as ffjavascript's fromObject reads it) or [x, y]."""
    items = _list(value, key, (2, 3))
    x = _coordinate(items[0], f"{key}[0]")
    y = _coordinate(items[1], f"{key}[1]")
    z = _coordinate(items[2], f"{key}[2]") if len(items) == 3 else 1
    if z == 0:
        return None
    if z != 1:
        # ffjavascript would read other z as Jacobian; no tool writes them, and refusing keeps one meaning.
        raise MalformedInput(f"{key}: z must be 1 (affine) or 0 (infinity)")
    point = (x, y)
    check_g1(point, key)
    return point


def g2_from_json(value: Any, key: str) -> G2:
    """[[x0, x1], [y0, y1], [z0, z1]] with z = 1 (z = 0: infinity), coefficients real part first."""
    items = _list(value, key, (2, 3))
    x = _fq2(items[0], f"{key}[0]")
    y = _fq2(items[1], f"{key}[1]")
    z = _fq2(items[2], f"{key}[2]") if len(items) == 3 else (1, 0)
    if z == (0, 0):
        return None
    if z != (1, 0):
        raise MalformedInput(f"{key}: z must be [1, 0] (affine) or [0, 0] (infinity)")
    point = (x, y)
    check_g2_on_curve(point, key)
    return point


def g1_to_json(point: G1) -> list[str]:
    """ffjavascript's toObject of an affine point, decimal strings; infinity is [0, 1, 0]."""
    if point is None:
        return ["0", "1", "0"]
    return [str(point[0]), str(point[1]), "1"]


def g2_to_json(point: G2) -> list[list[str]]:
    if point is None:
        return [["0", "0"], ["1", "0"], ["0", "0"]]
    (x0, x1), (y0, y1) = point
    return [[str(x0), str(x1)], [str(y0), str(y1)], ["1", "0"]]


def gt_to_json(value: Gt) -> list[list[list[str]]]:
    return [[[str(c) for c in fq2] for fq2 in fq6] for fq6 in value]


def _object(value: Any, what: str) -> dict:
    if not isinstance(value, dict):
        raise MalformedInput(f"{what}: expected a JSON object")
    return value


def _key(obj: dict, key: str) -> Any:
    if key not in obj:
        raise MalformedInput(f"missing key {key!r}")
    return obj[key]


def _check_header(obj: dict) -> None:
    if _key(obj, "protocol") != "groth16":
        raise MalformedInput(f"protocol: expected \"groth16\", got {obj['protocol']!r:.40}")
    if _key(obj, "curve") != "bn128":
        raise MalformedInput(f"curve: expected \"bn128\" (BN254), got {obj['curve']!r:.40}")


# ---------------------------------------------------------------------------------------------
# verification_key.json


def verifying_key_from_json(obj: Any) -> VerifyingKey:
    """A `VerifyingKey` from the parsed verification_key.json.

    vk_alphabeta_12 is checked for shape and range but not compared with e(alpha, beta): snarkjs's
    verifier does not use it either, and ours recomputes it when writing.
    """
    obj = _object(obj, "verification key")
    _check_header(obj)
    n_public = _key(obj, "nPublic")
    if not isinstance(n_public, int) or isinstance(n_public, bool) or n_public < 0:
        raise MalformedInput(f"nPublic: expected a non-negative integer, got {n_public!r:.40}")
    ic = _key(obj, "IC")
    if not isinstance(ic, list):
        raise MalformedInput("IC: expected a list of G1 points")
    if len(ic) != n_public + 1:
        raise MalformedInput(f"IC: nPublic is {n_public}, so IC needs {n_public + 1} points, not {len(ic)}")
    alphabeta = _list(_key(obj, "vk_alphabeta_12"), "vk_alphabeta_12", (2,))
    for i, fq6 in enumerate(alphabeta):
        for j, fq2 in enumerate(_list(fq6, f"vk_alphabeta_12[{i}]", (3,))):
            _fq2(fq2, f"vk_alphabeta_12[{i}][{j}]")
    return VerifyingKey(
        alpha_g1=g1_from_json(_key(obj, "vk_alpha_1"), "vk_alpha_1"),
        beta_g2=g2_from_json(_key(obj, "vk_beta_2"), "vk_beta_2"),
        gamma_g2=g2_from_json(_key(obj, "vk_gamma_2"), "vk_gamma_2"),
        delta_g2=g2_from_json(_key(obj, "vk_delta_2"), "vk_delta_2"),
        gamma_abc_g1=tuple(g1_from_json(point, f"IC[{i}]") for i, point in enumerate(ic)),
    )


def verifying_key_to_json(vk: VerifyingKey, *, backend: Optional[str] = None) -> dict:
    """verification_key.json's object, keys in snarkjs's order; vk_alphabeta_12 = e(alpha, beta) from `backend`."""
    alphabeta = get_backend(backend or default_backend_name()).pairing(vk.alpha_g1, vk.beta_g2)
    return {
        "protocol": "groth16",
        "curve": "bn128",
        "nPublic": vk.n_public,
        "vk_alpha_1": g1_to_json(vk.alpha_g1),
        "vk_beta_2": g2_to_json(vk.beta_g2),
        "vk_gamma_2": g2_to_json(vk.gamma_g2),
        "vk_delta_2": g2_to_json(vk.delta_g2),
        "vk_alphabeta_12": gt_to_json(alphabeta),
        "IC": [g1_to_json(point) for point in vk.gamma_abc_g1],
    }


def read_verifying_key(path: PathLike) -> VerifyingKey:
    return _read(path, verifying_key_from_json)


def write_verifying_key(vk: VerifyingKey, path: PathLike, *, backend: Optional[str] = None) -> None:
    _write_text(path, verifying_key_to_json(vk, backend=backend))


# ---------------------------------------------------------------------------------------------
# proof.json


def proof_from_json(obj: Any) -> Proof:
    obj = _object(obj, "proof")
    _check_header(obj)
    return Proof(
        a=g1_from_json(_key(obj, "pi_a"), "pi_a"),
        b=g2_from_json(_key(obj, "pi_b"), "pi_b"),
        c=g1_from_json(_key(obj, "pi_c"), "pi_c"),
    )


def proof_to_json(proof: Proof) -> dict:
    """proof.json's object, keys in the order snarkjs's groth16 prove leaves them."""
    check_g1(proof.a, "pi_a")
    check_g2_on_curve(proof.b, "pi_b")
    check_g1(proof.c, "pi_c")
    return {
        "pi_a": g1_to_json(proof.a),
        "pi_b": g2_to_json(proof.b),
        "pi_c": g1_to_json(proof.c),
        "protocol": "groth16",
        "curve": "bn128",
    }


def read_proof(path: PathLike) -> Proof:
    return _read(path, proof_from_json)


def write_proof(proof: Proof, path: PathLike) -> None:
    _write_text(path, proof_to_json(proof))


# ---------------------------------------------------------------------------------------------
# public.json


def public_inputs_from_json(obj: Any) -> tuple[int, ...]:
    """public.json: a list of canonical decimal strings, each < r (how many is `verify`'s to check against
    the key). NonCanonicalDecimal names a value not written as snarkjs writes it; BadPublicInput one >= r."""
    if not isinstance(obj, list):
        raise MalformedInput("public inputs: expected a JSON list of decimal strings")
    return tuple(canonical_decimal(item, f"public input {i}", below=CURVE_ORDER,
                                   below_name="the scalar field modulus r", too_large=BadPublicInput)
                 for i, item in enumerate(obj))


def public_inputs_to_json(public_inputs: Sequence[int]) -> list[str]:
    for i, value in enumerate(public_inputs):
        if not isinstance(value, int) or isinstance(value, bool) or not 0 <= value < CURVE_ORDER:
            raise BadPublicInput(f"public input {i}: not an integer in [0, r)")
    return [str(value) for value in public_inputs]


def read_public_inputs(path: PathLike) -> tuple[int, ...]:
    return _read(path, public_inputs_from_json)


def write_public_inputs(public_inputs: Sequence[int], path: PathLike) -> None:
    _write_text(path, public_inputs_to_json(public_inputs))
