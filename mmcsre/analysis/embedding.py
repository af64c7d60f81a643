"""2-D t-SNE embeddings of pooled features (scikit-learn's TSNE)."""
from typing import Dict, List, Optional, Sequence

import numpy as np

from .errors import AnalysisError
from .optional import require

EXACT_MAX_SAMPLES = 1000


def select_samples(features: Dict,
                   classes: Optional[Sequence[int]] = None,
                   max_per_class: Optional[int] = None,
                   seed: int = 0) -> np.ndarray:
    """Indices of the samples to embed: those of ``classes`` (all when None),
    at most ``max_per_class`` of each, drawn at random.

    Args:
        features (dict): ``labels`` (N,) and ``feats`` (N, C).
        classes (Sequence[int], optional): Class indices to keep.
        max_per_class (int, optional): Cap per class. Defaults to no cap.
        seed (int): Seed of the draw. Defaults to 0.

    Returns:
        np.ndarray: Sorted sample indices.
    """
    labels = np.asarray(features['labels'])
    keep = np.ones(len(labels), dtype=bool)
    if classes is not None:
        classes = np.asarray(list(classes), dtype=np.int64)
        absent = sorted(set(classes.tolist()) - set(labels.tolist()))
        if absent:
            raise AnalysisError(f'classes {absent} have no samples in the '
                                f'features (labels present: '
                                f'{sorted(set(labels.tolist()))[:20]}...)')
        keep = np.isin(labels, classes)
    index = np.flatnonzero(keep)
    if max_per_class is not None:
        rng = np.random.default_rng(seed)
        # A random rank within each class; keep ranks < max_per_class.
        shuffled = rng.permutation(index)
        order = shuffled[np.argsort(labels[shuffled], kind='stable')]
        sorted_labels = labels[order]
        starts = np.searchsorted(sorted_labels, sorted_labels, side='left')
        rank = np.arange(len(order)) - starts
        index = np.sort(order[rank < max_per_class])
    return index


def tsne(feats: np.ndarray,
         perplexity: float = 30.0,
         seed: int = 0,
         max_iter: int = 1000,
         verbose: int = 0) -> np.ndarray:
    """t-SNE of (N, C) features to (N, 2), after L2 normalisation.

    The perplexity is lowered to ``(N - 1) / 3`` for small sets, which
    scikit-learn requires. Up to :data:`EXACT_MAX_SAMPLES` samples use
    exact gradients (faster than Barnes-Hut at that size), more use
    Barnes-Hut.

    Args:
        feats (np.ndarray): (N, C) features.
        perplexity (float): t-SNE perplexity. Defaults to 30.
        seed (int): Random state. Defaults to 0.
        max_iter (int): Optimisation iterations (>= 250). Defaults to 1000.
        verbose (int): scikit-learn's verbosity (progress). Defaults to 0.

    Returns:
        np.ndarray: (N, 2) embedding.
    """
    manifold = require('sklearn.manifold')
    n = len(feats)
    if n < 4:
        raise AnalysisError(f't-SNE needs at least 4 samples, got {n}')
    feats = feats.astype(np.float64)
    feats = feats / np.maximum(
        np.linalg.norm(feats, axis=1, keepdims=True), 1e-12)
    model = manifold.TSNE(
        n_components=2,
        perplexity=min(perplexity, (n - 1) / 3),
        init='pca',
        random_state=seed,
        max_iter=max_iter,
        method='exact' if n <= EXACT_MAX_SAMPLES else 'barnes_hut',
        verbose=verbose)
    return model.fit_transform(feats)


def align_features(runs: Sequence[Dict], names: Sequence[str]) -> List[Dict]:
    """Reorder feature files compared side by side to the first one's samples,
    matched by id.

    Returns:
        list[dict]: The runs with the first run's ``frame_dir`` order.

    Raises:
        AnalysisError: On duplicated ids, different sample sets or labels.
    """
    ref_ids = [str(i) for i in runs[0]['frame_dir']]
    ref_pos = {x: i for i, x in enumerate(ref_ids)}
    out = []
    for run, name in zip(runs, names):
        ids = [str(i) for i in run['frame_dir']]
        if len(set(ids)) != len(ids):
            raise AnalysisError(f'{name}: duplicated sample ids')
        if set(ids) != set(ref_ids):
            only_here = sorted(set(ids) - set(ref_ids))[:3]
            only_ref = sorted(set(ref_ids) - set(ids))[:3]
            raise AnalysisError(
                f'{name} and {names[0]} hold different samples ({len(ids)} '
                f'vs {len(ref_ids)}): only in {name}: {only_here}..., only '
                f'in {names[0]}: {only_ref}...; extract both from the same '
                'dataset split')
        order = np.argsort([ref_pos[x] for x in ids])
        aligned = dict(run, frame_dir=np.asarray(ref_ids))
        aligned['feats'] = run['feats'][order]
        aligned['labels'] = run['labels'][order]
        if not np.array_equal(aligned['labels'], runs[0]['labels']):
            raise AnalysisError(f'{name} and {names[0]} disagree on the '
                                'labels of the same samples')
        out.append(aligned)
    return out


def class_count(runs: List[Dict]) -> int:
    """Number of classes K of feature files (stored names, else the largest
    label + 1)."""
    stored = [len(r['classes']) for r in runs if len(r['classes'])]
    if len(set(stored)) > 1:
        raise AnalysisError(f'feature files name {stored} classes')
    top = max(int(r['labels'].max()) + 1 for r in runs)
    return stored[0] if stored else top
