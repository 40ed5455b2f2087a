"""Compiled kernels (numba). Private: they assume validated, C-contiguous float32/float64 input.

Nothing here is compiled at import: numba compiles each kernel for a dtype on its first call and
caches the machine code on disk (``cache=True``).
"""
