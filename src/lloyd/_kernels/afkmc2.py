"""AFK-MC² seeding kernels (numba): the first centre's distances and the greedy chains.

Distances here are summed in whatever order vectorises (``fastmath`` reassociation, chosen by
LLVM for the machine): compiled C would sum them in another order and change AFK-MC²'s draws in
the last bits, so these stay in numba until that change is made on purpose. k-means++'s kernels
are ahead-of-time code (``plusplus.pyx``).
"""

from __future__ import annotations

import numpy as np

from lloyd._kernels._numba import njit, prange
from lloyd._kernels.common import block_bounds
from lloyd._kernels.layout import CHUNK


@njit(nogil=True, cache=True, fastmath={"reassoc", "contract"})
def _sqdist_vector(A, i, B, r):
    """‖A[i] − B[r]‖² in float64, summed in whatever order vectorises (the same order on every
    call, so results do not depend on threads)."""
    s = 0.0
    for f in range(A.shape[1]):
        diff = np.float64(A[i, f]) - np.float64(B[r, f])
        s += diff * diff
    return s


@njit(nogil=True, cache=True, parallel=True)
def first_distances(X, sample_weight, first, closest, block_pot):
    """OUT: closest (n,) = ‖x_i − x_first‖², summed in whatever order vectorises (AFK-MC² needs
    no feature-order distances: a strict order costs 4 cycles a feature, 57 against 40 ms at
    (6·10⁴, 784)), block_pot (B,) = Σ w·closest per block."""
    n = X.shape[0]
    n_blocks = block_pot.shape[0]
    for b in prange(n_blocks):
        start, stop = block_bounds(n, n_blocks, b)
        acc = 0.0
        for i in range(start, stop):
            dist = _sqdist_vector(X, i, X, first)
            closest[i] = dist
            acc += sample_weight[i] * dist
        block_pot[b] = acc


@njit(nogil=True, cache=True, parallel=True)
def afkmc2_steps(X, ratio, proposals, uniforms, sample, sample_ratio, sample_dist, indices):
    """AFK-MC² (Bachem et al. 2016), greedy: each next centre is the best of ``t`` Markov
    chains' last states, the one that lowers the potential most on a fixed importance sample.

    A chain walks ``m`` rows proposed from ``q = w · ratio``: a proposal ``y`` replaces the
    state ``x`` when ``u · D(x)² / ratio[x] < D(y)² / ratio[y]`` (Metropolis–Hastings towards
    k-means++'s law ``w · D²``; the weight cancels). ``D`` is the distance to the centres so
    far. With ``t > 1`` the chains' states are compared on ``sample``, rows drawn once from q:
    a candidate ``z`` scores ``Σ max(0, D(y)² − ‖y − z‖²) / ratio[y]``, an unbiased estimate
    (up to a constant) of how much it lowers ``Σ w·D²``; the highest wins, ties to the first
    chain. The sample's distances take in each chosen centre during the next step's pass.
    Distances are float64, summed in one fixed vectorised order; scores are summed over fixed
    blocks of the sample, merged in order, so the result does not depend on the number of
    threads.

    IN: ratio (n,) > 0; proposals, uniforms (k − 1, t, m); sample (S, d) the sample's rows,
    sample_ratio (S,) their ratio. IN/OUT: sample_dist (S,) their D² (to the first centre on
    entry); indices (k,), indices[0] the first centre, the rest filled in.
    """
    n_steps, n_chains, m = proposals.shape
    n_sample = sample.shape[0]
    n_blocks = max(1, min(64, n_sample // CHUNK))
    dist = np.empty((n_chains, m))
    states = np.empty(n_chains, dtype=np.intp)
    partial = np.zeros((n_blocks, n_chains))
    for step in range(n_steps):
        n_centers = step + 1
        for p in prange(n_chains * m):
            a, j = p // m, p % m
            y = proposals[step, a, j]
            best = np.inf
            for c in range(n_centers):
                best = min(best, _sqdist_vector(X, y, X, indices[c]))
            dist[a, j] = best
        for a in range(n_chains):
            state = proposals[step, a, 0]
            score = dist[a, 0] / ratio[state]
            for j in range(1, m):
                y = proposals[step, a, j]
                proposed = dist[a, j] / ratio[y]
                if uniforms[step, a, j] * score < proposed:
                    state, score = y, proposed
            states[a] = state
        chosen = states[0]
        if n_chains > 1:
            pending = indices[step]  # the last centre chosen, not yet in sample_dist
            for b in prange(n_blocks):
                start, stop = block_bounds(n_sample, n_blocks, b)
                acc = np.zeros(n_chains)
                for e in range(start, stop):
                    de = sample_dist[e]
                    if step > 0:
                        de = min(de, _sqdist_vector(sample, e, X, pending))
                        sample_dist[e] = de
                    scale = 1.0 / sample_ratio[e]
                    for a in range(n_chains):
                        acc[a] += max(0.0, de - _sqdist_vector(sample, e, X, states[a])) * scale
                for a in range(n_chains):
                    partial[b, a] = acc[a]
            top = -1.0
            for a in range(n_chains):
                g = 0.0
                for b in range(n_blocks):
                    g += partial[b, a]
                if g > top:
                    top, chosen = g, states[a]
        indices[n_centers] = chosen
