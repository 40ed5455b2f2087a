# cython: language_level=3, boundscheck=False, wraparound=False, cdivision=True
# cython: initializedcheck=False
"""K-means on sparse rows (CSR: ``data``, ``indices``, ``indptr``), compiled ahead of time; X is
never densified.

One body serves float32 and float64 data. Assumes validated input: canonical CSR (sorted
column indices, no duplicates, int32 indices), finite values. Rows are split into the fixed
blocks of ``_blocks.pxd`` and per-block results are merged in block order; the clusters' sums
are taken cluster by cluster over their rows in row order. Nothing depends on the number of
threads. Built with ``-ffp-contract=off``: every sum rounds as written.
"""

from cython.parallel cimport parallel, prange
from libc.math cimport INFINITY, sqrt
from libc.stdlib cimport free, malloc

import numpy as np

from lloyd._kernels._blocks cimport rows_per_block

ctypedef fused floating:
    float
    double

cdef extern from *:
    """
    #if defined(_MSC_VER)
    #define LLOYD_RESTRICT __restrict
    #else
    #define LLOYD_RESTRICT __restrict__
    #endif
    /* y[0:n] = (y + a0 x0) + a1 x1, element by element: two of a row's values applied in order
       (the same rounding as one after the other) with one load and store of y; n a multiple
       of 8, y and the x's never overlapping, so the loop vectorises without remainder. */
    #define LLOYD_AXPY2(NAME, T) \
    static inline void NAME(T* LLOYD_RESTRICT y, const T* LLOYD_RESTRICT x0, T a0, \
                            const T* LLOYD_RESTRICT x1, T a1, Py_ssize_t n) { \
        for (Py_ssize_t j = 0; j < n; j++) y[j] = (y[j] + a0 * x0[j]) + a1 * x1[j]; \
    } \
    static inline void NAME##_1(T* LLOYD_RESTRICT y, const T* LLOYD_RESTRICT x0, T a0, \
                                Py_ssize_t n) { \
        for (Py_ssize_t j = 0; j < n; j++) y[j] = y[j] + a0 * x0[j]; \
    }
    LLOYD_AXPY2(lloyd_axpy2_f, float)
    LLOYD_AXPY2(lloyd_axpy2_d, double)
    #if defined(_MSC_VER)
    #include <xmmintrin.h>
    #define lloyd_prefetch(p) _mm_prefetch((const char*) (p), _MM_HINT_T0)
    #else
    #define lloyd_prefetch(p) __builtin_prefetch((p), 0, 3)
    #endif
    """
    void prefetch "lloyd_prefetch"(const void* p) noexcept nogil
    void axpy2_f "lloyd_axpy2_f"(float* y, const float* x0, float a0, const float* x1,
                                 float a1, Py_ssize_t n) noexcept nogil
    void axpy1_f "lloyd_axpy2_f_1"(float* y, const float* x0, float a0,
                                   Py_ssize_t n) noexcept nogil
    void axpy2_d "lloyd_axpy2_d"(double* y, const double* x0, double a0, const double* x1,
                                 double a1, Py_ssize_t n) noexcept nogil
    void axpy1_d "lloyd_axpy2_d_1"(double* y, const double* x0, double a0,
                                   Py_ssize_t n) noexcept nogil

cdef enum:
    PAD = 8  # the transposed centres' rows are padded to a multiple of this many
    AHEAD = 8  # values ahead whose row of centres is prefetched (its first two cache lines)

cdef double EPS64 = 2.220446049250313e-16
cdef double EPS32 = 1.1920928955078125e-07


def row_norms_sq(const floating[::1] data, const int[::1] indptr, double[::1] out,
                 int n_threads):
    """OUT out (n,): every row's squared norm, its values squared in float64 and summed in
    order (as scikit-learn's ``row_norms`` of a float64 CSR matrix)."""
    cdef Py_ssize_t n = indptr.shape[0] - 1, i, p
    cdef double s
    for i in prange(n, nogil=True, num_threads=n_threads, schedule="static"):
        s = 0.0
        for p in range(indptr[i], indptr[i + 1]):
            s = s + <double> data[p] * <double> data[p]
        out[i] = s


