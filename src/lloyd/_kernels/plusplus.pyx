# cython: language_level=3, boundscheck=False, wraparound=False, cdivision=True
# cython: initializedcheck=False
"""k-means++ seeding kernels, compiled ahead of time: each row keeps its squared distance to the
nearest chosen centre, and each step measures its candidates against every row.

One body serves float32 and float64 data. Potentials are summed over fixed blocks (a function
of the shape alone) and merged in block order, so the chosen centres do not depend on the number
of threads, which the caller passes (``lloyd._threads.kernel_threads``). Distances are float64,
summed in feature order; built with ``-ffp-contract=off``, so every sum rounds as written: the
same numbers as the numba kernels these replace and as numpy.
"""

import numpy as np

from cython.parallel cimport parallel, prange
from libc.math cimport INFINITY, isnan
from libc.stdlib cimport free, malloc

from lloyd._kernels._blocks cimport CHUNK, rows_per_block

ctypedef fused floating:
    float
    double

cdef enum:
    # Rows per chunk of the low-dimension kernels: four float64 columns, the weights and the
    # current distances stay in L1. Blocks start on multiples of CHUNK (a multiple of it), so
    # chunk c of a block is rows [c, c + 1) · LOW_D_CHUNK.
    LOW_D_CHUNK = 256

#: Rows per chunk of ``chunk_boxes`` and ``candidate_potentials_low_d``.
LOW_D_CHUNK_ROWS = LOW_D_CHUNK
assert CHUNK % LOW_D_CHUNK == 0


cdef inline double fmin2(double a, double b) noexcept nogil:
    """min(a, b) as numba's ``min`` gives it for numbers (b on equality: the same value)."""
    return a if a < b else b


cdef inline double fmax2(double a, double b) noexcept nogil:
    return a if a > b else b


# ---- Rows of X against one row: k-means++'s first centre and each centre added -------------

cdef inline double sqdist_rows(const floating* X, Py_ssize_t d, Py_ssize_t i, Py_ssize_t r,
                               const floating* off) noexcept nogil:
    """‖X[i] − X[r]‖² in float64, summed in feature order, each row less ``off`` (d,) first
    (rounded in X's type, as a centred copy of X would hold it)."""
    cdef double s = 0.0, diff
    cdef Py_ssize_t f
    for f in range(d):
        diff = <double> <floating> (X[i * d + f] - off[f]) - \
            <double> <floating> (X[r * d + f] - off[f])
        s = s + diff * diff
    return s


cdef inline void closest_block(const floating* X, Py_ssize_t n, Py_ssize_t d,
                               const floating* w, Py_ssize_t r, double* closest,
                               double* block_pot, Py_ssize_t b, Py_ssize_t per,
                               bint first, const floating* off) noexcept nogil:
    """Block b: closest = ‖x − x_r‖² (``first``) or min(closest, ‖x − x_r‖²); its Σ w·closest."""
    cdef Py_ssize_t start = min(n, b * per)
    cdef Py_ssize_t stop = min(n, start + per)
    cdef Py_ssize_t i
    cdef double acc = 0.0, dist
    for i in range(start, stop):
        dist = sqdist_rows(X, d, i, r, off)
        if first or dist < closest[i]:
            closest[i] = dist
        acc = acc + <double> w[i] * closest[i]
    block_pot[b] = acc


cdef void closest_pass(const floating[:, ::1] X, const floating[::1] sample_weight,
                       Py_ssize_t r, double[::1] closest, double[::1] block_pot, bint first,
                       int n_threads, const floating* off) noexcept nogil:
    cdef Py_ssize_t n = X.shape[0], d = X.shape[1], n_blocks = block_pot.shape[0], b
    cdef Py_ssize_t per = rows_per_block(n, n_blocks)
    for b in prange(n_blocks, schedule="dynamic", num_threads=n_threads):
        closest_block(&X[0, 0], n, d, &sample_weight[0], r, &closest[0], &block_pot[0], b,
                      per, first, off)


def _offset(const floating[:, ::1] X, offset):
    """The rows' offset (d,) in X's type: ``offset``, or zeros (x − 0 is x exactly)."""
    return np.zeros(X.shape[1], dtype=np.asarray(X).dtype) if offset is None else offset


