"""Lloyd's iteration, fused: assign every row to its nearest centre and accumulate the new sums.

Up to 4 features the pass is the ahead-of-time kernel ``lloyd_low_d`` (distances measured
directly, a chunk of rows at a time, vectorised over rows). Above, it is numba's
``lloyd_dense.lloyd_pass_dense`` (``‖c‖² − 2 x·c`` from BLAS products), loaded only when needed:
the low-dimension path (palettes, 2-D tables) never imports numba.
"""

from __future__ import annotations

import numpy as np

from lloyd._kernels.lloyd_low_d import LOW_D_MAX, lloyd_pass_low_d
from lloyd._threads import kernel_threads

__all__ = ["LOW_D_MAX", "lloyd_pass"]


def lloyd_pass(X, sample_weight, centers, labels, block_sums, block_weights, update,
               offset=None):
    """One Lloyd pass over X: the low-dimension kernel up to ``LOW_D_MAX`` features, else the
    dense one on BLAS.

    IN: X (n, d), sample_weight (n,) of X's dtype, centers (k, d), update; ``offset`` (d,),
    when given, is subtracted from every row on the fly (in X's dtype, as ``X - offset`` would
    round), as if X had been centred: no centred copy of X is made.
    OUT: labels (n,) int32; when ``update``, block_sums (B, k, d) and block_weights (B, k),
    float64: each block's weighted sums per cluster. Returns how many labels changed.
    """
    n, d = X.shape
    offset = (np.zeros(0, dtype=X.dtype) if offset is None
              else np.ascontiguousarray(offset, dtype=X.dtype))
    if d <= LOW_D_MAX:
        centers = np.ascontiguousarray(centers, dtype=X.dtype)
        return int(lloyd_pass_low_d(X, sample_weight, centers, labels, block_sums,
                                    block_weights, update, offset,
                                    X.dtype == np.float32,
                                    kernel_threads(n * centers.shape[0])))
    from lloyd._kernels.lloyd_dense import lloyd_pass_dense  # numba: loaded above 4 features

    return int(lloyd_pass_dense(X, sample_weight, centers, labels, block_sums, block_weights,
                                update, offset))


def _lloyd_pass_low_d(X, sample_weight, centers, labels, block_sums, block_weights, update,
                      offset):
    """The low-dimension pass measuring in float64, on every thread OpenMP allows (tests)."""
    return lloyd_pass_low_d(X, sample_weight, np.ascontiguousarray(centers, dtype=X.dtype),
                            labels, block_sums, block_weights, update,
                            np.ascontiguousarray(offset, dtype=X.dtype), False,
                            kernel_threads(None))


def _lloyd_pass_low_d32(X, sample_weight, centers, labels, block_sums, block_weights, update):
    """The low-dimension pass on float32 data measuring in float32, near-ties in float64."""
    return lloyd_pass_low_d(X, sample_weight, np.ascontiguousarray(centers, dtype=X.dtype),
                            labels, block_sums, block_weights, update,
                            np.zeros(0, dtype=X.dtype), True, kernel_threads(None))
