"""STFDHead: GCNHead plus CSRE's spatial-temporal feature decomposition and
memory-bank contrast (training only)."""
from typing import Dict, List, Optional, Sequence

import torch
import torch.nn as nn
from mmaction.models.heads import GCNHead
from mmaction.registry import MODELS

from mmcsre.utils import preserve_global_rng
from .utils import gt_labels_of, sample_indices_of

CONTRASTS = ('spatial', 'temporal', 'global')


class _FlattenProject(nn.Module):
    """Reduce channels per position, flatten positions, project to D.

    (N, P, C) -> reduce: C -> C/r -> (N, P * C/r) -> project -> (N, D).
    ``project``'s input size P * C/r is taken from the first input when
    ``num_positions`` is None (a lazy linear layer).
    """

    def __init__(self, in_channels: int, reduced: int, feat_dim: int,
                 num_positions: Optional[int]) -> None:
        super().__init__()
        self.reduce = nn.Linear(in_channels, reduced)
        self.project = nn.LazyLinear(feat_dim) if num_positions is None \
            else nn.Linear(num_positions * reduced, feat_dim)
        self.num_positions = num_positions

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Project (N, P, C) to (N, D), checking P against the built size."""
        if self.num_positions is not None and \
                x.shape[1] != self.num_positions:
            raise ValueError(
                f'STFDHead was built for {self.num_positions} positions but '
                f'the feature map has {x.shape[1]}; fix num_joints/'
                'num_frames or leave them None to infer them')
        return self.project(self.reduce(x).flatten(1))


@MODELS.register_module()
class STFDHead(GCNHead):
    """CSRE head (csre.txt Sec. 3.2-3.3): a drop-in for mmaction2's
    ``GCNHead``.

    The classification path is GCNHead's (global pooling, dropout, FC,
    cross-entropy); at test time nothing else runs, and the extra layers and
    banks can be stripped (``tools/strip_checkpoint.py``). In training the
    backbone feature X (N, M, C, T, V) is also decomposed (Eq. 4-5):

    - spatial: mean over T and M -> (N, V, C) -> theta: C -> C/r ->
      flatten V*C/r -> zeta -> D;
    - temporal: mean over V and M -> (N, T, C) -> phi: C -> C/r ->
      flatten T*C/r -> sigma -> D;
    - global (ablation GC): mean over M, T, V -> (N, C) -> linear -> D;

    and each decomposed feature is contrasted with InfoNCE against its own
    :class:`ContrastiveMemoryBank` (Eq. 6-10). The total loss is
    ``L_CE + sum_k w_k L_k``. T and V come from the feature map (lazy
    layers), so any clip length and layout works; give ``num_joints`` and
    ``num_frames`` to build the layers eagerly (needed under
    DistributedDataParallel, which cannot wrap lazy parameters).

    Args:
        num_classes (int): Number of classes.
        in_channels (int): Channels C of the backbone feature.
        feat_dim (int): Size D of the decomposed features. Defaults to 256.
        reduction (int): Channel reduction r of theta/phi. Defaults to 8.
        contrast (Sequence[str]): Features to contrast among 'spatial',
            'temporal' and 'global'. CSRE: ('spatial', 'temporal'); SC:
            ('spatial',); TC: ('temporal',); GC: ('global',); CSRE+GC: all
            three (csre.txt Table 5). Defaults to ('spatial', 'temporal').
        loss_weights (dict): Weight of each contrastive loss. Defaults to
            1 for each.
        memory_bank (dict): Config of each :class:`ContrastiveMemoryBank`;
            ``feat_dim`` is filled in. ``num_samples=None`` is sized from
            the training set by ``MemoryBankInitHook``. Defaults to
            ``dict(type='ContrastiveMemoryBank', num_samples=None)``.
        num_joints (int, optional): V of the feature map. Defaults to None.
        num_frames (int, optional): T of the feature map (after the
            backbone's temporal strides). Defaults to None.
        init_cfg (dict, optional): Initialisation. Defaults to GCNHead's
            N(0, 0.01) for ``fc`` only; the decomposition layers keep
            PyTorch's defaults (the lazy ones cannot be initialised before
            their first input).
        **kwargs: Passed to :class:`mmaction.models.heads.GCNHead`
            (``loss_cls``, ``dropout``, ``average_clips``, ``init_cfg``).
    """

    requires_sample_idx = True
    training_only_modules = ('decompose', 'banks')

    def __init__(self,
                 num_classes: int,
                 in_channels: int,
                 feat_dim: int = 256,
                 reduction: int = 8,
                 contrast: Sequence[str] = ('spatial', 'temporal'),
                 loss_weights: Optional[Dict[str, float]] = None,
                 memory_bank: Dict = dict(
                     type='ContrastiveMemoryBank', num_samples=None),
                 num_joints: Optional[int] = None,
                 num_frames: Optional[int] = None,
                 init_cfg: Optional[Dict] = dict(
                     type='Normal', std=0.01, override=dict(name='fc')),
                 **kwargs) -> None:
        super().__init__(num_classes, in_channels, init_cfg=init_cfg, **kwargs)
        contrast = tuple(contrast)
        bad = [c for c in contrast if c not in CONTRASTS]
        if bad or not contrast or len(set(contrast)) != len(contrast):
            raise ValueError(f'contrast must be distinct names from '
                             f'{CONTRASTS}, got {contrast}')
        if in_channels % reduction:
            raise ValueError(f'in_channels={in_channels} is not divisible '
                             f'by reduction={reduction}')
        self.contrast = contrast
        self.feat_dim = feat_dim
        self.loss_weights = {c: 1.0 for c in contrast}
        self.loss_weights.update(loss_weights or {})
        reduced = in_channels // reduction
        # Built without moving the global random streams: the same seed then
        # gives the same backbone and classifier as the GCNHead baseline.
        with preserve_global_rng():
            self._build_training_parts(in_channels, reduced, feat_dim,
                                       num_joints, num_frames, memory_bank)

    def _build_training_parts(self, in_channels: int, reduced: int,
                              feat_dim: int, num_joints: Optional[int],
                              num_frames: Optional[int],
                              memory_bank: Dict) -> None:
        """Build the decomposition layers and one bank per contrast; banks
        without a ``seed`` get distinct ones derived from one draw."""
        base_seed = int(torch.randint(2**31 - len(self.contrast), ()))
        branches = dict(
            spatial=lambda: _FlattenProject(in_channels, reduced, feat_dim,
                                            num_joints),
            temporal=lambda: _FlattenProject(in_channels, reduced, feat_dim,
                                             num_frames),
            global_=lambda: nn.Linear(in_channels, feat_dim))
        self.decompose = nn.ModuleDict(
            {self._key(c): branches[self._key(c)]()
             for c in self.contrast})
        self.banks = nn.ModuleDict()
        for i, name in enumerate(self.contrast):
            cfg = dict(memory_bank, feat_dim=feat_dim)
            if cfg.get('seed') is None:
                cfg['seed'] = base_seed + i
            self.banks[self._key(name)] = MODELS.build(cfg)

    @staticmethod
    def _key(name: str) -> str:
        """The ``ModuleDict`` key of a contrast name."""
        # ``global`` is a Python keyword; ModuleDict keys become attributes.
        return 'global_' if name == 'global' else name

    def decompose_features(self, x: torch.Tensor) -> Dict[str, torch.Tensor]:
        """The decomposed features of a backbone feature map.

        Args:
            x (torch.Tensor): (N, M, C, T, V) backbone features.

        Returns:
            dict[str, torch.Tensor]: (N, D) feature for each name in
            ``contrast``.
        """
        out = {}
        for name in self.contrast:
            module = self.decompose[self._key(name)]
            if name == 'spatial':
                feat = x.mean(dim=(1, 3)).transpose(1, 2)  # (N, V, C)
            elif name == 'temporal':
                feat = x.mean(dim=(1, 4)).transpose(1, 2)  # (N, T, C)
            else:
                feat = x.mean(dim=(1, 3, 4))  # (N, C)
            out[name] = module(feat)
        return out

    def init_weights(self) -> None:
        """Initialise ``fc`` (GCNHead's init); the lazy layers must have been
        materialised first."""
        lazy = [
            n for n, p in self.named_parameters()
            if isinstance(p, nn.parameter.UninitializedParameter)
        ]
        if lazy:
            raise RuntimeError(
                f'STFDHead layers {lazy} are not built yet: add '
                "dict(type='MemoryBankInitHook') to custom_hooks (the "
                'default runtime has it), call init_lazy(feats) first, or '
                'set num_joints and num_frames')
        super().init_weights()

    @torch.no_grad()
    def init_lazy(self, feats: torch.Tensor) -> None:
        """Materialise the lazy layers from one backbone feature map (called by
        ``MemoryBankInitHook`` before weights are initialised).

        Args:
            feats (torch.Tensor): (N, M, C, T, V) backbone features.
        """
        self.decompose_features(feats)

    def loss(self, feats: torch.Tensor, data_samples: List,
             **kwargs) -> Dict[str, torch.Tensor]:
        """Cross-entropy plus the weighted contrastive losses.

        Args:
            feats (torch.Tensor): (N, M, C, T, V) backbone features.
            data_samples (list[ActionDataSample]): With ``gt_label(s)`` and
                ``sample_idx`` in their metainfo.

        Returns:
            dict[str, torch.Tensor]: ``loss_cls``, ``top1_acc``, ...,
            ``loss_<name>`` and ``<name>_valid_anchors`` for each contrast.
        """
        losses = super().loss(feats, data_samples, **kwargs)
        labels = gt_labels_of(data_samples).to(feats.device)
        indices = sample_indices_of(data_samples).to(feats.device)
        for name, feat in self.decompose_features(feats).items():
            bank = self.banks[self._key(name)]
            losses[f'loss_{name}'] = self.loss_weights[name] * bank(
                feat, labels, indices)
            losses[f'{name}_valid_anchors'] = bank.last_num_valid.float()
        return losses