def init_closest(const floating[:, ::1] X, const floating[::1] sample_weight, Py_ssize_t first,
                 double[::1] closest, double[::1] block_pot, int n_threads, offset=None):
    """OUT: closest (n,) = ‖x_i − x_first‖² (float64, feature order), block_pot (B,) =
    Σ w·closest per block; the rows less ``offset`` (d,) when given (never copied)."""
    cdef const floating[::1] off = _offset(X, offset)
    with nogil:
        closest_pass(X, sample_weight, first, closest, block_pot, True, n_threads, &off[0])


def add_center(const floating[:, ::1] X, const floating[::1] sample_weight, Py_ssize_t chosen,
               double[::1] closest, double[::1] block_pot, int n_threads, offset=None):
    """IN/OUT: closest = min(closest, ‖x − x_chosen‖²); OUT: block_pot per block; the rows
    less ``offset`` (d,) when given."""
    cdef const floating[::1] off = _offset(X, offset)
    with nogil:
        closest_pass(X, sample_weight, chosen, closest, block_pot, False, n_threads, &off[0])


# ---- Draws ----------------------------------------------------------------------------------

def weighted_row(const double[::1] weights, double total, double u):
    """The row ``RandomState.choice(n, p=weights / total)`` picks when its uniform draw is
    ``u``: the first row whose running sum of p, divided by the whole sum, exceeds u (the
    cumulative sum runs in order, as numpy's does, so the numbers are the same)."""
    cdef Py_ssize_t n = weights.shape[0], i, row = n - 1
    cdef double last = 0.0, acc = 0.0
    with nogil:
        for i in range(n):
            last = last + weights[i] / total
        for i in range(n):
            acc = acc + weights[i] / total
            if acc / last > u:
                row = i
                break
    return row


cdef inline double column_sq(const floating* x0, const floating* x1, const floating* x2,
                            const floating* x3, Py_ssize_t i, double a0, double a1, double a2,
                            double a3, int n_terms) noexcept nogil:
    """Squared distance in float64 from row i of the columns x0..x3 to (a0..a3): the three
    first terms added in order, the fourth (``n_terms`` 4) last. Every low-dimension kernel
    measures with it, so sampling with a centre pending and the chunk loops that apply it
    compute the same numbers."""
    cdef double e0 = <double> x0[i] - a0
    cdef double e1 = <double> x1[i] - a1
    cdef double e2 = <double> x2[i] - a2
    cdef double s = e0 * e0 + e1 * e1 + e2 * e2
    cdef double e3
    if n_terms == 4:
        e3 = <double> x3[i] - a3
        s = s + e3 * e3
    return s


cdef void sample_rows_nogil(const floating[::1] sample_weight, const double[::1] closest,
                            const double[::1] block_pot, const double* targets,
                            Py_ssize_t n_targets, Py_ssize_t* out,
                            const floating[:, ::1] Xt, Py_ssize_t pending) noexcept nogil:
    cdef Py_ssize_t n = closest.shape[0], n_blocks = block_pot.shape[0]
    cdef Py_ssize_t per = rows_per_block(n, n_blocks)
    cdef Py_ssize_t rows = Xt.shape[0], t, b, i, start, stop, chosen
    cdef double target, acc, near, a0 = 0.0, a1 = 0.0, a2 = 0.0, a3 = 0.0
    cdef bint found
    cdef const floating* xt = &Xt[0, 0]
    cdef Py_ssize_t n_cols = Xt.shape[1]
    if pending >= 0:
        a0 = <double> Xt[0, pending]
        a1 = <double> Xt[1, pending]
        a2 = <double> Xt[2, pending]
        if rows == 4:
            a3 = <double> Xt[3, pending]
    for t in range(n_targets):
        target = targets[t]
        acc = 0.0
        chosen = n - 1
        for b in range(n_blocks):
            if acc + block_pot[b] <= target and b < n_blocks - 1:
                acc = acc + block_pot[b]
                continue
            start = min(n, b * per)
            stop = min(n, start + per)
            found = False
            for i in range(start, stop):
                near = closest[i]
                if pending >= 0:
                    near = fmin2(column_sq(xt, xt + n_cols, xt + 2 * n_cols,
                                           xt + (rows - 1) * n_cols, i, a0, a1, a2, a3, rows),
                                 near)
                acc = acc + <double> sample_weight[i] * near
                if acc > target:
                    chosen = i
                    found = True
                    break
            if found or b == n_blocks - 1:
                break
        out[t] = chosen


