# cython: language_level=3, boundscheck=False, wraparound=False, cdivision=True
# cython: initializedcheck=False
"""Lloyd's pass for up to 4 features, compiled ahead of time: assign and accumulate in one sweep.

One body serves float32 and float64 data, measuring in float64 or (float32 data only) in float32
with near-ties re-measured in float64; the caller picks the variant. Distances are measured
directly, a chunk of rows at a time, in loops the C compiler vectorises over rows. Built with
``-ffp-contract=off`` so that no multiply-add is fused: every sum rounds as written, as numba's
kernels and numpy do.
"""

from cython.parallel cimport parallel, prange
from libc.math cimport INFINITY
from libc.stdlib cimport free, malloc

from lloyd._kernels._blocks cimport rows_per_block

ctypedef fused floating:
    float
    double

ctypedef fused measure_t:
    float
    double

#: Up to this many features the low-dimension kernel runs (features padded to 4 with zeros).
LOW_D_MAX = 4

cdef enum:
    LOW_D_CHUNK = 512  # rows per chunk: 4 float64 columns in 16 KiB of L1

#: A float32 distance (sum of up to 4 squares of rounded differences) is within this many
#: float32 epsilons of the exact one, relative to it (one rounding a subtraction, a square and
#: an addition each, with room to spare).
cdef double F32_DIST_EPS = 16.0 * 1.1920928955078125e-07


cdef inline Py_ssize_t nearest_exact(const floating[:, ::1] X, Py_ssize_t i,
                                     const floating[:, ::1] centers,
                                     const floating* off) noexcept nogil:
    """The nearest centre to row i less ``off`` (d,) (rounded in X's type, as ``X − offset``),
    distances in float64 summed in feature order (as every kernel settles a near-tie); the
    first centre on ties."""
    cdef Py_ssize_t best = 0, j, f
    cdef double best_dist = INFINITY, s, diff
    for j in range(centers.shape[0]):
        s = 0.0
        for f in range(X.shape[1]):
            diff = <double> <floating> (X[i, f] - off[f]) - <double> centers[j, f]
            s = s + diff * diff
        if s < best_dist:
            best_dist = s
            best = j
    return best


cdef inline void sweep4(const measure_t* c, Py_ssize_t j, int n_terms, const measure_t* x0,
                        const measure_t* x1, const measure_t* x2, const measure_t* x3,
                        measure_t* best, measure_t* second, measure_t* best_j, Py_ssize_t m,
                        bint keep_second) noexcept nogil:
    """IN/OUT best, best_j (and second when ``keep_second``) for the chunk's m rows: centres
    j .. j+3 (row-major, 4 features each) against every row, four distances a row for each load
    and store of its best, taken in centre order (the first on ties). Distances are sums of
    ``n_terms`` (3 or 4) squares in the buffers' type; the branches on ``n_terms`` and
    ``keep_second`` sit outside the row loops, so each loop is branch-free and vectorises."""
    cdef measure_t a0 = c[4 * j], a1 = c[4 * j + 1], a2 = c[4 * j + 2], a3 = c[4 * j + 3]
    cdef measure_t b0 = c[4 * j + 4], b1 = c[4 * j + 5], b2 = c[4 * j + 6], b3 = c[4 * j + 7]
    cdef measure_t g0 = c[4 * j + 8], g1 = c[4 * j + 9], g2 = c[4 * j + 10], g3 = c[4 * j + 11]
    cdef measure_t h0 = c[4 * j + 12], h1 = c[4 * j + 13], h2 = c[4 * j + 14], h3 = c[4 * j + 15]
    cdef measure_t fa = j, fb = j + 1, fg = j + 2, fh = j + 3
    cdef measure_t u0, u1, u2, u3, da, db, dg, dh, v, vj, s
    cdef Py_ssize_t i
    for i in range(m):
        u0 = x0[i]
        u1 = x1[i]
        u2 = x2[i]
        da = (u0 - a0) * (u0 - a0) + (u1 - a1) * (u1 - a1) + (u2 - a2) * (u2 - a2)
        db = (u0 - b0) * (u0 - b0) + (u1 - b1) * (u1 - b1) + (u2 - b2) * (u2 - b2)
        dg = (u0 - g0) * (u0 - g0) + (u1 - g1) * (u1 - g1) + (u2 - g2) * (u2 - g2)
        dh = (u0 - h0) * (u0 - h0) + (u1 - h1) * (u1 - h1) + (u2 - h2) * (u2 - h2)
        if n_terms == 4:
            u3 = x3[i]
            da = da + (u3 - a3) * (u3 - a3)
            db = db + (u3 - b3) * (u3 - b3)
            dg = dg + (u3 - g3) * (u3 - g3)
            dh = dh + (u3 - h3) * (u3 - h3)
        v = best[i]
        vj = best_j[i]
        if keep_second:  # branch-free: second = min(second, max(best, d)) before best moves
            s = second[i]
            s = min(s, max(v, da))
            vj = fa if da < v else vj
            v = da if da < v else v
            s = min(s, max(v, db))
            vj = fb if db < v else vj
            v = db if db < v else v
            s = min(s, max(v, dg))
            vj = fg if dg < v else vj
            v = dg if dg < v else v
            s = min(s, max(v, dh))
            vj = fh if dh < v else vj
            v = dh if dh < v else v
            second[i] = s
        else:
            vj = fa if da < v else vj
            v = da if da < v else v
            vj = fb if db < v else vj
            v = db if db < v else v
            vj = fg if dg < v else vj
            v = dg if dg < v else v
            vj = fh if dh < v else vj
            v = dh if dh < v else v
        best[i] = v
        best_j[i] = vj