def column_moments(const floating[::1] data, const int[::1] indices, Py_ssize_t n_rows,
                   double[::1] mean, double[::1] squares):
    """OUT mean (d,) and squares (d,): every column's mean over the n_rows rows (implicit zeros
    included) and its sum of squared deviations from it, in float64, two passes over the
    values (accurate where ``E[x²] − mean²`` would cancel)."""
    cdef Py_ssize_t d = mean.shape[0], p, f
    cdef Py_ssize_t nnz = data.shape[0]
    cdef double diff
    cdef long long[::1] count = np.zeros(d, dtype=np.int64)
    with nogil:
        for f in range(d):
            mean[f] = 0.0
            squares[f] = 0.0
        for p in range(nnz):
            mean[indices[p]] += <double> data[p]
            count[indices[p]] += 1
        for f in range(d):
            mean[f] = mean[f] / n_rows
        for p in range(nnz):
            diff = <double> data[p] - mean[indices[p]]
            squares[indices[p]] += diff * diff
        for f in range(d):  # the implicit zeros
            squares[f] += (n_rows - count[f]) * mean[f] * mean[f]


cdef void centers_prepare(const floating[:, ::1] centers, floating* centers_t,
                          Py_ssize_t k_padded) noexcept nogil:
    """OUT centers_t (d, k_padded): the centres transposed, so that a row's value in column f
    scales one contiguous row of centres, padded with zeros."""
    cdef Py_ssize_t k = centers.shape[0], d = centers.shape[1], j, f
    for f in range(d):
        for j in range(k):
            centers_t[f * k_padded + j] = centers[j, f]
        for j in range(k, k_padded):
            centers_t[f * k_padded + j] = 0


cdef inline double score64(const floating[::1] data, const int[::1] indices, Py_ssize_t p0,
                           Py_ssize_t p1, const floating* c, double c_sq) noexcept nogil:
    """``‖c‖² − 2 x·c`` in float64 for the sparse row (values p0..p1), the products summed in
    column order: scikit-learn's score for float64 data, in O(nnz)."""
    cdef double dot = 0.0
    cdef Py_ssize_t p
    for p in range(p0, p1):
        dot = dot + <double> data[p] * <double> c[indices[p]]
    return c_sq - 2 * dot


