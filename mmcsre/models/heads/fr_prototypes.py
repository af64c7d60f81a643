"""Class prototypes of FR Head: one EMA centre per class for each refined
feature, kept as buffers and updated from correctly classified samples."""
from typing import Dict, Optional

import torch
from mmengine.dist import all_reduce
from mmengine.model import BaseModule

from mmcsre.utils import check_finite_write


class ClassPrototypes(BaseModule):
    """EMA class prototypes for ``num_banks`` features (fr-head.md Eq. 3).

    Each bank (one per refined feature: stage x branch) holds a prototype
    P_k (D,) per class. After every training batch, the prototypes of the
    classes with true-positive samples move towards the mean feature of
    those samples::

        P_k <- momentum * P_k + (1 - momentum) * mean_{i in TP_k} F_i

    A class's first update sets P_k to that mean (the published code starts
    from random vectors instead). Under torch.distributed the per-class
    feature sums and counts are all-reduced before the update, so every
    rank holds the same prototypes and the mean is over the global batch.

    ``vectors`` and ``initialized`` are buffers: they are saved in
    checkpoints, restored on resume, and never carry autograd history.

    Args:
        num_banks (int): Number of refined features S.
        num_classes (int): Number of classes K.
        feat_dim (int): Feature size D.
        momentum (float): EMA momentum alpha. Defaults to 0.9.
        init_cfg (dict, optional): Initialisation config. Defaults to None.
    """

    def __init__(self,
                 num_banks: int,
                 num_classes: int,
                 feat_dim: int,
                 momentum: float = 0.9,
                 init_cfg: Optional[Dict] = None) -> None:
        super().__init__(init_cfg=init_cfg)
        if not 0 <= momentum < 1:
            raise ValueError(f'momentum must be in [0, 1), got {momentum}')
        self.momentum = momentum
        self.register_buffer('vectors',
                             torch.zeros(num_banks, num_classes, feat_dim))
        self.register_buffer(
            'initialized',
            torch.zeros(num_banks, num_classes, dtype=torch.bool))

    @torch.no_grad()
    def update(self, feats: torch.Tensor, tp: torch.Tensor) -> None:
        """EMA update from the true-positive samples of a batch.

        Args:
            feats (torch.Tensor): (S, N, D) features of the batch.
            tp (torch.Tensor): (N, K) one-hot rows of the true positives
                (all-zero rows for the other samples).

        Raises:
            NonFiniteStateError: If an updated prototype would hold NaN or
                inf (checked after the all-reduce, so every rank agrees,
                and before the buffers change).
        """
        tp = tp.to(self.vectors.dtype)
        sums = torch.einsum('nk,snd->skd', tp, feats.detach().to(tp.dtype))
        counts = tp.sum(0)
        # One collective for sums and counts: (S * K * D + K,).
        packed = torch.cat([sums.flatten(), counts])
        all_reduce(packed, op='sum')
        sums = packed[:sums.numel()].view_as(sums)
        counts = packed[sums.numel():]
        seen = counts > 0  # (K,)
        means = sums / counts.clamp(min=1)[None, :, None]
        ema = torch.where(
            self.initialized[..., None],
            self.momentum * self.vectors + (1 - self.momentum) * means, means)
        vectors = torch.where(seen[None, :, None], ema, self.vectors)
        check_finite_write(
            vectors.flatten(0, 1), self, '(feature, class) prototype rows')
        self.vectors.copy_(vectors)
        self.initialized |= seen[None, :]

    def _load_from_state_dict(self, state_dict, prefix, *args, **kwargs):
        """Refuse non-finite prototypes from a checkpoint."""
        saved = state_dict.get(prefix + 'vectors')
        if saved is not None:
            check_finite_write(
                saved.flatten(0, -2), self,
                'checkpoint (feature, class) prototype rows')
        super()._load_from_state_dict(state_dict, prefix, *args, **kwargs)
