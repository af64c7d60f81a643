"""STF-GCN: an MS-G3D-style backbone (Liu et al., CVPR 2020) with the
Spatio-Temporal Focus modules of STF (Ke et al., AAAI 2022)."""
from typing import Dict, List, Optional, Sequence, Tuple, Union

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from mmaction.models.utils import Graph
from mmaction.models.utils.graph import edge2mat, k_adjacency
from mmaction.registry import MODELS
from mmengine.model import BaseModule, ModuleList

from mmcsre.structures import get_layout
from .utils import MultiScaleTCN

# mmaction2's Graph knows these names; other mmcsre layouts go in as dicts.
MMACTION_LAYOUTS = ('openpose', 'nturgb+d', 'coco')
CONV_BN_INIT = [
    dict(type='Kaiming', layer='Conv2d', mode='fan_out'),
    dict(type='Constant', layer=['BatchNorm1d', 'BatchNorm2d'], val=1)
]


def disentangled_adjacency(A_binary: np.ndarray,
                           num_scales: int) -> np.ndarray:
    """MS-G3D's disentangled multi-scale adjacency (Liu et al. 2020, Eq. 4).

    Scale ``k`` links each joint to the joints exactly ``k`` hops away, plus
    a self-loop (scale 0 is the identity), normalised symmetrically
    ``D^-1/2 A D^-1/2``.

    Args:
        A_binary (np.ndarray): (V, V) symmetric 0/1 adjacency, no self-loops.
        num_scales (int): Number of scales K.

    Returns:
        np.ndarray: (K, V, V) float32 adjacency matrices.
    """
    scales = []
    for k in range(num_scales):
        A_k = k_adjacency(A_binary, k, with_self=True)
        deg_inv_sqrt = A_k.sum(-1)**-0.5
        scales.append(deg_inv_sqrt[:, None] * A_k * deg_inv_sqrt[None])
    return np.stack(scales).astype(np.float32)


