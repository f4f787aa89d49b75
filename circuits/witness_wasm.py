"""Witness calculation with the WebAssembly that `circom --wasm` writes, run by wasmtime: no Node needed.

Owns the host side of circom 2's witness-calculator interface and the reading of input.json; not
the circuit's `.r1cs` or the `.wtns` reader (circuits.iden3), nor circom 1's wasm (refused).

The interface, as circom's generated witness_calculator.js (circom 2.2) and circom_runtime 0.1.28
(what snarkjs 0.7 runs) use it. The module exports its memory and `getVersion`, `getFieldNumLen32`
(n32: 32-bit words per field element), `getRawPrime` (puts p in the shared read/write buffer),
`readSharedRWMemory(j)` / `writeSharedRWMemory(j, word)` (word j of that buffer, least significant
first), `init(sanity_check)`, `getInputSignalSize(h_msb, h_lsb)` (values of the input signal whose
name hashes to h, < 0 when there is none), `setInputSignal(h_msb, h_lsb, i)` (value i of that signal
from the buffer; the circuit runs once every input is set), `getInputSize`, `getWitnessSize`,
`getWitness(i)` (witness value i into the buffer, standard form, < p) and `getMessageChar` (the next
character of a pending message, 0 at its end). h is FNV-1a 64 of the signal's name, e.g. "in" or,
for a bus field, "b.x" and "b[1].x". It imports from "runtime": `exceptionHandler(code)` (1 signal
not found, 2 too many signals set, 3 signal already set, 4 assert failed, 5 not enough memory,
6 input array index too large, 7 out-of-bounds array access; the calculator must stop there),
`printErrorMessage()` (a line of the error context, e.g. "Error in template Num2Bits_1 line: 9"),
`writeBufferMessage()` (a piece of a `log(...)` line; "\\n" ends the line) and
`showSharedRWMemory()` (a logged field element, in the buffer).

Values cross the interface one 32-bit word per call; wasmtime-py spends microseconds on each call
from Python, so a small helper module (HELPER_WAT) runs those loops inside WebAssembly and moves
whole arrays through its own memory: one Python call per input signal and per 2^15 witness values.
"""

from __future__ import annotations

import json
import os
import re
import struct
import sys
from pathlib import Path
from typing import Any, Callable, Mapping, Union

import numpy as np

from .builder import FIELD_BYTES, R, limbs_to_ints
from .iden3 import WTNS_MAGIC, WTNS_VERSION

PathLike = Union[str, os.PathLike]

FNV_OFFSET_BASIS = 0xCBF29CE484222325
FNV_PRIME = 0x100000001B3
# JSON numbers are doubles to snarkjs: beyond 2^53 it would silently use a rounded value.
MAX_SAFE_JSON_INTEGER = 2**53 - 1
_MAX_INPUT_NESTING = 32
_WORDS_PER_CHUNK = 1 << 18  # 32-bit words moved per helper call (1 MiB)
_PAGE = 65536

EXCEPTION_MEANINGS = {
    1: "signal not found",
    2: "too many signals set",
    3: "signal already set",
    4: "assert failed",
    5: "not enough memory",
    6: "input signal array access exceeds the size",
    7: "out of bounds array access",
}
_INPUT_EXCEPTIONS = (1, 2, 3, 6)  # the rest stop the circuit itself
REQUIRED_EXPORTS = ("memory", "getVersion", "getFieldNumLen32", "getRawPrime", "readSharedRWMemory",
                    "writeSharedRWMemory", "init", "getInputSignalSize", "setInputSignal", "getInputSize",
                    "getWitnessSize", "getWitness")
RUNTIME_IMPORTS = ("exceptionHandler", "printErrorMessage", "writeBufferMessage", "showSharedRWMemory")