cdef inline void sweep_all(const measure_t* c, Py_ssize_t k_padded, int n_terms,
                           const measure_t* x0, const measure_t* x1, const measure_t* x2,
                           const measure_t* x3, measure_t* best, measure_t* second,
                           measure_t* best_j, Py_ssize_t m, bint keep_second) noexcept nogil:
    """Every centre, four at a time, with literal ``n_terms`` and ``keep_second`` at each call
    of ``sweep4``, so that the compiler drops the untaken branches from the row loops."""
    cdef Py_ssize_t j
    if n_terms == 3 and keep_second:
        for j in range(0, k_padded, 4):
            sweep4(c, j, 3, x0, x1, x2, x3, best, second, best_j, m, True)
    elif n_terms == 3:
        for j in range(0, k_padded, 4):
            sweep4(c, j, 3, x0, x1, x2, x3, best, second, best_j, m, False)
    elif keep_second:
        for j in range(0, k_padded, 4):
            sweep4(c, j, 4, x0, x1, x2, x3, best, second, best_j, m, True)
    else:
        for j in range(0, k_padded, 4):
            sweep4(c, j, 4, x0, x1, x2, x3, best, second, best_j, m, False)


cdef Py_ssize_t low_d_pass(const floating[:, ::1] X, const floating[::1] sample_weight,
                           const floating[:, ::1] centers, int[::1] labels,
                           double[:, :, ::1] block_sums, double[:, ::1] block_weights,
                           bint update, const floating[::1] offset, measure_t tie_eps,
                           int n_threads) noexcept nogil:
    """The pass, in ``measure_t``: with float32, near-ties (best and second within ``tie_eps``
    of each other, relative) are re-measured in float64 over every centre, so the labels are
    those of the float64 measure. See ``lloyd_pass_low_d`` for the arguments."""
    cdef Py_ssize_t n = X.shape[0], d = X.shape[1], k = centers.shape[0]
    cdef Py_ssize_t n_blocks = block_sums.shape[0]
    cdef Py_ssize_t k_padded = (k + 3) // 4 * 4
    cdef Py_ssize_t per_block = rows_per_block(n, n_blocks)
    cdef int n_terms = 3 if d <= 3 else 4
    cdef bint keep_second = measure_t is float
    cdef floating off[4]
    cdef measure_t* c = <measure_t*> malloc(k_padded * 4 * sizeof(measure_t))
    cdef Py_ssize_t changed = 0
    cdef Py_ssize_t j, f, b, i, t, c0, m, start, stop, label
    cdef measure_t* x0
    cdef measure_t* x1
    cdef measure_t* x2
    cdef measure_t* x3
    cdef measure_t* best
    cdef measure_t* second
    cdef measure_t* best_j  # a float label: one select type keeps the loops vectorised
    cdef double* sums  # this thread's block totals: (k, d) sums, then k weights
    cdef double* weights
    cdef floating w
    for f in range(4):
        off[f] = offset[f] if f < offset.shape[0] else 0
    # Centres padded: features to 4 with zeros (adding exact zeros), rows to a multiple of 4
    # with centres at +inf, never nearer than anything.
    for j in range(k_padded):
        for f in range(4):
            c[4 * j + f] = <measure_t> centers[j, f] if (j < k and f < d) else 0
        if j >= k:
            c[4 * j] = INFINITY
    with parallel(num_threads=n_threads):
        x0 = <measure_t*> malloc(7 * LOW_D_CHUNK * sizeof(measure_t))
        x1 = x0 + LOW_D_CHUNK
        x2 = x1 + LOW_D_CHUNK
        x3 = x2 + LOW_D_CHUNK
        best = x3 + LOW_D_CHUNK
        second = best + LOW_D_CHUNK
        best_j = second + LOW_D_CHUNK
        for t in range(4 * LOW_D_CHUNK):  # features past d stay zero
            x0[t] = 0
        # The block's totals are kept in this thread's memory and stored once a block: adding
        # into block_sums itself wrote, row after row, to cache lines that the block next to
        # it (another thread's) shares when the array does not start on a line, as numpy's
        # allocations need not: the 2-thread pass then ran up to 1.75x slower, in whichever
        # processes placed it so (issue 22).
        sums = <double*> malloc((k * d + k) * sizeof(double))
        weights = sums + k * d
        for b in prange(n_blocks, schedule="dynamic"):
            start = min(n, b * per_block)
            stop = min(n, start + per_block)
            if update:
                for j in range(k * d + k):
                    sums[j] = 0.0
            c0 = start
            while c0 < stop:
                m = min(stop, c0 + LOW_D_CHUNK) - c0
                # each feature minus the offset, rounded in X's type as ``X - offset`` would be
                for i in range(m):
                    x0[i] = X[c0 + i, 0] - off[0]
                    if d > 1:
                        x1[i] = X[c0 + i, 1] - off[1]
                    if d > 2:
                        x2[i] = X[c0 + i, 2] - off[2]
                    if d > 3:
                        x3[i] = X[c0 + i, 3] - off[3]
                for i in range(m):
                    best[i] = INFINITY
                    second[i] = INFINITY
                    best_j[i] = 0
                sweep_all(c, k_padded, n_terms, x0, x1, x2, x3, best, second, best_j, m,
                          keep_second)
                for i in range(m):
                    label = <Py_ssize_t> best_j[i]
                    if keep_second and k > 1:
                        if <double> (second[i] - best[i]) <= tie_eps * <double> second[i]:
                            label = nearest_exact(X, c0 + i, centers, off)
                    if labels[c0 + i] != label:
                        changed += 1
                    labels[c0 + i] = <int> label
                    if update:
                        w = sample_weight[c0 + i]
                        weights[label] += w
                        if d == 3:  # unrolled: the feature loop costs more than its additions
                            sums[3 * label] += w * (X[c0 + i, 0] - off[0])
                            sums[3 * label + 1] += w * (X[c0 + i, 1] - off[1])
                            sums[3 * label + 2] += w * (X[c0 + i, 2] - off[2])
                        else:
                            for f in range(d):
                                sums[d * label + f] += w * (X[c0 + i, f] - off[f])
                c0 = c0 + LOW_D_CHUNK
            if update:
                for j in range(k):
                    block_weights[b, j] = weights[j]
                    for f in range(d):
                        block_sums[b, j, f] = sums[d * j + f]
        free(sums)
        free(x0)
    free(c)
    return changed


