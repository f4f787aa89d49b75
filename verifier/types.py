"""Groth16 data as the verifier sees it: `Proof`, `VerifyingKey`, the errors it raises, and the one
reader of numbers written as text (`canonical_decimal`) that every file format of ours uses.

Points are plain Python ints (affine, standard form, infinity as None) so that nothing numeric of
the prover's leaks in. Curve membership is checked by `verifier.groth16`, not here: only shape.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Optional

# An affine G1 point (x, y) over Fq, or None for the point at infinity.
G1 = Optional[tuple[int, int]]
# An affine G2 point ((x0, x1), (y0, y1)) over Fq2 with x = x0 + x1*u (py_ecc's coefficient order,
# real part first; EIP-197 calldata is the other way round), or None for the point at infinity.
G2 = Optional[tuple[tuple[int, int], tuple[int, int]]]


class VerifierInputError(ValueError):
    """Input the verifier refuses to judge: the CLI reports it in one line with exit code 2."""


class MalformedInput(VerifierInputError):
    """Input of the wrong shape: unreadable JSON, a missing key, a non-decimal string, a bad type."""


class BadPoint(VerifierInputError):
    """A point with a coordinate >= q, off its curve, or outside the order-r subgroup."""


class BadPublicInput(VerifierInputError):
    """A public input that is not a field element (negative or >= r), or the wrong number of them."""


class NonCanonicalDecimal(MalformedInput):
    """A number not written as its one canonical decimal string; the message names the rule it breaks."""


class InvalidProof(Exception):
    """A well-formed proof that does not verify. Not a `VerifierInputError`: the input was fine."""


# ---------------------------------------------------------------------------------------------
# Numbers as text. One text per number: "033" and "33" (or " 33", "0x21", 33.0) naming one field
# element would let an application keyed on the text of public.json see two statements where the
# pairing sees one. The only accepted spelling is the one snarkjs and circomlibjs write
# (JavaScript's BigInt.toString()): ASCII digits, no sign, no leading zero except "0" itself.

_CANONICAL = re.compile(r"0|[1-9][0-9]*")
_ASCII_DIGITS = frozenset("0123456789")
_BASE_PREFIX = re.compile(r"[+-]?0[xXoObB]")
_JSON_TYPE = {bool: "a JSON boolean", type(None): "null", int: "a JSON number", float: "a JSON number",
              list: "a JSON array", dict: "a JSON object"}


def _shown(text: str) -> str:
    """The text as JSON would spell it (quotes, escapes: always one line); past 100 characters, cut short."""
    return json.dumps(text) if len(text) <= 100 else json.dumps(text[:97])[:-1] + '..."'


def _broken_rule(text: str) -> Optional[str]:
    """Which rule of canonical decimals `text` breaks, or None when it is canonical."""
    if _CANONICAL.fullmatch(text):
        return None
    if text == "":
        return "empty"
    if any(c.isspace() for c in text):
        return "whitespace"
    if _BASE_PREFIX.match(text):
        return "hex, octal or binary prefix"
    if text[0] in "+-":
        return "a sign"
    if (any(c in ".eE" for c in text) and any(c in _ASCII_DIGITS for c in text)
            and all(c in _ASCII_DIGITS or c in ".eE+-" for c in text)):
        return "decimal point or exponent"
    if text[0] == "0" and all(c in _ASCII_DIGITS for c in text):
        return "leading zero"
    odd = next(c for c in text if c not in _ASCII_DIGITS)
    if odd.isdigit():
        return f"non-ASCII digit {odd!r}"
    return f"{odd!r} is not a digit"


def canonical_decimal(value: object, where: str, *, below: int, below_name: str,
                      too_large: type[VerifierInputError] = MalformedInput) -> int:
    """The integer in [0, below) that `value` spells, when `value` is its canonical decimal string.

    `value` is a parsed JSON value (or any object); `where` names it in errors (e.g. "pi_a[0]",
    "public input 1"). Canonical means what snarkjs writes: a string of ASCII digits, no leading
    zero except "0" itself, no sign, whitespace, hex/octal/binary prefix, decimal point or exponent,
    and a string, not a JSON number. Raises NonCanonicalDecimal naming the rule broken, e.g.
    `public input 1: "033" is not a canonical decimal (leading zero)`; a canonical value >= below
    raises `too_large` saying it is not less than `below_name` (checked on the length first, so an
    over-long string is never converted).
    """
    if not isinstance(value, str):
        kind = next((name for t, name in _JSON_TYPE.items() if type(value) is t), type(value).__name__)
        small = isinstance(value, (bool, float)) or (isinstance(value, int) and value.bit_length() < 512)
        shown = f" ({json.dumps(value)[:40]})" if small else ""
        raise NonCanonicalDecimal(f"{where}: expected a decimal string, got {kind}{shown}"
                                  + ("; snarkjs writes numbers as strings" if kind == "a JSON number" else ""))
    rule = _broken_rule(value)
    if rule is not None:
        raise NonCanonicalDecimal(f"{where}: {_shown(value)} is not a canonical decimal ({rule})")
    if len(value) > len(str(below)):
        raise too_large(f"{where}: a decimal of {len(value)} digits is not less than {below_name}")
    if int(value) >= below:
        raise too_large(f"{where}: {_shown(value)} is not less than {below_name}")
    return int(value)


def _is_int(value: object) -> bool:
    # bool is an int subclass and numpy integers are not ints: both would hide a caller's bug.
    return isinstance(value, int) and not isinstance(value, bool)


def _g1(point: object, name: str) -> G1:
    if point is None:
        return None
    if not isinstance(point, (tuple, list)) or len(point) != 2 or not all(map(_is_int, point)):
        raise MalformedInput(f"{name}: expected a G1 point (x, y) of Python ints or None, got {point!r:.80}")
    return (point[0], point[1])


def _fq2(value: object, name: str) -> tuple[int, int]:
    if not isinstance(value, (tuple, list)) or len(value) != 2 or not all(map(_is_int, value)):
        raise MalformedInput(f"{name}: expected an Fq2 element (c0, c1) of Python ints, got {value!r:.80}")
    return (value[0], value[1])


def _g2(point: object, name: str) -> G2:
    if point is None:
        return None
    if not isinstance(point, (tuple, list)) or len(point) != 2:
        raise MalformedInput(f"{name}: expected a G2 point ((x0, x1), (y0, y1)) or None, got {point!r:.80}")
    return (_fq2(point[0], name), _fq2(point[1], name))


@dataclass(frozen=True)
class Proof:
    """A Groth16 proof (A, B, C): A and C in G1, B in G2."""

    a: G1
    b: G2
    c: G1

    def __post_init__(self) -> None:
        # Lists (from JSON) become tuples so that proofs compare and hash by value.
        object.__setattr__(self, "a", _g1(self.a, "proof.a"))
        object.__setattr__(self, "b", _g2(self.b, "proof.b"))
        object.__setattr__(self, "c", _g1(self.c, "proof.c"))


@dataclass(frozen=True)
class VerifyingKey:
    """A Groth16 verifying key; gamma_abc_g1[i] is IC_i, the G1 term of public input i (IC_0: the constant 1)."""

    alpha_g1: G1
    beta_g2: G2
    gamma_g2: G2
    delta_g2: G2
    gamma_abc_g1: tuple[G1, ...]

    def __post_init__(self) -> None:
        object.__setattr__(self, "alpha_g1", _g1(self.alpha_g1, "vk.alpha_g1"))
        object.__setattr__(self, "beta_g2", _g2(self.beta_g2, "vk.beta_g2"))
        object.__setattr__(self, "gamma_g2", _g2(self.gamma_g2, "vk.gamma_g2"))
        object.__setattr__(self, "delta_g2", _g2(self.delta_g2, "vk.delta_g2"))
        if not isinstance(self.gamma_abc_g1, (tuple, list)) or len(self.gamma_abc_g1) == 0:
            raise MalformedInput("vk.gamma_abc_g1: expected a non-empty sequence of G1 points (IC_0 at least)")
        object.__setattr__(
            self,
            "gamma_abc_g1",
            tuple(_g1(point, f"vk.gamma_abc_g1[{i}]") for i, point in enumerate(self.gamma_abc_g1)),
        )

    @property
    def n_public(self) -> int:
        """How many public inputs the key expects (snarkjs's nPublic)."""
        return len(self.gamma_abc_g1) - 1

