# cython: language_level=3, boundscheck=False, wraparound=False, cdivision=True
# cython: initializedcheck=False
"""The colour histogram's kernel: every distinct RGB colour of an image, with counts and the
pixel-to-colour index, in O(n) with a bitmap of all 2²⁴ colours (2 MiB) instead of a sort.
"""

from libc.stdint cimport int64_t, uint64_t
from libc.stdlib cimport calloc, free, malloc

import numpy as np

cdef extern from *:
    """
    #if defined(_MSC_VER)
    #include <intrin.h>
    static inline int64_t lloyd_popcount64(uint64_t x) { return (int64_t) __popcnt64(x); }
    static inline int64_t lloyd_lowest_bit64(uint64_t x) {
        unsigned long i; _BitScanForward64(&i, x); return (int64_t) i;
    }
    #else
    static inline int64_t lloyd_popcount64(uint64_t x) { return __builtin_popcountll(x); }
    static inline int64_t lloyd_lowest_bit64(uint64_t x) { return __builtin_ctzll(x); }
    #endif
    """
    int64_t popcount64 "lloyd_popcount64"(uint64_t x) noexcept nogil
    int64_t lowest_bit64 "lloyd_lowest_bit64"(uint64_t x) noexcept nogil  # x != 0

cdef enum:
    N_WORDS = 1 << 18  # one bit per 24-bit colour, in 64-bit words


cdef inline int64_t rgb_key(const unsigned char[:, ::1] flat, Py_ssize_t i) noexcept nogil:
    return (<int64_t> flat[i, 0] << 16) | (<int64_t> flat[i, 1] << 8) | <int64_t> flat[i, 2]


def distinct_rgb(const unsigned char[:, ::1] flat, Py_ssize_t[::1] inverse):
    """The distinct colours of ``flat`` (n, 3) uint8, sorted as (R, G, B) numbers, their pixel
    counts, and OUT inverse (n,) intp: each pixel's colour number, so ``colors[inverse]`` is
    ``flat``. The same as ``np.unique`` of the packed colours with inverse and counts.

    A pass sets each colour's bit in a 2²⁴-bit map; the running count of set bits before each
    64-bit word then ranks any colour (its number among the distinct ones) with one popcount;
    a second pass ranks every pixel and counts.

    Returns
    -------
    colors : ndarray of shape (n_distinct, 3), uint8
    counts : ndarray of shape (n_distinct,), int64
    """
    cdef Py_ssize_t n = flat.shape[0], i, w, j = 0
    cdef int64_t key, r, total = 0
    cdef uint64_t bits
    cdef uint64_t* words = <uint64_t*> calloc(N_WORDS, sizeof(uint64_t))
    cdef int64_t* rank = <int64_t*> malloc(N_WORDS * sizeof(int64_t))  # colours before a word
    if words == NULL or rank == NULL:
        free(words)
        free(rank)
        raise MemoryError("distinct_rgb: no memory for the 4 MiB colour bitmap and ranks")
    with nogil:
        for i in range(n):
            key = rgb_key(flat, i)
            words[key >> 6] |= (<uint64_t> 1) << (key & 63)
        for w in range(N_WORDS):
            rank[w] = total
            total += popcount64(words[w])
    colors_array = np.empty((total, 3), dtype=np.uint8)
    counts_array = np.zeros(total, dtype=np.int64)
    cdef unsigned char[:, ::1] colors = colors_array
    cdef int64_t[::1] counts = counts_array
    with nogil:
        for w in range(N_WORDS):
            bits = words[w]
            while bits != 0:
                key = (w << 6) | lowest_bit64(bits)
                colors[j, 0] = (key >> 16) & 255
                colors[j, 1] = (key >> 8) & 255
                colors[j, 2] = key & 255
                j += 1
                bits &= bits - 1  # the lowest set bit off
        for i in range(n):
            key = rgb_key(flat, i)
            w = key >> 6
            r = rank[w] + popcount64(words[w] & (((<uint64_t> 1) << (key & 63)) - 1))
            inverse[i] = r
            counts[r] += 1
    free(words)
    free(rank)
    return colors_array, counts_array
