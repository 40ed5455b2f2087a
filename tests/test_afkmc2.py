"""AFK-MC² seeding: the compiled chains against a plain reference, its law, and its seeds."""

import numpy as np
import pytest

from lloyd import KMeans, afkmc2


def reference_afkmc2(X, k, w, seed, t, m, S):
    """The algorithm as described, in plain numpy, drawing in lloyd's order: the first row
    (weighted), every proposal, every acceptance draw, then the comparison sample."""
    rs = np.random.RandomState(seed)
    X = X.astype(np.float64)
    w = w.astype(np.float64)
    first = rs.choice(len(X), p=w / w.sum())
    d1 = ((X - X[first]) ** 2).sum(axis=1)
    # Proposal q(x) = w(x) · (½ D₁(x)² / Φ + ½ / W); target π(x) ∝ w(x) · D(x)².
    q = w * (0.5 * d1 / (w * d1).sum() + 0.5 / w.sum())
    cumulative = np.cumsum(q)

    def draw(shape):
        return np.searchsorted(cumulative, rs.random_sample(shape) * cumulative[-1], "right")

    props = draw((k - 1, t, m))
    accept = rs.random_sample((k - 1, t, m))
    sample = draw(S) if t > 1 else np.zeros(0, int)
    chosen = [first]

    def dist(rows):
        return ((X[rows][:, None] - X[chosen][None]) ** 2).sum(-1).min(-1)

    for step in range(k - 1):
        states = []
        for a in range(t):
            d = dist(props[step, a])
            x = 0
            for j in range(1, m):
                # Metropolis-Hastings: accept with probability min(1, π(y) q(x) / (π(x) q(y))).
                y = props[step, a, j]
                if accept[step, a, j] * w[props[step, a, x]] * d[x] * q[y] \
                        < w[y] * d[j] * q[props[step, a, x]]:
                    x = j
            states.append(props[step, a, x])
        if t > 1:
            # Importance-sampled drop in the potential Σ w·D² for each state: Σ (w/q) · gain.
            d = dist(sample)
            gains = [np.sum(w[sample] / q[sample] * np.maximum(0.0, d - ((X[sample] - X[z]) ** 2).sum(1)))
                     for z in states]
            states = [states[int(np.argmax(gains))]]
        chosen.append(states[0])
    return np.array(chosen)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("trials", [1, 4])
def test_matches_the_reference(dtype, weighted, trials):
    rng = np.random.default_rng(3)
    X = np.vstack([rng.normal(size=(60, 4)) + 6 * rng.normal(size=4) for _ in range(5)])
    X = X.astype(dtype)
    w = rng.uniform(0.5, 2.0, len(X)) if weighted else np.ones(len(X))
    for seed in range(5):
        centers, indices = afkmc2(X, 7, sample_weight=w if weighted else None,
                                  n_local_trials=trials, chain_length=25, sample_size=50,
                                  random_state=seed)
        np.testing.assert_array_equal(indices, reference_afkmc2(X, 7, w, seed, trials, 25, 50))
        np.testing.assert_array_equal(centers, X[indices])
        assert centers.dtype == dtype


def test_the_chains_sample_the_k_means_plus_plus_law():
    """One chain (the paper's AFK-MC²), second centre over 4000 seeds: long chains follow
    k-means++'s law w·D²/Σ w·D² (given the first, drawn by weight); one-row chains follow the
    proposal q, far from it here."""
    X = np.array([[0.0], [1.0], [2.0], [10.0], [11.0]])
    w = np.array([4.0, 4.0, 4.0, 1.0, 1.0])
    d2 = (X - X.T) ** 2
    first = w / w.sum()
    law = (first[:, None] * (w * d2) / (w * d2).sum(axis=1, keepdims=True)).sum(axis=0)
    proposal = (first[:, None] * w * (0.5 * d2 / (w * d2).sum(axis=1, keepdims=True)
                                      + 0.5 / w.sum())).sum(axis=0)
    assert np.abs(law - proposal).max() > 0.15
    for m, expected in ((60, law), (1, proposal)):
        second = [afkmc2(X, 2, sample_weight=w, n_local_trials=1, chain_length=m,
                         random_state=s)[1][1]
                  for s in range(4000)]
        freq = np.bincount(second, minlength=5) / 4000
        assert np.abs(freq - expected).max() < 0.025, m  # 3 standard errors of 4000 draws


