"""Hyperformer (Zhou et al., "Hypergraph Transformer for Skeleton-based Action
Recognition", arXiv 2211.09590): transformer layers whose self-attention
(HyperSA) adds body-part hyperedges and shortest-path-hop relative positional
embeddings to joint-to-joint attention, each followed by a multi-scale temporal
convolution."""
from typing import Dict, List, Optional, Sequence, Tuple, Union

import numpy as np
import torch
import torch.nn as nn
from mmaction.models.utils import Graph
from mmaction.models.utils.graph import get_hop_distance
from mmaction.registry import MODELS
from mmengine.model import BaseModule, ModuleList

from mmcsre.structures import NTU_RGBD, NW_UCLA, get_layout
from .utils import MultiScaleTCN, TemporalUnit

# Joint-to-body-part partitions (hyperedges) of the official configs
# (github.com/ZhouYuxuanYX/Hyperformer, config/nturgbd-cross-subject/
# joint.yaml and config/ucla/joint.yaml, ``joint_label``).
NTU_PARTITION = (0, 4, 2, 2, 2, 2, 1, 1, 2, 2, 1, 1, 2, 3, 3, 3, 2, 3, 3, 3, 1,
                 0, 1, 0, 1)
NW_UCLA_PARTITION = (0, ) * 4 + (1, ) * 8 + (2, ) * 8
# mmaction2's Graph knows these names; other mmcsre layouts go in as dicts.
MMACTION_LAYOUTS = ('openpose', 'nturgb+d', 'coco')


def _edge_set(num_node: int, edges: Sequence) -> Tuple:
    return num_node, frozenset(frozenset(map(int, e)) for e in edges)


def _official_partition(num_node: int,
                        edges: Sequence) -> Optional[Tuple[int, ...]]:
    """The official partition if ``edges`` are an NTU or NW-UCLA skeleton."""
    ntu_mmaction = Graph('nturgb+d').inward  # differs from ours at the hands
    known = {
        _edge_set(25, ntu_mmaction): NTU_PARTITION,
        _edge_set(25, NTU_RGBD.inward): NTU_PARTITION,
        _edge_set(20, NW_UCLA.inward): NW_UCLA_PARTITION,
    }
    return known.get(_edge_set(num_node, edges))


def derive_body_parts(num_node: int,
                      edges: Sequence[Tuple[int, int]],
                      center: int,
                      min_part_size: int = 2) -> Tuple[int, ...]:
    """Partition a skeleton tree into a torso and limbs.

    The tree is rooted at ``center``. A joint *branches* when at least two of
    its child subtrees hold ``min_part_size`` joints or more; the torso (part
    0) is every joint on a path from the centre to a branching joint, plus
    the smaller subtrees hanging off it. Every other subtree hanging off the
    torso is one part (a limb, the head, ...). NTU RGB+D gives torso, head,
    two arms and two legs; COCO and OpenPose also split off the eyes/ears.
    A chain with no branching joint is one part.

    Args:
        num_node (int): Number of joints V.
        edges (Sequence[tuple[int, int]]): Bones, in any direction.
        center (int): Root joint.
        min_part_size (int): Smallest subtree that becomes its own part.
            Defaults to 2.

    Returns:
        tuple[int]: (V,) part index of each joint, 0 to K-1.
    """
    neighbours: List[List[int]] = [[] for _ in range(num_node)]
    for a, b in edges:
        neighbours[int(a)].append(int(b))
        neighbours[int(b)].append(int(a))
    parent = [-2] * num_node  # -2: not reached from the centre
    parent[center], order = -1, [center]
    for v in order:  # breadth-first; ``order`` grows while iterating
        for u in neighbours[v]:
            if parent[u] == -2:
                parent[u] = v
                order.append(u)
    size = [1] * num_node
    for v in reversed(order[1:]):
        size[parent[v]] += size[v]
    big = [0] * num_node  # children whose subtree is part-sized
    for v in order[1:]:
        big[parent[v]] += size[v] >= min_part_size
    core = [n >= 2 for n in big]  # on a path from the centre to a branching
    for v in reversed(order[1:]):
        core[parent[v]] = core[parent[v]] or core[v]
    part = [0] * num_node  # unreached joints join the torso
    num_parts = 1
    for v in order[1:]:
        p = parent[v]
        if core[v]:
            part[v] = 0
        elif core[p] and size[v] >= min_part_size:
            part[v], num_parts = num_parts, num_parts + 1
        else:
            part[v] = part[p]
    return tuple(part)


