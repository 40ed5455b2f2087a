"""Thread counts: BLAS pinned to one thread around the parallel kernels, and numba's threads
chosen from the work size. Results never depend on either (fixed blocks, merged in order).
"""

from __future__ import annotations

import contextlib
import sys

#: Below this many multiply-adds per step (rows × centres × features) a mini-batch step runs on
#: one thread: waking the others would cost more than it saves, and on a busy machine a
#: descheduled thread stalls every parallel region by a time slice (milliseconds).
SERIAL_WORK = 2**23


class blas_single_thread:
    """Pin BLAS to one thread while the parallel kernels run (no oversubscription)."""

    #: Finding the loaded libraries costs 1.6 ms a call (a fit enters this two or three times),
    #: so the controller is made once and reused: a limit through it costs 16 µs. It is made
    #: again once SciPy's BLAS (which numba's compiled matrix products call) has been loaded,
    #: so that a controller made before cannot miss it.
    _controller = None
    _saw_scipy = False

    def __enter__(self):
        saw_scipy = "scipy.linalg" in sys.modules
        if blas_single_thread._controller is None or saw_scipy != blas_single_thread._saw_scipy:
            from threadpoolctl import ThreadpoolController

            blas_single_thread._controller = ThreadpoolController()
            blas_single_thread._saw_scipy = saw_scipy
        self._limits = blas_single_thread._controller.limit(limits=1, user_api="blas")
        return self

    def __exit__(self, *exc):
        self._limits.restore_original_limits()
        return False


@contextlib.contextmanager
def numba_threads(n_threads=None):
    """Run the enclosed kernels on ``n_threads`` numba threads (None: leave them), restoring
    the count afterwards."""
    import numba

    original = numba.get_num_threads()
    if n_threads is not None:
        numba.set_num_threads(n_threads)
    try:
        yield
    finally:
        numba.set_num_threads(original)


def threads_for(n_rows, n_clusters, n_features):
    """One numba thread for a step smaller than SERIAL_WORK multiply-adds, else the default
    (a context manager; see :func:`numba_threads`)."""
    small = n_rows * n_clusters * n_features < SERIAL_WORK
    return numba_threads(1 if small else None)
