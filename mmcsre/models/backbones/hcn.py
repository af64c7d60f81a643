"""HCN: hierarchical co-occurrence network (Li et al., IJCAI 2018), the
CNN-based skeleton encoder of the CSRE tables."""
from typing import Dict, List, Optional, Tuple, Union

import torch
import torch.nn as nn
import torch.nn.functional as F
from mmaction.models.utils import Graph
from mmaction.registry import MODELS
from mmengine.model import BaseModule

# HCN's two input streams (point = joint coordinates, motion = their
# frame differences) run through identical branches up to conv4. They are
# stacked along the channels and every branch convolution is a grouped
# convolution with one group per stream: the same parameters and outputs
# as two separate branches, in one call, and each stage is one tensor.
NUM_STREAMS = 2

# skelact's HCN initialisation (hikvision-research/skelact,
# skelact/models/backbones/hcn.py): xavier-uniform convolutions, N(0, 0.01)
# linear layers, unit BN.
HCN_INIT = [
    dict(type='Xavier', layer='Conv2d', distribution='uniform'),
    dict(type='Normal', layer='Linear', std=0.01),
    dict(type='Constant', layer='BatchNorm1d', val=1)
]


def pooled_size(n: int, num_pools: int = 4) -> int:
    """Length of an axis after ``num_pools`` 2x max poolings (ceil mode).

    Args:
        n (int): Input length.
        num_pools (int): Number of poolings. Defaults to 4 (conv3-conv6).

    Returns:
        int: The pooled length, ``ceil(n / 2 ** num_pools)``.
    """
    for _ in range(num_pools):
        n = -(-n // 2)
    return n


class JointsToChannels(nn.Module):
    """HCN's transpose, per stream: the joints become the channels.

    (N, S * C, T, V) -> (N, S * V, T, C) for S stacked streams, so the
    following (grouped) convolution aggregates all joints of a stream at
    once (global co-occurrence) and its kernel slides over time and the
    point-level feature axis C.

    Args:
        num_streams (int): Number S of stacked streams. Defaults to 2.
    """

    def __init__(self, num_streams: int = NUM_STREAMS) -> None:
        super().__init__()
        self.num_streams = num_streams

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """(N, S * C, T, V) -> (N, S * V, T, C)."""
        N, SC, T, V = x.shape
        S = self.num_streams
        x = x.view(N, S, SC // S, T, V).permute(0, 1, 4, 3, 2)
        return x.reshape(N, S * V, T, SC // S)


@MODELS.register_module()
class HCN(BaseModule):
    """HCN backbone (Li et al., "Co-occurrence Feature Learning from Skeleton
    Data for Action Recognition and Detection with Hierarchical Aggregation",
    IJCAI 2018).

    A CNN, not a GCN. Two streams, the joint coordinates (point) and their
    frame differences (motion, 0 at the first frame), each go through

    - conv1: 1x1, ``base_channels`` (64), ReLU, and conv2: 3x1 (time),
      ``base_channels / 2`` (32): point-level features learnt per joint;
    - the transpose (:class:`JointsToChannels`): joints become channels;
    - conv3: 3x3, 32, max pool 2; conv4: 3x3, 64, max pool 2, dropout:
      global co-occurrence features over all joints;

    then both are concatenated (128 channels) and go through conv5: 3x3,
    128, max pool 2, ReLU, dropout and conv6: 3x3, 256, max pool 2, ReLU.
    The paper then max-fuses the persons, flattens the map and applies fc7
    (256, ReLU, dropout) and fc8 (classes). The layers follow skelact, the
    re-implementation by the authors' institute
    (hikvision-research/skelact), which has the paper's 64-32-32-64-128-256
    channels (huguyuehuhu/HCN-pytorch, the port whose accuracies are
    closest to CSRE's HCN figures, has the same layers; its 64-frame
    variant has an fc7 of 512).

    **Which feature map is returned.** HCN keeps no joint axis after the
    transpose: conv3 takes the V joints of a stream as its input channels,
    which is the co-occurrence aggregation itself. The joint axis exists
    only in the point-level stages (conv1, conv2: (N * M, C, T, V)). By
    default (``with_fc7=False``) the backbone is HCN's whole convolutional
    encoder and returns the conv6 map (N, M, 256, T', V'): T' = ceil(T / 16)
    is time and V' = 2 indexes the point-level feature axis that the
    transpose moved into the map's width (32 pooled 4 times). It is the
    last map with a time axis, and the only choice that keeps the encoder
    whole while ``GCNHead`` (global average pooling + FC) and ``STFDHead``
    plug in unchanged: the spatial contrast of STFDHead works on these V'
    cells and the temporal one on the T' steps. fc7 and the person max are
    the paper's classifier, not part of this encoder: ``GCNHead`` pools the
    map (and averages the persons) instead, as skelact's HCN-Baseline
    (mean reduction, no fc7) does. ``with_fc7=True`` gives the paper's
    network exactly: persons max-fused, flattened, fc7; the output is then
    (N, 1, 256, 1, 1), ``GCNHead``'s FC is HCN's fc8, and the clip length
    must be ``clip_len``. Joint-level features for multi-level heads are the
    ``conv1`` / ``conv2`` stages.

    HCN has no graph: ``graph_cfg`` (as mmaction2's ``Graph`` takes it:
    ``layout`` a name or a ``dict(num_node, inward, center)``; ``mode`` is
    ignored) is read only for the number of joints V, which sets conv3's
    input channels; ``num_joints`` may be given instead. Any V and any clip
    length T work: the poolings use ceil mode, so T' >= 1 (the original
    floors; identical when T is a multiple of 16, e.g. 64).

    Deviation from the paper: a data BN over M * V * C (as mmaction2's
    ``STGCN`` with ``data_bn_type='MVC'``; 2 * M * V * C parameters)
    normalises the input; ``data_bn_type=None`` removes it.

    With ``GCNHead`` of 60 classes on NTU RGB+D (25 joints, 2 persons, 64
    frames) the model has 522,792 parameters; with ``with_fc7=True``
    1,047,336 (skelact reports 1.047M for HCN and 0.538M for HCN-Baseline).

    Stage names (``stage_names``): ``'conv1'`` ... ``'conv6'``, each
    returning (N * M, C, T, V)-shaped features: (2 * 64, T, V),
    (2 * 32, T, V), (2 * 32, T / 2, 16), (2 * 64, T / 4, 8), (128, T / 8,
    4), (256, T / 16, 2) by default, T / k rounded up (point and motion
    stacked along C up to conv4; from conv3 on the last axis is the
    point-level feature axis, not the joints).

    Args:
        graph_cfg (dict, optional): mmaction2 ``Graph`` config, read for the
            number of joints only. Defaults to None.
        num_joints (int, optional): Number of joints V, instead of
            ``graph_cfg``. Defaults to None.
        in_channels (int): Input channels C (3 for 3D joints or 2D +
            score). Defaults to 3.
        base_channels (int): conv1's channels; conv2 and conv3 have half,
            conv4 as many, conv5 twice and conv6 four times (64: the
            paper's 64, 32, 32, 64, 128, 256). Defaults to 64.
        num_person (int): Persons M, for the ``'MVC'`` data BN.
            Defaults to 2.
        data_bn_type (str, optional): ``'MVC'``, ``'VC'`` (shared by
            persons) or None (the paper's network). Defaults to 'MVC'.
        dropout (float): Dropout ratio after conv4, conv5, conv6 (and fc7).
            Defaults to 0.5.
        with_fc7 (bool): Append the paper's person max and fc7 (output
            (N, 1, fc7_channels, 1, 1)). Defaults to False.
        clip_len (int): Clip length T, for fc7's input size only.
            Defaults to 64.
        fc7_channels (int): fc7's output size. Defaults to 256.
        init_cfg (dict or list[dict], optional): Initialisation config.
            Defaults to skelact's: xavier-uniform convolutions, N(0, 0.01)
            linear layers, unit data BN.

    Shapes:
        - Input: (N, M, T, V, C) skeletons.
        - Output: (N, M, 4 * base_channels, ceil(T / 16),
          ceil(base_channels / 32)); with ``with_fc7``
          (N, 1, fc7_channels, 1, 1).

    Example:
        >>> model = HCN(graph_cfg=dict(layout='nturgb+d'))
        >>> model(torch.randn(2, 2, 64, 25, 3)).shape
        torch.Size([2, 2, 256, 4, 2])
    """

    def __init__(self,
                 graph_cfg: Optional[Dict] = None,
                 num_joints: Optional[int] = None,
                 in_channels: int = 3,
                 base_channels: int = 64,
                 num_person: int = 2,
                 data_bn_type: Optional[str] = 'MVC',
                 dropout: float = 0.5,
                 with_fc7: bool = False,
                 clip_len: int = 64,
                 fc7_channels: int = 256,
                 init_cfg: Optional[Union[Dict,
                                          List[Dict]]] = HCN_INIT) -> None:
        super().__init__(init_cfg=init_cfg)
        if (graph_cfg is None) == (num_joints is None):
            raise ValueError('HCN needs exactly one of graph_cfg and '
                             'num_joints')
        if graph_cfg is not None:
            num_joints = Graph(**graph_cfg).num_node
        if base_channels % 2:
            raise ValueError(f'base_channels must be even, got '
                             f'{base_channels}')
        self.num_joints = num_joints
        self.in_channels = in_channels
        self.data_bn_type = data_bn_type
        if data_bn_type == 'MVC':
            self.data_bn = nn.BatchNorm1d(num_person * in_channels *
                                          num_joints)
        elif data_bn_type == 'VC':
            self.data_bn = nn.BatchNorm1d(in_channels * num_joints)
        elif data_bn_type is None:
            self.data_bn = nn.Identity()
        else:
            raise ValueError(f"data_bn_type must be 'MVC', 'VC' or None, "
                             f'got {data_bn_type!r}')

        S, C1, C2 = NUM_STREAMS, base_channels, base_channels // 2

        def pool() -> nn.Module:
            return nn.MaxPool2d(2, ceil_mode=True)

        # Point level, per joint (grouped: one group per stream).
        self.conv1 = nn.Sequential(
            nn.Conv2d(S * in_channels, S * C1, 1, groups=S), nn.ReLU())
        self.conv2 = nn.Conv2d(
            S * C1, S * C2, (3, 1), padding=(1, 0), groups=S)
        # Global level: joints as channels.
        self.conv3 = nn.Sequential(
            JointsToChannels(S),
            nn.Conv2d(S * num_joints, S * C2, 3, padding=1, groups=S), pool())
        self.conv4 = nn.Sequential(
            nn.Conv2d(S * C2, S * C1, 3, padding=1, groups=S), pool(),
            nn.Dropout(dropout))
        # Both streams fused (conv4's output is their concatenation).
        self.conv5 = nn.Sequential(
            nn.Conv2d(S * C1, 2 * C1, 3, padding=1), pool(), nn.ReLU(),
            nn.Dropout(dropout))
        self.conv6 = nn.Sequential(
            nn.Conv2d(2 * C1, 4 * C1, 3, padding=1), pool(), nn.ReLU())
        self.drop6 = nn.Dropout(dropout)
        self.out_channels = 4 * C1
        self.out_width = pooled_size(C2)

        self.with_fc7 = with_fc7
        self.clip_len = clip_len
        if with_fc7:
            fc7_in = self.out_channels * pooled_size(clip_len) * \
                self.out_width
            self.fc7 = nn.Sequential(
                nn.Linear(fc7_in, fc7_channels), nn.ReLU(),
                nn.Dropout(dropout))
            self.out_channels = fc7_channels

    @property
    def stage_names(self) -> Tuple[str, ...]:
        """tuple[str]: Sub-module names of the convolution stages, in
        order; each outputs (N * M, C, T, V)-shaped features."""
        return ('conv1', 'conv2', 'conv3', 'conv4', 'conv5', 'conv6')

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Encode skeletons.

        Args:
            x (torch.Tensor): (N, M, T, V, C) skeletons.

        Returns:
            torch.Tensor: (N, M, C', T', V') conv6 features, or
            (N, 1, C', 1, 1) fc7 features with ``with_fc7``.
        """
        N, M, T, V, C = x.shape
        if V != self.num_joints or C != self.in_channels:
            raise ValueError(f'HCN built for {self.num_joints} joints x '
                             f'{self.in_channels} channels got input '
                             f'{tuple(x.shape)} (N, M, T, V, C)')
        x = x.permute(0, 1, 3, 4, 2).contiguous()  # (N, M, V, C, T)
        if self.data_bn_type == 'MVC':
            x = self.data_bn(x.view(N, M * V * C, T))
        elif self.data_bn_type == 'VC':
            x = self.data_bn(x.view(N * M, V * C, T))
        x = x.view(N, M, V, C, T).permute(0, 1, 3, 4,
                                          2).reshape(N * M, C, T, V)
        motion = F.pad(x[:, :, 1:] - x[:, :, :-1], (0, 0, 1, 0))
        x = torch.cat([x, motion], dim=1)  # (N * M, 2C, T, V)
        for name in self.stage_names:
            x = getattr(self, name)(x)
        if not self.with_fc7:
            x = self.drop6(x)
            return x.reshape((N, M) + x.shape[1:])
        expected = self.fc7[0].in_features
        if x[0].numel() != expected:
            raise ValueError(
                f'HCN with fc7 was built for clip_len={self.clip_len} '
                f'(fc7 input {expected}) but got T={T} (conv6 map '
                f'{tuple(x.shape[1:])})')
        x = x.reshape(N, M, -1).amax(dim=1)  # the paper's person max
        x = self.fc7(self.drop6(x))
        return x.view(N, 1, -1, 1, 1)