def _check_partition(joint_label: Sequence[int], num_node: int) -> None:
    labels = [int(p) for p in joint_label]
    if len(labels) != num_node:
        raise ValueError(f'joint_label has {len(labels)} entries for a '
                         f'{num_node}-joint layout')
    if sorted(set(labels)) != list(range(max(labels) + 1)):
        raise ValueError('joint_label must number the parts 0..K-1 with '
                         f'every part used, got {labels}')


class HyperSA(BaseModule):
    """Hypergraph self-attention over the joints of each frame.

    For queries q, keys k, values v, the hyperedge embedding e_j of joint
    j's body part, the relative positional embedding r_ij of the hop
    distance between joints i and j and a learnt static key u, the score of
    joint i attending to j is, per head (HyperSA; official code)::

        s_ij = (q_i . k_j + q_i . e_j + u . e_j + q_i . r_ij) / sqrt(d)

    and the output is ``(alpha * softmax(s) + W) v`` with a learnt scalar
    ``alpha`` (init 0) and per-head joint mixing ``W`` (init identity),
    followed by a grouped 1x1 projection.

    Args:
        in_channels (int): Input channels.
        embed_dims (int): Channels of q, k, v and the output.
        num_heads (int): Attention heads.
        hops (torch.Tensor): (V, V) hop distance between joints (long).
        qkv_bias (bool): Bias in the q/k/v projections. Defaults to False.
        attn_drop (float): Dropout on the attention map. Defaults to 0.
        proj_drop (float): Dropout after the projection. Defaults to 0.
        proj_groups (int): Groups of the output projection. Defaults to 6.
        init_cfg (dict | list[dict], optional): Initialisation. Defaults to
            None (PyTorch defaults, as the official code).
    """

    def __init__(self,
                 in_channels: int,
                 embed_dims: int,
                 num_heads: int,
                 hops: torch.Tensor,
                 qkv_bias: bool = False,
                 attn_drop: float = 0.,
                 proj_drop: float = 0.,
                 proj_groups: int = 6,
                 init_cfg: Optional[Union[Dict, List[Dict]]] = None) -> None:
        super().__init__(init_cfg=init_cfg)
        if embed_dims % num_heads or embed_dims % proj_groups:
            raise ValueError(f'embed_dims={embed_dims} must be divisible by '
                             f'num_heads={num_heads} and '
                             f'proj_groups={proj_groups}')
        num_joints = hops.shape[0]
        self.num_heads = num_heads
        self.head_dims = embed_dims // num_heads
        self.scale = self.head_dims**-0.5
        self.register_buffer('hops', hops.long(), persistent=False)
        self.q = nn.Conv2d(in_channels, embed_dims, 1, bias=qkv_bias)
        self.kv = nn.Conv2d(in_channels, 2 * embed_dims, 1, bias=qkv_bias)
        self.rpe = nn.Parameter(torch.zeros(int(hops.max()) + 1, embed_dims))
        self.static_key = nn.Parameter(torch.zeros(num_heads, self.head_dims))
        self.alpha = nn.Parameter(torch.zeros(1))
        self.outer = nn.Parameter(
            torch.eye(num_joints).repeat(num_heads, 1, 1))
        self.attn_drop = nn.Dropout(attn_drop)
        self.proj = nn.Conv2d(embed_dims, embed_dims, 1, groups=proj_groups)
        self.proj_drop = nn.Dropout(proj_drop)

    def _heads(self, x: torch.Tensor) -> torch.Tensor:
        """(B, H*d, T, V) -> (B, T, H, V, d)."""
        B, _, T, V = x.shape
        return x.view(B, self.num_heads, self.head_dims, T,
                      V).permute(0, 3, 1, 4, 2)

    def forward(self, x: torch.Tensor,
                hyperedge: torch.Tensor) -> torch.Tensor:
        """Attend across the joints of every frame.

        Args:
            x (torch.Tensor): (B, C_in, T, V) (layer-normalised) features.
            hyperedge (torch.Tensor): (B, embed_dims, T, V) embedding of
                each joint's body part.

        Returns:
            torch.Tensor: (B, embed_dims, T, V).
        """
        B, _, T, V = x.shape
        q = self._heads(self.q(x))
        k, v = (self._heads(y) for y in self.kv(x).chunk(2, dim=1))
        e = self._heads(hyperedge)
        rel = self.rpe[self.hops].view(V, V, self.num_heads, self.head_dims)
        # q.k + q.e share one product: (B, T, H, V, V)
        score = q @ (k + e).transpose(-2, -1)
        score = score + torch.einsum('bthnc,nmhc->bthnm', q, rel)
        score = score + torch.einsum('hc,bthmc->bthm', self.static_key,
                                     e).unsqueeze(-2)
        attn = self.attn_drop((score * self.scale).softmax(dim=-1))
        out = (self.alpha * attn + self.outer) @ v  # (B, T, H, V, d)
        out = out.permute(0, 2, 4, 1, 3).reshape(B, -1, T, V)
        return self.proj_drop(self.proj(out))


