"""k-nearest-neighbour classification of features (self-supervised evaluation).

Every query takes the k training features of highest cosine similarity and
votes for their labels:

- ``'weighted'`` (default): a neighbour of similarity s weighs
  ``exp(s / temperature)`` (the instance-discrimination k-NN of Wu et al.,
  2018, also used by mmselfsup and DINO; temperature 0.07);
- ``'majority'``: every neighbour weighs 1.

The class with the largest vote wins; ties go to the lowest class index (as
scikit-learn's majority vote). Queries are processed in chunks so the
similarity matrix never exceeds ``chunk_size`` x N_train.
"""
from typing import Dict, Sequence

import torch
import torch.nn.functional as F

VOTES = ('weighted', 'majority')


def knn_scores(train_feats: torch.Tensor,
               train_labels: torch.Tensor,
               query_feats: torch.Tensor,
               ks: Sequence[int],
               num_classes: int,
               vote: str = 'weighted',
               temperature: float = 0.07,
               chunk_size: int = 1024) -> Dict[int, torch.Tensor]:
    """Class votes of the k nearest training samples, for several k at once.

    Args:
        train_feats (torch.Tensor): (N, C) training features.
        train_labels (torch.Tensor): (N, ) integer labels in
            ``[0, num_classes)``.
        query_feats (torch.Tensor): (Q, C) features to classify.
        ks (Sequence[int]): Neighbour counts, each in [1, N].
        num_classes (int): Number of classes K.
        vote (str): ``'weighted'`` or ``'majority'``. Defaults to
            ``'weighted'``.
        temperature (float): Temperature of the weighted vote. Defaults to
            0.07.
        chunk_size (int): Queries per similarity block. Defaults to 1024.

    Returns:
        dict[int, torch.Tensor]: ``{k: (Q, K) float votes}``.
    """
    if vote not in VOTES:
        raise ValueError(f'vote must be one of {VOTES}, got {vote!r}')
    ks = sorted(set(int(k) for k in ks))
    if not ks or ks[0] < 1 or ks[-1] > len(train_feats):
        raise ValueError(f'k must lie in [1, {len(train_feats)}] (the '
                         f'training set size), got {ks}')
    if train_feats.shape[0] != train_labels.shape[0]:
        raise ValueError(f'{train_feats.shape[0]} training features but '
                         f'{train_labels.shape[0]} labels')
    train = F.normalize(train_feats.float(), dim=1)
    labels = train_labels.long()
    scores = {k: [] for k in ks}
    for start in range(0, len(query_feats), chunk_size):
        query = F.normalize(
            query_feats[start:start + chunk_size].float(), dim=1)
        sim, idx = (query @ train.t()).topk(ks[-1], dim=1)  # sorted
        weight = (sim / temperature).exp() if vote == 'weighted' else \
            torch.ones_like(sim)
        neighbour_labels = labels[idx]
        for k in ks:
            votes = sim.new_zeros(len(query), num_classes)
            votes.scatter_add_(1, neighbour_labels[:, :k], weight[:, :k])
            scores[k].append(votes)
    return {k: torch.cat(v) for k, v in scores.items()}


def knn_predict(train_feats: torch.Tensor,
                train_labels: torch.Tensor,
                query_feats: torch.Tensor,
                k: int,
                num_classes: int,
                vote: str = 'weighted',
                temperature: float = 0.07,
                chunk_size: int = 1024) -> torch.Tensor:
    """k-NN class predictions (arguments as :func:`knn_scores`).

    Returns:
        torch.Tensor: (Q, ) predicted labels; ties go to the lowest class.
    """
    votes = knn_scores(train_feats, train_labels, query_feats, [k],
                       num_classes, vote, temperature, chunk_size)[k]
    return votes.argmax(dim=1)  # the first maximum on ties


def knn_accuracy(train_feats: torch.Tensor,
                 train_labels: torch.Tensor,
                 query_feats: torch.Tensor,
                 query_labels: torch.Tensor,
                 ks: Sequence[int] = (1, 5, 20),
                 num_classes: int = None,
                 vote: str = 'weighted',
                 temperature: float = 0.07,
                 chunk_size: int = 1024) -> Dict[int, float]:
    """Top-1 k-NN accuracy of labelled queries for several k.

    Args:
        train_feats (torch.Tensor): (N, C) training features.
        train_labels (torch.Tensor): (N, ) training labels.
        query_feats (torch.Tensor): (Q, C) query features.
        query_labels (torch.Tensor): (Q, ) their labels.
        ks (Sequence[int]): Neighbour counts. Defaults to (1, 5, 20).
        num_classes (int, optional): Number of classes; defaults to one
            more than the largest label.
        vote (str): ``'weighted'`` or ``'majority'``. Defaults to
            ``'weighted'``.
        temperature (float): Temperature of the weighted vote. Defaults to
            0.07.
        chunk_size (int): Queries per similarity block. Defaults to 1024.

    Returns:
        dict[int, float]: ``{k: accuracy in [0, 1]}``.
    """
    if num_classes is None:
        num_classes = int(max(train_labels.max(), query_labels.max())) + 1
    scores = knn_scores(train_feats, train_labels, query_feats, ks,
                        num_classes, vote, temperature, chunk_size)
    truth = query_labels.long()
    return {
        k: (votes.argmax(dim=1) == truth).float().mean().item()
        for k, votes in scores.items()
    }