# Loops over circom's word-at-a-time exports, run inside WebAssembly. Its memory "buffer" holds the
# values being moved: n32 little-endian words each, value after value.
HELPER_WAT = """
(module
  (import "circom" "getWitness" (func $getWitness (param i32)))
  (import "circom" "readSharedRWMemory" (func $read (param i32) (result i32)))
  (import "circom" "writeSharedRWMemory" (func $write (param i32 i32)))
  (import "circom" "setInputSignal" (func $setInputSignal (param i32 i32 i32)))
  (memory (export "buffer") 1)
  ;; witness values first .. first+count-1 into the buffer
  (func (export "readWitness") (param $first i32) (param $count i32) (param $n32 i32)
    (local $i i32) (local $j i32) (local $at i32)
    (block $done (loop $value
      (br_if $done (i32.ge_u (local.get $i) (local.get $count)))
      (call $getWitness (i32.add (local.get $first) (local.get $i)))
      (local.set $j (i32.const 0))
      (block $words_done (loop $word
        (br_if $words_done (i32.ge_u (local.get $j) (local.get $n32)))
        (i32.store (local.get $at) (call $read (local.get $j)))
        (local.set $at (i32.add (local.get $at) (i32.const 4)))
        (local.set $j (i32.add (local.get $j) (i32.const 1)))
        (br $word)))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br $value))))
  ;; values first .. first+count-1 of the input signal (h_msb, h_lsb) from the buffer
  (func (export "setInputs") (param $msb i32) (param $lsb i32) (param $first i32) (param $count i32) (param $n32 i32)
    (local $i i32) (local $j i32) (local $at i32)
    (block $done (loop $value
      (br_if $done (i32.ge_u (local.get $i) (local.get $count)))
      (local.set $j (i32.const 0))
      (block $words_done (loop $word
        (br_if $words_done (i32.ge_u (local.get $j) (local.get $n32)))
        (call $write (local.get $j) (i32.load (local.get $at)))
        (local.set $at (i32.add (local.get $at) (i32.const 4)))
        (local.set $j (i32.add (local.get $j) (i32.const 1)))
        (br $word)))
      (call $setInputSignal (local.get $msb) (local.get $lsb) (i32.add (local.get $first) (local.get $i)))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br $value))))
)
"""


class WitnessCalculatorError(ValueError):
    """Base of the errors below: each message is one line naming what is wrong."""


class WasmModuleError(WitnessCalculatorError):
    """The file is not circom 2's witness calculator for BN254 (not WebAssembly, missing exports,
    unknown imports, circom 1, another prime)."""


class WitnessInputError(WitnessCalculatorError):
    """input.json does not fit the circuit: not an object, an unknown signal, a wrong number of
    values, a value that is not an integer, inputs left unset."""


class CircuitAssertFailed(WitnessCalculatorError):
    """The circuit stopped while computing the witness (an `assert` or a constraint `===` failed, an
    array index out of bounds); the message names circom's template and line."""


def fnv1a_64(name: str) -> int:
    """FNV-1a, 64 bits, over the UTF-16 code units of `name` (circom's hash of signal names)."""
    units = name.encode("utf-16-le")
    h = FNV_OFFSET_BASIS
    for i in range(0, len(units), 2):
        h = ((h ^ (units[i] | units[i + 1] << 8)) * FNV_PRIME) & 0xFFFFFFFFFFFFFFFF
    return h


def _i32(word: int) -> int:
    """An unsigned 32-bit word as the signed i32 that wasmtime's calls take."""
    return word - (1 << 32) if word >= 1 << 31 else word


_DECIMAL = re.compile(r"[+-]?[0-9]+")
_PREFIXED = re.compile(r"0([xob])([0-9a-f]+)", re.IGNORECASE)