class HyperformerLayer(BaseModule):
    """One Hyperformer layer: HyperSA with a skip connection, then the multi-
    scale temporal convolution, a residual and ReLU.

    ``y = x' + HyperSA(LN(x), E(x))`` with ``x'`` the input (1x1-projected
    when the width changes) and ``E(x)`` every joint's body-part embedding:
    the mean of the part's joint features, 1x1-projected; the output is
    ``ReLU(MSTCN(y) + R(x))`` with ``R`` identity or a strided 1x1 conv.

    Args:
        in_channels (int): Input channels.
        out_channels (int): Output channels.
        num_heads (int): Attention heads.
        hops (torch.Tensor): (V, V) hop distances (long).
        partition (torch.Tensor): (V, K) one-hot joint-to-part incidence.
        stride (int): Temporal stride. Defaults to 1.
        tcn_kernel_size (int): Kernel of the temporal branches. Defaults
            to 5.
        tcn_dilations (Sequence[int]): Dilations of the temporal branches.
            Defaults to (1, 2).
        init_cfg (dict | list[dict], optional): Initialisation. Defaults to
            None.
        **kwargs: Passed to :class:`HyperSA` (``qkv_bias``, ``attn_drop``,
            ``proj_drop``, ``proj_groups``).
    """

    def __init__(self,
                 in_channels: int,
                 out_channels: int,
                 num_heads: int,
                 hops: torch.Tensor,
                 partition: torch.Tensor,
                 stride: int = 1,
                 tcn_kernel_size: int = 5,
                 tcn_dilations: Sequence[int] = (1, 2),
                 init_cfg: Optional[Union[Dict, List[Dict]]] = None,
                 **kwargs) -> None:
        super().__init__(init_cfg=init_cfg)
        partition = partition.float()
        self.register_buffer(
            'part_mean', partition / partition.sum(0), persistent=False)
        self.register_buffer(
            'part_to_joint', partition.t().contiguous(), persistent=False)
        self.hyperedge_proj = nn.Conv2d(
            in_channels, out_channels, 1, bias=False)
        self.norm = nn.LayerNorm(in_channels)
        self.attn = HyperSA(in_channels, out_channels, num_heads, hops,
                            **kwargs)
        self.skip = nn.Identity() if in_channels == out_channels else \
            nn.Conv2d(in_channels, out_channels, 1, bias=False)
        self.tcn = MultiScaleTCN(
            out_channels,
            out_channels,
            tcn_kernel_size,
            stride,
            tcn_dilations,
            temporal_unit=True)
        self.residual = nn.Identity() if (
            in_channels == out_channels and stride == 1) else TemporalUnit(
                in_channels, out_channels, stride=stride)
        self.relu = nn.ReLU(inplace=True)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """(B, C_in, T, V) -> (B, C_out, ceil(T / stride), V)."""
        # Averaging and 1x1 projection commute, so project the K parts
        # rather than the V joints, then give every joint its part's.
        hyperedge = self.hyperedge_proj(x @ self.part_mean) @ \
            self.part_to_joint
        y = self.norm(x.permute(0, 2, 3, 1)).permute(0, 3, 1, 2)
        y = self.skip(x) + self.attn(y, hyperedge)
        return self.relu(self.tcn(y) + self.residual(x))


