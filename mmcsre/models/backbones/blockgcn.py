"""BlockGCN (Zhou et al., CVPR 2024): block-diagonal graph convolutions with
static (graph distance) and dynamic (persistent homology) topology
encodings."""
from typing import Dict, List, Optional, Sequence, Tuple, Union

import numpy as np
import torch
import torch.nn as nn
from mmaction.models.utils import Graph
from mmaction.models.utils.graph import get_hop_distance
from mmaction.registry import MODELS
from mmengine.model import BaseModule

from .utils import MultiScaleTCN


def _init_conv(conv: nn.Conv2d) -> None:
    """Kaiming-normal weights (fan out) and a zero bias."""
    nn.init.kaiming_normal_(conv.weight, mode='fan_out')
    if conv.bias is not None:
        nn.init.zeros_(conv.bias)


def _init_bn(bn: nn.modules.batchnorm._BatchNorm, scale: float) -> None:
    """Batch-norm weight ``scale`` and bias 0."""
    nn.init.constant_(bn.weight, scale)
    nn.init.zeros_(bn.bias)


def hop_distance(graph: Graph) -> torch.Tensor:
    """Shortest-path lengths between the joints of a skeleton graph.

    Args:
        graph (Graph): An mmaction2 skeleton graph.

    Returns:
        torch.Tensor: (V, V) long tensor of hop counts (0 on the diagonal).
        Joint pairs in different connected components get one more than
        the largest finite distance, a bucket of their own.
    """
    hops = get_hop_distance(
        graph.num_node, graph.inward, max_hop=max(graph.num_node - 1, 1))
    finite = np.isfinite(hops)
    hops[~finite] = hops[finite].max() + 1
    return torch.from_numpy(hops).long()


def minimum_spanning_tree_weights(dist: torch.Tensor) -> torch.Tensor:
    """Edge weights of the minimum spanning tree of complete graphs.

    These are the deaths of the 0-dimensional persistence diagram of the
    Vietoris-Rips filtration (every point is born at 0 and each merge of
    two components kills one at the length of an MST edge). Prim's
    algorithm, batched: the loop runs over the V - 1 added vertices.

    Args:
        dist (torch.Tensor): (N, V, V) symmetric distance matrices.

    Returns:
        torch.Tensor: (N, V - 1) MST edge weights, in the order added.
    """
    n, v, _ = dist.shape
    rows = torch.arange(n, device=dist.device)
    in_tree = torch.zeros(n, v, dtype=torch.bool, device=dist.device)
    in_tree[:, 0] = True
    nearest = dist[:, 0]
    weights = []
    for _ in range(v - 1):
        nearest = nearest.masked_fill(in_tree, float('inf'))
        new = nearest.argmin(dim=1)
        weights.append(nearest[rows, new])
        in_tree[rows, new] = True
        nearest = torch.minimum(nearest, dist[rows, new])
    if not weights:
        return dist.new_zeros(n, 0)
    return torch.stack(weights, dim=1)


