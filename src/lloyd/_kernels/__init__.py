"""Compiled kernels. Private: they assume validated, C-contiguous float32/float64 input.

Two kinds during the move to ahead-of-time compilation (see ARCHITECTURE.md): Cython modules
(``*.pyx``), compiled with OpenMP when lloyd is installed, and numba modules, compiled for a dtype
on first call and cached on disk (``cache=True``). Importing this package compiles nothing.
"""