class STFGraph(BaseModule):
    """STF's alpha: the instance-dependent adjacency ``G_k`` of Eq. 1 from the
    one-channel spatio-temporal embedding (stf.md, Fig. 2(d)).

    Two convolutions: a temporal convolution (1 -> ``hidden`` channels,
    ReLU) averaged over time gives a feature vector per joint; the pairwise
    ``tanh`` differences of these vectors (as CTR-GC relates joints) go
    through a 1x1 convolution to one (V, V) matrix per scale. The paper does
    not detail alpha beyond "a CNN with two convolutional layers"; this form
    works for any V and T.

    Args:
        num_scales (int): Scales K, one G_k each.
        hidden (int): Channels of the joint features. Defaults to 16.
        kernel_size (int): Temporal kernel of the first convolution.
            Defaults to 9.
        init_cfg (dict or list[dict], optional): Initialisation config.
            Defaults to kaiming-normal for the first convolution and zeros
            for the output one, so G_k starts at 0 and an STF model starts
            as the MS-G3D baseline whose weights it loads.
    """

    def __init__(self,
                 num_scales: int,
                 hidden: int = 16,
                 kernel_size: int = 9,
                 init_cfg: Optional[Union[Dict, List[Dict]]] = None) -> None:
        if init_cfg is None:
            init_cfg = dict(
                type='Kaiming',
                layer='Conv2d',
                mode='fan_out',
                override=dict(type='Constant', name='conv_out', val=0))
        super().__init__(init_cfg=init_cfg)
        self.conv_joint = nn.Conv2d(
            1, hidden, (kernel_size, 1), padding=((kernel_size - 1) // 2, 0))
        self.conv_out = nn.Conv2d(hidden, num_scales, 1)

    def forward(self, embedding: torch.Tensor) -> torch.Tensor:
        """(N, 1, T, V) embedding -> (N, K, V, V) adjacency ``G``; ``G[n, k, v,
        u]`` weighs joint u's features into joint v."""
        h = F.relu(self.conv_joint(embedding)).mean(2)  # (N, hidden, V)
        rel = torch.tanh(h.unsqueeze(-1) - h.unsqueeze(-2))  # (N, H, V, V)
        return self.conv_out(rel)


class STFEmbedding(nn.Sequential):
    """STF's beta: three convolutions from the GCN input X^l (N, C, T, V) to
    the one-channel spatio-temporal embedding beta(X^l) (N, 1, T, V) (stf.md,
    Fig. 2(d)), which the L_Gk loss regresses onto the Grad-CAM focus Q.

    1x1 (C -> hidden), BN, ReLU; temporal ``kernel_size`` x 1, BN, ReLU;
    1x1 (hidden -> 1), no activation (the paper names none).

    Args:
        in_channels (int): Input channels C.
        hidden (int): Hidden channels. Defaults to 16.
        kernel_size (int): Temporal kernel of the middle convolution.
            Defaults to 9.
    """

    def __init__(self,
                 in_channels: int,
                 hidden: int = 16,
                 kernel_size: int = 9) -> None:
        super().__init__(
            nn.Conv2d(in_channels, hidden, 1), nn.BatchNorm2d(hidden),
            nn.ReLU(inplace=True),
            nn.Conv2d(
                hidden,
                hidden, (kernel_size, 1),
                padding=((kernel_size - 1) // 2, 0)), nn.BatchNorm2d(hidden),
            nn.ReLU(inplace=True), nn.Conv2d(hidden, 1, 1))


class MultiScaleGCN(BaseModule):
    """MS-G3D's disentangled multi-scale graph convolution, with STF's
    instance-dependent adjacency when ``use_stf``.

    ``X' = ReLU(BN(W [(A_1 + R_1 + G_1) X, ..., (A_K + R_K + G_K) X]))``:
    per scale ``k`` the fixed disentangled adjacency ``A_k`` plus a learnable
    residual mask ``R_k`` (MS-G3D's ``A_res``, initialised U(-1e-6, 1e-6))
    aggregates the joints; the K aggregates are concatenated along the
    channels and mixed by one 1x1 convolution (the sum over k of ``W_k`` in
    STF's Eq. 1). With ``use_stf`` the per-sample ``G_k = alpha(beta(X))``
    is added (stf.md Eq. 1): ``stf_embed`` (beta, :class:`STFEmbedding`)
    and ``stf_graph`` (alpha, :class:`STFGraph`). Without it the module has
    exactly the same other parameters.

    Args:
        in_channels (int): Input channels C.
        out_channels (int): Output channels C'.
        A (torch.Tensor): (K, V, V) disentangled adjacency.
        use_stf (bool): Add the STF adjacency. Defaults to False.
        stf_channels (int): Hidden channels of beta and alpha.
            Defaults to 16.
        stf_kernel_size (int): Their temporal kernel. Defaults to 9.
        init_cfg (dict or list[dict], optional): Initialisation config.
            Defaults to None (the parent's).
    """

    def __init__(self,
                 in_channels: int,
                 out_channels: int,
                 A: torch.Tensor,
                 use_stf: bool = False,
                 stf_channels: int = 16,
                 stf_kernel_size: int = 9,
                 init_cfg: Optional[Union[Dict, List[Dict]]] = None) -> None:
        super().__init__(init_cfg=init_cfg)
        self.num_scales = A.size(0)
        self.register_buffer('A', A.clone())
        self.A_res = nn.Parameter(torch.empty_like(A).uniform_(-1e-6, 1e-6))
        self.conv = nn.Conv2d(in_channels * self.num_scales, out_channels, 1)
        self.bn = nn.BatchNorm2d(out_channels)
        self.use_stf = use_stf
        if use_stf:
            self.stf_embed = STFEmbedding(in_channels, stf_channels,
                                          stf_kernel_size)
            self.stf_graph = STFGraph(self.num_scales, stf_channels,
                                      stf_kernel_size)

    def stf_adjacency(self, x: torch.Tensor) -> torch.Tensor:
        """G = alpha(beta(x)): (N, C, T, V) -> (N, K, V, V)."""
        return self.stf_graph(self.stf_embed(x))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """(N, C, T, V) -> (N, C', T, V)."""
        N, C, T, V = x.shape
        A = self.A + self.A_res  # (K, V, V)
        if self.use_stf:
            A = A + self.stf_adjacency(x)  # (N, K, V, V)
            support = torch.einsum('nkvu,nctu->nkctv', A, x)
        else:
            support = torch.einsum('kvu,nctu->nkctv', A, x)
        support = support.reshape(N, self.num_scales * C, T, V)
        return F.relu(self.bn(self.conv(support)), inplace=True)


class ResidualMSTCN(BaseModule):
    """MS-G3D's multi-scale temporal convolution: ``len(dilations) + 2``
    branches (kernel 3 at dilations 1-4, 3x1 max pooling, strided 1x1; the same
    branch set as CTR-GCN's :class:`MultiScaleTCN`), plus a residual (identity,
    or a strided 1x1 convolution + BN when the shape changes) and ReLU.

    Args:
        in_channels (int): Input channels.
        out_channels (int): Output channels, a multiple of the branches.
        stride (int): Temporal stride. Defaults to 1.
        dilations (Sequence[int]): Dilations. Defaults to (1, 2, 3, 4).
        activation (bool): End with ReLU (MS-G3D drops it on the last unit
            of a pathway, before the pathways are summed). Defaults to True.
        init_cfg (dict or list[dict], optional): Initialisation config.
            Defaults to None (the parent's; the branches have their own).
    """

    def __init__(self,
                 in_channels: int,
                 out_channels: int,
                 stride: int = 1,
                 dilations: Sequence[int] = (1, 2, 3, 4),
                 activation: bool = True,
                 init_cfg: Optional[Union[Dict, List[Dict]]] = None) -> None:
        super().__init__(init_cfg=init_cfg)
        self.branches = MultiScaleTCN(
            in_channels,
            out_channels,
            kernel_size=3,
            stride=stride,
            dilations=dilations)
        if in_channels == out_channels and stride == 1:
            self.residual = nn.Identity()
        else:
            self.residual = nn.Sequential(
                nn.Conv2d(in_channels, out_channels, 1, stride=(stride, 1)),
                nn.BatchNorm2d(out_channels))
        self.activation = activation

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """(N, C, T, V) -> (N, C', ceil(T / stride), V)."""
        y = self.branches(x) + self.residual(x)
        return F.relu(y, inplace=True) if self.activation else y


class STFGCNStage(BaseModule):
    """One MS-G3D block without the G3D pathway: the factorised pathway (multi-
    scale GCN, MS-TCN, MS-TCN without activation), ReLU, then one more MS-TCN
    (``msg3d.py``: ``relu(sgcn(x) + gcn3d(x))``, ``tcn(x)``).

    Args:
        in_channels (int): Input channels.
        gcn_channels (int): Output channels of the GCN (MS-G3D: the block's
            input channels, except the first block's).
        out_channels (int): Output channels.
        A (torch.Tensor): (K, V, V) disentangled adjacency.
        stride (int): Temporal stride of the first MS-TCN. Defaults to 1.
        use_stf (bool): STF adjacency in the GCN. Defaults to False.
        tcn_dilations (Sequence[int]): MS-TCN dilations.
            Defaults to (1, 2, 3, 4).
        stf_channels (int): Hidden channels of beta and alpha.
            Defaults to 16.
        stf_kernel_size (int): Their temporal kernel. Defaults to 9.
        init_cfg (dict or list[dict], optional): Initialisation config.
            Defaults to None (the parent's).
    """

    def __init__(self,
                 in_channels: int,
                 gcn_channels: int,
                 out_channels: int,
                 A: torch.Tensor,
                 stride: int = 1,
                 use_stf: bool = False,
                 tcn_dilations: Sequence[int] = (1, 2, 3, 4),
                 stf_channels: int = 16,
                 stf_kernel_size: int = 9,
                 init_cfg: Optional[Union[Dict, List[Dict]]] = None) -> None:
        super().__init__(init_cfg=init_cfg)
        self.gcn = MultiScaleGCN(
            in_channels,
            gcn_channels,
            A,
            use_stf=use_stf,
            stf_channels=stf_channels,
            stf_kernel_size=stf_kernel_size)
        self.tcn1 = ResidualMSTCN(
            gcn_channels, out_channels, stride, dilations=tcn_dilations)
        self.tcn2 = ResidualMSTCN(
            out_channels,
            out_channels,
            dilations=tcn_dilations,
            activation=False)
        self.tcn3 = ResidualMSTCN(
            out_channels, out_channels, dilations=tcn_dilations)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """(N, C, T, V) -> (N, C', ceil(T / stride), V)."""
        x = self.tcn2(self.tcn1(self.gcn(x)))
        # MS-G3D adds the G3D pathway's output here, before the ReLU.
        return self.tcn3(F.relu(x, inplace=True))


@MODELS.register_module()
class STFGCN(BaseModule):
    """STF-GCN backbone: MS-G3D's factorised pathway (Liu et al.,
    "Disentangling and Unifying Graph Convolutions for Skeleton-Based Action
    Recognition", CVPR 2020) with the Spatio-Temporal Focus modules of STF (Ke
    et al., "Towards To-a-T Spatio-Temporal Focus for Skeleton-Based Action
    Recognition", AAAI 2022; stf.md).

    Data BN over the input, then ``len(stage_channels)`` blocks
    (:class:`STFGCNStage`), MS-G3D's layout: each a disentangled multi-scale
    GCN (:class:`MultiScaleGCN`, K = ``num_scales`` k-hop adjacencies with
    self-loops, learnable residual mask), two multi-scale TCNs
    (:class:`ResidualMSTCN`, kernel 3 at dilations 1-4, max pooling and 1x1
    branches, residual), ReLU and a third MS-TCN. Defaults: 96, 192, 384
    channels, temporal stride 2 at blocks 2 and 3, K = 3 (STF Eq. 1).

    **STF** (``use_stf=True``, stf.md "Spatio-Temporal Focus (STF) Module"):
    every GCN of ``stf_stages`` adds an instance-dependent adjacency
    ``G_k = alpha(beta(X^l))`` to ``A_k`` (Eq. 1). beta
    (``stages.{i}.gcn.stf_embed``, :class:`STFEmbedding`, three
    convolutions) outputs the one-channel embedding (N * M, 1, T_l, V) at
    the GCN's input resolution; alpha (``stages.{i}.gcn.stf_graph``,
    :class:`STFGraph`, two convolutions) turns it into (N * M, K, V, V).
    alpha's output convolution starts at zero, so G_k = 0 at initialisation.
    With ``use_stf=False`` (the MS-G3D baseline) the state dict is the same
    without the ``stf_embed`` / ``stf_graph`` entries, so a baseline
    checkpoint loads into an STF model (``load_from``) with only those
    missing, STF's training scheme (stf.md "Training scheme").

    **L_Gk taps.** ``stf_embedding_names`` lists the beta modules; their
    forward output is the embedding the STF loss compares with the Grad-CAM
    focus Q. A config taps them (and the last stage, for Q) through
    ``MultiStreamRecognizer``, which views each as (N, M, 1, T_l, V)::

        stage_taps=dict(
            stf_embed0='stages.0.gcn.stf_embed',
            stf_embed1='stages.1.gcn.stf_embed',
            stf_embed2='stages.2.gcn.stf_embed',
            last=-1)

    **Deviations from MS-G3D** (official ``model/msg3d.py``): no G3D
    (unified spatial-temporal windowed) pathway, so each block is the
    factorised pathway only; K = 3 GCN scales as STF's Eq. 1 (MS-G3D uses
    13 on NTU); our initialisation (kaiming-normal convolutions, unit BN;
    MS-G3D keeps PyTorch's defaults). STF's Fig. 2 shows six STF-GCNs (MS-G3D
    has six GCNs with G3D); here there are three, one per block, and the
    paper's coherence loss pairs the last two of them. beta and alpha are
    specified in the paper only by their layer counts and shapes; the
    layers here are our choice (see their classes).

    Stage names (``stage_names``): ``'stages.0'``, ``'stages.1'``,
    ``'stages.2'``, each returning (N * M, C, T, V); the last is the
    backbone output.

    Args:
        graph_cfg (dict): ``dict(layout=..., mode=...)``: layout
            'nturgb+d', 'coco', 'openpose', another mmcsre layout name
            ('nw-ucla') or a dict with ``num_node``, ``inward`` and
            ``center``. Only the layout's edges are used (the k-hop
            adjacency is built from them); ``mode`` defaults to 'spatial'.
        in_channels (int): Input channels: 3 (3D joints or 2D + score), 4
            (STF's xyz + visibility). Defaults to 3.
        num_person (int): Persons M, for the data BN. Defaults to 2.
        stage_channels (Sequence[int]): Output channels of each block.
            Defaults to (96, 192, 384).
        down_stages (Sequence[int]): 1-based blocks with temporal stride 2.
            Defaults to (2, 3).
        num_scales (int): GCN scales K. Defaults to 3.
        use_stf (bool): Add STF's instance-dependent adjacency.
            Defaults to True.
        stf_stages (Sequence[int], optional): 1-based blocks whose GCN has
            it. Defaults to None (all).
        stf_channels (int): Hidden channels of beta and alpha.
            Defaults to 16.
        stf_kernel_size (int): Their temporal kernel. Defaults to 9.
        tcn_dilations (Sequence[int]): MS-TCN dilations.
            Defaults to (1, 2, 3, 4).
        init_cfg (dict or list[dict], optional): Initialisation config.
            Defaults to kaiming-normal convolutions and unit BN (alpha's
            output convolution: zeros).

    Shapes:
        - Input: (N, M, T, V, C) skeletons.
        - Output: (N, M, C', T', V) features, C' = 384 and T' =
          ceil(ceil(T / 2) / 2) by default.

    Example:
        >>> model = STFGCN(graph_cfg=dict(layout='nturgb+d', mode='spatial'))
        >>> model(torch.randn(2, 2, 64, 25, 3)).shape
        torch.Size([2, 2, 384, 16, 25])
    """

    def __init__(self,
                 graph_cfg: Dict,
                 in_channels: int = 3,
                 num_person: int = 2,
                 stage_channels: Sequence[int] = (96, 192, 384),
                 down_stages: Sequence[int] = (2, 3),
                 num_scales: int = 3,
                 use_stf: bool = True,
                 stf_stages: Optional[Sequence[int]] = None,
                 stf_channels: int = 16,
                 stf_kernel_size: int = 9,
                 tcn_dilations: Sequence[int] = (1, 2, 3, 4),
                 init_cfg: Optional[Union[Dict,
                                          List[Dict]]] = CONV_BN_INIT) -> None:
        super().__init__(init_cfg=init_cfg)
        graph_cfg = dict(graph_cfg)
        layout = graph_cfg.get('layout', 'coco')
        if isinstance(layout, str) and layout not in MMACTION_LAYOUTS:
            graph_cfg['layout'] = get_layout(layout).graph_cfg()
        self.graph = Graph(**graph_cfg)
        A_binary = edge2mat(self.graph.neighbor, self.graph.num_node)
        A = torch.from_numpy(disentangled_adjacency(A_binary, num_scales))
        self.num_joints = self.graph.num_node
        self.in_channels = in_channels
        self.use_stf = use_stf
        num_stages = len(stage_channels)
        if stf_stages is None:
            stf_stages = range(1, num_stages + 1)
        self.stf_stages = tuple(stf_stages) if use_stf else ()
        if not set(self.stf_stages) <= set(range(1, num_stages + 1)):
            raise ValueError(f'stf_stages {self.stf_stages} must be 1-based '
                             f'block indices of the {num_stages} blocks')
        self.data_bn = nn.BatchNorm1d(num_person * in_channels *
                                      self.num_joints)

        stages = []
        channels = in_channels
        for i, out_channels in enumerate(stage_channels, start=1):
            stages.append(
                STFGCNStage(
                    channels,
                    out_channels if i == 1 else channels,
                    out_channels,
                    A,
                    stride=2 if i in down_stages else 1,
                    use_stf=i in self.stf_stages,
                    tcn_dilations=tcn_dilations,
                    stf_channels=stf_channels,
                    stf_kernel_size=stf_kernel_size))
            channels = out_channels
        self.out_channels = channels
        self.stages = ModuleList(stages)

    @property
    def stage_names(self) -> Tuple[str, ...]:
        """tuple[str]: Sub-module names of the blocks, in order; each
        outputs (N * M, C, T, V)."""
        return tuple(f'stages.{i}' for i in range(len(self.stages)))

    @property
    def stf_embedding_names(self) -> List[str]:
        """list[str]: Sub-module names of the STF embeddings beta, in
        order; each outputs (N * M, 1, T, V)."""
        return [
            f'stages.{i - 1}.gcn.stf_embed' for i in sorted(self.stf_stages)
        ]

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Encode skeletons.

        Args:
            x (torch.Tensor): (N, M, T, V, C) skeletons.

        Returns:
            torch.Tensor: (N, M, C', T', V) features.
        """
        N, M, T, V, C = x.shape
        if V != self.num_joints or C != self.in_channels:
            raise ValueError(f'STFGCN built for {self.num_joints} joints x '
                             f'{self.in_channels} channels got input '
                             f'{tuple(x.shape)} (N, M, T, V, C)')
        x = x.permute(0, 1, 3, 4, 2).reshape(N, M * V * C, T)
        x = self.data_bn(x).view(N, M, V, C, T)
        x = x.permute(0, 1, 3, 4, 2).reshape(N * M, C, T, V)
        for stage in self.stages:
            x = stage(x)
        return x.reshape((N, M) + x.shape[1:])