class PersistentHomologyEncoding(nn.Module):
    """Action-specific topology of a skeleton sequence (BlockGCN's dynamic
    topological encoding).

    The temporal (and person) mean pose gives pairwise joint distances D
    (N, V, V), scaled to [0, 1] per sample (the official code divides by
    the batch maximum, which makes a sample's feature depend on its batch).
    As in the official code, the rows of D (each joint's distance profile)
    form a point cloud whose 0-dimensional Vietoris-Rips persistence
    diagram {(0, d_i)} is vectorised by learnable structure elements
    (Hofer et al., NeurIPS 2017):
    ``f_e = sum_i exp(-s_e0^2 c_e0^2 - s_e1^2 (d_i - c_e1)^2)``. The diagram
    depends on the input only, so it is computed without gradients.

    Args:
        num_elements (int): Number of structure elements E. Defaults to 64.
    """

    def __init__(self, num_elements: int = 64) -> None:
        super().__init__()
        self.num_elements = num_elements
        # (birth, death) coordinates of each element, as torch_topological.
        self.centres = nn.Parameter(torch.rand(num_elements, 2))
        self.sharpness = nn.Parameter(torch.full((num_elements, 2), 3.0))

    @torch.no_grad()
    def persistence_deaths(self, x: torch.Tensor) -> torch.Tensor:
        """Deaths of the 0-dimensional persistence diagram.

        Args:
            x (torch.Tensor): (N, M, T, V, C) skeletons.

        Returns:
            torch.Tensor: (N, V - 1) deaths (all births are 0).
        """
        joints = x.float().mean(dim=(1, 2))
        dist = torch.cdist(joints, joints)
        dist = dist / dist.amax(dim=(1, 2), keepdim=True).clamp_min(1e-6)
        return minimum_spanning_tree_weights(torch.cdist(dist, dist))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Vectorised persistence diagram.

        Args:
            x (torch.Tensor): (N, M, T, V, C) skeletons.

        Returns:
            torch.Tensor: (N, E) topological features.
        """
        deaths = self.persistence_deaths(x).to(self.centres.dtype)
        sharp = self.sharpness.pow(2)
        birth_term = sharp[:, 0] * self.centres[:, 0].pow(2)
        death_term = sharp[:, 1, None] * (deaths[:, None, :] -
                                          self.centres[:, 1, None]).pow(2)
        return torch.exp(-(birth_term[:, None] + death_term)).sum(dim=-1)


class BlockGC(nn.Module):
    """Block graph convolution with graph-distance encoding.

    The channels are split into G groups. For each of the K subsets and
    each group a learnable V x V topology (initialised to the identity) plus
    a learnable embedding of the hop distance between joints (static
    topology encoding), each column L2-normalised, aggregates the joints;
    a grouped 1x1 convolution (block-diagonal weights, one block per group)
    then projects the K aggregated copies of the group to its output
    channels. BN (initialised near zero), a residual and ReLU follow.

    Args:
        in_channels (int): Input channels.
        out_channels (int): Output channels.
        hops (torch.Tensor): (V, V) hop distances between the joints.
        num_subsets (int): Number K of topologies. Defaults to 3.
        num_groups (int): Number G of channel groups. Defaults to 8.
    """

    def __init__(self,
                 in_channels: int,
                 out_channels: int,
                 hops: torch.Tensor,
                 num_subsets: int = 3,
                 num_groups: int = 8) -> None:
        super().__init__()
        if in_channels % num_groups or out_channels % num_groups:
            raise ValueError(f'channels {in_channels}->{out_channels} are '
                             f'not divisible by num_groups={num_groups}')
        num_joints = hops.shape[0]
        self.num_groups = num_groups
        self.register_buffer('hops', hops.clone(), persistent=False)
        eye = torch.eye(num_joints)
        self.topology = nn.Parameter(
            eye.expand(num_subsets, num_groups, -1, -1).clone())
        self.hop_embed = nn.Parameter(
            torch.zeros(num_subsets, num_groups,
                        int(hops.max()) + 1))
        # Input channels ordered (group, subset, channel) so each group of
        # the convolution sees its K aggregated copies.
        self.project = nn.Conv2d(
            num_subsets * in_channels, out_channels, 1, groups=num_groups)
        self.bn = nn.BatchNorm2d(out_channels)
        if in_channels != out_channels:
            self.down = nn.Sequential(
                nn.Conv2d(in_channels, out_channels, 1),
                nn.BatchNorm2d(out_channels))
            _init_conv(self.down[0])
            _init_bn(self.down[1], 1)
        else:
            self.down = nn.Identity()
        self.relu = nn.ReLU(inplace=True)
        _init_conv(self.project)
        _init_bn(self.bn, 1e-6)

    @staticmethod
    def _column_normalise(w: torch.Tensor) -> torch.Tensor:
        """Divide each column of ``w`` (..., V, V) by its L2 norm."""
        return w / (w.norm(dim=-2, keepdim=True) + 1e-4)

    def adjacency(self) -> torch.Tensor:
        """(K, G, V, V) aggregation weights, source joint first."""
        distance = self.hop_embed[:, :, self.hops]
        return (self._column_normalise(self.topology) +
                self._column_normalise(distance))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """(N, C_in, T, V) -> (N, C_out, T, V)."""
        n, c, t, v = x.shape
        groups = x.view(n, self.num_groups, c // self.num_groups, t, v)
        agg = torch.einsum('ngctv,kgvw->ngkctw', groups, self.adjacency())
        y = self.bn(self.project(agg.reshape(n, -1, t, v)))
        return self.relu(y + self.down(x))


class BlockGCNBlock(nn.Module):
    """One BlockGCN layer: topology feature injection, BlockGC, multi-scale TCN
    and a residual.

    Args:
        in_channels (int): Input channels.
        out_channels (int): Output channels.
        hops (torch.Tensor): (V, V) hop distances between the joints.
        stride (int): Temporal stride. Defaults to 1.
        num_subsets (int): Topologies per BlockGC. Defaults to 3.
        num_groups (int): Channel groups of BlockGC. Defaults to 8.
        topo_channels (int): Size of the persistent-homology feature added
            (after Linear -> BN -> ReLU) to the input; 0 disables it.
            Defaults to 64.
        dilations (Sequence[int]): Temporal dilations. Defaults to (1, 2).
        kernel_size (int): Temporal kernel. Defaults to 5.
    """

    def __init__(self,
                 in_channels: int,
                 out_channels: int,
                 hops: torch.Tensor,
                 stride: int = 1,
                 num_subsets: int = 3,
                 num_groups: int = 8,
                 topo_channels: int = 64,
                 dilations: Sequence[int] = (1, 2),
                 kernel_size: int = 5) -> None:
        super().__init__()
        self.topo = nn.Sequential(
            nn.Linear(topo_channels, in_channels), nn.BatchNorm1d(in_channels),
            nn.ReLU(inplace=True)) if topo_channels else None
        self.gcn = BlockGC(in_channels, out_channels, hops, num_subsets,
                           num_groups)
        self.tcn = MultiScaleTCN(
            out_channels,
            out_channels,
            kernel_size,
            stride,
            dilations,
            init_cfg=None)
        # The official initialisation, applied at construction layer by
        # layer (this backbone's units are not reached by init_weights).
        for m in self.tcn.modules():
            if isinstance(m, nn.Conv2d):
                _init_conv(m)
            elif isinstance(m, nn.BatchNorm2d):
                nn.init.normal_(m.weight, 1.0, 0.02)
                nn.init.zeros_(m.bias)
        if in_channels == out_channels and stride == 1:
            self.residual = nn.Identity()
        else:
            self.residual = nn.Sequential(
                nn.Conv2d(in_channels, out_channels, 1, stride=(stride, 1)),
                nn.BatchNorm2d(out_channels))
            _init_conv(self.residual[0])
            _init_bn(self.residual[1], 1)
        self.relu = nn.ReLU(inplace=True)

    def forward(self,
                x: torch.Tensor,
                topo: Optional[torch.Tensor] = None) -> torch.Tensor:
        """Apply the layer.

        Args:
            x (torch.Tensor): (N*M, C_in, T, V) features.
            topo (torch.Tensor, optional): (N*M, E) persistent-homology
                features. Defaults to None.

        Returns:
            torch.Tensor: (N*M, C_out, ceil(T / stride), V).
        """
        if self.topo is not None and topo is not None:
            x = x + self.topo(topo)[:, :, None, None]
        return self.relu(self.tcn(self.gcn(x)) + self.residual(x))


@MODELS.register_module()
class BlockGCN(BaseModule):
    """BlockGCN backbone (Zhou et al., "BlockGCN: Redefine Topology Awareness
    for Skeleton-Based Action Recognition", CVPR 2024).

    Architecture (paper and official code, ZhouYuxuanYX/BlockGCN):

    - joint embedding: a linear layer C -> ``base_channels`` per joint plus
      a learnable per-joint positional embedding, then data BN over
      M * V * ``base_channels`` (per person, joint and channel);
    - ``num_stages`` (10) layers, each: a persistent-homology feature of the
      whole sequence (:class:`PersistentHomologyEncoding`, shared by all
      layers) mapped by Linear -> BN -> ReLU and added to the input, a
      :class:`BlockGC` (per-group learnable topologies plus a learnable
      encoding of the hop distance on the skeleton graph, and a
      block-diagonal channel projection), a :class:`MultiScaleTCN` and a
      residual. Channels 128 x 4, 256 x 6; temporal stride 2 at layers 5
      and 8.

    The persistent homology is computed from the backbone input, i.e. from
    the stream a bone/motion config feeds (the official code always uses
    the joints). Only the joints and bones of the graph are used (for hop
    distances);
    ``graph_cfg['mode']`` sets the number K of topologies per BlockGC
    (mmaction2's 'spatial' mode gives K = 3, as the original).

    Input (N, M, T, V, C) -> output (N, M, C', T', V) with C' =
    ``base_channels`` * 2 ** len(inflate_stages) and T' = T halved (ceil)
    once per down stage; any T >= 1 and any layout.

    Stage names (:attr:`stage_names`): ``'layers.0'`` ... ``'layers.9'``,
    each giving (N*M, C, T, V).

    Args:
        graph_cfg (dict): ``dict(layout=..., mode=...)`` for mmaction2's
            :class:`~mmaction.models.utils.Graph`; layout is 'nturgb+d',
            'coco', 'openpose' or a dict with num_node, inward and center.
        in_channels (int): Channels C of the input. Defaults to 3.
        base_channels (int): Embedding and first-layer channels.
            Defaults to 128.
        num_stages (int): Number of layers. Defaults to 10.
        inflate_stages (Sequence[int]): 1-based layers that double the
            channels. Defaults to (5, ).
        down_stages (Sequence[int]): 1-based layers with temporal stride 2.
            Defaults to (5, 8).
        num_person (int): Persons M per sample (size of the data BN).
            Defaults to 2.
        num_groups (int): Channel groups of BlockGC. Defaults to 8.
        num_elements (int): Structure elements of the persistent-homology
            encoding; 0 disables the dynamic topology encoding.
            Defaults to 64.
        tcn_kernel_size (int): Temporal kernel. Defaults to 5.
        tcn_dilations (Sequence[int]): Temporal dilations. Defaults to
            (1, 2).
        init_cfg (dict or list[dict], optional): Initialisation config; by
            default each module keeps the original's initialisation, done
            at construction. Defaults to None.
    """

    def __init__(self,
                 graph_cfg: Dict,
                 in_channels: int = 3,
                 base_channels: int = 128,
                 num_stages: int = 10,
                 inflate_stages: Sequence[int] = (5, ),
                 down_stages: Sequence[int] = (5, 8),
                 num_person: int = 2,
                 num_groups: int = 8,
                 num_elements: int = 64,
                 tcn_kernel_size: int = 5,
                 tcn_dilations: Sequence[int] = (1, 2),
                 init_cfg: Optional[Union[Dict, List[Dict]]] = None) -> None:
        super().__init__(init_cfg=init_cfg)
        self.graph = Graph(**graph_cfg)
        num_joints = self.graph.num_node
        num_subsets = self.graph.A.shape[0] if self.graph.A.ndim == 3 else 1
        hops = hop_distance(self.graph)
        self.num_person = num_person
        self.base_channels = base_channels

        self.joint_embed = nn.Linear(in_channels, base_channels)
        self.pos_embed = nn.Parameter(torch.randn(num_joints, base_channels))
        self.data_bn = nn.BatchNorm1d(num_person * num_joints * base_channels)
        self.topology = PersistentHomologyEncoding(
            num_elements) if num_elements else None

        layers = []
        channels = base_channels
        for i in range(1, num_stages + 1):
            out_channels = channels * (2 if i in inflate_stages else 1)
            layers.append(
                BlockGCNBlock(
                    channels,
                    out_channels,
                    hops,
                    stride=2 if i in down_stages else 1,
                    num_subsets=num_subsets,
                    num_groups=num_groups,
                    topo_channels=num_elements,
                    kernel_size=tcn_kernel_size,
                    dilations=tcn_dilations))
            channels = out_channels
        self.layers = nn.ModuleList(layers)
        self.out_channels = channels

    @property
    def stage_names(self) -> Tuple[str, ...]:
        """Names of the successive layers in ``named_modules()``; each outputs
        (N*M, C, T, V)."""
        return tuple(f'layers.{i}' for i in range(len(self.layers)))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Extract features.

        Args:
            x (torch.Tensor): (N, M, T, V, C) skeletons.

        Returns:
            torch.Tensor: (N, M, C', T', V) features.
        """
        n, m, t, v, _ = x.shape
        topo = None
        if self.topology is not None:
            # One sequence-level feature, shared by the persons of a sample.
            topo = self.topology(x).repeat_interleave(m, dim=0)

        x = self.joint_embed(x) + self.pos_embed
        c = x.shape[-1]
        x = x.permute(0, 1, 3, 4, 2).reshape(n, m * v * c, t)
        x = self.data_bn(x)
        x = x.view(n, m, v, c, t).permute(0, 1, 3, 4, 2)
        x = x.reshape(n * m, c, t, v)

        for layer in self.layers:
            x = layer(x, topo)
        return x.reshape((n, m) + x.shape[1:])
