"""SpatioTemporalFocusHead: STF's focus losses (Ke et al., AAAI 2022, Eq.
3-6) as a training-only auxiliary head for any backbone."""
from typing import Callable, Dict, List, Optional, Sequence

import torch
from mmaction.registry import MODELS
from mmengine.model import BaseModule

from .spatio_temporal_focus import (class_probability, focus_to_input,
                                    resample_time, spatio_temporal_focus)

LOSSES = ('exploration', 'divergence', 'coherence', 'adjacency')
# stf.md "Training scheme": lambda_e / lambda_d / lambda_c / lambda_Gk.
PAPER_WEIGHTS = dict(
    exploration=0.01, divergence=0.1, coherence=0.1, adjacency=0.01)


def _l2_per_sample(diff: torch.Tensor) -> torch.Tensor:
    """Mean over the batch of each sample's L2 norm."""
    return diff.flatten(1).norm(dim=1).mean()


@MODELS.register_module()
class SpatioTemporalFocusHead(BaseModule):
    """The four STF losses on the Grad-CAM focus Q of a backbone stage.

    Q (stf.md Eq. 2) is the ReLU of the ``focus_tap`` feature map weighted
    by the spatio-temporal mean gradient of the predicted class's
    probability, min-max normalised per sample; its graph is kept, so the
    losses train the network through second-order gradients.

    - ``exploration`` L_e (Eq. 3): the probability of the originally
      predicted class for the input with its focused part removed,
      ``X - Q * X`` (Q resampled to the input frames, shared by a joint's
      channels, visibility included); minimised.
    - ``divergence`` L_d (Eq. 4): minus the L2 distance between the focus of
      the top-2 predicted classes.
    - ``coherence`` L_c (Eq. 5): L2 distance between the focus of
      ``coherence_tap`` and ``focus_tap`` (the last two stages in the
      paper), the coarser one resampled to the finer's frames.
    - ``adjacency`` L_Gk: L2 distance between Q (the target, detached,
      resampled to each embedding's frames) and the spatio-temporal
      embeddings beta(X) of the STF modules (``embedding_taps``, one-channel
      (N, M, 1, T, V) maps; :class:`STFGCN` names them).

    Each loss is per-sample L2 norm averaged over the batch (the paper's
    ||.||_2). The paper trains L_e in a model of its own and the other three
    in another, and averages the two models' scores at test time
    (``tools/ensemble.py``); ``losses`` picks the terms of one model, which
    also selects the Table 5 ablations. The head only adds losses: it
    holds no parameters and is dropped at test time.

    Args:
        losses (Sequence[str]): Terms to compute, from ``'exploration'``,
            ``'divergence'``, ``'coherence'``, ``'adjacency'``. Defaults to
            ``('divergence', 'coherence')``.
        loss_weights (dict, optional): Weights overriding the paper's
            0.01 / 0.1 / 0.1 / 0.01 (lambda_e / d / c / Gk). Defaults to None.
        focus_tap (str): Stage tap whose feature map gives Q (the last
            stage). Defaults to ``'last'``.
        coherence_tap (str): Stage tap whose focus L_c ties to Q (the stage
            before the last). Defaults to ``'prev'``.
        embedding_taps (Sequence[str]): Taps of the STF embeddings for
            L_Gk. Defaults to ().
        init_cfg (dict, optional): Initialization config. Defaults to None.
    """

    requires_sample_idx = False

    def __init__(self,
                 losses: Sequence[str] = ('divergence', 'coherence'),
                 loss_weights: Optional[Dict[str, float]] = None,
                 focus_tap: str = 'last',
                 coherence_tap: str = 'prev',
                 embedding_taps: Sequence[str] = (),
                 init_cfg: Optional[Dict] = None) -> None:
        super().__init__(init_cfg=init_cfg)
        unknown = set(losses) - set(LOSSES) | set(loss_weights
                                                  or {}) - set(LOSSES)
        if unknown:
            raise ValueError(f'unknown STF loss(es) {sorted(unknown)}; '
                             f'choose from {LOSSES}')
        if not losses:
            raise ValueError('SpatioTemporalFocusHead needs at least one loss')
        if 'adjacency' in losses and not embedding_taps:
            raise ValueError(
                "the 'adjacency' loss (L_Gk) needs embedding_taps: the STF "
                'embeddings of a backbone with STF modules (STFGCN)')
        self.losses = tuple(losses)
        self.loss_weights = dict(PAPER_WEIGHTS, **(loss_weights or {}))
        self.focus_tap = focus_tap
        self.coherence_tap = coherence_tap
        self.embedding_taps = tuple(embedding_taps)

    def _tap(self, stage_feats: Optional[Dict[str, torch.Tensor]],
             name: str) -> torch.Tensor:
        """A recorded stage feature, with a clear error when missing."""
        if not stage_feats or name not in stage_feats:
            raise KeyError(
                f'SpatioTemporalFocusHead needs the stage tap {name!r}; add '
                'it to the recognizer, e.g. stage_taps=dict(last=-1, '
                'prev=-2); '
                f'recorded: {sorted(stage_feats or {})}')
        return stage_feats[name]

    def loss(self,
             feats: torch.Tensor,
             data_samples: List,
             stage_feats: Optional[Dict[str, torch.Tensor]] = None,
             cls_logits: Optional[torch.Tensor] = None,
             inputs: Optional[torch.Tensor] = None,
             classify: Optional[Callable] = None,
             **kwargs) -> Dict[str, torch.Tensor]:
        """Compute the selected STF losses.

        Args:
            feats (torch.Tensor): (N, M, C, T, V) backbone output (unused; the
                stages come from ``stage_feats``).
            data_samples (list[ActionDataSample]): The batch (unused: the
                losses follow the prediction, not the label).
            stage_feats (dict[str, torch.Tensor]): Tapped stages, each
                (N, M, C, T, V), in the graph of ``cls_logits``.
            cls_logits (torch.Tensor): (N, K) logits with their graph.
            inputs (torch.Tensor): (N, M, T, V, C) the backbone's input, for
                L_e.
            classify (Callable): Maps inputs to logits with the same network,
                for L_e.

        Returns:
            dict[str, torch.Tensor]: ``loss_<name>`` per selected loss,
            weighted, and ``focus_mean`` (mean of Q, logged).
        """
        if cls_logits is None:
            raise ValueError('SpatioTemporalFocusHead needs cls_logits with '
                             'their graph (MultiStreamRecognizer passes them)')
        top2 = cls_logits.detach().topk(min(2, cls_logits.shape[1]), 1)[1]
        focus_feats = self._tap(stage_feats, self.focus_tap)
        wanted = [focus_feats]
        if 'coherence' in self.losses:
            wanted.append(self._tap(stage_feats, self.coherence_tap))
        focus = spatio_temporal_focus(
            class_probability(cls_logits, top2[:, 0]), wanted)
        q = focus[0]
        out = dict(focus_mean=q.detach().mean())
        terms = {}
        if 'exploration' in self.losses:
            terms['exploration'] = self._exploration(q, top2[:, 0], inputs,
                                                     classify)
        if 'divergence' in self.losses:
            if top2.shape[1] < 2:
                raise ValueError('the divergence loss needs >= 2 classes')
            q_second, = spatio_temporal_focus(
                class_probability(cls_logits, top2[:, 1]), [focus_feats])
            terms['divergence'] = -_l2_per_sample(q - q_second)
        if 'coherence' in self.losses:
            terms['coherence'] = self._coherence(q, focus[1])
        if 'adjacency' in self.losses:
            terms['adjacency'] = self._adjacency(q.detach(), stage_feats)
        for name, value in terms.items():
            out[f'loss_{name}'] = self.loss_weights[name] * value
        return out

    def _exploration(self, q: torch.Tensor, predicted: torch.Tensor,
                     inputs: Optional[torch.Tensor],
                     classify: Optional[Callable]) -> torch.Tensor:
        """L_e (Eq.

        3) on the input with its focused part removed.
        """
        if inputs is None or classify is None:
            raise ValueError('the exploration loss needs inputs and classify '
                             '(MultiStreamRecognizer passes them)')
        masked = inputs - focus_to_input(q, inputs) * inputs
        return class_probability(classify(masked), predicted).mean()

    @staticmethod
    def _coherence(q_high: torch.Tensor, q_low: torch.Tensor) -> torch.Tensor:
        """L_c (Eq.

        5) at the finer of the two stages' frame rates.
        """
        frames = max(q_high.shape[2], q_low.shape[2])
        return _l2_per_sample(
            resample_time(q_high, frames) - resample_time(q_low, frames))

    def _adjacency(self, target: torch.Tensor,
                   stage_feats: Dict[str, torch.Tensor]) -> torch.Tensor:
        """L_Gk: each STF embedding beta(X) regressed on Q, averaged."""
        total = 0.
        for name in self.embedding_taps:
            embedding = self._tap(stage_feats, name)
            if embedding.shape[2] != 1:
                raise ValueError(
                    f'embedding tap {name!r} has {embedding.shape[2]} '
                    'channels; an STF embedding beta(X) has one')
            embedding = embedding[:, :, 0]
            goal = resample_time(target, embedding.shape[2])
            if goal.shape != embedding.shape:
                raise ValueError(
                    f'embedding tap {name!r} of shape '
                    f'{tuple(embedding.shape)} cannot match the focus '
                    f'{tuple(goal.shape)} (N, M, T, V)')
            total = total + _l2_per_sample(embedding - goal)
        return total / len(self.embedding_taps)
