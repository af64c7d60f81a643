"""FRHead: the feature refinement head of FR Head (Zhou et al., CVPR 2023),
a training-only auxiliary head for any skeleton backbone."""
import math
from typing import Dict, List, Optional, Sequence, Tuple

import torch
import torch.nn as nn
import torch.nn.functional as F
from mmaction.registry import MODELS
from mmengine.model import BaseModule

from .fr_prototypes import ClassPrototypes
from .utils import gt_labels_of

BRANCHES = ('spatial', 'temporal', 'global')
# Masked logits: finite so an all-masked row gives no NaN, far below any
# cosine / temperature.
_MASKED = -1e4


def paper_stages(clip_len: int) -> List[Dict]:
    """fr-head.md Sec. 3.2.1: the 1st, 5th, 8th and last (10th) layer of a
    10-layer GCN with 64 base channels and temporal stride 2 at layers 5 and 8
    (ST-GCN, 2s-AGCN, CTR-GCN), weighted 0.1, 0.2, 0.5, 1 (Sec. 4.2).

    Args:
        clip_len (int): Frames T of the input clip.

    Returns:
        list[dict]: Stage specs ``dict(tap, in_channels, num_frames,
        weight)`` with taps named 'stage1', 'stage5', 'stage8', 'stage10'.
    """
    half, quarter = math.ceil(clip_len / 2), math.ceil(clip_len / 4)
    return [
        dict(tap='stage1', in_channels=64, num_frames=clip_len, weight=0.1),
        dict(tap='stage5', in_channels=128, num_frames=half, weight=0.2),
        dict(tap='stage8', in_channels=256, num_frames=quarter, weight=0.5),
        dict(tap='stage10', in_channels=256, num_frames=quarter, weight=1.0)
    ]


def _pool(x: torch.Tensor, branch: str) -> torch.Tensor:
    """(N, C, T, V) -> spatial (N, C, V), temporal (N, C, T), global (N, C)."""
    dims = {'spatial': 2, 'temporal': 3, 'global': (2, 3)}[branch]
    return x.mean(dims)