def input_value(value: Any, prime: int, where: str) -> int:
    """One input value reduced into [0, prime), as circom's calculator reads it (BigInt(v) mod p,
    negatives wrapped): an integer, a decimal string with an optional sign, or 0x/0o/0b digits.

    Raises WitnessInputError for anything else, including what JavaScript would quietly accept or
    round: booleans, null, "" (BigInt("") is 0), fractions, and JSON numbers beyond 2^53 - 1.
    """
    if isinstance(value, bool) or value is None:
        raise WitnessInputError(f"{where}: {json.dumps(value)} is not a number")
    if isinstance(value, float):
        if not value.is_integer():
            raise WitnessInputError(f"{where}: {value!r} is not an integer")
        value = int(value)
    if isinstance(value, int):
        if abs(value) > MAX_SAFE_JSON_INTEGER:
            raise WitnessInputError(f"{where}: JSON number beyond 2^53 (JavaScript would round it); "
                                    f"write it as a decimal string")
        return value % prime
    if isinstance(value, str):
        if _DECIMAL.fullmatch(value):
            return int(value) % prime
        prefixed = _PREFIXED.fullmatch(value)
        if prefixed:
            return int(prefixed.group(2), {"x": 16, "o": 8, "b": 2}[prefixed.group(1).lower()]) % prime
        raise WitnessInputError(f"{where}: {value[:40]!r} is not a number (decimal or 0x-hex digits)")
    raise WitnessInputError(f"{where}: a {type(value).__name__} is not a number")


def flatten_inputs(inputs: Mapping[str, Any]) -> dict[str, list]:
    """Signal name -> its values in row-major order, as circom's calculator qualifies input.json:
    arrays of numbers flatten (any nesting), objects are bus fields ("b.x"), arrays of objects are
    arrays of buses ("b[0].x"). Raises WitnessInputError for mixed arrays or a non-object top level."""
    if not isinstance(inputs, Mapping):
        raise WitnessInputError("the input must be a JSON object of signal names")
    flat: dict[str, list] = {}

    def leaves(value):
        if isinstance(value, list):
            for item in value:
                yield from leaves(item)
        else:
            yield value

    def qualify(prefix: str, value) -> None:
        if isinstance(value, Mapping):
            for key, item in value.items():
                qualify(f"{prefix}.{key}" if prefix else str(key), item)
        elif isinstance(value, list):
            items = list(leaves(value))
            objects = [isinstance(item, Mapping) for item in items]
            if any(objects) and not all(objects):
                raise WitnessInputError(f"{prefix}: an array mixes objects and numbers")
            if items and all(objects):
                for i, item in enumerate(value):
                    qualify(f"{prefix}[{i}]", item)
            else:
                flat[prefix] = items
        else:
            flat[prefix] = [value]

    for name, value in inputs.items():
        qualify(str(name), value)
    return flat


def read_input_json(path: PathLike) -> dict:
    """Parse input.json; raises WitnessInputError naming the file (OSError for a missing file)."""
    text = Path(path).read_text(encoding="utf-8")
    depth = deepest = 0
    for bracket in re.findall(r"[\[\]{}]", re.sub(r'"(?:[^"\\]|\\.)*"', '""', text)):
        depth += 1 if bracket in "[{" else -1
        deepest = max(deepest, depth)
    if deepest > _MAX_INPUT_NESTING:
        raise WitnessInputError(f"{path}: JSON nested {deepest} deep (at most {_MAX_INPUT_NESTING})")
    try:
        obj = json.loads(text)
    except json.JSONDecodeError as error:
        raise WitnessInputError(f"{path}: not valid JSON ({error.msg} at line {error.lineno} "
                                f"column {error.colno})") from error
    except ValueError as error:  # an integer literal past Python's digit limit
        raise WitnessInputError(f"{path}: a number in the JSON is far too long") from error
    if not isinstance(obj, dict):
        raise WitnessInputError(f"{path}: expected a JSON object of signal names")
    return obj


def _engine():
    """One wasmtime engine per process, with wasmtime's on-disk cache of compiled modules when the
    cache directory is usable (compiling a large circuit's wasm takes seconds, loading it ms)."""
    import wasmtime

    global _ENGINE
    if _ENGINE is None:
        config = wasmtime.Config()
        try:
            config.cache = True
        except wasmtime.WasmtimeError:
            pass
        _ENGINE = wasmtime.Engine(config)
        import atexit

        atexit.register(_drop_engine)   # before interpreter shutdown tears down wasmtime's own module
    return _ENGINE