def sample_rows(const floating[::1] sample_weight, const double[::1] closest,
                const double[::1] block_pot, const double[::1] targets, Py_ssize_t[::1] out,
                const floating[:, ::1] Xt, Py_ssize_t pending):
    """OUT: out[t] = the first row whose running sum of w·closest exceeds targets[t]
    (the last row if rounding leaves it short): sampling proportional to w·closest.

    ``pending`` >= 0: the row of a centre not yet applied to ``closest`` (low dimension,
    ``Xt`` as for ``candidate_potentials_low_d``): a row's distance is then the lesser of its
    closest and its distance to that centre, as the pass that applies it will store it."""
    with nogil:
        sample_rows_nogil(sample_weight, closest, block_pot, &targets[0], targets.shape[0],
                          &out[0], Xt, pending)


# ---- Candidates' potentials, up to 16 features ------------------------------------------------

cdef inline void candidates_block(const floating* X, Py_ssize_t n, Py_ssize_t d,
                                  const floating* w, const double* closest,
                                  const double* cand_t, Py_ssize_t n_cand, double* block_pots,
                                  Py_ssize_t b, Py_ssize_t per, double* acc,
                                  double* dist, const floating* off) noexcept nogil:
    """Block b's Σ w·min(closest, ‖x − x_c‖²) for each candidate, one row at a time, the inner
    loops over the candidates (contiguous in ``cand_t`` (d, t): vectorised)."""
    cdef Py_ssize_t start = min(n, b * per)
    cdef Py_ssize_t stop = min(n, start + per)
    cdef Py_ssize_t i, t, f
    cdef double ci, wi, xf, diff
    for t in range(n_cand):
        acc[t] = 0.0
    for i in range(start, stop):
        ci = closest[i]
        wi = <double> w[i]
        for t in range(n_cand):
            dist[t] = 0.0
        for f in range(d):
            xf = <double> <floating> (X[i * d + f] - off[f])
            for t in range(n_cand):
                diff = xf - cand_t[f * n_cand + t]
                dist[t] = dist[t] + diff * diff
        for t in range(n_cand):
            acc[t] = acc[t] + wi * fmin2(dist[t], ci)
    for t in range(n_cand):
        block_pots[b * n_cand + t] = acc[t]


cdef void candidates_pass(const floating[:, ::1] X, const floating[::1] sample_weight,
                          const double[::1] closest, const Py_ssize_t[::1] candidates,
                          double[:, ::1] block_pots, double* cand_t,
                          int n_threads, const floating* off) noexcept nogil:
    cdef Py_ssize_t n = X.shape[0], d = X.shape[1]
    cdef Py_ssize_t n_blocks = block_pots.shape[0], n_cand = block_pots.shape[1]
    cdef Py_ssize_t per = rows_per_block(n, n_blocks), t, f, b
    cdef double* acc = NULL
    # The candidates' coordinates transposed and in float64: the inner loops run over them.
    for t in range(n_cand):
        for f in range(d):
            cand_t[f * n_cand + t] = <double> <floating> (X[candidates[t], f] - off[f])
    with parallel(num_threads=n_threads):
        acc = <double*> malloc(2 * n_cand * sizeof(double))
        for b in prange(n_blocks, schedule="dynamic"):
            candidates_block(&X[0, 0], n, d, &sample_weight[0], &closest[0], cand_t, n_cand,
                             &block_pots[0, 0], b, per, acc, acc + n_cand, off)
        free(acc)


def candidate_potentials(const floating[:, ::1] X, const floating[::1] sample_weight,
                         const double[::1] closest, const Py_ssize_t[::1] candidates,
                         double[:, ::1] block_pots, int n_threads, offset=None):
    """OUT: block_pots (B, t): per block, Σ w·min(closest, ‖x − x_c‖²) for each candidate c;
    the rows less ``offset`` (d,) when given."""
    cdef double[::1] cand_t = np.empty(X.shape[1] * block_pots.shape[1])
    cdef const floating[::1] off = _offset(X, offset)
    with nogil:
        candidates_pass(X, sample_weight, closest, candidates, block_pots, &cand_t[0],
                        n_threads, &off[0])


