"""Thread counts: chosen from the work a pass has, pinned where a caller asks, and BLAS held to one
thread around the parallel kernels. Results never depend on any of them (fixed blocks, merged in
order).

The ahead-of-time kernels run their parallel regions on ``kernel_threads(work)`` threads, never
more than OpenMP's limit (``OMP_NUM_THREADS``, or ``threadpoolctl.threadpool_limits(n,
user_api="openmp")``, as for scikit-learn's compiled k-means); numba's kernels on numba's count.
``limit_threads(n)`` pins both kinds at once.
"""

from __future__ import annotations

import contextlib
import os
import sys
import time

from lloyd._kernels.blocks import openmp_max_threads

#: Distance evaluations (or values read) a pass must have per thread before another thread joins
#: it: about 300 µs of the low-dimension kernel (0.6 ns a distance at (10⁶, 3, 16), one thread).
#: Below that, starting a parallel region, and on a busy machine waiting for a descheduled
#: thread, cost more than the thread saves.
MIN_WORK_PER_THREAD = 1 << 19

#: Below this many multiply-adds per step (rows × centres × features) a mini-batch step runs on
#: one thread: waking the others would cost more than it saves, and on a busy machine a
#: descheduled thread stalls every parallel region by a time slice (milliseconds).
SERIAL_WORK = 2**23

#: A thread count every kernel uses while ``limit_threads`` is in force (None: not pinned).
_pinned: int | None = None

#: How long a count of the busy cores is reused: reading it costs ~50 µs, and a fit runs
#: hundreds of passes.
BUSY_TTL = 0.05
#: A reading is trusted only as far as the one before it (taken at most this many seconds
#: earlier) agrees: the run queue also holds tasks that run for microseconds (kernel workers,
#: this process's OpenMP threads going to sleep between two reads), and on a quiet machine one
#: reading in ten saw such a blip, halving the threads of the next passes.
BUSY_CONFIRM = 1.0
_busy = {"at": -1.0, "others": 0, "seen": 0}


def _task_running(stat_path: str) -> bool:
    with open(stat_path, "rb") as f:
        stat = f.read()
    return stat[stat.rindex(b")") + 2: stat.rindex(b")") + 3] == b"R"


def _read_others() -> int:
    """Runnable tasks of other processes at this instant (0 where /proc cannot be read)."""
    try:
        with open("/proc/loadavg", "rb") as f:
            running = int(f.read().split()[3].split(b"/")[0])
        own = sum(_task_running(f"{task.path}/stat") for task in os.scandir("/proc/self/task"))
        return max(0, running - own)
    except (OSError, ValueError, IndexError):
        return 0


def others_running() -> int:
    """How many runnable tasks of other processes the system has now (Linux: /proc/loadavg's
    count less this process's running threads; 0 where it cannot be read), counted at most
    every BUSY_TTL seconds, and only as many as the previous reading also saw (BUSY_CONFIRM)."""
    now = time.monotonic()
    if now - _busy["at"] < BUSY_TTL:
        return _busy["others"]
    seen = _read_others()
    # A busy process stays busy: count only what this reading and the previous one both saw.
    others = min(seen, _busy["seen"]) if now - _busy["at"] <= BUSY_CONFIRM else seen
    _busy.update(at=now, others=others, seen=seen)
    return others


def _cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        return os.cpu_count() or 1


def kernel_threads(work: int | None) -> int:
    """Threads for an ahead-of-time pass of ``work`` distance evaluations or values read (None:
    as many as allowed).

    One per MIN_WORK_PER_THREAD, at most OpenMP's limit or the pinned count, and, unless pinned,
    no more than the cores other processes leave idle: a parallel region ends when its slowest
    thread does, and a thread that shares its core with a busy process waits a time slice for
    it (with one busy process per core, two threads ran a palette pass 3-6x slower than one).
    """
    if _pinned is not None:
        allowed = _pinned
    else:
        allowed = max(1, int(openmp_max_threads()))
        if allowed > 1 and (work is None or work >= 2 * MIN_WORK_PER_THREAD):
            allowed = max(1, min(allowed, _cores() - others_running()))
    if work is None:
        return allowed
    return max(1, min(allowed, int(work) // MIN_WORK_PER_THREAD))


@contextlib.contextmanager
def limit_threads(n_threads: int | None = None):
    """Run the enclosed kernels, numba's and the ahead-of-time ones, on at most ``n_threads``
    threads (None: leave them), restoring the counts afterwards."""
    global _pinned
    if n_threads is None:
        yield
        return
    import numba

    original, original_pinned = numba.get_num_threads(), _pinned
    numba.set_num_threads(min(n_threads, numba.config.NUMBA_NUM_THREADS))
    _pinned = n_threads
    try:
        yield
    finally:
        numba.set_num_threads(original)
        _pinned = original_pinned


@contextlib.contextmanager
def numba_threads(work: int):
    """Run the enclosed numba kernels on ``kernel_threads(work)`` threads (never more than
    numba's count now), restoring the count afterwards; a count pinned by ``limit_threads`` is
    kept. numba's parallel loops, like the ahead-of-time ones, wait for their slowest thread:
    on a machine with one busy process per core, a (10⁵, 8, 16) fit ran 1.7x slower on
    numba's default 2 threads than on 1."""
    if _pinned is not None:
        yield
        return
    import numba

    original = numba.get_num_threads()
    numba.set_num_threads(max(1, min(original, kernel_threads(work))))
    try:
        yield
    finally:
        numba.set_num_threads(original)


def threads_for(n_rows, n_clusters, n_features):
    """One thread for a step smaller than SERIAL_WORK multiply-adds, else the default (a context
    manager; see :func:`limit_threads`)."""
    small = n_rows * n_clusters * n_features < SERIAL_WORK
    return limit_threads(1 if small else None)


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
