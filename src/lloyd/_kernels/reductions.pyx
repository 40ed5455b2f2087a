# cython: language_level=3, boundscheck=False, wraparound=False, cdivision=True
# cython: initializedcheck=False
"""Kernels every algorithm shares, compiled ahead of time: the input check, column moments, row
norms, inertia, merging block sums, new centres and their shift, distances to the centres.

One body serves float32 and float64 data. Sums over rows run over the fixed blocks of
``_blocks.pxd`` (a function of the shape alone), each with its own partial sum, merged in block
order: results are the same bit for bit whatever the number of threads. Built with
``-ffp-contract=off``: no multiply-add is fused, so every sum rounds as written. Where a sum may
be taken in any order (``row_norms_sq``, ``inertia``: their users' error bounds cover any order),
it is taken in 8 or 16 interleaved lanes, in a fixed order the compiler vectorises; 3 features
(colours) are written out, so that loops over rows vectorise.

The parallel kernels take ``n_threads`` as their last argument; 0, the default, chooses by
``lloyd._threads.kernel_threads`` from the number of values read (callers that do not choose).
"""

from cython.parallel cimport prange, threadid
from libc.math cimport sqrt
from libc.stdint cimport uint32_t, uint64_t
from libc.stdlib cimport free, malloc
from libc.string cimport memcpy

import numpy as np

from lloyd._kernels._blocks cimport CHUNK, rows_per_block

from lloyd._kernels.layout import MAX_BLOCKS
from lloyd._threads import kernel_threads

ctypedef fused floating:
    float
    double

cdef extern from "<math.h>" nogil:
    float fabsf(float)
    double fabs(double)

cdef enum:
    LANES = 8  # partial sums of a sum taken in any order: one or two vectors of them

cdef Py_ssize_t max_blocks = MAX_BLOCKS