# ---- Candidates' potentials, up to 4 features: chunks vectorised over rows, far ones skipped --

cdef inline void boxes_chunk(const floating[:, ::1] X, const double* closest, floating* xt,
                             Py_ssize_t rows, double* lo, double* hi, double* chunk_max,
                             Py_ssize_t c, const floating* off) noexcept nogil:
    cdef Py_ssize_t n = X.shape[0], d = X.shape[1]
    cdef Py_ssize_t start = c * LOW_D_CHUNK
    cdef Py_ssize_t stop = min(n, start + LOW_D_CHUNK)
    cdef Py_ssize_t i, f
    cdef double top = 0.0, v
    for f in range(4):
        lo[4 * c + f] = INFINITY if f < d else 0.0
        hi[4 * c + f] = -INFINITY if f < d else 0.0
    for i in range(start, stop):
        for f in range(rows):
            xt[f * n + i] = <floating> (X[i, f] - off[f]) if f < d else 0
            v = <double> xt[f * n + i]
            lo[4 * c + f] = fmin2(lo[4 * c + f], v)
            hi[4 * c + f] = fmax2(hi[4 * c + f], v)
        top = fmax2(top, closest[i])
    chunk_max[c] = top


def chunk_boxes(const floating[:, ::1] X, const double[::1] closest, floating[:, ::1] Xt,
                double[:, ::1] lo, double[:, ::1] hi, double[::1] chunk_max, int n_threads,
                offset=None):
    """OUT: Xt (3 or 4, n), X's dtype, the features of X as columns (zeros past d; 4 rows only
    when d = 4, so that three features read three columns), lo, hi (n_chunks, 4) float64 the
    bounding box of each chunk of ``LOW_D_CHUNK_ROWS`` rows (zeros past d), chunk_max
    (n_chunks,) the largest ``closest`` in it; the rows less ``offset`` (d,) when given."""
    cdef Py_ssize_t c
    cdef const floating[::1] off = _offset(X, offset)
    with nogil:
        for c in prange(lo.shape[0], schedule="static", num_threads=n_threads):
            boxes_chunk(X, &closest[0], &Xt[0, 0], Xt.shape[0], &lo[0, 0], &hi[0, 0],
                        &chunk_max[0], c, &off[0])


cdef inline double box_sq(const double* lo, const double* hi, Py_ssize_t c, double a0,
                          double a1, double a2, double a3) noexcept nogil:
    """A lower bound on the squared distance from (a0..a3) to every row of chunk ``c``, whose
    features lie in [lo[c], hi[c]], as the chunk loops round it: per feature the gap to the box
    is at most |x − a| rounded (rounding is monotone), and the squares are added in the loops'
    order, so the bound holds for the computed distances too."""
    cdef double g0 = fmax2(fmax2(lo[4 * c] - a0, a0 - hi[4 * c]), 0.0)
    cdef double g1 = fmax2(fmax2(lo[4 * c + 1] - a1, a1 - hi[4 * c + 1]), 0.0)
    cdef double g2 = fmax2(fmax2(lo[4 * c + 2] - a2, a2 - hi[4 * c + 2]), 0.0)
    cdef double g3 = fmax2(fmax2(lo[4 * c + 3] - a3, a3 - hi[4 * c + 3]), 0.0)
    return g0 * g0 + g1 * g1 + g2 * g2 + g3 * g3


cdef inline double largest(const double* near, Py_ssize_t m) noexcept nogil:
    """max(0, near[:m]) in eight running maxima, a loop the compiler vectorises (a maximum is
    the same in any order: the distances are never NaN, never −0)."""
    cdef double tops[8]
    cdef double top = 0.0
    cdef Py_ssize_t i = 0, lane
    for lane in range(8):
        tops[lane] = 0.0
    while i + 8 <= m:
        for lane in range(8):
            tops[lane] = fmax2(tops[lane], near[i + lane])
        i = i + 8
    for lane in range(8):
        top = fmax2(top, tops[lane])
    while i < m:
        top = fmax2(top, near[i])
        i = i + 1
    return top