@MODELS.register_module()
class Hyperformer(BaseModule):
    """Hyperformer backbone (Zhou et al., arXiv 2211.09590).

    A data batch norm over (M, V, C), then ``num_layers``
    :class:`HyperformerLayer` s of width ``embed_dims``: each is hypergraph
    self-attention (HyperSA: joint-to-joint attention plus a joint-to-
    hyperedge term over a joint-to-body-part partition, a learnt static key
    on the hyperedges and k-hop relative positional embeddings of the
    skeleton's shortest-path distances) followed by a multi-scale temporal
    convolution (kernel 5, dilations 1 and 2, max-pool and 1x1 branches).
    Layers 5 and 8 halve the frame rate. Defaults are the official model
    (github.com/ZhouYuxuanYX/Hyperformer, model/Hyperformer.py): 10 layers,
    9 heads x 24 channels = 216, about 2.6M parameters with a 60-class
    linear classifier.

    The partition (hyperedges) is ``joint_label`` when given; otherwise the
    official one for the NTU RGB+D and NW-UCLA skeletons, and
    :func:`derive_body_parts` (torso plus limbs) for any other layout.

    Stage names (``stage_names``): ``layers.0`` ... ``layers.{L-1}``, each
    giving (N * M, embed_dims, T_i, V).

    Args:
        graph_cfg (dict): ``dict(layout=..., mode=...)`` as mmaction2's
            ``Graph`` takes: layout 'nturgb+d', 'coco', 'openpose', another
            mmcsre layout name (e.g. 'nw-ucla') or a dict with
            ``num_node``, ``inward`` and ``center``. Only the bones are used
            (hop distances, derived partition).
        in_channels (int): Channels C of the input. Defaults to 3.
        num_person (int): Persons M per sample (data batch norm over
            M * V * C). Defaults to 2.
        embed_dims (int): Width of every layer. Defaults to 216.
        num_heads (int): Attention heads. Defaults to 9.
        num_layers (int): Number of layers. Defaults to 10.
        down_layers (Sequence[int]): 1-based layers with temporal stride 2.
            Defaults to (5, 8).
        tcn_kernel_size (int): Temporal kernel. Defaults to 5.
        tcn_dilations (Sequence[int]): Temporal dilations. Defaults to
            (1, 2).
        proj_groups (int): Groups of the attention's output projection.
            Defaults to 6.
        joint_label (Sequence[int], optional): (V,) body part 0..K-1 of each
            joint. Defaults to None.
        qkv_bias (bool): Bias in the q/k/v projections. Defaults to False.
        attn_drop (float): Attention dropout. Defaults to 0.
        proj_drop (float): Dropout after the attention projection.
            Defaults to 0.
        init_cfg (dict | list[dict], optional): Initialisation. Defaults to
            None (each unit's own, as the official code).

    Shape:
        - Input: (N, M, T, V, C).
        - Output: (N, M, embed_dims, ceil(T / 2 ** len(down_layers)), V).

    Example:
        >>> model = Hyperformer(dict(layout='coco', mode='spatial'))
        >>> model(torch.randn(2, 2, 64, 17, 3)).shape
        torch.Size([2, 2, 216, 16, 17])
    """

    def __init__(self,
                 graph_cfg: Dict,
                 in_channels: int = 3,
                 num_person: int = 2,
                 embed_dims: int = 216,
                 num_heads: int = 9,
                 num_layers: int = 10,
                 down_layers: Sequence[int] = (5, 8),
                 tcn_kernel_size: int = 5,
                 tcn_dilations: Sequence[int] = (1, 2),
                 proj_groups: int = 6,
                 joint_label: Optional[Sequence[int]] = None,
                 qkv_bias: bool = False,
                 attn_drop: float = 0.,
                 proj_drop: float = 0.,
                 init_cfg: Optional[Union[Dict, List[Dict]]] = None) -> None:
        super().__init__(init_cfg=init_cfg)
        graph_cfg = dict(graph_cfg)
        layout = graph_cfg.get('layout', 'coco')
        if isinstance(layout, str) and layout not in MMACTION_LAYOUTS:
            graph_cfg['layout'] = get_layout(layout).graph_cfg()
        self.graph = Graph(**graph_cfg)
        V = self.graph.num_node
        edges = [tuple(e) for e in self.graph.inward]
        if joint_label is None:
            joint_label = _official_partition(V, edges) or \
                derive_body_parts(V, edges, self.graph.center)
        _check_partition(joint_label, V)
        self.joint_label = tuple(int(p) for p in joint_label)

        hops = get_hop_distance(V, edges, max_hop=max(V - 1, 1))
        finite = hops[np.isfinite(hops)]
        hops[~np.isfinite(hops)] = finite.max() + 1  # disconnected joints
        hops = torch.as_tensor(hops, dtype=torch.long)
        partition = nn.functional.one_hot(torch.tensor(self.joint_label))

        self.in_channels = in_channels
        self.num_person = num_person
        self.num_joints = V
        self.down_layers = tuple(down_layers)
        self.data_bn = nn.BatchNorm1d(num_person * in_channels * V)
        self.layers = ModuleList([
            HyperformerLayer(
                in_channels if i == 0 else embed_dims,
                embed_dims,
                num_heads,
                hops,
                partition,
                stride=2 if i + 1 in self.down_layers else 1,
                tcn_kernel_size=tcn_kernel_size,
                tcn_dilations=tcn_dilations,
                qkv_bias=qkv_bias,
                attn_drop=attn_drop,
                proj_drop=proj_drop,
                proj_groups=proj_groups) for i in range(num_layers)
        ])

    @property
    def stage_names(self) -> Tuple[str, ...]:
        """tuple[str]: Sub-modules of the successive layers, each giving
        (N * M, C, T, V)."""
        return tuple(f'layers.{i}' for i in range(len(self.layers)))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Encode skeleton sequences.

        Args:
            x (torch.Tensor): (N, M, T, V, C) skeletons.

        Returns:
            torch.Tensor: (N, M, C', T', V) features.
        """
        N, M, T, V, C = x.shape
        if (M, V, C) != (self.num_person, self.num_joints, self.in_channels):
            raise ValueError(
                f'Hyperformer was built for {self.num_person} person(s), '
                f'{self.num_joints} joints and {self.in_channels} channels '
                f'but got input (N, M, T, V, C) = {tuple(x.shape)}')
        x = self.data_bn(x.permute(0, 1, 3, 4, 2).reshape(N, M * V * C, T))
        x = x.view(N, M, V, C, T).permute(0, 1, 3, 4,
                                          2).reshape(N * M, C, T, V)
        for layer in self.layers:
            x = layer(x)
        return x.reshape((N, M) + x.shape[1:])
