"""LinearProbeHead: the linear classifier of linear evaluation, on
batch-normalised pooled features."""
from typing import Dict, List, Union

import torch
import torch.nn as nn
from mmaction.models.heads import GCNHead
from mmaction.registry import MODELS


@MODELS.register_module()
class LinearProbeHead(GCNHead):
    """GCNHead with a parameter-free BatchNorm before its linear layer.

    A frozen encoder's pooled features can vary little between samples
    (a random encoder's by ~1e-3 around a common mean), so a linear layer
    trained at an ordinary learning rate barely separates them and linear
    evaluation would measure the optimiser instead of the representation.
    Standardising each feature over the batch (BatchNorm1d without affine
    parameters, as MAE's linear probing does) makes the protocol insensitive
    to the feature scale; the normalisation is still linear, so the
    classifier stays linear in the encoder's features. Its running
    statistics belong to the head, not to the frozen encoder.

    Args:
        num_classes (int): Number of classes.
        in_channels (int): Channels C of the (N, M, C, T, V) features.
        feat_norm (bool): Standardise the pooled features. Defaults to True.
        init_cfg (dict | list[dict]): Initialization config. Defaults to
            ``dict(type='Normal', layer='Linear', std=0.01)``.
        **kwargs: Passed to :class:`GCNHead` (``loss_cls``, ``dropout``,
            ``average_clips``).
    """

    def __init__(self,
                 num_classes: int,
                 in_channels: int,
                 feat_norm: bool = True,
                 init_cfg: Union[Dict, List[Dict]] = dict(
                     type='Normal', layer='Linear', std=0.01),
                 **kwargs) -> None:
        super().__init__(num_classes, in_channels, init_cfg=init_cfg, **kwargs)
        # eps far below the variance of nearly constant features (~1e-6).
        self.feat_norm = nn.BatchNorm1d(
            in_channels, eps=1e-9,
            affine=False) if feat_norm else nn.Identity()

    def forward(self, x: torch.Tensor, **kwargs) -> torch.Tensor:
        """Pool, standardise and classify.

        Args:
            x (torch.Tensor): (N, M, C, T, V) encoder features.

        Returns:
            torch.Tensor: (N, num_classes) class scores.
        """
        n, m, c, t, v = x.shape
        pooled = self.pool(x.view(n * m, c, t, v)).view(n, m, c).mean(1)
        pooled = self.feat_norm(pooled)
        if self.dropout is not None:
            pooled = self.dropout(pooled)
        return self.fc(pooled)
