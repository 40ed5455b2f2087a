"""The block layout every pass shares, and the modes a pass reports in: plain Python, so that
the callers and the ahead-of-time kernels read them without importing numba.

Sums over points run over a fixed number of contiguous blocks that depends only on the data's
shape, never on the number of threads, and are merged in block order: results are bit-identical
whatever the number of threads.
"""

from __future__ import annotations

import numpy as np

# Rows handled together (a chunk's distances to all centres fit in L1/L2 cache): one value for
# the numba and the ahead-of-time kernels, defined with the latter.
from lloyd._kernels.blocks import CHUNK

__all__ = ["CHANGES", "CHUNK", "FULL", "LABELS_ONLY", "MAX_BLOCKS", "PARTIAL_BYTES", "n_blocks"]

#: At most this many blocks (partial sums) per pass; enough to keep many threads busy.
MAX_BLOCKS = 64
#: Memory allowed for the per-block partial sums of the centres, in bytes.
PARTIAL_BYTES = 64 * 2**20

#: What a pass reports besides the labels: nothing; every row's share of its cluster's sums,
#: per block; or (algorithms that keep running totals) only the shares of the rows whose
#: cluster changed, moved from the old cluster to the new one, with the change in row counts.
LABELS_ONLY, FULL, CHANGES = 0, 1, 2


def n_blocks(n_samples: int, n_clusters: int, n_features: int) -> int:
    """How many blocks a pass over ``n_samples`` rows uses; a function of the shape alone."""
    n_chunks = max(1, -(-n_samples // CHUNK))
    by_memory = max(1, PARTIAL_BYTES // (8 * max(1, n_clusters * n_features)))
    return int(min(n_chunks, MAX_BLOCKS, by_memory))


def rounding_tie(X):
    """A bound on the relative rounding error of a squared distance (or of ``‖c‖² − 2 x·c``)
    computed from X's rows in X's dtype, in any order: d + 2 positive terms, each rounded a few
    times, with room. Scores closer than this, relative to their size, are re-measured with
    ``common.sqdist_feature_order``. Plain Python that numba also compiles (``common``)."""
    return 4.0 * (X.shape[1] + 2) * np.finfo(X.dtype).eps