cdef inline double take_in(const floating* x0, const floating* x1, const floating* x2,
                           const floating* x3, double* near, Py_ssize_t m, double a0, double a1,
                           double a2, double a3, int n_terms) noexcept nogil:
    """IN/OUT near[:m] = min(near, distance to (a0..a3)); returns the largest near."""
    cdef Py_ssize_t i
    for i in range(m):
        near[i] = fmin2(column_sq(x0, x1, x2, x3, i, a0, a1, a2, a3, n_terms), near[i])
    return largest(near, m)


cdef inline void add_far(const double* weighted, double* lane, Py_ssize_t m) noexcept nogil:
    """A candidate no nearer to any row of the chunk than its closest: each adds w·closest
    (``weighted``, the same products for every such candidate, made once a chunk)."""
    cdef Py_ssize_t i
    for i in range(m):
        lane[i] = lane[i] + weighted[i]


cdef inline void add_near(const floating* x0, const floating* x1, const floating* x2,
                          const floating* x3, const floating* weight, const double* near,
                          double* lane, Py_ssize_t m, double a0, double a1, double a2,
                          double a3, int n_terms) noexcept nogil:
    """lane[:m] += w·min(closest, distance to the candidate (a0..a3))."""
    cdef Py_ssize_t i
    for i in range(m):
        lane[i] = lane[i] + <double> weight[i] * fmin2(
            column_sq(x0, x1, x2, x3, i, a0, a1, a2, a3, n_terms), near[i])


cdef inline void low_d_block(const floating* xt, Py_ssize_t rows, Py_ssize_t n,
                             const floating* w, double* closest, const double* cand,
                             Py_ssize_t n_cand, bint pending, double* block_pots,
                             const double* lo, const double* hi, double* chunk_max,
                             Py_ssize_t b, Py_ssize_t per, double* lanes,
                             double* weighted) noexcept nogil:
    """Block b of ``candidate_potentials_low_d``: ``lanes`` (t, LOW_D_CHUNK) per-row partial
    sums, one lane a row of the chunk, added up in lane order at the end; ``weighted``
    (LOW_D_CHUNK,) scratch for the chunk's w·closest."""
    cdef Py_ssize_t start = min(n, b * per)
    cdef Py_ssize_t stop = min(n, start + per)
    cdef Py_ssize_t c0, c, m, t, i
    cdef const floating* x0
    cdef const floating* x1
    cdef const floating* x2
    cdef const floating* x3
    cdef double* near
    cdef double* lane
    cdef double a0, a1, a2, a3
    cdef bint weighted_made
    cdef const double* p = cand + 4 * n_cand  # the pending centre, last
    for i in range(n_cand * LOW_D_CHUNK):
        lanes[i] = 0.0
    c0 = start
    while c0 < stop:
        m = min(stop, c0 + LOW_D_CHUNK) - c0
        c = c0 // LOW_D_CHUNK
        x0 = xt + c0
        x1 = xt + n + c0
        x2 = xt + 2 * n + c0
        x3 = xt + (rows - 1) * n + c0
        near = closest + c0
        if pending and box_sq(lo, hi, c, p[0], p[1], p[2], p[3]) < chunk_max[c]:
            if rows == 3:  # literal term counts: the branch leaves the row loops
                chunk_max[c] = take_in(x0, x1, x2, x3, near, m, p[0], p[1], p[2], p[3], 3)
            else:
                chunk_max[c] = take_in(x0, x1, x2, x3, near, m, p[0], p[1], p[2], p[3], 4)
        weighted_made = False
        for t in range(n_cand):
            a0 = cand[4 * t]
            a1 = cand[4 * t + 1]
            a2 = cand[4 * t + 2]
            a3 = cand[4 * t + 3]
            lane = lanes + t * LOW_D_CHUNK
            if box_sq(lo, hi, c, a0, a1, a2, a3) >= chunk_max[c]:
                if not weighted_made:  # min(dist, near) is near for every row
                    for i in range(m):
                        weighted[i] = <double> w[c0 + i] * near[i]
                    weighted_made = True
                add_far(weighted, lane, m)
            elif rows == 3:
                add_near(x0, x1, x2, x3, w + c0, near, lane, m, a0, a1, a2, a3, 3)
            else:
                add_near(x0, x1, x2, x3, w + c0, near, lane, m, a0, a1, a2, a3, 4)
        c0 = c0 + LOW_D_CHUNK
    # Each candidate's lanes in lane order; the candidates side by side, so that their chains
    # of dependent additions overlap.
    for t in range(n_cand):
        block_pots[b * n_cand + t] = 0.0
    for i in range(LOW_D_CHUNK):
        for t in range(n_cand):
            block_pots[b * n_cand + t] = block_pots[b * n_cand + t] + lanes[t * LOW_D_CHUNK + i]


