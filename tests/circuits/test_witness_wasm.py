"""circom's WebAssembly witness calculator run by wasmtime: the same .wtns bytes as `snarkjs wtns
calculate` on circuits compiled here by circom2, and bad input refused as circom's calculator does."""

import json
import shutil
import subprocess
from pathlib import Path

import pytest

from circuits.builder import R, is_satisfied
from circuits.iden3 import read_r1cs, read_wtns
from circuits.witness_wasm import (CircuitAssertFailed, WasmModuleError, WitnessCalculator, WitnessInputError,
                                   calculate_wtns_file, flatten_inputs, fnv1a_64, input_value, read_input_json)

REPO = Path(__file__).resolve().parents[2]
NODE_BIN = REPO / "node_modules" / ".bin"

# name -> (circom source, inputs that satisfy it)
CIRCUITS = {
    "square": ("""
template Square() {
    signal input x;
    signal output y;
    y <== x * x;
}
component main = Square();
""", [{"x": "3"}, {"x": 0}, {"x": "-1"}, {"x": str(R + 5)}, {"x": "0x1f"}]),
    # an array input, a public input, a subcomponent with an assert, and a log line
    "arrays": ("""
template Inner() {
    signal input x;
    signal output y;
    y <== x * x;
    assert(x != 5);
}
template Main(n) {
    signal input a[n][2];
    signal input b;
    signal output out;
    component inner = Inner();
    inner.x <== b;
    var s = 0;
    for (var i = 0; i < n; i++) { s += a[i][0] * 3 + a[i][1]; }
    signal t;
    t <== s * inner.y;
    out <== t + 1;
    log("t is", t);
}
component main {public [b]} = Main(3);
""", [{"a": [[1, 2], [3, 4], [5, 6]], "b": 4}, {"a": [["7", "0"], ["0", "0"], ["1", "1"]], "b": "123456789"}]),
    # many signals: a wire count past one helper chunk would need 2^15 values; this covers many values per call
    "bits": ("""
template Bits(n) {
    signal input in;
    signal output out[n];
    var acc = 0;
    for (var i = 0; i < n; i++) {
        out[i] <-- (in >> i) & 1;
        out[i] * (out[i] - 1) === 0;
        acc += out[i] * (1 << i);
    }
    acc === in;
}
component main = Bits(200);
""", [{"in": str(2**199 + 12345)}]),
}


def _node_tools():
    if shutil.which("node") is None:
        pytest.skip("node is not installed: circom2 and snarkjs are the oracles here")
    for tool in ("circom2", "snarkjs"):
        if not (NODE_BIN / tool).exists():
            pytest.skip(f"node_modules/.bin/{tool} is missing (run npm ci)")


def _run(*args, cwd, check=True):
    done = subprocess.run([str(a) for a in args], cwd=cwd, capture_output=True, text=True, timeout=300)
    if check:
        assert done.returncode == 0, done.stdout + done.stderr
    return done


@pytest.fixture(scope="module")
def compiled(tmp_path_factory):
    """name -> folder holding name.r1cs and name_js/name.wasm, compiled by circom2."""
    _node_tools()
    folder = tmp_path_factory.mktemp("circom_wasm")
    for name, (source, _) in CIRCUITS.items():
        (folder / f"{name}.circom").write_text("pragma circom 2.0.0;\n" + source)
        _run(NODE_BIN / "circom2", f"{name}.circom", "--r1cs", "--wasm", "-o", ".", cwd=folder)
    return folder


def _snarkjs_wtns(folder: Path, name: str, inputs: dict, tag: str) -> bytes:
    (folder / f"{tag}.json").write_text(json.dumps(inputs))
    _run(NODE_BIN / "snarkjs", "wtns", "calculate", f"{name}_js/{name}.wasm", f"{tag}.json", f"{tag}.wtns", cwd=folder)
    return (folder / f"{tag}.wtns").read_bytes()


def test_fnv1a_64_matches_the_published_test_vectors():
    assert fnv1a_64("") == 0xCBF29CE484222325
    assert fnv1a_64("a") == 0xAF63DC4C8601EC8C
    assert fnv1a_64("foobar") == 0x85944171F73967E8


@pytest.mark.node
@pytest.mark.parametrize("name", sorted(CIRCUITS))
def test_wtns_bytes_equal_snarkjs_wtns_calculate(compiled, name):
    calculator = WitnessCalculator(compiled / f"{name}_js" / f"{name}.wasm", log=lambda line: None)
    r1cs = read_r1cs(compiled / f"{name}.r1cs")
    for k, inputs in enumerate(CIRCUITS[name][1]):
        ours = calculator.calculate_wtns(inputs)  # one calculator, several witnesses in turn
        assert ours == _snarkjs_wtns(compiled, name, inputs, f"{name}{k}")
        witness = read_wtns(ours)
        assert is_satisfied(r1cs, witness)
        assert calculator.calculate(inputs) == witness
        assert [int.from_bytes(row.tobytes(), "little") for row in calculator.calculate_limbs(inputs)] == witness


@pytest.mark.node
def test_witness_of_the_array_circuit_holds_the_computed_output(compiled):
    calculator = WitnessCalculator(compiled / "arrays_js" / "arrays.wasm", log=lambda line: None)
    witness = calculator.calculate({"a": [[1, 2], [3, 4], [5, 6]], "b": 4})
    s = (1 * 3 + 2) + (3 * 3 + 4) + (5 * 3 + 6)
    assert witness[:3] == [1, s * 16 + 1, 4]  # constant wire, the output, the public input


