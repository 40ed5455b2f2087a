"""Mini-batch k-means: the streaming centre update that follows each batch's assignment.

The assignment is :func:`lloyd._kernels.lloyd.lloyd_pass` (it also returns the batch's per-block
sums); here each centre moves to the weighted mean of every row ever assigned to it.
"""

from __future__ import annotations

from lloyd._kernels._numba import njit


@njit(nogil=True, cache=True)
def update_centers(block_sums, block_weights, centers_old, centers_new, weight_sums):
    """Move each centre to the running weighted mean of all the rows assigned to it so far.

    The learning rate of centre j is its batch weight over its total weight, i.e. 1/count for
    unit weights: ``c_new = (c_old * W_old + Σ w x) / (W_old + Σ w)``. A centre that received
    nothing in this batch keeps its place. The block partials are added in block order, so the
    result does not depend on the number of threads.

    IN: block_sums (B, k, d) and block_weights (B, k), float64, from ``lloyd_pass``;
    centers_old (k, d). IN/OUT: weight_sums (k,), float64. OUT: centers_new (k, d), which may be
    centers_old itself.
    """
    n_blocks, k, d = block_sums.shape
    for j in range(k):
        batch_weight = 0.0
        for b in range(n_blocks):
            batch_weight += block_weights[b, j]
        if batch_weight > 0.0:
            old_weight = weight_sums[j]
            total = old_weight + batch_weight
            alpha = 1.0 / total
            for f in range(d):
                s = centers_old[j, f] * old_weight
                for b in range(n_blocks):
                    s += block_sums[b, j, f]
                centers_new[j, f] = s * alpha
            weight_sums[j] = total
        else:
            for f in range(d):
                centers_new[j, f] = centers_old[j, f]
