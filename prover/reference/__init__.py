"""Plain-Python twins of the Numba kernels: same names, same signatures, Python ints inside."""