def test_every_well_separated_blob_gets_a_seed():
    rng = np.random.default_rng(0)
    centres = rng.uniform(-1000, 1000, size=(12, 3))
    X = np.vstack([c + rng.normal(size=(400, 3)) for c in centres])
    for seed in range(10):
        _, indices = afkmc2(X, 12, random_state=seed)
        assert sorted(indices // 400) == list(range(12)), seed


def test_rows_of_weight_zero_are_never_chosen():
    rng = np.random.default_rng(1)
    X = rng.normal(size=(300, 2))
    w = np.where(np.arange(300) % 3 == 0, 0.0, 1.0)
    w[-1] = 0.0
    X[::3] *= 50  # far away, so the chains would like them if they could propose them
    for seed in range(10):
        _, indices = afkmc2(X, 8, sample_weight=w, chain_length=50, random_state=seed)
        assert (w[indices] > 0).all()


def test_identical_rows_and_a_single_centre():
    X = np.ones((10, 2))
    _, indices = afkmc2(X, 3, random_state=0)
    assert indices.shape == (3,) and ((0 <= indices) & (indices < 10)).all()
    centers, indices = afkmc2(np.arange(6.0).reshape(3, 2), 1, random_state=0)
    assert centers.shape == (1, 2) and indices.shape == (1,)


def test_seeds_are_as_good_as_k_means_plus_plus():
    """Mean potential of the seeds over 30 seeds (10 overlapping blobs): one chain is as good
    as one-trial k-means++ (56.5k against 53.5k here) and short chains are not (5 rows: 85k);
    greedy chains are as good as greedy k-means++ (28.5k)."""
    from lloyd import kmeans_plusplus

    rng = np.random.default_rng(2)
    X = np.vstack([rng.normal(size=(300, 5)) + 8 * rng.normal(size=5) for _ in range(10)])

    def potential(seeding):
        return np.mean([((X[:, None] - seeding(s)[None]) ** 2).sum(-1).min(1).sum()
                        for s in range(30)])

    plain = potential(lambda s: kmeans_plusplus(X, 10, random_state=s, n_local_trials=1)[0])
    one = potential(lambda s: afkmc2(X, 10, random_state=s, n_local_trials=1,
                                     chain_length=200)[0])
    short = potential(lambda s: afkmc2(X, 10, random_state=s, n_local_trials=1,
                                       chain_length=5)[0])
    assert one < 1.15 * plain < short
    greedy = potential(lambda s: kmeans_plusplus(X, 10, random_state=s)[0])
    chains = potential(lambda s: afkmc2(X, 10, random_state=s)[0])
    assert chains < 1.05 * greedy < 0.6 * plain


def test_kmeans_init_afk_mc2_starts_from_afkmc2():
    rng = np.random.default_rng(2)
    X = rng.normal(size=(500, 3))
    model = KMeans(6, init="afk-mc2", random_state=0).fit(X)
    centers, _ = afkmc2(X, 6, random_state=np.random.RandomState(0))
    direct = KMeans(6, init=centers, n_init=1).fit(X)
    np.testing.assert_array_equal(model.cluster_centers_, direct.cluster_centers_)
    assert model._effective_n_init() == 1


@pytest.mark.parametrize("name", ["n_local_trials", "chain_length", "sample_size"])
@pytest.mark.parametrize("bad", [0, -3, 2.5, True, "200"])
def test_bad_parameters(name, bad):
    with pytest.raises(ValueError, match=f"{name} must be an integer >= 1"):
        afkmc2(np.zeros((5, 2)), 2, **{name: bad})
