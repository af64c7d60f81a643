"""Multi-scale temporal convolution (MS-TCN) of CTR-GCN, InfoGCN, BlockGCN and
Hyperformer."""
from typing import Dict, List, Optional, Sequence, Union

import torch
import torch.nn as nn
from mmengine.model import BaseModule, ModuleList

# CTR-GCN's official initialisation of the MS-TCN (model/ctrgcn.py), which
# BlockGCN and Hyperformer keep: kaiming-normal (fan_out) convolutions with
# zero bias, batch-norm weights drawn from N(1, 0.02) with zero bias.
MSTCN_INIT = [
    dict(type='Kaiming', layer='Conv2d', mode='fan_out'),
    dict(type='Normal', layer='BatchNorm2d', mean=1.0, std=0.02, bias=0)
]


class TemporalUnit(BaseModule):
    """Temporal convolution (kernel ``kernel_size`` x 1) and batch norm.

    The padding keeps ``ceil(T / stride)`` frames.

    Args:
        in_channels (int): Input channels.
        out_channels (int): Output channels.
        kernel_size (int): Temporal kernel size. Defaults to 1.
        stride (int): Temporal stride. Defaults to 1.
        dilation (int): Temporal dilation. Defaults to 1.
        init_cfg (dict | list[dict], optional): Initialisation. Defaults to
            Kaiming (fan-out) convolution and unit batch norm.
    """

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        kernel_size: int = 1,
        stride: int = 1,
        dilation: int = 1,
        init_cfg: Optional[Union[Dict, List[Dict]]] = [
            dict(type='Kaiming', layer='Conv2d', mode='fan_out'),
            dict(type='Constant', layer='BatchNorm2d', val=1)
        ]
    ) -> None:
        super().__init__(init_cfg=init_cfg)
        self.conv = nn.Conv2d(
            in_channels,
            out_channels, (kernel_size, 1),
            stride=(stride, 1),
            padding=((kernel_size - 1) * dilation // 2, 0),
            dilation=(dilation, 1))
        self.bn = nn.BatchNorm2d(out_channels)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """(B, C_in, T, V) -> (B, C_out, ceil(T / stride), V)."""
        return self.bn(self.conv(x))


class MultiScaleTCN(BaseModule):
    """Multi-scale temporal convolution (CTR-GCN, Chen et al., ICCV 2021).

    ``len(dilations) + 2`` parallel branches of ``out_channels /
    (len(dilations) + 2)`` channels each, concatenated along the channels:

    - per dilation ``d``: a 1x1 bottleneck (conv, BN, ReLU), then a
      ``kernel_size`` x 1 temporal convolution with dilation ``d`` and
      stride ``stride``, then BN;
    - a 1x1 bottleneck, then 3 x 1 max pooling with stride ``stride``,
      then BN;
    - a 1x1 convolution with stride ``stride``, then BN.

    There is no internal residual: every backbone adds its unit residual
    around the graph and temporal convolutions. The backbones differ only
    in what the arguments below set:

    ============  ============  ===================  ==================
    backbone      ``out_relu``  ``temporal_unit``    initialisation
    ============  ============  ===================  ==================
    CTR-GCN       False         False                ``init_cfg``
    InfoGCN       True          False                PyTorch default
    BlockGCN      False         False                at construction
    Hyperformer   False         True                 ``init_cfg``
    ============  ============  ===================  ==================

    Args:
        in_channels (int): Input channels.
        out_channels (int): Output channels, a multiple of the number of
            branches.
        kernel_size (int): Temporal kernel of the dilated branches.
            Defaults to 5.
        stride (int): Temporal stride. Defaults to 1.
        dilations (Sequence[int]): One dilated branch each. Defaults to
            (1, 2).
        out_relu (bool): Apply ReLU to the concatenated branches (InfoGCN's
            official module does). Defaults to False.
        temporal_unit (bool): Hold each dilated convolution and its BN in
            one :class:`TemporalUnit` (state-dict keys
            ``branches.{i}.3.conv`` / ``branches.{i}.3.bn``, Hyperformer's)
            instead of two entries of the branch (``branches.{i}.3`` /
            ``branches.{i}.4``). Defaults to False.
        init_cfg (dict | list[dict], optional): Initialisation config, used
            by ``init_weights``. Defaults to the official one of CTR-GCN:
            convolutions kaiming-normal (fan out) with zero bias, BN weights
            N(1, 0.02) with zero bias.

    Shapes:
        - Input: (B, in_channels, T, V).
        - Output: (B, out_channels, ceil(T / stride), V).
    """

    def __init__(self,
                 in_channels: int,
                 out_channels: int,
                 kernel_size: int = 5,
                 stride: int = 1,
                 dilations: Sequence[int] = (1, 2),
                 out_relu: bool = False,
                 temporal_unit: bool = False,
                 init_cfg: Optional[Union[Dict,
                                          List[Dict]]] = MSTCN_INIT) -> None:
        super().__init__(init_cfg=init_cfg)
        num_branches = len(dilations) + 2
        if out_channels % num_branches:
            raise ValueError(f'MultiScaleTCN: out_channels={out_channels} '
                             f'must be a multiple of the {num_branches} '
                             'branches')
        mid = out_channels // num_branches

        def bottleneck() -> List[nn.Module]:
            return [
                nn.Conv2d(in_channels, mid, 1),
                nn.BatchNorm2d(mid),
                nn.ReLU(inplace=True)
            ]

        def dilated(d: int) -> List[nn.Module]:
            # init_cfg=None: this module's initialisation covers the unit.
            unit = TemporalUnit(
                mid, mid, kernel_size, stride, d, init_cfg=None)
            return [unit] if temporal_unit else [unit.conv, unit.bn]

        branches = [
            nn.Sequential(*bottleneck(), *dilated(d)) for d in dilations
        ]
        branches.append(
            nn.Sequential(
                *bottleneck(),
                nn.MaxPool2d((3, 1), stride=(stride, 1), padding=(1, 0)),
                nn.BatchNorm2d(mid)))
        branches.append(
            nn.Sequential(
                nn.Conv2d(in_channels, mid, 1, stride=(stride, 1)),
                nn.BatchNorm2d(mid)))
        self.branches = ModuleList(branches)
        self.relu = nn.ReLU(inplace=True) if out_relu else nn.Identity()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Run the branches and concatenate them.

        Args:
            x (torch.Tensor): (B, C_in, T, V) features.

        Returns:
            torch.Tensor: (B, C_out, ceil(T / stride), V) features.
        """
        return self.relu(
            torch.cat([branch(x) for branch in self.branches], dim=1))