def _drop_engine() -> None:
    """Free the engine (and, by a collection, calculators left in cycles) while wasmtime can still free them:
    at interpreter shutdown its module is gone, and their finalizers print "Exception ignored" noise."""
    import gc

    global _ENGINE
    _ENGINE = None
    gc.collect()


_ENGINE = None


_ERROR_PLACE = re.compile(r"Error in template (\S+) line: (\d+)")


def _where(places: list[str]) -> str:
    """circom's error context ("Error in template Inner_0 line: 7", innermost first) as one phrase:
    " in template Inner_0 line 7 (from Main_1 line 14)"."""
    if not places:
        return ""
    parsed = [_ERROR_PLACE.fullmatch(place) for place in places]
    if not all(parsed):
        return ": " + "; ".join(places)
    first, *callers = [f"{m.group(1)} line {m.group(2)}" for m in parsed]
    return f" in template {first}" + (f" (from {', '.join(callers)})" if callers else "")


def _print_log(line: str) -> None:
    print(line, file=sys.stderr)


class WitnessCalculator:
    """circom 2's witness calculator for one circuit, from its `.wasm` (bytes or a path).

    `calculate(inputs)` returns the witness as ints (wire 0 = 1, then outputs, public inputs,
    private inputs, the rest: the .r1cs's order); `calculate_wtns(inputs)` returns the `.wtns` file
    bytes, equal to `snarkjs wtns calculate`'s. Lines from the circuit's `log(...)` go to `log`
    (default: stderr). Raises WasmModuleError here, WitnessInputError / CircuitAssertFailed there.
    One instance computes any number of witnesses, one at a time.
    """

    def __init__(self, wasm: bytes | PathLike, *, log: Callable[[str], None] | None = None):
        import wasmtime

        code = wasm if isinstance(wasm, (bytes, bytearray)) else Path(wasm).read_bytes()
        self._log = log or _print_log
        engine = _engine()
        try:
            module = wasmtime.Module(engine, bytes(code))
        except wasmtime.WasmtimeError as error:
            first = str(error).strip().splitlines()[0] if str(error).strip() else "invalid"
            raise WasmModuleError(f"not a WebAssembly module ({first})") from None
        exports = {export.name for export in module.exports}
        missing = [name for name in REQUIRED_EXPORTS if name not in exports]
        if missing:
            if "getFrLen" in exports or "getPWitness" in exports:
                raise WasmModuleError("circom 1's witness calculator is not supported: compile with circom 2")
            raise WasmModuleError(f"not circom 2's witness calculator: no export {missing[0]!r}")
        self._store = wasmtime.Store(engine)
        linker = wasmtime.Linker(engine)
        void = wasmtime.FuncType([], [])
        for imported in module.imports:
            if imported.module != "runtime" or imported.name not in RUNTIME_IMPORTS:
                raise WasmModuleError(f"imports {imported.module}.{imported.name}, which circom 2's "
                                      f"calculator does not provide")
        linker.define_func("runtime", "exceptionHandler", wasmtime.FuncType([wasmtime.ValType.i32()], []),
                           self._exception, access_caller=True)
        linker.define_func("runtime", "printErrorMessage", void, self._error_line, access_caller=True)
        linker.define_func("runtime", "writeBufferMessage", void, self._log_piece, access_caller=True)
        linker.define_func("runtime", "showSharedRWMemory", void, self._log_value, access_caller=True)
        try:
            instance = linker.instantiate(self._store, module)
        except wasmtime.WasmtimeError as error:
            raise WasmModuleError(f"cannot instantiate: {str(error).strip().splitlines()[0]}") from None
        self._exports = instance.exports(self._store)
        self._calls = {name: self._exports[name] for name in REQUIRED_EXPORTS[1:]}
        self._calls["getMessageChar"] = self._exports["getMessageChar"] if "getMessageChar" in exports else None

        helper_linker = wasmtime.Linker(engine)
        for name in ("getWitness", "readSharedRWMemory", "writeSharedRWMemory", "setInputSignal"):
            helper_linker.define(self._store, "circom", name, self._calls[name])
        helper = helper_linker.instantiate(self._store, wasmtime.Module(engine, wasmtime.wat2wasm(HELPER_WAT)))
        helper_exports = helper.exports(self._store)
        self._buffer = helper_exports["buffer"]
        self._read_witness = helper_exports["readWitness"]
        self._set_inputs = helper_exports["setInputs"]

        call = self._call
        self.version = call("getVersion")
        if self.version != 2:
            raise WasmModuleError(f"circom {self.version}'s witness calculator is not supported (circom 2 only)")
        self.n32 = call("getFieldNumLen32")
        self.n8 = 4 * self.n32
        call("getRawPrime")
        self.prime = sum((call("readSharedRWMemory", j) & 0xFFFFFFFF) << (32 * j) for j in range(self.n32))
        self.witness_size = call("getWitnessSize")
        self.n_input_values = call("getInputSize")
        self._error_lines: list[str] = []
        self._log_pieces: list[str] = []

    # --- the host functions circom's code calls ---------------------------------------------------

    def _message(self, caller) -> str:
        get_char = self._calls["getMessageChar"]
        if get_char is None:
            return ""
        chars = []
        while (c := get_char(caller)) != 0:
            chars.append(chr(c & 0xFF))
        return "".join(chars)

    def _exception(self, caller, code: int) -> None:
        places = [line.strip() for line in self._error_lines if line.strip()]
        self._error_lines = []
        meaning = EXCEPTION_MEANINGS.get(code, f"unknown error {code}")
        kind = WitnessInputError if code in _INPUT_EXCEPTIONS else CircuitAssertFailed
        raise kind(meaning + _where(places))

    def _error_line(self, caller) -> None:
        self._error_lines.append(self._message(caller))

    def _log_piece(self, caller) -> None:
        piece = self._message(caller)
        if piece == "\n":
            self._log(" ".join(self._log_pieces))
            self._log_pieces = []
        else:
            self._log_pieces.append(piece)

    def _log_value(self, caller) -> None:
        words = [self._calls["readSharedRWMemory"](caller, j) & 0xFFFFFFFF for j in range(self.n32)]
        self._log_pieces.append(str(sum(word << (32 * j) for j, word in enumerate(words))))

    def _call(self, name: str, *args):
        return self._calls[name](self._store, *args)

    # --- computing a witness --------------------------------------------------------------------

    def _room(self, n_bytes: int) -> None:
        pages = -(-n_bytes // _PAGE)
        have = self._buffer.size(self._store)
        if pages > have:
            self._buffer.grow(self._store, pages - have)

    def _run(self, inputs: Mapping[str, Any]) -> None:
        flat = flatten_inputs(inputs)
        self._error_lines, self._log_pieces = [], []
        self._call("init", 0)
        set_count = 0
        for name, values in flat.items():
            h = fnv1a_64(name)
            msb, lsb = _i32(h >> 32), _i32(h & 0xFFFFFFFF)
            size = self._call("getInputSignalSize", msb, lsb)
            if size < 0 or (size == 0 and values):  # circom 2.2 answers 0 for an unknown name
                raise WitnessInputError(f"{name}: the circuit has no input signal of that name")
            if len(values) != size:
                raise WitnessInputError(f"{name}: the input signal takes {size} value{'s' * (size != 1)}, "
                                        f"got {len(values)}")
            numbers = [input_value(v, self.prime, f"{name}[{i}]" if size > 1 else name)
                       for i, v in enumerate(values)]
            per_chunk = max(1, _WORDS_PER_CHUNK // self.n32)
            for first in range(0, len(numbers), per_chunk):
                chunk = numbers[first:first + per_chunk]
                data = b"".join(n.to_bytes(self.n8, "little") for n in chunk)
                self._room(len(data))
                self._buffer.write(self._store, data, 0)
                self._set_inputs(self._store, msb, lsb, first, len(chunk), self.n32)
            set_count += len(numbers)
        if set_count < self.n_input_values:
            raise WitnessInputError(f"not all inputs are set: the input gives {set_count} of the "
                                    f"circuit's {self.n_input_values} input values")

    def _witness_bytes(self) -> bytes:
        per_chunk = max(1, _WORDS_PER_CHUNK // self.n32)
        parts = []
        for first in range(0, self.witness_size, per_chunk):
            count = min(per_chunk, self.witness_size - first)
            self._room(count * self.n8)
            self._read_witness(self._store, first, count, self.n32)
            parts.append(bytes(self._buffer.read(self._store, 0, count * self.n8)))
        return b"".join(parts)

    def _check_bn254(self) -> None:
        if self.prime != R or self.n8 != FIELD_BYTES:
            raise WasmModuleError(f"the circuit was compiled for the prime {self.prime}, not BN254's r "
                                  f"(compile with circom --prime bn128)")

    def calculate(self, inputs: Mapping[str, Any]) -> list[int]:
        """The witness for `inputs` (signal name -> value or nested array of values), as ints < p."""
        self._run(inputs)
        raw = np.frombuffer(self._witness_bytes(), dtype="<u4").reshape(self.witness_size, self.n32)
        if self.n8 == FIELD_BYTES:
            return limbs_to_ints(raw.view("<u8").astype(np.uint64))
        return [sum(int(w) << (32 * j) for j, w in enumerate(row)) for row in raw]

    def calculate_limbs(self, inputs: Mapping[str, Any]) -> np.ndarray:
        """The witness for `inputs` as (witness_size, 4) uint64 little-endian limbs (BN254 only):
        the prover's input form, with no Python int per value."""
        self._check_bn254()
        self._run(inputs)
        return np.frombuffer(self._witness_bytes(), dtype="<u8").astype(np.uint64).reshape(self.witness_size, 4)

    def calculate_wtns(self, inputs: Mapping[str, Any]) -> bytes:
        """The iden3 `.wtns` (version 2) bytes for `inputs`, laid out as snarkjs's calculateWTNSBin
        writes them: header section (n8, p, witness size), then the values, little-endian."""
        self._check_bn254()
        self._run(inputs)
        values = self._witness_bytes()
        header = struct.pack("<I", self.n8) + self.prime.to_bytes(self.n8, "little") + struct.pack("<I", self.witness_size)
        return b"".join([WTNS_MAGIC, struct.pack("<II", WTNS_VERSION, 2),
                         struct.pack("<IQ", 1, len(header)), header,
                         struct.pack("<IQ", 2, len(values)), values])


def calculate_wtns_file(wasm: PathLike, inputs: Mapping[str, Any] | PathLike, wtns: PathLike | None = None,
                        *, log: Callable[[str], None] | None = None) -> bytes:
    """`snarkjs wtns calculate` in Python: the `.wtns` bytes for `inputs` (a mapping, or the path of
    input.json), also written to `wtns` when given (through a temporary file and a rename)."""
    if not isinstance(inputs, Mapping):
        inputs = read_input_json(inputs)
    data = WitnessCalculator(wasm, log=log).calculate_wtns(inputs)
    if wtns is not None:
        target = Path(wtns)
        partial = target.with_name(f".{target.name}.partial")
        partial.write_bytes(data)
        os.replace(partial, target)
    return data


__all__ = ["WitnessCalculator", "WitnessCalculatorError", "WasmModuleError", "WitnessInputError",
           "CircuitAssertFailed", "fnv1a_64", "input_value", "flatten_inputs", "read_input_json",
           "calculate_wtns_file"]
