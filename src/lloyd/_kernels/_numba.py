"""numba, as lloyd's numba kernels import it: loading it is when a cold cache will compile, so
this is where the command line's first-run notice is given (``lloyd._warmup``)."""

from numba import njit, prange

from lloyd import _warmup

_warmup.numba_kernels_loading()

__all__ = ["njit", "prange"]