cdef inline Py_ssize_t row_blocks(Py_ssize_t n) noexcept nogil:
    """Blocks of whole chunks for a one-pass kernel, at most MAX_BLOCKS: handed out
    dynamically (a thread descheduled on a busy machine delays one block, not a fixed share),
    few enough that handing them out costs nothing next to the work."""
    return max(1, min(max_blocks, (n + CHUNK - 1) // CHUNK))


cdef inline int threads_for(int n_threads, Py_ssize_t work) except -1:
    """``n_threads`` when given (> 0), else ``kernel_threads`` of ``work`` values read."""
    return n_threads if n_threads > 0 else kernel_threads(work)


# ------------------------------------------------------------------------- the input check

cdef void max_abs_block(const floating* x, Py_ssize_t m, double* largest,
                        double* poison) noexcept nogil:
    """OUT largest = max |x[t]| over the m values, NaNs skipped; poison = 0 if every value is
    finite, else NaN (a sum of x·0). Both are the same in any order: 8 lanes. The slow path,
    for a block that holds a NaN (:func:`magnitude_bits_block` finds it)."""
    cdef floating big[LANES]
    cdef floating bad[LANES]
    cdef floating a, v
    cdef Py_ssize_t t, l, m8 = m - m % LANES
    for l in range(LANES):
        big[l] = 0
        bad[l] = 0
    for t in range(0, m8, 8):  # 8: LANES (range needs a literal step)
        for l in range(LANES):
            v = x[t + l]
            if floating is float:
                a = fabsf(v)
            else:
                a = fabs(v)
            big[l] = a if a > big[l] else big[l]  # a NaN compares false and is skipped
            bad[l] = bad[l] + v * 0  # NaN from a NaN or an infinity, 0 otherwise
    for t in range(m8, m):
        v = x[t]
        if floating is float:
            a = fabsf(v)
        else:
            a = fabs(v)
        big[0] = a if a > big[0] else big[0]
        bad[0] = bad[0] + v * 0
    for l in range(1, LANES):
        big[0] = big[l] if big[l] > big[0] else big[0]
        bad[0] = bad[0] + bad[l]
    largest[0] = big[0]
    poison[0] = bad[0]


cdef uint64_t magnitude_bits_block(const floating* x, Py_ssize_t m) noexcept nogil:
    """The largest of the m values' bit patterns with the sign bit cleared, as an unsigned
    integer. IEEE 754 orders non-negative floats as their bits order as integers, +∞ above
    every finite value and NaNs above +∞: so this is max |x| when every value is a number,
    and above the pattern of +∞ exactly when one is a NaN. An integer maximum vectorises
    (a float one, with NaN's rules, does not: 35 against 7 ms at 60000 × 784 float32, one
    thread)."""
    cdef const uint32_t* u32 = <const uint32_t*> x
    cdef const uint64_t* u64 = <const uint64_t*> x
    cdef uint32_t big32 = 0, b32
    cdef uint64_t big64 = 0, b64
    cdef Py_ssize_t t
    if floating is float:
        for t in range(m):
            b32 = u32[t] & 0x7FFFFFFFu
            big32 = b32 if b32 > big32 else big32
        return big32
    else:
        for t in range(m):
            b64 = u64[t] & 0x7FFFFFFFFFFFFFFFu
            big64 = b64 if b64 > big64 else big64
        return big64


cdef inline float _float_of_bits32(uint32_t b) noexcept nogil:
    cdef float f
    memcpy(&f, &b, sizeof(float))
    return f


cdef inline double _double_of_bits64(uint64_t b) noexcept nogil:
    cdef double f
    memcpy(&f, &b, sizeof(double))
    return f


def finite_max_abs(const floating[:, ::1] X, int n_threads=0):
    """(whether every value is finite, the largest absolute value of the finite ones; an
    infinity counts) in one parallel pass over X (n, d): the input check, as cheap as the sum
    scikit-learn's finiteness check takes. Read as integers (:func:`magnitude_bits_block`);
    only a block holding a NaN is read again, as floats, for its largest number."""
    cdef Py_ssize_t n = X.shape[0], d = X.shape[1]
    if n == 0 or d == 0:
        return True, 0.0
    cdef Py_ssize_t n_blocks = row_blocks(n)
    cdef Py_ssize_t per_block = rows_per_block(n, n_blocks), b, start, stop
    cdef uint64_t[::1] bits = np.zeros(n_blocks, dtype=np.uint64)
    cdef double[::1] largest = np.zeros(n_blocks)
    cdef double poison
    cdef int threads = threads_for(n_threads, n * d)
    cdef const floating* x = &X[0, 0]
    cdef uint64_t infinity = 0x7F800000u if floating is float else 0x7FF0000000000000u
    cdef bint finite = True
    with nogil:
        for b in prange(n_blocks, schedule="dynamic", num_threads=threads):
            start = min(n, b * per_block)
            bits[b] = magnitude_bits_block(x + start * d, (min(n, start + per_block) - start) * d)
        for b in range(n_blocks):
            finite = finite and bits[b] < infinity
            if bits[b] > infinity:  # a NaN: this block's largest number, as floats
                start = min(n, b * per_block)
                stop = min(n, start + per_block)
                max_abs_block(x + start * d, (stop - start) * d, &largest[b], &poison)
            elif floating is float:
                largest[b] = _float_of_bits32(<uint32_t> bits[b])
            else:
                largest[b] = _double_of_bits64(bits[b])
    return bool(finite), float(np.max(largest))


# ------------------------------------------------------------------------- column moments

cdef void column_sums_block(const floating[:, ::1] X, Py_ssize_t start, Py_ssize_t stop,
                            double* acc, const double* shift, double* acc_sq, double* row_max,
                            uint64_t* bits) noexcept nogil:
    """IN/OUT acc (d,) += the rows' values, in float64, row after row: each feature's sum in
    row order. With ``shift`` (d,) (not NULL), in the same read: IN/OUT acc_sq (d,) += the
    squared deviations from shift (each in row order), OUT row_max = the largest squared
    distance of a row to shift (summed in 8 lanes: any order will do for the rounding bounds it
    serves). With ``bits`` (not NULL), OUT bits = :func:`magnitude_bits_block` of the rows."""
    cdef Py_ssize_t i, f, l, d = X.shape[1], d8 = d - d % LANES
    cdef double x, v, vv, row
    cdef double lane[LANES]
    cdef uint64_t b
    if bits != NULL:
        bits[0] = 0
    if shift != NULL:
        row_max[0] = 0.0
    for i in range(start, stop):
        if shift == NULL:
            for f in range(d):
                acc[f] = acc[f] + <double> X[i, f]
        else:
            for l in range(LANES):
                lane[l] = 0.0
            for f in range(0, d8, 8):  # 8: LANES
                for l in range(LANES):
                    x = <double> X[i, f + l]
                    acc[f + l] = acc[f + l] + x
                    v = x - shift[f + l]
                    vv = v * v
                    acc_sq[f + l] = acc_sq[f + l] + vv
                    lane[l] = lane[l] + vv
            row = ((lane[0] + lane[4]) + (lane[2] + lane[6])) + \
                ((lane[1] + lane[5]) + (lane[3] + lane[7]))
            for f in range(d8, d):
                x = <double> X[i, f]
                acc[f] = acc[f] + x
                v = x - shift[f]
                vv = v * v
                acc_sq[f] = acc_sq[f] + vv
                row = row + vv
            row_max[0] = row if row > row_max[0] else row_max[0]
        if bits != NULL:
            b = magnitude_bits_block(&X[i, 0], d)
            bits[0] = b if b > bits[0] else bits[0]


def column_moments(const floating[:, ::1] X, Py_ssize_t n_blocks, bint squares,
                   int n_threads=0, double[::1] row_max=None, uint64_t[::1] magnitude=None):
    """The features' means (d,), float64, and, when ``squares``, the sums of squared deviations
    from them (d,) (else zeros), in one pass over X (n, d): ``n_blocks`` blocks of rows in
    parallel, partials added in block order (deterministic whatever the number of threads).

    The means are the rows' sums in row order, divided by n. The squared deviations are summed
    about the first row s in the same read and moved to the means, ``Σ(x − s)² − n(m − s)²``
    (clipped at 0): exact in reals, and in floats off by about ``eps·(m − s)²/variance``
    relative, as good as a tolerance needs (a second pass cost 10 ms at 60000 × 784 float32).
    With ``squares`` and ``row_max`` (1,), OUT row_max[0] = an upper bound on the largest
    squared distance of a row to the means, ``(max ‖x − s‖ + ‖m − s‖)²``, within a factor 9 of
    it (s is a row, so ``‖m − s‖`` is at most that distance; the bound-keeping algorithms'
    rounding margin needs no more: no pass of its own). With ``magnitude`` (1,), OUT
    magnitude[0] = the largest magnitude bit pattern of X (:func:`magnitude_bits_block`: the
    input check, from the same read)."""
    cdef Py_ssize_t n = X.shape[0], d = X.shape[1], b, f, start
    cdef Py_ssize_t per_block = rows_per_block(n, n_blocks)
    cdef double[:, ::1] partial = np.zeros((n_blocks, d))
    cdef double[:, ::1] partial_sq = np.zeros((n_blocks, d if squares else 0))
    mean_array = np.zeros(d)
    sq_array = np.zeros(d)
    cdef double[::1] mean = mean_array
    cdef double[::1] sq = sq_array
    cdef double[::1] shift = np.zeros(d)
    cdef double[::1] block_max = np.zeros(n_blocks)
    cdef uint64_t[::1] block_bits = np.zeros(n_blocks, dtype=np.uint64)
    cdef bint check = magnitude is not None
    cdef int threads = threads_for(n_threads, n * d)
    cdef double far = 0.0, gap = 0.0, diff
    if check:
        magnitude[0] = 0
    if d == 0 or n == 0:
        if row_max is not None:
            row_max[0] = 0.0 if squares else -1.0
        return mean_array, sq_array
    if squares:
        for f in range(d):
            shift[f] = <double> X[0, f]
    with nogil:
        for b in prange(n_blocks, schedule="dynamic", num_threads=threads):
            start = min(n, b * per_block)
            column_sums_block(X, start, min(n, start + per_block), &partial[b, 0],
                              &shift[0] if squares else NULL,
                              &partial_sq[b, 0] if squares else NULL, &block_max[b],
                              &block_bits[b] if check else NULL)
        if check:
            for b in range(n_blocks):
                magnitude[0] = block_bits[b] if block_bits[b] > magnitude[0] else magnitude[0]
        for b in range(n_blocks):
            for f in range(d):
                mean[f] = mean[f] + partial[b, f]
        for f in range(d):
            mean[f] = mean[f] / <double> n
        if squares:
            for b in range(n_blocks):
                for f in range(d):
                    sq[f] = sq[f] + partial_sq[b, f]
                far = block_max[b] if block_max[b] > far else far
            for f in range(d):
                diff = mean[f] - shift[f]
                sq[f] = sq[f] - <double> n * (diff * diff)
                if not sq[f] > 0.0:
                    sq[f] = 0.0
                gap = gap + diff * diff
    if row_max is not None:
        row_max[0] = (sqrt(far) + sqrt(gap)) ** 2 if squares else -1.0
    return mean_array, sq_array


# ------------------------------------------------------------------------- any-order sums

cdef inline double sq_norm_any_order(const floating* x, Py_ssize_t d) noexcept nogil:
    """‖x‖² (d,) in float64, in 8 lanes then the rest in order: a fixed order that vectorises,
    for rounding bounds (their error terms cover any order of the sum, as a BLAS product's)."""
    cdef double lane[LANES]
    cdef double s, v
    cdef Py_ssize_t f, l, d8 = d - d % LANES
    if d == 3:  # the commonest (colours): straight-line, so the loop over rows vectorises
        return (<double> x[0] * <double> x[0] + <double> x[1] * <double> x[1]) + \
            <double> x[2] * <double> x[2]
    if d8 == 0:
        s = 0.0
        for f in range(d):
            v = <double> x[f]
            s = s + v * v
        return s
    for l in range(LANES):
        lane[l] = 0.0
    for f in range(0, d8, 8):  # 8: LANES
        for l in range(LANES):
            v = <double> x[f + l]
            lane[l] = lane[l] + v * v
    s = ((lane[0] + lane[4]) + (lane[2] + lane[6])) + ((lane[1] + lane[5]) + (lane[3] + lane[7]))
    for f in range(d8, d):
        v = <double> x[f]
        s = s + v * v
    return s


cdef inline double sqdist_any_order(const floating* x, const floating* c,
                                    Py_ssize_t d) noexcept nogil:
    """‖x − c‖² (d,) in the data's type, in 16 lanes (two independent vectors of additions)
    then the rest in order, as float64: for inertia and the like, never for deciding a
    label."""
    cdef floating lane[2 * LANES]
    cdef floating s, diff, e1, e2
    cdef Py_ssize_t f, l, d16 = d - d % (2 * LANES)
    if d == 3:  # straight-line: the loop over rows vectorises
        diff = x[0] - c[0]
        e1 = x[1] - c[1]
        e2 = x[2] - c[2]
        return (diff * diff + e1 * e1) + e2 * e2
    if d16 == 0:
        s = 0
        for f in range(d):
            diff = x[f] - c[f]
            s = s + diff * diff
        return s
    for l in range(2 * LANES):
        lane[l] = 0
    for f in range(0, d16, 16):  # 16: 2 * LANES
        for l in range(2 * LANES):
            diff = x[f + l] - c[f + l]
            lane[l] = lane[l] + diff * diff
    for l in range(LANES):  # halving, as a vector's horizontal sum: 16 → 8 → 4 → 2 → 1
        lane[l] = lane[l] + lane[l + LANES]
    for l in range(4):
        lane[l] = lane[l] + lane[l + 4]
    for l in range(2):
        lane[l] = lane[l] + lane[l + 2]
    s = lane[0] + lane[1]
    for f in range(d16, d):
        diff = x[f] - c[f]
        s = s + diff * diff
    return s


cdef inline const floating* centred_row(const floating* x, const floating* off,
                                        floating* buf, Py_ssize_t d) noexcept nogil:
    """x (d,) itself when ``off`` is NULL, else ``buf`` = x − off, rounded in the data's type
    as ``X − offset`` would be: a row of the centred data, for kernels that never copy X."""
    cdef Py_ssize_t f
    if off == NULL:
        return x
    for f in range(d):
        buf[f] = x[f] - off[f]
    return buf


cdef inline const floating* offset_of(object offset, const floating[::1] off,
                                      Py_ssize_t d) except? NULL:
    """The offset's values (d,), or NULL when ``offset`` is None."""
    if offset is None:
        return NULL
    if off.shape[0] != d:
        raise ValueError(f"offset has {off.shape[0]} values for {d} features")
    return &off[0] if d > 0 else NULL


cdef void row_norms_block(const floating* x, Py_ssize_t d, Py_ssize_t start, Py_ssize_t stop,
                          double* out, const floating* off) noexcept nogil:
    """OUT out[start:stop] = the rows' ‖x − off‖² (``sq_norm_any_order``; off NULL: ‖x‖²);
    3 features (colours) written out, so that the loop over rows vectorises."""
    cdef Py_ssize_t i
    cdef double v0, v1, v2
    cdef floating* buf
    if d == 3:
        if off == NULL:
            for i in range(start, stop):
                v0 = x[3 * i]
                v1 = x[3 * i + 1]
                v2 = x[3 * i + 2]
                out[i] = (v0 * v0 + v1 * v1) + v2 * v2
        else:
            for i in range(start, stop):
                v0 = <floating> (x[3 * i] - off[0])
                v1 = <floating> (x[3 * i + 1] - off[1])
                v2 = <floating> (x[3 * i + 2] - off[2])
                out[i] = (v0 * v0 + v1 * v1) + v2 * v2
    elif off == NULL:
        for i in range(start, stop):
            out[i] = sq_norm_any_order(x + i * d, d)
    else:
        buf = <floating*> malloc(d * sizeof(floating))
        for i in range(start, stop):
            out[i] = sq_norm_any_order(centred_row(x + i * d, off, buf, d), d)
        free(buf)


def row_norms_sq(const floating[:, ::1] X, double[::1] out, int n_threads=0, offset=None):
    """OUT: out (n,) = ‖X[i] − offset‖² (offset (d,) of X's dtype, or None: ‖X[i]‖²) in
    float64, in a fixed order that vectorises (the same whatever the number of threads), for
    rounding bounds."""
    cdef Py_ssize_t n = X.shape[0], d = X.shape[1], c, i
    cdef int threads = threads_for(n_threads, n * d)
    if n == 0:
        return
    cdef const floating[::1] off_values = X[0, :0] if offset is None else offset
    cdef const floating* off = offset_of(offset, off_values, d)
    cdef const floating* x = &X[0, 0]
    cdef Py_ssize_t n_blocks = row_blocks(n), per_block = rows_per_block(n, n_blocks)
    with nogil:
        for c in prange(n_blocks, schedule="dynamic", num_threads=threads):
            row_norms_block(x, d, min(n, c * per_block), min(n, c * per_block + per_block),
                            &out[0], off)


cdef double inertia_block(const floating[:, ::1] X, const floating[::1] sample_weight,
                          const floating[:, ::1] centers, const int[::1] labels,
                          Py_ssize_t start, Py_ssize_t stop, const floating* off) noexcept nogil:
    """Σ w·‖(x − off) − c‖² (off NULL: ‖x − c‖²) over rows [start, stop), in float64, row after
    row. (Four interleaved running sums were slower here: the rows' distances, not the
    additions, take the time.)"""
    cdef Py_ssize_t i, d = X.shape[1]
    cdef double acc = 0.0
    cdef floating* buf = <floating*> malloc(d * sizeof(floating)) if off != NULL else NULL
    for i in range(start, stop):
        acc = acc + <double> sample_weight[i] * sqdist_any_order(
            centred_row(&X[i, 0], off, buf, d), &centers[labels[i], 0], d)
    free(buf)
    return acc


def inertia(const floating[:, ::1] X, const floating[::1] sample_weight,
            const floating[:, ::1] centers, const int[::1] labels, Py_ssize_t n_blocks,
            int n_threads=0, offset=None):
    """Sum of weighted squared distances of each row to its centre (float64; the same whatever
    the number of threads).

    IN: X (n, d), sample_weight (n,), centers (k, d), labels (n,) int32, n_blocks: the rows'
    blocks, their partial sums added in block order; offset (d,) of X's dtype or None: when
    given, the rows are those of ``X − offset`` (centred a row at a time, never copied whole).
    Returns the sum.
    """
    cdef Py_ssize_t n = X.shape[0], d = X.shape[1], b, start
    cdef Py_ssize_t per_block = rows_per_block(n, n_blocks)
    cdef double[::1] partial = np.zeros(n_blocks)
    cdef double total = 0.0
    cdef int threads = threads_for(n_threads, n * d)
    if n == 0 or d == 0:
        return 0.0
    cdef const floating[::1] off_values = X[0, :0] if offset is None else offset
    cdef const floating* off = offset_of(offset, off_values, d)
    with nogil:
        for b in prange(n_blocks, schedule="dynamic", num_threads=threads):
            start = min(n, b * per_block)
            partial[b] = inertia_block(X, sample_weight, centers, labels, start,
                                       min(n, start + per_block), off)
        for b in range(n_blocks):
            total = total + partial[b]
    return total


# ------------------------------------------------------------------------- distances

cdef inline double sqdist_feature_order(const floating* x, const floating* c,
                                        Py_ssize_t d) noexcept nogil:
    """‖x − c‖² (d,): each difference and square in the data's type, summed in float64 in
    feature order."""
    cdef double s = 0.0
    cdef floating diff, e1, e2
    cdef Py_ssize_t f
    if d == 3:  # straight-line (0 + a is a): the loop over rows vectorises
        diff = x[0] - c[0]
        e1 = x[1] - c[1]
        e2 = x[2] - c[2]
        return (<double> (diff * diff) + <double> (e1 * e1)) + <double> (e2 * e2)
    for f in range(d):
        diff = x[f] - c[f]
        s = s + <double> (diff * diff)
    return s


def distances_to_assigned(const floating[:, ::1] X, const floating[:, ::1] centers,
                          const int[::1] labels, floating[::1] out, int n_threads=0,
                          offset=None):
    """OUT: ``out[i]`` = squared distance of row i to its centre ``labels[i]`` (for
    empty-cluster relocation). IN: X (n, d), centers (k, d), labels (n,) int32; offset (d,) of
    X's dtype or None: when given, the rows are those of ``X − offset`` (centred a row at a
    time)."""
    cdef Py_ssize_t n = X.shape[0], d = X.shape[1], c, i
    cdef int threads = threads_for(n_threads, n * d)
    cdef floating* buf
    if n == 0:
        return
    if d == 0:
        out[:] = 0
        return
    cdef const floating[::1] off_values = X[0, :0] if offset is None else offset
    cdef const floating* off = offset_of(offset, off_values, d)
    cdef Py_ssize_t n_blocks = row_blocks(n), per_block = rows_per_block(n, n_blocks)
    with nogil:
        for c in prange(n_blocks, schedule="dynamic", num_threads=threads):
            buf = <floating*> malloc(d * sizeof(floating)) if off != NULL else NULL
            for i in range(min(n, c * per_block), min(n, c * per_block + per_block)):
                out[i] = <floating> sqdist_feature_order(centred_row(&X[i, 0], off, buf, d),
                                                         &centers[labels[i], 0], d)
            free(buf)


cdef void distances_block(const floating[:, ::1] X, const floating* centers_t, Py_ssize_t k,
                          Py_ssize_t start, Py_ssize_t stop, double* acc,
                          floating[:, ::1] out) noexcept nogil:
    """OUT out[start:stop] = distances of the rows to every centre. Each row's k sums run side
    by side (IN centers_t (d, k): the centres transposed; acc (k,) scratch), feature after
    feature: the same sums as one centre at a time, in a loop vectorised over the centres."""
    cdef Py_ssize_t i, j, f, d = X.shape[1]
    cdef floating xf, diff, x1, x2, e1, e2
    cdef const floating* ct
    if d == 3:  # colours: one pass over the centres, ((0 + a) + b) + c written (a + b) + c
        for i in range(start, stop):
            xf = X[i, 0]
            x1 = X[i, 1]
            x2 = X[i, 2]
            for j in range(k):
                diff = xf - centers_t[j]
                e1 = x1 - centers_t[k + j]
                e2 = x2 - centers_t[2 * k + j]
                out[i, j] = <floating> sqrt((<double> (diff * diff) + <double> (e1 * e1))
                                            + <double> (e2 * e2))
        return
    for i in range(start, stop):
        for j in range(k):
            acc[j] = 0.0
        for f in range(d):
            xf = X[i, f]
            ct = centers_t + f * k
            for j in range(k):
                diff = xf - ct[j]
                acc[j] = acc[j] + <double> (diff * diff)
        for j in range(k):
            out[i, j] = <floating> sqrt(acc[j])


def all_distances(const floating[:, ::1] X, const floating[:, ::1] centers,
                  floating[:, ::1] out, int n_threads=0):
    """OUT: out (n, k) = Euclidean distance of every row of X (n, d) to every centre (k, d)
    (for ``transform``): differences and squares in the data's type, summed in float64 in
    feature order."""
    cdef Py_ssize_t n = X.shape[0], d = X.shape[1], k = centers.shape[0], c
    cdef int threads = threads_for(n_threads, n * k * d)
    if n == 0 or k == 0:
        return
    if d == 0:
        out[:, :] = 0
        return
    centers_t_array = np.ascontiguousarray(np.asarray(centers).T)
    cdef const floating[:, ::1] centers_t = centers_t_array
    cdef double[:, ::1] scratch = np.empty((threads, k))  # one row of sums per thread
    cdef Py_ssize_t n_blocks = row_blocks(n), per_block = rows_per_block(n, n_blocks)
    with nogil:
        for c in prange(n_blocks, schedule="dynamic", num_threads=threads):
            distances_block(X, &centers_t[0, 0], k, min(n, c * per_block),
                            min(n, c * per_block + per_block), &scratch[threadid(), 0], out)


# ------------------------------------------------------------------------- the update step

def merge_blocks(const double[:, :, ::1] block_sums, const double[:, ::1] block_weights,
                 double[:, ::1] sums, double[::1] weights):
    """OUT: sums (k, d) and weights (k,) = the per-block partials (B, k, d) and (B, k) added in
    block order."""
    cdef Py_ssize_t n_blocks = block_sums.shape[0], k = block_sums.shape[1]
    cdef Py_ssize_t kd = k * block_sums.shape[2], b, t
    cdef double* s = &sums[0, 0] if kd > 0 else NULL
    cdef const double* part
    with nogil:
        for t in range(kd):
            s[t] = 0.0
        for t in range(k):
            weights[t] = 0.0
        for b in range(n_blocks):
            if kd > 0:
                part = &block_sums[b, 0, 0]
                for t in range(kd):
                    s[t] = s[t] + part[t]
            for t in range(k):
                weights[t] = weights[t] + block_weights[b, t]


cdef void cluster_sums_block(const floating[:, ::1] X, const floating[::1] sample_weight,
                             const int[::1] labels, const floating* off, Py_ssize_t start,
                             Py_ssize_t stop, double[:, ::1] sums,
                             double[::1] weights) noexcept nogil:
    """OUT sums (k, d), weights (k,) = the weighted sums of rows [start, stop) (each minus
    ``off`` (d,)) per cluster, row after row: a Lloyd pass's share of its block, each product
    rounded in the data's type and added in float64 exactly as the passes add it."""
    cdef Py_ssize_t i, f, d = X.shape[1], k = sums.shape[0]
    cdef int label
    cdef floating w
    for label in range(k):
        weights[label] = 0.0
        for f in range(d):
            sums[label, f] = 0.0
    for i in range(start, stop):
        label = labels[i]
        w = sample_weight[i]
        weights[label] += w
        for f in range(d):
            sums[label, f] += w * (X[i, f] - off[f])


def cluster_sums(const floating[:, ::1] X, const floating[::1] sample_weight,
                 const int[::1] labels, const floating[::1] offset,
                 double[:, :, ::1] block_sums, double[:, ::1] block_weights, int n_threads=0):
    """OUT: block_sums (B, k, d), block_weights (B, k), float64 = each block's weighted sums
    of its rows (minus ``offset`` (d,), or as they are when it is empty) per cluster of
    ``labels`` (n,) int32: bit for bit what a Lloyd pass reports for these labels (same blocks,
    same order, same roundings), so that centres merged from them do not depend on the algorithm
    that found the labels."""
    cdef Py_ssize_t n = X.shape[0], d = X.shape[1], b, start
    cdef Py_ssize_t n_blocks = block_sums.shape[0]
    cdef Py_ssize_t per_block = rows_per_block(n, n_blocks)
    cdef int threads = threads_for(n_threads, n * d)
    zeros = np.zeros(d, dtype=np.asarray(X).dtype)
    cdef const floating[::1] off = offset if offset.shape[0] == d else zeros
    if n == 0 or d == 0 or block_sums.shape[1] == 0:
        block_sums[:, :, :] = 0.0
        block_weights[:, :] = 0.0
        return
    with nogil:
        for b in prange(n_blocks, schedule="dynamic", num_threads=threads):
            start = min(n, b * per_block)
            cluster_sums_block(X, sample_weight, labels, &off[0], start,
                               min(n, start + per_block), block_sums[b], block_weights[b])


def average_centers(const double[:, ::1] sums, const double[::1] weights,
                    const floating[:, ::1] centers_old, floating[:, ::1] centers_new):
    """OUT: centers_new (k, d) = sums (k, d) / weights (k,), as sum · (1 / weight) like
    scikit-learn. A cluster with zero weight left after relocation keeps its old centre."""
    cdef Py_ssize_t k = sums.shape[0], d = sums.shape[1], j, f
    cdef double alpha
    with nogil:
        for j in range(k):
            if weights[j] > 0:
                alpha = 1.0 / weights[j]
                for f in range(d):
                    centers_new[j, f] = <floating> (sums[j, f] * alpha)
            else:
                for f in range(d):
                    centers_new[j, f] = centers_old[j, f]


def center_shift(const floating[:, ::1] centers_old, const floating[:, ::1] centers_new,
                 floating[::1] out):
    """OUT: out (k,) = Euclidean distance between the old and the new centre j (k, d)."""
    cdef Py_ssize_t k = centers_old.shape[0], d = centers_old.shape[1], j
    with nogil:
        for j in range(k):
            out[j] = <floating> sqrt(sqdist_feature_order(&centers_new[j, 0],
                                                          &centers_old[j, 0], d))
