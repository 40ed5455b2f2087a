# cython: language_level=3, boundscheck=False, wraparound=False, cdivision=True
# cython: initializedcheck=False
"""k-means++ above 16 features, ahead of time: the parts of a step that need no BLAS.

A step's candidates are measured by BLAS products (``seeding_dense.product_potentials``, numba);
these kernels bound which rows a candidate can reach and apply the chosen one from the products.
Potentials are summed over fixed blocks and merged in block order, as in ``plusplus.pyx``.
"""

import numpy as np

from cython.parallel cimport prange
from libc.math cimport sqrt

from lloyd._kernels._blocks cimport rows_per_block

ctypedef fused floating:
    float
    double


def center_gaps(const floating[:, ::1] X, const Py_ssize_t[::1] center_rows,
                Py_ssize_t n_centers, const floating[:, ::1] cand_t, double[::1] gap):
    """OUT: gap[j] = min over candidates of ‖x_center_j − candidate‖, for j < n_centers.

    Feature-order float64 differences (no cancellation), shrunk by a relative 10⁻¹² so that
    rounding never overestimates a gap.
    IN: center_rows (k,) row numbers of the centres chosen so far, cand_t (d, t).
    """
    cdef Py_ssize_t d = cand_t.shape[0], n_cand = cand_t.shape[1], j, t, f, r
    cdef double[::1] dist = np.empty(n_cand)
    cdef double xf, diff, best
    with nogil:
        for j in range(n_centers):
            r = center_rows[j]
            for t in range(n_cand):
                dist[t] = 0.0
            for f in range(d):
                xf = <double> X[r, f]
                for t in range(n_cand):
                    diff = xf - <double> cand_t[f, t]
                    dist[t] = dist[t] + diff * diff
            best = dist[0]
            for t in range(1, n_cand):
                best = dist[t] if dist[t] < best else best
            gap[j] = sqrt(best) * (1.0 - 1e-12)


cdef inline void product_block(const floating* products, Py_ssize_t n, Py_ssize_t n_cand,
                               Py_ssize_t choice, int center, const double* x_sq, double c_sq,
                               const floating* w, double* closest, int* nearest, bint track,
                               double* block_pot, Py_ssize_t b, Py_ssize_t per) noexcept nogil:
    cdef Py_ssize_t start = min(n, b * per)
    cdef Py_ssize_t stop = min(n, start + per)
    cdef Py_ssize_t i
    cdef double acc = 0.0, dist
    for i in range(start, stop):
        dist = x_sq[i] - 2.0 * <double> products[i * n_cand + choice] + c_sq
        dist = dist if dist > 0.0 else 0.0  # max(dist, 0): rounding can make it negative
        if dist < closest[i]:
            closest[i] = dist
            if track:
                nearest[i] = center
        acc = acc + <double> w[i] * closest[i]
    block_pot[b] = acc


def product_add_center(const floating[:, ::1] products, Py_ssize_t choice, int center,
                       const double[::1] x_sq, const double[::1] cand_sq,
                       const floating[::1] sample_weight, double[::1] closest, int[::1] nearest,
                       bint track, double[::1] block_pot, int n_threads):
    """``add_center`` for candidate ``choice`` of ``products`` (n, t), the products of the rows
    with the candidates, the new centre number ``center``: the distance is
    ``max(‖x‖² − 2 x·c + ‖c‖², 0)``. IN/OUT closest, and nearest when ``track``; OUT
    block_pot."""
    cdef Py_ssize_t n = products.shape[0], n_blocks = block_pot.shape[0], b
    cdef Py_ssize_t per = rows_per_block(n, n_blocks)
    cdef double c_sq = cand_sq[choice]
    cdef int dummy = 0
    cdef int* near_ptr = &nearest[0] if track else &dummy
    with nogil:
        for b in prange(n_blocks, schedule="dynamic", num_threads=n_threads):
            product_block(&products[0, 0], n, products.shape[1], choice, center, &x_sq[0],
                          c_sq, &sample_weight[0], &closest[0], near_ptr, track,
                          &block_pot[0], b, per)