@pytest.mark.node
def test_log_lines_reach_the_log_callback(compiled):
    lines = []
    WitnessCalculator(compiled / "arrays_js" / "arrays.wasm", log=lines.append).calculate(
        {"a": [[1, 0], [0, 0], [0, 0]], "b": 2})
    assert lines == ["t is 12"]


@pytest.mark.node
def test_failed_assert_names_the_template_and_line(compiled):
    calculator = WitnessCalculator(compiled / "arrays_js" / "arrays.wasm", log=lambda line: None)
    with pytest.raises(CircuitAssertFailed, match=r"^assert failed in template Inner_\d+ line 7 \(from Main_\d+ line 14\)$") as caught:
        calculator.calculate({"a": [[1, 2], [3, 4], [5, 6]], "b": 5})
    assert "\n" not in str(caught.value)
    (compiled / "bad.json").write_text(json.dumps({"a": [[1, 2], [3, 4], [5, 6]], "b": 5}))
    snarkjs = _run(NODE_BIN / "snarkjs", "wc", "arrays_js/arrays.wasm", "bad.json", "bad.wtns", cwd=compiled, check=False)
    assert "Assert Failed" in snarkjs.stdout + snarkjs.stderr  # the oracle refuses the same input
    # the calculator is usable again after a failure
    assert calculator.calculate({"a": [[1, 2], [3, 4], [5, 6]], "b": 4})[2] == 4


@pytest.mark.node
def test_violated_constraint_stops_the_calculation(compiled):
    calculator = WitnessCalculator(compiled / "bits_js" / "bits.wasm")
    with pytest.raises(CircuitAssertFailed, match="Bits"):
        calculator.calculate({"in": str(2**200)})  # does not fit 200 bits: acc === in fails


@pytest.mark.node
@pytest.mark.parametrize("inputs, message", [
    ({"a": [[1, 2], [3, 4], [5, 6]], "b": 4, "c": 1}, "c: the circuit has no input signal of that name"),
    ({"a": [[1, 2], [3, 4]], "b": 4}, "a: the input signal takes 6 values, got 4"),
    ({"a": [[1, 2], [3, 4], [5, 6], [7, 8]], "b": 4}, "a: the input signal takes 6 values, got 8"),
    ({"a": [[1, 2], [3, 4], [5, 6]]}, "not all inputs are set: the input gives 6 of the circuit's 7"),
    ({"a": [[1, 2], [3, "x"], [5, 6]], "b": 4}, "a[3]: 'x' is not a number"),
    ({"a": [[1, 2], [3, 4], [5, 6]], "b": 1.5}, "b: 1.5 is not an integer"),
    ({"a": [[1, 2], [3, 4], [5, 6]], "b": True}, "b: true is not a number"),
    ({"a": [[1, 2], [3, 4], [5, 6]], "b": 2**60}, "b: JSON number beyond 2^53"),
    ({"a": [[1, 2], [3, 4], [5, {"x": 1}]], "b": 4}, "a: an array mixes objects and numbers"),
])
def test_bad_inputs_are_refused_naming_the_signal(compiled, inputs, message):
    calculator = WitnessCalculator(compiled / "arrays_js" / "arrays.wasm")
    with pytest.raises(WitnessInputError) as caught:
        calculator.calculate(inputs)
    assert str(caught.value).startswith(message) and "\n" not in str(caught.value)


def test_input_values_are_reduced_as_circom_reduces_them():
    assert input_value("-1", R, "x") == R - 1
    assert input_value(str(R + 2), R, "x") == 2
    assert input_value("0x10", R, "x") == 16
    assert input_value(7.0, R, "x") == 7
    for bad in ("", " 1", "1e3", "12a", None, [1], {"a": 1}):
        with pytest.raises(WitnessInputError):
            input_value(bad, R, "x")


def test_flatten_inputs_qualifies_bus_fields_like_circom():
    assert flatten_inputs({"a": [[1, 2], [3]], "b": {"x": 1, "y": [2, 3]}, "c": [{"x": 4}, {"x": 5}]}) == {
        "a": [1, 2, 3], "b.x": [1], "b.y": [2, 3], "c[0].x": [4], "c[1].x": [5]}


def test_read_input_json_names_the_file_for_bad_json(tmp_path):
    for text, message in [("{", "not valid JSON"), ("[1]", "expected a JSON object"), ("[" * 100, "nested")]:
        (tmp_path / "in.json").write_text(text)
        with pytest.raises(WitnessInputError, match=message) as caught:
            read_input_json(tmp_path / "in.json")
        assert str(caught.value).startswith(str(tmp_path / "in.json"))


def test_a_file_that_is_not_webassembly_is_refused(tmp_path):
    with pytest.raises(WasmModuleError, match="not a WebAssembly module"):
        WitnessCalculator(b"not wasm")
    import wasmtime

    other = wasmtime.wat2wasm('(module (func (export "f")))')
    with pytest.raises(WasmModuleError, match="not circom 2's witness calculator: no export 'memory'"):
        WitnessCalculator(other)


@pytest.mark.node
def test_calculate_wtns_file_writes_what_it_returns(compiled, tmp_path):
    (tmp_path / "in.json").write_text('{"x": "9"}')
    data = calculate_wtns_file(compiled / "square_js" / "square.wasm", tmp_path / "in.json", tmp_path / "w.wtns")
    assert (tmp_path / "w.wtns").read_bytes() == data
    assert read_wtns(data) == [1, 81, 9]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in.json", "w.wtns"]
