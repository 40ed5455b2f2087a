"""The colour histogram's kernel: every distinct RGB colour of an image, with counts and the
pixel-to-colour index, in O(n) with a bitmap of all 2²⁴ colours (2 MiB) instead of a sort.
"""

from __future__ import annotations

import numpy as np
from numba import njit

#: One bit per 24-bit colour, in 64-bit words.
_N_WORDS = 1 << 18


@njit(nogil=True, cache=True, inline="always")
def _popcount(x):
    """Set bits of a uint64 (SWAR), as int64."""
    x = x - ((x >> np.uint64(1)) & np.uint64(0x5555555555555555))
    x = (x & np.uint64(0x3333333333333333)) + ((x >> np.uint64(2)) & np.uint64(0x3333333333333333))
    x = (x + (x >> np.uint64(4))) & np.uint64(0x0F0F0F0F0F0F0F0F)
    return np.int64((x * np.uint64(0x0101010101010101)) >> np.uint64(56))


@njit(nogil=True, cache=True, inline="always")
def _key(flat, i):
    return (np.int64(flat[i, 0]) << 16) | (np.int64(flat[i, 1]) << 8) | np.int64(flat[i, 2])


@njit(nogil=True, cache=True)
def distinct_rgb(flat, inverse):
    """The distinct colours of ``flat`` (n, 3) uint8, sorted as (R, G, B) numbers, their pixel
    counts, and OUT inverse (n,) intp: each pixel's colour number, so ``colors[inverse]`` is
    ``flat``. The same as ``np.unique`` of the packed colours with inverse and counts.

    A pass sets each colour's bit in a 2²⁴-bit map; the running count of set bits before each
    64-bit word then ranks any colour (its number among the distinct ones) with one popcount;
    a second pass ranks every pixel and counts. Photographs' 262k-872k pixels: 3 against 15 ms
    for np.unique's sort.

    Returns
    -------
    colors : ndarray of shape (n_distinct, 3), uint8
    counts : ndarray of shape (n_distinct,), int64
    """
    n = flat.shape[0]
    one = np.uint64(1)
    words = np.zeros(_N_WORDS, dtype=np.uint64)
    for i in range(n):
        key = _key(flat, i)
        words[key >> 6] |= one << np.uint64(key & 63)
    rank = np.empty(_N_WORDS, dtype=np.int64)  # distinct colours in the words before
    total = 0
    for w in range(_N_WORDS):
        rank[w] = total
        total += _popcount(words[w])
    colors = np.empty((total, 3), dtype=np.uint8)
    j = 0
    for w in range(_N_WORDS):
        bits = words[w]
        while bits != 0:
            lowest = bits & (~bits + one)
            key = (w << 6) | _popcount(lowest - one)
            colors[j, 0] = (key >> 16) & 255
            colors[j, 1] = (key >> 8) & 255
            colors[j, 2] = key & 255
            j += 1
            bits ^= lowest
    counts = np.zeros(total, dtype=np.int64)
    for i in range(n):
        key = _key(flat, i)
        w = key >> 6
        r = rank[w] + _popcount(words[w] & ((one << np.uint64(key & 63)) - one))
        inverse[i] = r
        counts[r] += 1
    return colors, counts
