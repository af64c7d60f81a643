"""InfoGCN encoder (Chi et al., CVPR 2022): self-attention graph convolution
and multi-scale temporal convolution."""
import math
from typing import Dict, List, Optional, Sequence, Tuple, Union

import numpy as np
import torch
import torch.nn as nn
from mmaction.models.utils import Graph
from mmaction.registry import MODELS
from mmengine.model import BaseModule

from .utils import MultiScaleTCN


def _conv_kaiming(conv: nn.Conv2d) -> None:
    nn.init.kaiming_normal_(conv.weight, mode='fan_out')
    if conv.bias is not None:
        nn.init.zeros_(conv.bias)


def _bn_const(bn: nn.BatchNorm2d, scale: float) -> None:
    nn.init.constant_(bn.weight, scale)
    nn.init.zeros_(bn.bias)


class SAGC(nn.Module):
    """Self-attention graph convolution (SA-GC).

    For every frame and head h, a context-dependent topology
    ``softmax(Q_h K_h^T / sqrt(d))`` (V x V, from layer-normalised joint
    features) is multiplied elementwise by a learnable shared topology
    ``S_h`` (initialised to the identity, as in the official code); joint
    features are aggregated with it, transformed by a 1x1 convolution per
    head and summed over heads, followed by BatchNorm, a residual and ReLU.

    Args:
        in_channels (int): Input channels.
        out_channels (int): Output channels.
        num_joints (int): Number of joints V.
        num_heads (int): Number of attention heads (topologies).
            Defaults to 3.
        attn_reduction (int): Query/key size per head is
            ``in_channels // attn_reduction``. Defaults to 8.
    """

    def __init__(self,
                 in_channels: int,
                 out_channels: int,
                 num_joints: int,
                 num_heads: int = 3,
                 attn_reduction: int = 8) -> None:
        super().__init__()
        head_dim = in_channels // attn_reduction
        if head_dim < 1:
            raise ValueError(f'in_channels={in_channels} is smaller than '
                             f'attn_reduction={attn_reduction}')
        self.num_heads = num_heads
        self.head_dim = head_dim
        self.norm = nn.LayerNorm(in_channels)
        self.to_qk = nn.Linear(in_channels, 2 * num_heads * head_dim)
        self.shared_topology = nn.Parameter(
            torch.eye(num_joints).repeat(num_heads, 1, 1))
        self.conv_d = nn.ModuleList(
            nn.Conv2d(in_channels, out_channels, 1) for _ in range(num_heads))
        if in_channels != out_channels:
            self.down = nn.Sequential(
                nn.Conv2d(in_channels, out_channels, 1),
                nn.BatchNorm2d(out_channels))
        else:
            self.down = nn.Identity()
        self.bn = nn.BatchNorm2d(out_channels)
        self.relu = nn.ReLU(inplace=True)
        self._reset_parameters()

    def _reset_parameters(self) -> None:
        # The official initialisation: kaiming 1x1 convolutions, per-head
        # convolutions scaled down by the number of heads, an almost-zero
        # output BatchNorm so each block starts close to its residual.
        for m in self.modules():
            if isinstance(m, nn.Conv2d):
                _conv_kaiming(m)
            elif isinstance(m, nn.BatchNorm2d):
                _bn_const(m, 1)
        _bn_const(self.bn, 1e-6)
        for conv in self.conv_d:
            fan = conv.out_channels * conv.in_channels * self.num_heads
            nn.init.normal_(conv.weight, 0, math.sqrt(2. / fan))
        nn.init.normal_(self.to_qk.weight, 0, 1)

    def attention(self, x: torch.Tensor) -> torch.Tensor:
        """Context-dependent topologies.

        Args:
            x (torch.Tensor): (B, C, T, V) features.

        Returns:
            torch.Tensor: (B, T, H, V, V) row-stochastic attention maps.
        """
        B, _, T, V = x.shape
        qk = self.to_qk(self.norm(x.permute(0, 2, 3, 1)))
        q, k = qk.view(B, T, V, 2, self.num_heads, self.head_dim).unbind(3)
        dots = torch.einsum('btvhd,btuhd->bthvu', q, k)
        return (dots * self.head_dim**-0.5).softmax(dim=-1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """(B, C_in, T, V) -> (B, C_out, T, V)."""
        topology = self.attention(x) * self.shared_topology
        agg = torch.einsum('bthvu,bctu->hbctv', topology, x)
        out = sum(conv(a) for conv, a in zip(self.conv_d, agg))
        return self.relu(self.bn(out) + self.down(x))


class EncodingBlock(nn.Module):
    """InfoGCN encoding block: SA-GC, multi-scale TCN and a residual.

    Args:
        in_channels (int): Input channels.
        out_channels (int): Output channels.
        num_joints (int): Number of joints V.
        stride (int): Temporal stride. Defaults to 1.
        num_heads (int): Heads of the SA-GC. Defaults to 3.
        **tcn_kwargs: Passed to :class:`MultiScaleTCN`.
    """

    def __init__(self,
                 in_channels: int,
                 out_channels: int,
                 num_joints: int,
                 stride: int = 1,
                 num_heads: int = 3,
                 **tcn_kwargs) -> None:
        super().__init__()
        self.gcn = SAGC(in_channels, out_channels, num_joints, num_heads)
        # As the official module: ReLU after the branches and PyTorch's
        # default initialisation (init_weights does not reach it anyway).
        self.tcn = MultiScaleTCN(
            out_channels,
            out_channels,
            stride=stride,
            out_relu=True,
            init_cfg=None,
            **tcn_kwargs)
        if in_channels == out_channels and stride == 1:
            self.residual = nn.Identity()
        else:
            self.residual = nn.Sequential(
                nn.Conv2d(in_channels, out_channels, 1, stride=(stride, 1)),
                nn.BatchNorm2d(out_channels))
            _conv_kaiming(self.residual[0])
            _bn_const(self.residual[1], 1)
        self.relu = nn.ReLU(inplace=True)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """(B, C_in, T, V) -> (B, C_out, ceil(T / stride), V)."""
        return self.relu(self.tcn(self.gcn(x)) + self.residual(x))


@MODELS.register_module()
class InfoGCN(BaseModule):
    """The InfoGCN encoder (Chi et al., "InfoGCN: Representation Learning for
    Human Skeleton-based Action Recognition", CVPR 2022).

    Architecture (as the official code, github.com/stnoah1/infogcn,
    ``model/infogcn.py``): each joint's coordinates are embedded by a
    linear layer to ``base_channels``, a learnable per-joint positional
    embedding is added, and BatchNorm normalises over persons, joints and
    channels (M * V * C). Nine encoding blocks follow, each a
    self-attention graph convolution (:class:`SAGC`: 3 heads of
    attention-based, context-dependent topologies times a learnable shared
    topology) and a multi-scale temporal convolution
    (:class:`MultiScaleTCN`) with a residual; widths 64, 64, 64, 128, 128,
    128, 256, 256, 256 with temporal stride 2 at blocks 4 and 7.

    The paper's information-bottleneck objective (latent mu/logvar and MMD
    to class priors) is not part of the encoder: it is the training-only
    :class:`~mmcsre.models.heads.InfoBottleneckHead`. Its k-th mode skeleton
    representation is the optional ``k``: joints become
    ``(I - P^k) X`` with P the binary parent-to-child adjacency of the
    layout (the official ``I - A_outward^k``); ``k=0`` (default) keeps the
    input stream as it is.

    Input (N, M, T, V, C) -> output (N, M, C', T', V) with
    ``C' = base_channels * ch_ratio ** len(inflate_stages)`` (256) and
    ``T' = T`` halved (rounding up) once per down stage (T / 4). Any T
    and any layout work; V is fixed at construction by the graph.

    Stages (``stage_names``): ``gcn.0`` ... ``gcn.{num_stages - 1}``, the
    encoding blocks, each returning (N * M, C, T, V).

    Args:
        graph_cfg (dict): ``dict(layout=..., mode=...)`` for mmaction2's
            :class:`~mmaction.models.utils.Graph`; layout is 'nturgb+d',
            'coco', 'openpose' or a dict (num_node, inward, center). Only
            V and the edges (for ``k``) are used: the SA-GC topologies are
            learnt, so ``mode`` does not matter.
        in_channels (int): Channels per joint (3 for 3D, 3 for 2D + score).
            Defaults to 3.
        base_channels (int): Width of the embedding and the first blocks.
            Defaults to 64.
        ch_ratio (int): Width multiplier at each inflate stage.
            Defaults to 2.
        num_person (int): Persons M per sample (size of the data
            BatchNorm). Defaults to 2.
        num_stages (int): Number of encoding blocks. Defaults to 9.
        inflate_stages (Sequence[int]): Blocks (1-based) that multiply the
            width by ``ch_ratio``. Defaults to (4, 7).
        down_stages (Sequence[int]): Blocks (1-based) with temporal
            stride 2. Defaults to (4, 7).
        num_heads (int): SA-GC heads. Defaults to 3.
        tcn_kernel_size (int): Kernel of the temporal branches.
            Defaults to 5.
        tcn_dilations (Sequence[int]): Dilations of the temporal branches.
            Defaults to (1, 2).
        k (int): Order of the k-th mode representation; 0 feeds the input
            unchanged. Defaults to 0.
        init_cfg (dict or list[dict], optional): Initialisation config.
            Defaults to None (the official initialisation, done at
            construction).
    """

    def __init__(self,
                 graph_cfg: Dict,
                 in_channels: int = 3,
                 base_channels: int = 64,
                 ch_ratio: int = 2,
                 num_person: int = 2,
                 num_stages: int = 9,
                 inflate_stages: Sequence[int] = (4, 7),
                 down_stages: Sequence[int] = (4, 7),
                 num_heads: int = 3,
                 tcn_kernel_size: int = 5,
                 tcn_dilations: Sequence[int] = (1, 2),
                 k: int = 0,
                 init_cfg: Optional[Union[Dict, List[Dict]]] = None) -> None:
        super().__init__(init_cfg=init_cfg)
        self.graph = Graph(**graph_cfg)
        V = self.graph.num_node
        self.num_joints = V
        self.num_person = num_person
        self.in_channels = in_channels
        self.k = k
        self.register_buffer(
            'joint_transform',
            self._kth_mode_matrix(self.graph, k),
            persistent=False)

        self.to_joint_embedding = nn.Linear(in_channels, base_channels)
        self.pos_embedding = nn.Parameter(torch.randn(1, V, base_channels))
        self.data_bn = nn.BatchNorm1d(num_person * V * base_channels)

        blocks = []
        channels = base_channels
        for i in range(1, num_stages + 1):
            out_channels = channels * (ch_ratio if i in inflate_stages else 1)
            blocks.append(
                EncodingBlock(
                    channels,
                    out_channels,
                    V,
                    stride=2 if i in down_stages else 1,
                    num_heads=num_heads,
                    kernel_size=tcn_kernel_size,
                    dilations=tcn_dilations))
            channels = out_channels
        self.gcn = nn.ModuleList(blocks)
        self.out_channels = channels

    @staticmethod
    def _kth_mode_matrix(graph: Graph, k: int) -> torch.Tensor:
        """(V, V) matrix ``I - P^k`` (identity for k = 0)."""
        V = graph.num_node
        if k == 0:
            return torch.eye(V)
        parent_to_child = np.zeros((V, V))
        for child, parent in graph.inward:
            parent_to_child[parent, child] = 1
        mat = np.eye(V) - np.linalg.matrix_power(parent_to_child, k)
        return torch.tensor(mat, dtype=torch.float32)

    @property
    def stage_names(self) -> Tuple[str, ...]:
        """Names of the encoding blocks, in order; each outputs.

        (N * M, C, T, V).
        """
        return tuple(f'gcn.{i}' for i in range(len(self.gcn)))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Encode skeletons.

        Args:
            x (torch.Tensor): (N, M, T, V, C) skeletons.

        Returns:
            torch.Tensor: (N, M, C', T', V) features.
        """
        N, M, T, V, _ = x.shape
        if (M, V) != (self.num_person, self.num_joints):
            raise ValueError(
                f'InfoGCN was built for {self.num_person} person(s) and '
                f'{self.num_joints} joints (data BN and positional '
                f'embedding) but got M={M}, V={V}: set num_person and the '
                'graph layout to match the data')
        if self.k:
            x = torch.einsum('vu,nmtuc->nmtvc', self.joint_transform, x)
        x = self.to_joint_embedding(x) + self.pos_embedding
        # Data BN over (M, V, C) of the embedded joints, as the official code.
        x = self.data_bn(x.permute(0, 1, 3, 4, 2).reshape(N, -1, T))
        x = x.view(N, M, V, -1, T).permute(0, 1, 3, 4, 2)
        x = x.reshape(N * M, -1, T, V)
        for block in self.gcn:
            x = block(x)
        return x.reshape((N, M) + x.shape[1:])