cdef void low_d_pass(const floating[:, ::1] Xt, const floating[::1] sample_weight,
                     double[::1] closest, const Py_ssize_t* candidates,
                     double[:, ::1] block_pots, const double[:, ::1] lo,
                     const double[:, ::1] hi, double[::1] chunk_max, Py_ssize_t pending,
                     double* cand, int n_threads) noexcept nogil:
    """``candidate_potentials_low_d``; ``cand`` scratch of (t + 1) × 4 doubles."""
    cdef Py_ssize_t rows = Xt.shape[0], n = Xt.shape[1]
    cdef Py_ssize_t n_blocks = block_pots.shape[0], n_cand = block_pots.shape[1]
    cdef Py_ssize_t per = rows_per_block(n, n_blocks), t, f, b
    cdef double* lanes = NULL
    for t in range(4 * (n_cand + 1)):
        cand[t] = 0.0
    for t in range(n_cand):
        for f in range(rows):
            cand[4 * t + f] = <double> Xt[f, candidates[t]]
    if pending >= 0:
        for f in range(rows):
            cand[4 * n_cand + f] = <double> Xt[f, pending]
    with parallel(num_threads=n_threads):
        lanes = <double*> malloc((n_cand + 1) * LOW_D_CHUNK * sizeof(double))
        for b in prange(n_blocks, schedule="dynamic"):
            low_d_block(&Xt[0, 0], rows, n, &sample_weight[0], &closest[0], cand, n_cand,
                        pending >= 0, &block_pots[0, 0], &lo[0, 0], &hi[0, 0], &chunk_max[0],
                        b, per, lanes, lanes + n_cand * LOW_D_CHUNK)
        free(lanes)


def candidate_potentials_low_d(const floating[:, ::1] Xt, const floating[::1] sample_weight,
                               double[::1] closest, const Py_ssize_t[::1] candidates,
                               double[:, ::1] block_pots, const double[:, ::1] lo,
                               const double[:, ::1] hi, double[::1] chunk_max,
                               Py_ssize_t pending, int n_threads):
    """``candidate_potentials`` for d <= 4, with the last step's centre applied on the way:
    the same sums, vectorised over rows.

    ``Xt`` (3 or 4, n) holds the rows' features as columns (``chunk_boxes``), measured in
    float64: each candidate is compared with every row of a chunk in a loop the compiler
    vectorises (three features read three columns); per-row partial sums (one lane a row of
    the chunk) are added up in a fixed order at the end of the block, so the result does not
    depend on the number of threads.

    ``pending`` >= 0 is the row of the centre chosen last step, not yet in ``closest``: each
    chunk first takes it in (IN/OUT closest and chunk_max), then is measured against the
    candidates, so a step reads the data once rather than twice. The last step's potentials
    per block were those of this centre as a candidate: the caller keeps them.

    A centre or candidate at least ``chunk_max`` (squared) from a chunk's bounding box
    (``chunk_boxes``) is nearer to none of its rows than their closest centre: the centre
    changes nothing there, and for a candidate each row adds its w·closest, the very terms the
    full loop would add, without measuring. On sorted data (a palette's colour bins) most
    chunks are far from most candidates once a few centres are placed.
    """
    cdef double[::1] cand = np.empty(4 * (block_pots.shape[1] + 1))
    with nogil:
        low_d_pass(Xt, sample_weight, closest, &candidates[0], block_pots, lo, hi, chunk_max,
                   pending, &cand[0], n_threads)


# ---- The whole of greedy k-means++ past its first centre, up to 16 features -----------------

cdef inline double ordered_total(const double[::1] partials) noexcept nogil:
    """Σ over blocks in block order (deterministic whatever the number of threads)."""
    cdef double total = 0.0
    cdef Py_ssize_t b
    for b in range(partials.shape[0]):
        total = total + partials[b]
    return total


