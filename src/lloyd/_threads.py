"""Threads for the compiled passes: chosen from the work a pass has, never above OpenMP's limit.

The ahead-of-time kernels run their parallel regions on ``kernel_threads(work)`` threads; the
limit is OpenMP's (``OMP_NUM_THREADS``, or ``threadpoolctl.threadpool_limits(n,
user_api="openmp")``), as for scikit-learn's compiled k-means.
"""

from __future__ import annotations

from lloyd._kernels.blocks import openmp_max_threads

#: Distance evaluations a pass must have per thread before another thread joins it: about 300 µs
#: of the low-dimension kernel (0.6 ns a distance at (10⁶, 3, 16), one thread). Below that,
#: starting a parallel region, and on a busy machine waiting for a descheduled thread, cost
#: more than the thread saves.
MIN_WORK_PER_THREAD = 1 << 19


def kernel_threads(work: int | None) -> int:
    """Threads for a pass of ``work`` distance evaluations (None: as many as allowed)."""
    allowed = max(1, int(openmp_max_threads()))
    if work is None:
        return allowed
    return max(1, min(allowed, int(work) // MIN_WORK_PER_THREAD))