cdef inline void row_scores(const floating[::1] data, const int[::1] indices, Py_ssize_t p0,
                            Py_ssize_t p1, const floating* centers_t, Py_ssize_t k_padded,
                            floating* scores) noexcept nogil:
    """OUT scores (k_padded,): x·c for every centre, each a sum over the row's values in column
    order (as scikit-learn's), one contiguous row of the transposed centres per value. The rows
    of centres AHEAD values on (into the next rows of X too) are prefetched: they sit at
    random places, so the hardware cannot guess them (1.4× at k = 20)."""
    cdef Py_ssize_t j, p, q, last = indices.shape[0]
    cdef const floating* ahead
    for j in range(k_padded):
        scores[j] = 0
    for q in range(p0 + AHEAD, min(p1 + AHEAD, last)):
        ahead = centers_t + indices[q] * k_padded
        prefetch(ahead)
        prefetch(ahead + 64 // sizeof(floating))
    p = p0
    while p + 1 < p1:
        if floating is float:
            axpy2_f(scores, centers_t + indices[p] * k_padded, data[p],
                    centers_t + indices[p + 1] * k_padded, data[p + 1], k_padded)
        else:
            axpy2_d(scores, centers_t + indices[p] * k_padded, data[p],
                    centers_t + indices[p + 1] * k_padded, data[p + 1], k_padded)
        p = p + 2
    if p < p1:
        if floating is float:
            axpy1_f(scores, centers_t + indices[p] * k_padded, data[p], k_padded)
        else:
            axpy1_d(scores, centers_t + indices[p] * k_padded, data[p], k_padded)


def assign(const floating[::1] data, const int[::1] indices, const int[::1] indptr,
           const double[::1] x_sq, const floating[:, ::1] centers,
           const double[::1] centers_sq, int[::1] labels, Py_ssize_t n_blocks, int n_threads):
    """Label every row with its nearest centre; returns how many labels changed.

    The labels are the argmin (first centre on ties) of scikit-learn's float64 score
    ``‖c‖² − 2 x·c``, the products summed in column order, ‖c‖² given (numpy's einsum, as
    scikit-learn's ``row_norms``). float64 data is scored so directly, from the transposed
    centres, bit for bit as scikit-learn scores it. float32 data is scored in float32 (twice
    the lanes); where another centre's score is within float32's rounding of the best
    (relative to ``‖x‖² + max ‖c‖²``), those centres are re-scored in float64, O(nnz) each.

    IN: data, indices, indptr (canonical CSR), x_sq (n,) float64 squared row norms, centers
    (k, d) of X's dtype, centers_sq (k,) float64, n_blocks (fixed by the shape), n_threads.
    IN/OUT labels (n,) int32 (IN: the last pass's).
    """
    cdef Py_ssize_t n = indptr.shape[0] - 1, k = centers.shape[0], d = centers.shape[1]
    cdef Py_ssize_t per = rows_per_block(n, n_blocks)
    cdef Py_ssize_t k_padded = (k + PAD - 1) // PAD * PAD
    cdef floating* centers_t = <floating*> malloc(max(1, k_padded * d) * sizeof(floating))
    cdef floating* csq = <floating*> malloc(k * sizeof(floating))
    cdef double top = 0.0, window, exact, best_exact
    cdef Py_ssize_t changed = 0, b, i, j, start, stop, label, p0, p1
    cdef floating* scores
    cdef floating best, s
    cdef bint tied
    with nogil:
        centers_prepare(centers, centers_t, k_padded)
        for j in range(k):
            csq[j] = <floating> centers_sq[j]
            top = max(top, centers_sq[j])
        with parallel(num_threads=n_threads):
            scores = <floating*> malloc(k_padded * sizeof(floating))
            for b in prange(n_blocks, schedule="dynamic"):
                start = min(n, b * per)
                stop = min(n, start + per)
                for i in range(start, stop):
                    p0 = indptr[i]
                    p1 = indptr[i + 1]
                    row_scores(data, indices, p0, p1, centers_t, k_padded, scores)
                    best = INFINITY
                    label = 0
                    for j in range(k):
                        s = csq[j] - 2 * scores[j]
                        scores[j] = s
                        if s < best:
                            best = s
                            label = j
                    if floating is float and k > 1:
                        # Bounds twice the distance between a float32 and a float64 score:
                        # the rounding of nnz products and sums, of ‖c‖² and of the difference.
                        window = 4.0 * (p1 - p0 + 2) * EPS32 * (x_sq[i] + top)
                        tied = False
                        for j in range(k):
                            if j != label and <double> scores[j] - <double> best <= window:
                                tied = True
                                break
                        if tied:
                            best_exact = INFINITY
                            for j in range(k):
                                if <double> scores[j] - <double> best <= window:
                                    exact = score64(data, indices, p0, p1, &centers[j, 0],
                                                    centers_sq[j])
                                    if exact < best_exact:
                                        best_exact = exact
                                        label = j
                    if labels[i] != label:
                        changed += 1
                    labels[i] = <int> label
            free(scores)
    free(centers_t)
    free(csq)
    return changed


def cluster_sums(const floating[::1] data, const int[::1] indices, const int[::1] indptr,
                 const floating[::1] sample_weight, const int[::1] labels,
                 double[:, ::1] sums, double[::1] weights, int n_threads):
    """OUT sums (k, d) and weights (k,), float64: each cluster's weighted sum of its rows and
    its total weight, each added up over its rows in row order. Threads share out the
    clusters (contiguous ranges), each reading X front to back and taking its clusters' rows:
    no partial sums, so the result does not depend on the number of threads, and X is read as
    a stream (rows visited cluster by cluster cost a cache miss each: 1.5× slower)."""
    cdef Py_ssize_t n = labels.shape[0], k = sums.shape[0], d = sums.shape[1]
    cdef Py_ssize_t n_groups = max(1, min(n_threads, k))
    cdef Py_ssize_t per = (k + n_groups - 1) // n_groups
    cdef Py_ssize_t g, lo, hi, i, j, p, f
    cdef double w
    with nogil:
        for g in prange(n_groups, num_threads=n_threads, schedule="static"):
            lo = g * per
            hi = min(k, lo + per)
            for j in range(lo, hi):
                weights[j] = 0.0
                for f in range(d):
                    sums[j, f] = 0.0
            for i in range(n):
                j = labels[i]
                if j >= lo and j < hi:
                    w = sample_weight[i]
                    weights[j] += w
                    for p in range(indptr[i], indptr[i + 1]):
                        sums[j, indices[p]] += w * <double> data[p]


def assigned_sq_distances(const floating[::1] data, const int[::1] indices,
                          const int[::1] indptr, const floating[::1] sample_weight,
                          const floating[:, ::1] centers, const double[::1] centers_sq,
                          const int[::1] labels, double[::1] out, double[::1] block_inertia,
                          int n_threads):
    """OUT out (n,) (or (0,): not kept): every row's squared distance to its centre,
    ``Σ_nnz ((x − c)² − c²) + ‖c‖²`` in float64 (scikit-learn's sparse inertia and empty-cluster
    distances; ‖c‖² given, (k,) float64), at least 0; block_inertia (B,): each fixed block's
    weighted sum of them, to be added in order."""
    cdef Py_ssize_t n = indptr.shape[0] - 1
    cdef Py_ssize_t n_blocks = block_inertia.shape[0], per = rows_per_block(n, n_blocks)
    cdef Py_ssize_t b, i, j, p, start, stop
    cdef double s, c, diff, acc
    cdef bint keep = out.shape[0] > 0
    with nogil:
        for b in prange(n_blocks, num_threads=n_threads, schedule="dynamic"):
            start = min(n, b * per)
            stop = min(n, start + per)
            acc = 0.0
            for i in range(start, stop):
                j = labels[i]
                s = 0.0
                for p in range(indptr[i], indptr[i + 1]):
                    c = centers[j, indices[p]]
                    diff = <double> data[p] - c
                    s = s + (diff * diff - c * c)
                s = max(0.0, s + centers_sq[j])
                if keep:
                    out[i] = s
                acc = acc + s * <double> sample_weight[i]
            block_inertia[b] = acc


def all_distances(const floating[::1] data, const int[::1] indices, const int[::1] indptr,
                  const double[::1] x_sq, const floating[:, ::1] centers,
                  const double[::1] centers_sq, floating[:, ::1] out, bint squared,
                  int n_threads):
    """OUT out (n, k): every row's distance to every centre (squared when ``squared``), as
    scikit-learn's ``euclidean_distances`` computes it for sparse rows: the products summed in
    float64 in column order, ``(−2 x·c + ‖x‖²) + ‖c‖²``, at least 0, rounded to X's dtype.
    IN: x_sq (n,), centers_sq (k,), float64."""
    cdef Py_ssize_t n = indptr.shape[0] - 1, k = centers.shape[0], d = centers.shape[1]
    cdef Py_ssize_t k_padded = (k + PAD - 1) // PAD * PAD
    cdef double* centers_t = <double*> malloc(max(1, k_padded * d) * sizeof(double))
    cdef Py_ssize_t i, j, p, f
    cdef double* dots
    cdef double v, s
    with nogil:
        for f in range(d):
            for j in range(k):
                centers_t[f * k_padded + j] = centers[j, f]
            for j in range(k, k_padded):
                centers_t[f * k_padded + j] = 0.0
        with parallel(num_threads=n_threads):
            dots = <double*> malloc(k_padded * sizeof(double))
            for i in prange(n, schedule="static"):
                for j in range(k_padded):
                    dots[j] = 0.0
                for p in range(indptr[i], indptr[i + 1]):
                    axpy1_d(dots, centers_t + indices[p] * k_padded, data[p], k_padded)
                for j in range(k):
                    s = max(0.0, (-2.0 * dots[j] + x_sq[i]) + centers_sq[j])
                    out[i, j] = <floating> (s if squared else sqrt(s))
            free(dots)
    free(centers_t)


def candidate_sq_distances(const floating[::1] data, const int[::1] indices,
                           const int[::1] indptr, const double[::1] x_sq,
                           const double[:, ::1] candidates_t, const double[::1] candidates_sq,
                           floating[:, ::1] out, int n_threads):
    """OUT out (t, n): k-means++'s squared distances from every row to each of t candidate
    centres, as scikit-learn's ``_euclidean_distances`` computes them for sparse rows: the
    products summed in float64 over the row's values in column order,
    ``(−2 x·c + ‖c‖²) + ‖x‖²``, rounded to X's dtype, at least 0.

    IN: candidates_t (d, t) float64, the candidates transposed; candidates_sq (t,) float64;
    x_sq (n,) float64."""
    cdef Py_ssize_t n = indptr.shape[0] - 1, t = candidates_t.shape[1], i, c, p
    cdef double* dots
    cdef double v
    cdef floating s
    cdef const double* row
    with nogil, parallel(num_threads=n_threads):
        dots = <double*> malloc(max(1, t) * sizeof(double))
        for i in prange(n, schedule="static"):
            for c in range(t):
                dots[c] = 0.0
            for p in range(indptr[i], indptr[i + 1]):
                v = data[p]
                row = &candidates_t[indices[p], 0]
                for c in range(t):
                    dots[c] = dots[c] + v * row[c]
            for c in range(t):
                s = <floating> ((-2.0 * dots[c] + candidates_sq[c]) + x_sq[i])
                out[c, i] = s if s > 0 else 0
        free(dots)
