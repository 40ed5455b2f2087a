"""k-means++ and AFK-MC² seeding kernels: each row keeps its squared distance to the nearest
chosen centre.

A pure-Python dispatcher, as ``lloyd.py`` is for Lloyd's pass. k-means++'s kernels are
ahead-of-time code (``plusplus.pyx``, Cython + OpenMP): the palette and 2-D paths never import
numba. Two kinds stay in numba and are loaded only where used: the BLAS products of a step above
16 features (``seeding_dense``) and AFK-MC²'s (``afkmc2``), whose sums run in LLVM's
vectorised order.

Potentials are summed over fixed blocks and merged in block order, so the chosen centres do not
depend on the number of threads. The parallel kernels take ``n_threads``; the default, 0, lets
``kernel_threads`` choose it from the work, so callers need not know how the kernels run.
"""

from __future__ import annotations

import numpy as np

from lloyd._kernels import plusplus, seeding_products
from lloyd._kernels.plusplus import sample_rows, weighted_row
from lloyd._kernels.seeding_products import center_gaps
from lloyd._threads import kernel_threads, numba_threads

__all__ = ["add_center", "afkmc2_steps", "candidate_potentials", "candidate_potentials_low_d",
           "center_gaps", "chunk_boxes", "first_distances", "init_closest", "plusplus_steps",
           "product_add_center", "product_potentials", "sample_rows", "weighted_row"]


def _threads(n_threads: int, work: int) -> int:
    """``n_threads`` when given (> 0), else ``kernel_threads`` for ``work`` distances."""
    return int(n_threads) if n_threads > 0 else kernel_threads(work)


def init_closest(X, sample_weight, first, closest, block_pot, vectorised=False, n_threads=0,
                 offset=None):
    """OUT: closest (n,) = ‖x_i − x_first‖², block_pot (B,) = Σ w·closest per block; the rows
    less ``offset`` (d,) when given (each centred as it is read: X is never copied).

    Summed in feature order (k-means++), or with ``vectorised`` in whatever order vectorises
    (AFK-MC², its own numba kernel, ``afkmc2.first_distances``, which takes no offset;
    ``n_threads`` is then numba's).
    """
    if vectorised:
        from lloyd._kernels.afkmc2 import first_distances

        first_distances(X, sample_weight, first, closest, block_pot)
        return
    plusplus.init_closest(X, sample_weight, first, closest, block_pot,
                          _threads(n_threads, X.shape[0] * X.shape[1]), offset)


def first_distances(X, sample_weight, first, closest, x_sq, block_pot, offset=None):
    """OUT: closest (n,) = ‖x_i − x_first‖², x_sq (n,) = ‖x_i‖², block_pot (B,) = Σ w·closest
    per block, the rows less ``offset`` (d,) when given, from one read of X: the first pass of
    k-means++ above 16 features (numba: ``seeding_dense.first_distances``)."""
    from lloyd._kernels.seeding_dense import first_distances as kernel

    offset = np.zeros(X.shape[1], dtype=X.dtype) if offset is None else offset
    with numba_threads(X.shape[0] * max(1, X.shape[1] // 3)):
        kernel(X, sample_weight, first, offset, closest, x_sq, block_pot)


def add_center(X, sample_weight, chosen, closest, block_pot, n_threads=0):
    """IN/OUT: closest = min(closest, ‖x − x_chosen‖²); OUT: block_pot per block."""
    plusplus.add_center(X, sample_weight, chosen, closest, block_pot,
                        _threads(n_threads, X.shape[0] * X.shape[1]))


def candidate_potentials(X, sample_weight, closest, candidates, block_pots, n_threads=0):
    """OUT: block_pots (B, t): per block, Σ w·min(closest, ‖x − x_c‖²) for each candidate c."""
    plusplus.candidate_potentials(X, sample_weight, closest, candidates, block_pots,
                                  _threads(n_threads, X.size * block_pots.shape[1]))


def chunk_boxes(X, closest, Xt, lo, hi, chunk_max, n_threads=0):
    """OUT: Xt, the columns of X, and each chunk's bounding box and largest ``closest``
    (``plusplus.chunk_boxes``)."""
    plusplus.chunk_boxes(X, closest, Xt, lo, hi, chunk_max, _threads(n_threads, X.size))


def candidate_potentials_low_d(Xt, sample_weight, closest, candidates, block_pots, lo, hi,
                               chunk_max, pending, n_threads=0):
    """``candidate_potentials`` for d <= 4 on the columns Xt, the last step's centre taken in
    on the way (``plusplus.candidate_potentials_low_d``)."""
    plusplus.candidate_potentials_low_d(
        Xt, sample_weight, closest, candidates, block_pots, lo, hi, chunk_max, pending,
        _threads(n_threads, Xt.shape[1] * block_pots.shape[1]))


def plusplus_steps(X, sample_weight, closest, block_pot, uniforms, low_d, indices, candidates,
                   block_pots, pots, n_threads=0, offset=None):
    """Steps 1.. of greedy k-means++ in compiled code, d <= 16 (``plusplus.plusplus_steps``),
    on the rows less ``offset`` (d,) when given; the threads are chosen once, from one step's
    distances."""
    per_distance = 1 if low_d else X.shape[1]
    plusplus.plusplus_steps(X, sample_weight, closest, block_pot, uniforms, low_d, indices,
                            candidates, block_pots, pots,
                            _threads(n_threads, X.shape[0] * uniforms.shape[1] * per_distance),
                            offset)


def product_add_center(products, choice, center, x_sq, cand_sq, sample_weight, closest,
                       nearest, track, block_pot, n_threads=0):
    """``add_center`` from a step's products (``seeding_products.product_add_center``)."""
    seeding_products.product_add_center(products, choice, center, x_sq, cand_sq, sample_weight,
                                        closest, nearest, track, block_pot,
                                        _threads(n_threads, products.shape[0]))


def product_potentials(X, cand, cand_t, x_sq, cand_sq, sample_weight, closest, nearest, gap,
                       slack, prune, products, block_pots, offset=None):
    """``candidate_potentials`` from BLAS products, above 16 features (numba:
    ``seeding_dense.product_potentials``), on the rows less ``offset`` (d,) when given."""
    from lloyd._kernels.seeding_dense import product_potentials as kernel

    offset = np.zeros(0, dtype=X.dtype) if offset is None else offset
    with numba_threads(X.shape[0] * cand_t.shape[1] * max(1, X.shape[1] // 3)):
        kernel(X, cand, cand_t, x_sq, cand_sq, sample_weight, closest, nearest, gap, slack,
               prune, products, block_pots, offset)


def afkmc2_steps(X, ratio, proposals, uniforms, sample, sample_ratio, sample_dist, indices):
    """AFK-MC²'s greedy chains (numba: ``afkmc2.afkmc2_steps``)."""
    from lloyd._kernels.afkmc2 import afkmc2_steps as kernel

    with numba_threads(proposals.size * max(1, X.shape[1] // 3)):
        kernel(X, ratio, proposals, uniforms, sample, sample_ratio, sample_dist, indices)
