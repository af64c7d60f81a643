"""ST-GCN decoder that regenerates skeleton sequences from encoder features
(CP-STN's spatial and temporal pretext networks)."""
from typing import Dict, List, Optional, Union

import torch
import torch.nn as nn
import torch.nn.functional as F
from mmaction.models.backbones.stgcn import STGCNBlock
from mmaction.models.utils import Graph
from mmaction.registry import MODELS
from mmengine.model import BaseModule, ModuleList


@MODELS.register_module()
class STGCNDecoder(BaseModule):
    """Stack of st-gcn units mapping features back to joint coordinates.

    CP-STN (cp-stn.txt Sec. 4.1.4) regenerates the input with five st-gcn
    units and drops the features entering each unit with probability 0.2 to
    weaken the decoder (as P&C does), so that the encoder has to do the
    work. The units use the fixed physical adjacency (mmaction2's
    ``unit_gcn`` with ``adaptive=None``). The last unit ends in BN + ReLU,
    so a 1x1 convolution maps its output linearly to the ``out_channels``
    coordinates (which can be negative).

    If the encoder downsampled time (or pooled joints), the features are
    first resized to the target (T, V) by bilinear interpolation along
    time and joints, so the output always has the input's length.

    Args:
        in_channels (int): Channels of the incoming features.
        graph_cfg (dict): mmaction2 ``Graph`` config (``layout``, ``mode``).
        out_channels (int): Coordinates per joint of the output.
            Defaults to 3.
        hidden_channels (int, optional): Channels of the units. Defaults to
            ``in_channels``.
        num_units (int): Number of st-gcn units. Defaults to 5.
        dropout (float): Dropout probability on each unit's input.
            Defaults to 0.2.
        init_cfg (dict | list[dict], optional): Initialisation config.
            Defaults to None.
    """

    def __init__(self,
                 in_channels: int,
                 graph_cfg: Dict,
                 out_channels: int = 3,
                 hidden_channels: Optional[int] = None,
                 num_units: int = 5,
                 dropout: float = 0.2,
                 init_cfg: Optional[Union[Dict, List[Dict]]] = None) -> None:
        super().__init__(init_cfg=init_cfg)
        if num_units < 1:
            raise ValueError(f'num_units must be >= 1, got {num_units}')
        A = torch.tensor(Graph(**graph_cfg).A, dtype=torch.float32)
        hidden = hidden_channels or in_channels
        self.units = ModuleList([
            STGCNBlock(
                in_channels if i == 0 else hidden,
                hidden,
                A.clone(),
                stride=1,
                gcn_adaptive=None) for i in range(num_units)
        ])
        self.drop = nn.Dropout(dropout)
        self.out_conv = nn.Conv2d(hidden, out_channels, kernel_size=1)
        self.out_channels = out_channels

    def forward(self, x: torch.Tensor, num_frames: int,
                num_joints: int) -> torch.Tensor:
        """Regenerate a sequence.

        Args:
            x (torch.Tensor): (N, M, C, T', V') encoder features.
            num_frames (int): Frames T of the output.
            num_joints (int): Joints V of the output.

        Returns:
            torch.Tensor: (N, M, T, V, out_channels) regenerated sequence.
        """
        N, M, C, T, V = x.shape
        x = x.reshape(N * M, C, T, V)
        if (T, V) != (num_frames, num_joints):
            x = F.interpolate(
                x,
                size=(num_frames, num_joints),
                mode='bilinear',
                align_corners=False)
        for unit in self.units:
            x = unit(self.drop(x))
        x = self.out_conv(x)
        x = x.reshape(N, M, self.out_channels, num_frames, num_joints)
        return x.permute(0, 1, 3, 4, 2).contiguous()
