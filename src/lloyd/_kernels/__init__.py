"""Compiled numba kernels: private, never validating, compiled lazily on first use.

Every kernel assumes C-contiguous arrays of the documented dtypes, checked by its caller.
"""
