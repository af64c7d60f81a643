"""Sample selection, feature-file alignment and t-SNE."""
import numpy as np
import pytest

from mmcsre.analysis import AnalysisError, align_features, select_samples, tsne


def _features(n=24, k=3, seed=0):
    rng = np.random.default_rng(seed)
    labels = np.arange(n) % k
    centres = 5 * rng.normal(size=(k, 8))
    return dict(
        feats=(centres[labels] + rng.normal(size=(n, 8))).astype(np.float32),
        labels=labels,
        frame_dir=np.array([f's{i}' for i in range(n)]),
        classes=np.array([], dtype=str))


def test_select_samples_by_class_and_cap():
    feats = _features()
    picked = select_samples(feats, classes=[0, 2])
    assert set(feats['labels'][picked]) == {0, 2} and len(picked) == 16
    capped = select_samples(feats, max_per_class=3, seed=1)
    assert np.bincount(feats['labels'][capped]).tolist() == [3, 3, 3]
    assert capped.tolist() != select_samples(
        feats, max_per_class=3, seed=2).tolist()
    with pytest.raises(AnalysisError, match=r'classes \[7\] have no'):
        select_samples(feats, classes=[0, 7])


def test_align_features_reorders_and_rejects_other_samples():
    a = _features()
    order = np.random.default_rng(0).permutation(24)
    b = {k: (v[order] if len(v) else v) for k, v in a.items()}
    aligned = align_features([a, b], ['a', 'b'])
    assert np.array_equal(aligned[1]['feats'], a['feats'])
    c = dict(a, frame_dir=np.array([f'x{i}' for i in range(24)]))
    with pytest.raises(AnalysisError, match='different samples'):
        align_features([a, c], ['a', 'c'])
    d = dict(a, labels=(a['labels'] + 1) % 3)
    with pytest.raises(AnalysisError, match='disagree on the labels'):
        align_features([a, d], ['a', 'd'])


def test_tsne_separates_clusters_and_is_seeded():
    feats = _features()
    # perplexity 30 is capped to (N - 1) / 3 for 24 samples.
    xy = tsne(feats['feats'], perplexity=30, seed=0, max_iter=250)
    assert xy.shape == (24, 2)
    assert np.array_equal(
        xy, tsne(feats['feats'], perplexity=30, seed=0, max_iter=250))
    # Each point's nearest neighbour in the embedding shares its class.
    dist = np.linalg.norm(xy[:, None] - xy[None], axis=2)
    np.fill_diagonal(dist, np.inf)
    labels = feats['labels']
    assert (labels[dist.argmin(1)] == labels).mean() > 0.9
    with pytest.raises(AnalysisError, match='at least 4'):
        tsne(feats['feats'][:3])
