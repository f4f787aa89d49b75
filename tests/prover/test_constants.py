from py_ecc import bn128

from prover import constants as c


def test_field_moduli_equal_py_ecc():
    assert c.Q == bn128.field_modulus
    assert c.R == bn128.curve_order


def test_generators_equal_py_ecc():
    assert c.G1_GENERATOR == (int(bn128.G1[0]), int(bn128.G1[1]))
    assert c.G2_GENERATOR == tuple(tuple(int(v) for v in coord.coeffs) for coord in bn128.G2)


def test_twist_b_equals_py_ecc():
    assert c.G2_B == tuple(int(v) for v in bn128.b2.coeffs)


def test_root_of_unity_has_exact_order_two_to_the_28():
    w = c.FR_ROOT_OF_UNITY
    assert pow(w, 1 << 28, c.R) == 1
    assert pow(w, 1 << 27, c.R) == c.R - 1


def test_limbs_round_trip():
    for v in (0, 1, c.Q - 1, (1 << 256) - 1):
        assert c.from_limbs(c.to_limbs(v)) == v
