# cython: language_level=3
"""What the ahead-of-time kernels share with Python: the chunk size and OpenMP's thread count.

Compiled when lloyd is installed, so importing it costs a shared-library load, not a compile.
"""

cimport openmp

from lloyd._kernels._blocks cimport CHUNK as _CHUNK

#: Rows handled together by every kernel (the numba kernels read it from here too).
CHUNK = _CHUNK


def openmp_max_threads():
    """OpenMP's thread count for the next parallel region: ``OMP_NUM_THREADS`` or the cores,
    as limited by threadpoolctl (``threadpool_limits(n, user_api="openmp")``)."""
    return openmp.omp_get_max_threads()