class _SqueezeFlatten(nn.Module):
    """(N, C, P) -> 1x1 conv C -> D // P (BN, ReLU) -> flatten -> linear D.

    The squeeze keeps the flattened size near D whatever the number of
    positions P (joints or frames), as in the published code.
    """

    def __init__(self, in_channels: int, num_positions: int,
                 feat_dim: int) -> None:
        super().__init__()
        squeezed = max(1, feat_dim // num_positions)
        self.num_positions = num_positions
        self.squeeze = nn.Sequential(
            nn.Conv1d(in_channels, squeezed, 1), nn.BatchNorm1d(squeezed),
            nn.ReLU(inplace=True))
        self.project = nn.Linear(squeezed * num_positions, feat_dim)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.shape[2] != self.num_positions:
            raise ValueError(
                f'FRHead branch built for {self.num_positions} positions but '
                f'the stage feature has {x.shape[2]}; fix num_joints or the '
                "stage's num_frames")
        return self.project(self.squeeze(x).flatten(1))


def split_by_outcome(labels: torch.Tensor, cls_scores: torch.Tensor,
                     num_classes: int) -> Tuple[torch.Tensor, ...]:
    """True positives, false negatives and false positives per class (fr-
    head.md Sec. 3.2.3), the prediction being the arg-max score.

    Args:
        labels (torch.Tensor): (N, ) ground-truth classes.
        cls_scores (torch.Tensor): (N, K) classifier scores.
        num_classes (int): K.

    Returns:
        tuple[torch.Tensor]: (N, K) float 0/1 masks ``tp``, ``fn``, ``fp``:
        ``tp[i, k]`` iff i is of class k and predicted k, ``fn[i, k]`` iff
        i is of class k and predicted otherwise, ``fp[i, k]`` iff i is
        predicted k but of another class.
    """
    onehot = F.one_hot(labels, num_classes).float()
    pred = F.one_hot(cls_scores.argmax(-1), num_classes).float()
    tp = onehot * pred
    return tp, onehot - tp, pred - tp


def calibrated_contrastive_loss(feats: torch.Tensor,
                                prototypes: torch.Tensor,
                                ready: torch.Tensor,
                                labels: torch.Tensor,
                                cls_scores: torch.Tensor,
                                temperature: float,
                                calibrate_all: bool = False) -> torch.Tensor:
    """FR Head's contrastive loss (fr-head.md Eq. 4-8) for S features.

    For anchor i of class k, with cosine similarity ``cos``::

        CL(F_i) = CE([cos(F_i, P_l) / tau]_l with the k-th logit
                     lowered by (1 - p_ik) psi_i, target k)
                + CE(... lowered by (1 - p_ik) phi_i, target k)
        phi_i = 1 - cos(F_i, mu_FN^k),  psi_i = 1 + cos(F_i, mu_FP^k)

    where mu_FN^k / mu_FP^k are the batch means of the false negatives /
    false positives of class k (differentiable), and phi_i (psi_i) is 0 when
    the batch has none or i is not a true positive. Classes without a
    prototype yet are left out of the logits; anchors of such classes are
    left out of the mean.

    Args:
        feats (torch.Tensor): (S, N, D) features.
        prototypes (torch.Tensor): (S, K, D) class prototypes (constants).
        ready (torch.Tensor): (S, K) bool, prototypes that exist.
        labels (torch.Tensor): (N, ) ground-truth classes.
        cls_scores (torch.Tensor): (N, K) classifier logits (constants).
        temperature (float): tau.
        calibrate_all (bool): Calibrate every anchor, not only the true
            positives (what the published code does). Defaults to False.

    Returns:
        torch.Tensor: (S, ) loss of each feature, the mean over anchors.
    """
    tp, fn, fp = (
        m.to(feats.dtype)
        for m in split_by_outcome(labels, cls_scores, prototypes.shape[1]))
    probs = cls_scores.softmax(-1)

    def centres(mask: torch.Tensor) -> torch.Tensor:
        # (S, N, D) centre of each anchor's class among ``mask`` samples.
        sums = torch.einsum('nk,snd->skd', mask, feats)
        return (sums / mask.sum(0).clamp(min=1)[:, None])[:, labels]

    def cosine(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
        return (F.normalize(a, dim=-1) * F.normalize(b, dim=-1)).sum(-1)

    gate = torch.ones_like(labels, dtype=feats.dtype) if calibrate_all \
        else tp.sum(1)
    has_fn = (fn.sum(0) > 0)[labels].to(feats.dtype)
    has_fp = (fp.sum(0) > 0)[labels].to(feats.dtype)
    phi = gate * has_fn * (1 - cosine(feats, centres(fn)))  # (S, N)
    psi = gate * has_fp * (1 + cosine(feats, centres(fp)))
    weight = 1 - probs.gather(1, labels[:, None]).squeeze(1)  # (N, )

    logits = torch.einsum('snd,skd->snk', F.normalize(feats, dim=-1),
                          F.normalize(prototypes, dim=-1)) / temperature
    logits = logits.masked_fill(~ready[:, None, :], _MASKED)
    index = labels[None, :, None].expand(len(logits), -1, 1)
    target = logits.gather(2, index).squeeze(2)  # (S, N)
    others = logits.scatter(2, index, _MASKED)  # target class left out
    loss = 0
    for shift in (psi, phi):
        shifted = target - weight * shift
        loss = loss + torch.logsumexp(
            torch.cat([shifted[..., None], others], -1), -1) - shifted
    valid = ready[:, labels].to(feats.dtype)  # (S, N)
    return (loss * valid).sum(1) / valid.sum(1).clamp(min=1)


@MODELS.register_module()
class FRHead(BaseModule):
    """Feature Refinement Head (fr-head.md Sec. 3.2): an auxiliary head of
    :class:`MultiStreamRecognizer` that refines tapped backbone stages.

    For each stage (a ``stage_taps`` name of the recognizer) the feature
    X (N, M, C, T, V) is decoupled (Sec. 3.2.2) into

    - spatial: mean over M, T -> (N, C, V) -> 1x1 conv C -> D // V (BN,
      ReLU) -> flatten -> linear -> D;
    - temporal: mean over M, V -> (N, C, T) -> 1x1 conv C -> D // T (BN,
      ReLU) -> flatten -> linear -> D;
    - global (the "CL loss" ablation, no decoupling): mean over M, T, V ->
      linear -> D;

    and each feature is refined against EMA class prototypes of correctly
    classified samples and the batch's false-negative / false-positive
    centres (:func:`calibrated_contrastive_loss`). The classifier's logits
    (``cls_scores``, passed by the recognizer, detached) give the true
    positives and p_ik. The total is ``loss_weight * sum_i weight_i *
    sum_branch CL`` (Eq. 1, 2, 10), returned per stage as ``loss_<tap>``.
    The whole head is unused at test time and stripped from deploy
    checkpoints (``tools/strip_checkpoint.py``).

    Args:
        num_classes (int): Number of classes K; the number of prototypes.
        num_joints (int): Joints V of the stage features (spatial branch).
        clip_len (int, optional): Input frames T; builds the paper's default
            stages (:func:`paper_stages`) when ``stages`` is None.
            Defaults to None.
        stages (Sequence[dict], optional): One ``dict(tap, in_channels,
            num_frames, weight)`` per refined stage; ``num_frames`` (the
            stage's T) is needed only by the temporal branch, ``weight``
            (lambda_i) defaults to 1. Defaults to None (paper stages).
        feat_dim (int): Refined feature size D (C_h). Defaults to 256.
        branches (Sequence[str]): Among 'spatial', 'temporal', 'global'.
            Defaults to ('spatial', 'temporal').
        loss_weight (float): w_cl. Defaults to 0.1.
        momentum (float): Prototype EMA momentum alpha. Defaults to 0.9.
        temperature (float): tau, as in the published code. Defaults to
            0.125.
        calibrate_all (bool): Apply the FN/FP calibration to every anchor
            (published code) instead of the true positives only (Eq. 6-7).
            Defaults to False.
        init_cfg (dict, optional): Initialisation config. Defaults to None.
    """

    def __init__(self,
                 num_classes: int,
                 num_joints: int,
                 clip_len: Optional[int] = None,
                 stages: Optional[Sequence[Dict]] = None,
                 feat_dim: int = 256,
                 branches: Sequence[str] = ('spatial', 'temporal'),
                 loss_weight: float = 0.1,
                 momentum: float = 0.9,
                 temperature: float = 0.125,
                 calibrate_all: bool = False,
                 init_cfg: Optional[Dict] = None) -> None:
        super().__init__(init_cfg=init_cfg)
        branches = tuple(branches)
        if not branches or len(set(branches)) != len(branches) or any(
                b not in BRANCHES for b in branches):
            raise ValueError(f'branches must be distinct names from '
                             f'{BRANCHES}, got {branches}')
        if stages is None:
            if clip_len is None:
                raise ValueError('FRHead needs stages or clip_len (for the '
                                 "paper's default stages)")
            stages = paper_stages(clip_len)
        self.stages = [self._check_stage(dict(s), branches) for s in stages]
        self.num_classes = num_classes
        self.branches = branches
        self.loss_weight = loss_weight
        self.temperature = temperature
        self.calibrate_all = calibrate_all
        self.refine = nn.ModuleDict()
        for stage in self.stages:
            positions = dict(
                spatial=num_joints, temporal=stage.get('num_frames'))
            self.refine[stage['tap']] = nn.ModuleDict({
                b:
                nn.Linear(stage['in_channels'], feat_dim) if b == 'global' else
                _SqueezeFlatten(stage['in_channels'], positions[b], feat_dim)
                for b in branches
            })
        self.prototypes = ClassPrototypes(
            len(self.stages) * len(branches), num_classes, feat_dim, momentum)

    @staticmethod
    def _check_stage(stage: Dict, branches: Sequence[str]) -> Dict:
        unknown = set(stage) - {'tap', 'in_channels', 'num_frames', 'weight'}
        tap = stage.get('tap')
        if unknown or not isinstance(tap, str) or not tap or '.' in tap \
                or 'in_channels' not in stage:
            raise ValueError(
                f'FRHead stage {stage} must be dict(tap=<stage_taps name>, '
                'in_channels=C, num_frames=T, weight=lambda)')
        if 'temporal' in branches and not stage.get('num_frames'):
            raise ValueError(f"FRHead stage '{tap}' needs num_frames for "
                             'the temporal branch')
        stage.setdefault('weight', 1.0)
        return stage

    def refine_features(self, stage_feats: Dict[str,
                                                torch.Tensor]) -> torch.Tensor:
        """The refined features of every stage and branch.

        Args:
            stage_feats (dict[str, torch.Tensor]): (N, M, C, T, V) feature
                of each tapped stage.

        Returns:
            torch.Tensor: (S, N, D), stage-major, branches in order.
        """
        missing = [
            s['tap'] for s in self.stages if s['tap'] not in stage_feats
        ]
        if missing:
            raise KeyError(
                f'FRHead stages {missing} are not tapped (tapped: '
                f'{sorted(stage_feats)}); add them to the recognizer\'s '
                'stage_taps')
        out = []
        for stage in self.stages:
            x = stage_feats[stage['tap']].mean(1)  # (N, C, T, V)
            for branch in self.branches:
                out.append(self.refine[stage['tap']][branch](_pool(x, branch)))
        return torch.stack(out)

    def loss(self,
             feats: torch.Tensor,
             data_samples: List,
             stage_feats: Optional[Dict[str, torch.Tensor]] = None,
             cls_scores: Optional[torch.Tensor] = None,
             **kwargs) -> Dict[str, torch.Tensor]:
        """Update the prototypes and compute the weighted refinement losses.

        Args:
            feats (torch.Tensor): (N, M, C, T, V) backbone output (unused;
                the stages come from ``stage_feats``).
            data_samples (list[ActionDataSample]): With ground-truth labels.
            stage_feats (dict[str, torch.Tensor]): Tapped stage features.
            cls_scores (torch.Tensor): (N, K) logits of the classification
                head on this batch.

        Returns:
            dict[str, torch.Tensor]: ``loss_<tap>`` for each stage.
        """
        if cls_scores is None or stage_feats is None:
            raise ValueError(
                'FRHead needs stage_feats and the classifier\'s cls_scores: '
                'use it in aux_heads of MultiStreamRecognizer with '
                'stage_taps naming its stages')
        labels = gt_labels_of(data_samples).to(cls_scores.device)
        if cls_scores.shape != (len(labels), self.num_classes):
            raise ValueError(
                f'FRHead expects cls_scores of shape ({len(labels)}, '
                f'{self.num_classes}) (one clip per sample, num_classes of '
                f'the head), got {tuple(cls_scores.shape)}')
        cls_scores = cls_scores.detach().float()
        refined = self.refine_features(stage_feats)
        tp, _, _ = split_by_outcome(labels, cls_scores, self.num_classes)
        self.prototypes.update(refined, tp)
        per_feature = calibrated_contrastive_loss(refined,
                                                  self.prototypes.vectors,
                                                  self.prototypes.initialized,
                                                  labels, cls_scores,
                                                  self.temperature,
                                                  self.calibrate_all)
        per_stage = per_feature.view(len(self.stages), len(self.branches))
        return {
            f'loss_{stage["tap"]}':
            self.loss_weight * stage['weight'] * per_stage[i].sum()
            for i, stage in enumerate(self.stages)
        }