def plusplus_steps(const floating[:, ::1] X, const floating[::1] sample_weight,
                   double[::1] closest, double[::1] block_pot, const double[:, ::1] uniforms,
                   bint low_d, Py_ssize_t[::1] indices, Py_ssize_t[::1] candidates,
                   double[:, ::1] block_pots, double[::1] pots, int n_threads, offset=None):
    """Steps 1.. of greedy k-means++ without leaving compiled code (d <= 16), on the rows of X
    less ``offset`` (d,) when given (each row centred as it is read).

    Every step samples ``candidates`` with ``targets = uniforms[step - 1] * potential``, takes
    the candidate whose potential (block sums merged in block order) is lowest, the first on
    ties, and updates ``closest``; a Python loop of the same kernels spent more time calling
    them than in them when the data are small (a palette's thousands of colours).

    IN: X (n, d), sample_weight (n,), uniforms (k - 1, t) drawn up front from the random
    state (the same numbers as one draw a step); low_d: d <= 4, the columns kernel. IN/OUT:
    closest (n,), block_pot (B,) for the first centre on entry (scratch after: at low d the
    last centre is never applied to closest, nothing needing it); indices (k,) with
    indices[0] set on entry, the rest OUT. Scratch: candidates (t,), block_pots (B, t),
    pots (t,).
    """
    cdef Py_ssize_t n = X.shape[0], d = X.shape[1], n_cand = uniforms.shape[1]
    cdef Py_ssize_t n_blocks = block_pots.shape[0]
    cdef Py_ssize_t n_chunks = (n + LOW_D_CHUNK - 1) // LOW_D_CHUNK if low_d else 0
    cdef double[:, ::1] lo = np.empty((n_chunks, 4))
    cdef double[:, ::1] hi = np.empty((n_chunks, 4))
    cdef double[::1] chunk_max = np.empty(n_chunks)
    cdef double[::1] targets = np.empty(n_cand)
    cdef double[::1] cand = np.empty(max(4 * (n_cand + 1), d * n_cand))
    # Three columns unless there are four features: the distance kernels read each one.
    cdef floating[:, ::1] Xt = np.empty((4 if d == 4 else 3, n if low_d else 0),
                                        dtype=np.float32 if floating is float else np.float64)
    cdef Py_ssize_t pending = -1  # low d: the last chosen centre, applied by the next pass
    cdef Py_ssize_t chunk, c, t, b, choice, best
    cdef double current_pot, low
    cdef const floating[::1] off = _offset(X, offset)
    with nogil:
        if low_d:
            for chunk in prange(n_chunks, schedule="static", num_threads=n_threads):
                boxes_chunk(X, &closest[0], &Xt[0, 0], Xt.shape[0], &lo[0, 0], &hi[0, 0],
                            &chunk_max[0], chunk, &off[0])
        for c in range(1, indices.shape[0]):
            current_pot = ordered_total(block_pot)
            for t in range(n_cand):
                targets[t] = uniforms[c - 1, t] * current_pot
            sample_rows_nogil(sample_weight, closest, block_pot, &targets[0], n_cand,
                              &candidates[0], Xt, pending)
            if low_d:
                low_d_pass(Xt, sample_weight, closest, &candidates[0], block_pots, lo, hi,
                           chunk_max, pending, &cand[0], n_threads)
            else:
                candidates_pass(X, sample_weight, closest, candidates, block_pots, &cand[0],
                                n_threads, &off[0])
            for t in range(n_cand):
                pots[t] = 0.0
            for b in range(n_blocks):
                for t in range(n_cand):
                    pots[t] = pots[t] + block_pots[b, t]
            choice = 0  # np.argmin: the first of the lowest, the first NaN if any
            low = pots[0]
            for t in range(1, n_cand):
                if not isnan(low) and (pots[t] < low or isnan(pots[t])):
                    low = pots[t]
                    choice = t
            best = candidates[choice]
            if low_d:
                # Its per-block potentials are the ones add_center would sum, lane for lane.
                pending = best
                for b in range(n_blocks):
                    block_pot[b] = block_pots[b, choice]
            else:
                closest_pass(X, sample_weight, best, closest, block_pot, False, n_threads,
                             &off[0])
            indices[c] = best
