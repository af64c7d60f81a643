"""CTR-GCN: channel-wise topology refinement graph convolution network
(Chen et al., ICCV 2021), the main skeleton encoder of CSRE and FR Head."""
from typing import Dict, List, Optional, Sequence, Tuple, Union

import torch
import torch.nn as nn
from mmaction.models.utils import Graph
from mmaction.registry import MODELS
from mmengine.model import BaseModule, ModuleList

from .utils import MultiScaleTCN

# The official code's initialisation (model/ctrgcn.py): kaiming-normal
# (fan_out) convolutions with zero bias, unit BatchNorm.
CONV_BN_INIT = [
    dict(type='Kaiming', layer='Conv2d', mode='fan_out'),
    dict(type='Constant', layer=['BatchNorm1d', 'BatchNorm2d'], val=1)
]


class CTRGC(BaseModule):
    """Spatial unit of CTR-GCN: one channel-wise topology refinement graph
    convolution (CTR-GC) per adjacency subset, summed, then BN, residual and
    ReLU.

    For each subset ``s`` with shared topology ``A_s`` (learnable, initialised
    from the graph), CTR-GC infers a channel-specific topology per sample:
    two 1x1 convolutions (``phi``, ``psi``) project the input to
    ``rel_channels`` and are averaged over time; the pairwise differences of
    joint features through ``tanh``, mapped to the output channels by a 1x1
    convolution (``xi``) and scaled by a learnable ``alpha`` (initialised to
    0), refine ``A_s`` per channel. The refined topologies aggregate a 1x1
    projection of the input over the joints. All subsets are computed at
    once: their projections are stacked along the channels and ``xi`` is a
    grouped convolution, which holds exactly the parameters of separate
    convolutions.

    Args:
        in_channels (int): Input channels C.
        out_channels (int): Output channels C'.
        A (torch.Tensor): (S, V, V) adjacency subsets.
        rel_channels (int): Channels of the joint-relation embedding.
        adaptive (bool): Learn the shared topologies (else a fixed buffer).
            Defaults to True.
        init_cfg (dict or list[dict], optional): Initialisation config.
            Defaults to the official one: convolutions kaiming-normal, BN 1,
            the output BN ``bn`` 1e-6 so a unit starts close to its residual.
    """

    def __init__(self,
                 in_channels: int,
                 out_channels: int,
                 A: torch.Tensor,
                 rel_channels: int,
                 adaptive: bool = True,
                 init_cfg: Optional[Union[Dict, List[Dict]]] = None) -> None:
        if init_cfg is None:
            init_cfg = [
                dict(type='Kaiming', layer='Conv2d', mode='fan_out'),
                dict(
                    type='Constant',
                    layer='BatchNorm2d',
                    val=1,
                    override=dict(type='Constant', name='bn', val=1e-6))
            ]
        super().__init__(init_cfg=init_cfg)
        S = A.size(0)
        self.num_subsets = S
        self.out_channels = out_channels
        # phi and psi of every subset in one convolution.
        self.conv_rel = nn.Conv2d(in_channels, 2 * S * rel_channels, 1)
        self.conv_value = nn.Conv2d(in_channels, S * out_channels, 1)
        self.conv_refine = nn.Conv2d(
            S * rel_channels, S * out_channels, 1, groups=S)
        if adaptive:
            self.A = nn.Parameter(A.clone())
        else:
            self.register_buffer('A', A.clone())
        self.alpha = nn.Parameter(torch.zeros(1))
        self.bn = nn.BatchNorm2d(out_channels)
        if in_channels != out_channels:
            self.down = nn.Sequential(
                nn.Conv2d(in_channels, out_channels, 1),
                nn.BatchNorm2d(out_channels))
        else:
            self.down = nn.Identity()
        self.relu = nn.ReLU(inplace=True)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Aggregate joint features over refined channel-wise topologies.

        Args:
            x (torch.Tensor): (N, C, T, V) features.

        Returns:
            torch.Tensor: (N, C', T, V) features.
        """
        N, _, T, V = x.shape
        S, C = self.num_subsets, self.out_channels
        q, k = self.conv_rel(x).mean(2).chunk(2, dim=1)  # (N, S*R, V) each
        rel = torch.tanh(q.unsqueeze(-1) - k.unsqueeze(-2))  # (N, S*R, V, V)
        topology = self.conv_refine(rel).view(N, S, C, V, V) * self.alpha
        topology = topology + self.A.unsqueeze(1)  # (N, S, C', V, V)
        value = self.conv_value(x).view(N, S, C, T, V)
        y = torch.einsum('nscuv,nsctv->nctu', topology, value)
        return self.relu(self.bn(y) + self.down(x))


class CTRGCNBlock(BaseModule):
    """One CTR-GCN unit: CTR-GC, multi-scale TCN, residual, ReLU.

    Args:
        in_channels (int): Input channels.
        out_channels (int): Output channels.
        A (torch.Tensor): (S, V, V) adjacency subsets.
        rel_channels (int): Channels of CTR-GC's relation embedding.
        stride (int): Temporal stride. Defaults to 1.
        residual (bool): Add the unit's input (projected by a strided 1x1
            convolution + BN when the shape changes). Defaults to True.
        adaptive (bool): Learnable shared topologies. Defaults to True.
        tcn_kernel_size (int): Temporal kernel. Defaults to 5.
        tcn_dilations (Sequence[int]): Temporal dilations. Defaults to
            (1, 2).
        init_cfg (dict or list[dict], optional): Initialisation config.
            Defaults to kaiming-normal convolutions and unit BN (the
            residual projection; the sub-units have their own).
    """

    def __init__(self,
                 in_channels: int,
                 out_channels: int,
                 A: torch.Tensor,
                 rel_channels: int,
                 stride: int = 1,
                 residual: bool = True,
                 adaptive: bool = True,
                 tcn_kernel_size: int = 5,
                 tcn_dilations: Sequence[int] = (1, 2),
                 init_cfg: Optional[Union[Dict, List[Dict]]] = None) -> None:
        super().__init__(init_cfg=init_cfg or CONV_BN_INIT)
        self.gcn = CTRGC(
            in_channels, out_channels, A, rel_channels, adaptive=adaptive)
        self.tcn = MultiScaleTCN(
            out_channels,
            out_channels,
            kernel_size=tcn_kernel_size,
            stride=stride,
            dilations=tcn_dilations)
        self.relu = nn.ReLU(inplace=True)
        self.with_residual = residual
        if not residual or (in_channels == out_channels and stride == 1):
            self.residual = nn.Identity()
        else:
            self.residual = nn.Sequential(
                nn.Conv2d(in_channels, out_channels, 1, stride=(stride, 1)),
                nn.BatchNorm2d(out_channels))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """(N, C, T, V) -> (N, C', ceil(T / stride), V)."""
        y = self.tcn(self.gcn(x))
        if self.with_residual:
            y = y + self.residual(x)
        return self.relu(y)


@MODELS.register_module()
class CTRGCN(BaseModule):
    """CTR-GCN backbone (Chen et al., "Channel-wise Topology Refinement Graph
    Convolution for Skeleton-Based Action Recognition", ICCV 2021).

    Data BN over the input, then ``num_stages`` units (:class:`CTRGCNBlock`),
    each a channel-wise topology refinement graph convolution over the
    ``graph_cfg`` adjacency subsets (:class:`CTRGC`: learnable shared
    topology refined per sample and channel with ``tanh`` joint relations
    scaled by ``alpha``; BN, residual, ReLU), a multi-scale temporal
    convolution (:class:`MultiScaleTCN`: kernel 5 with dilations 1 and 2, max
    pooling and 1x1 branches) and a unit residual. Defaults are the paper's:
    10 units of 64, 64, 64, 64, 128, 128, 128, 256, 256, 256 channels with
    temporal stride 2 at units 5 and 8; the first unit has no unit residual.
    With a ``GCNHead`` of 60 (120) classes on NTU RGB+D this has 1,446,672
    (1,462,092) parameters, as the official code.

    Works with any layout mmaction2's ``Graph`` takes (``'nturgb+d'``,
    ``'coco'``, ``'openpose'`` or a ``dict(num_node, inward, center)``) and
    any clip length T; each stride-2 unit maps T to ``ceil(T / 2)``.

    Stage names (``stage_names``, the sub-modules ``MultiStreamRecognizer``
    taps): ``'gcn.0'`` ... ``'gcn.{num_stages - 1}'``, one per unit, each
    returning (N * M, C, T, V) features; FR Head's taps (units 1, 5, 8, 10)
    are ``gcn.0``, ``gcn.4``, ``gcn.7``, ``gcn.9``.

    Args:
        graph_cfg (dict): ``Graph`` config, e.g. ``dict(layout='nturgb+d',
            mode='spatial')`` (the paper's three subsets: identity, inward,
            outward).
        in_channels (int): Input channels (3 for 3D joints or 2D + score).
            Defaults to 3.
        base_channels (int): Channels of the first units. Defaults to 64.
        ch_ratio (int): Channel multiplier at each ``inflate_stages`` unit.
            Defaults to 2.
        num_person (int): Persons M, for the ``'MVC'`` data BN.
            Defaults to 2.
        num_stages (int): Number of units. Defaults to 10.
        inflate_stages (Sequence[int]): 1-based units that multiply the
            channels by ``ch_ratio``. Defaults to (5, 8).
        down_stages (Sequence[int]): 1-based units with temporal stride 2.
            Defaults to (5, 8).
        data_bn_type (str, optional): ``'MVC'`` (one BN channel per person,
            joint and coordinate, the paper's), ``'VC'`` (shared by persons)
            or None. Defaults to 'MVC'.
        rel_reduction (int): CTR-GC relation channels are ``in_channels //
            rel_reduction``. Defaults to 8.
        input_rel_channels (int): Relation channels of the first unit, whose
            input is the raw skeleton. Defaults to 8.
        adaptive (bool): Learnable shared topologies. Defaults to True.
        tcn_kernel_size (int): Temporal kernel. Defaults to 5.
        tcn_dilations (Sequence[int]): Temporal dilations. Defaults to
            (1, 2).
        init_cfg (dict or list[dict], optional): Initialisation config.
            Defaults to unit data BN; the units have the official
            initialisation.

    Shapes:
        - Input: (N, M, T, V, C) skeletons.
        - Output: (N, M, C', T', V) features, C' = 256 and T' =
          ceil(ceil(T / 2) / 2) by default.

    Example:
        >>> model = CTRGCN(graph_cfg=dict(layout='nturgb+d', mode='spatial'))
        >>> model(torch.randn(2, 2, 64, 25, 3)).shape
        torch.Size([2, 2, 256, 16, 25])
    """

    def __init__(
        self,
        graph_cfg: Dict,
        in_channels: int = 3,
        base_channels: int = 64,
        ch_ratio: int = 2,
        num_person: int = 2,
        num_stages: int = 10,
        inflate_stages: Sequence[int] = (5, 8),
        down_stages: Sequence[int] = (5, 8),
        data_bn_type: Optional[str] = 'MVC',
        rel_reduction: int = 8,
        input_rel_channels: int = 8,
        adaptive: bool = True,
        tcn_kernel_size: int = 5,
        tcn_dilations: Sequence[int] = (1, 2),
        init_cfg: Optional[Union[Dict, List[Dict]]] = dict(
            type='Constant', layer='BatchNorm1d', val=1)
    ) -> None:
        super().__init__(init_cfg=init_cfg)
        self.graph = Graph(**graph_cfg)
        A = torch.tensor(self.graph.A, dtype=torch.float32)
        self.num_joints = A.size(-1)
        self.in_channels = in_channels
        self.data_bn_type = data_bn_type
        if data_bn_type == 'MVC':
            self.data_bn = nn.BatchNorm1d(num_person * in_channels *
                                          self.num_joints)
        elif data_bn_type == 'VC':
            self.data_bn = nn.BatchNorm1d(in_channels * self.num_joints)
        elif data_bn_type is None:
            self.data_bn = nn.Identity()
        else:
            raise ValueError(f"data_bn_type must be 'MVC', 'VC' or None, "
                             f'got {data_bn_type!r}')

        blocks = []
        channels = in_channels
        out_channels = base_channels
        for i in range(1, num_stages + 1):
            if i in inflate_stages:
                out_channels *= ch_ratio
            rel = (
                input_rel_channels if i == 1 else max(
                    channels // rel_reduction, 1))
            blocks.append(
                CTRGCNBlock(
                    channels,
                    out_channels,
                    A,
                    rel,
                    stride=2 if i in down_stages else 1,
                    residual=i > 1,
                    adaptive=adaptive,
                    tcn_kernel_size=tcn_kernel_size,
                    tcn_dilations=tcn_dilations))
            channels = out_channels
        self.out_channels = channels
        self.gcn = ModuleList(blocks)

    @property
    def stage_names(self) -> Tuple[str, ...]:
        """tuple[str]: Sub-module names of the units, in order; each outputs
        (N * M, C, T, V)."""
        return tuple(f'gcn.{i}' for i in range(len(self.gcn)))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Encode skeletons.

        Args:
            x (torch.Tensor): (N, M, T, V, C) skeletons.

        Returns:
            torch.Tensor: (N, M, C', T', V) features.
        """
        N, M, T, V, C = x.shape
        if V != self.num_joints or C != self.in_channels:
            raise ValueError(f'CTRGCN built for {self.num_joints} joints x '
                             f'{self.in_channels} channels got input '
                             f'{tuple(x.shape)} (N, M, T, V, C)')
        x = x.permute(0, 1, 3, 4, 2).contiguous()  # (N, M, V, C, T)
        if self.data_bn_type == 'MVC':
            x = self.data_bn(x.view(N, M * V * C, T))
        elif self.data_bn_type == 'VC':
            x = self.data_bn(x.view(N * M, V * C, T))
        x = x.view(N, M, V, C, T).permute(0, 1, 3, 4,
                                          2).reshape(N * M, C, T, V)
        for block in self.gcn:
            x = block(x)
        return x.reshape((N, M) + x.shape[1:])