def lloyd_pass_low_d(const floating[:, ::1] X, const floating[::1] sample_weight,
                     const floating[:, ::1] centers, int[::1] labels,
                     double[:, :, ::1] block_sums, double[:, ::1] block_weights, bint update,
                     const floating[::1] offset, bint measure_in_float32, int n_threads):
    """One Lloyd pass for d <= 4, exact: the labels are the float64 argmin, first on ties.

    Each chunk of rows is copied into four column buffers (features past d are zero, as are
    the centres' there), then the centres, four at a time, are compared with every row of the
    chunk in a loop vectorised over rows. With ``measure_in_float32`` (float32 data; twice the
    lanes a vector) the best and second-best distances are kept and near-ties re-measured in
    float64, so the labels and sums are those of the float64 measure, bit for bit.

    IN: X (n, d), sample_weight (n,), centers (k, d), all of X's type; update; offset (d,) or
    (0,): subtracted from every row when given, in X's type (as if X had been centred; no copy
    is made); n_threads. OUT: labels (n,) int32; when ``update``, block_sums (B, k, d) and
    block_weights (B, k), float64, each block's weighted sums of its rows. The blocks are
    fixed by ``B`` alone, so the result does not depend on ``n_threads``. Returns how many
    labels changed (IN labels: the last pass's).
    """
    cdef Py_ssize_t changed
    if measure_in_float32 and floating is float:
        with nogil:
            changed = low_d_pass(X, sample_weight, centers, labels, block_sums, block_weights,
                                 update, offset, <float> F32_DIST_EPS, n_threads)
    else:
        with nogil:
            changed = low_d_pass(X, sample_weight, centers, labels, block_sums, block_weights,
                                 update, offset, <double> 0.0, n_threads)
    return changed
