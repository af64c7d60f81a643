"""Score-level fusion of single-stream recognizers in one pass."""
from typing import Dict, List, Optional, Sequence, Union

import torch
import torch.nn as nn
from mmaction.registry import MODELS
from mmengine.config import Config, ConfigDict

from mmcsre.evaluation.fusion import SCORE_SPACES, FusionError
from mmcsre.utils.checkpoint_files import load_checkpoint_file
from ..test_time import strip_state_dict, test_time_model_cfg


def head_score_space(head: nn.Module) -> str:
    """``'prob'`` if the head averages softmax probabilities at test time
    (``average_clips='prob'``), else ``'logit'``."""
    return 'prob' if getattr(head, 'average_clips', None) == 'prob' \
        else 'logit'


def scores_to_space(scores: torch.Tensor, src: str, dst: str) -> torch.Tensor:
    """Torch twin of :func:`mmcsre.evaluation.fusion.to_space` (float64).

    Args:
        scores (torch.Tensor): (N, K) scores in space ``src``.
        src (str): ``'prob'`` or ``'logit'``.
        dst (str): ``'prob'`` or ``'logit'``.

    Returns:
        torch.Tensor: (N, K) float64 scores in space ``dst``.
    """
    scores = scores.double()
    if src == dst:
        return scores
    if dst == 'prob':
        return torch.softmax(scores, dim=1)
    return torch.log(scores.clamp_min(1e-12))


def build_test_time_stream(config: Optional[Union[str, Dict]] = None,
                           checkpoint: Optional[str] = None) -> nn.Module:
    """Build a single-stream recognizer in its test-time form.

    Args:
        config (str | dict): Config file of the stream (its ``model`` is
            used) or a model config dict.
        checkpoint (str, optional): Its checkpoint; training-only tensors
            (CSRE banks, auxiliary heads) are dropped. Defaults to None.

    Returns:
        nn.Module: ``RecognizerGCN`` + ``GCNHead`` with the stream's data
        preprocessor (which computes the stream from joints).
    """
    if isinstance(config, str):
        model_cfg = Config.fromfile(config).model
    else:
        model_cfg = ConfigDict(config)
    model_cfg = model_cfg.to_dict() if hasattr(model_cfg, 'to_dict') \
        else dict(model_cfg)
    stream_model = MODELS.build(test_time_model_cfg(model_cfg, stock=False))
    if checkpoint is not None:
        training_model = MODELS.build(model_cfg)
        ckpt = load_checkpoint_file(checkpoint)
        state, _ = strip_state_dict(training_model,
                                    ckpt.get('state_dict', ckpt))
        missing, unexpected = stream_model.load_state_dict(state, strict=False)
        if missing or unexpected:
            raise RuntimeError(f'{checkpoint} does not fit {config}: missing '
                               f'{missing}, unexpected {unexpected}')
    return stream_model


class StreamFusion(nn.Module):
    """Single-stream recognizers fused by a weighted sum of their scores.

    Every stream reads the same joint batch and computes its own stream
    (bone, motion, ...) with its ``SkeletonDataPreprocessor``, so one pass
    over the data evaluates all streams. The fused score equals what
    ``tools/ensemble.py`` computes from the streams' ``--dump`` files:
    each stream's test-time scores (after its head's clip averaging) are
    converted to ``space`` and summed with the weights, in float64.

    Args:
        streams (Sequence[dict]): One dict per stream with ``name``,
            ``weight`` and either ``config`` (file or model dict) and
            optionally ``checkpoint``.
        space (str): Score space of the sum, ``'prob'`` or ``'logit'``.
            Defaults to ``'prob'``.
    """

    def __init__(self, streams: Sequence[Dict], space: str = 'prob') -> None:
        super().__init__()
        if not streams:
            raise FusionError('fused mode needs at least one stream')
        if space not in SCORE_SPACES:
            raise FusionError(f'unknown score space {space!r}; expected one '
                              f'of {SCORE_SPACES}')
        names = [s.get('name', f'stream{i}') for i, s in enumerate(streams)]
        if len(set(names)) != len(names):
            raise FusionError(f'stream names repeat: {names}')
        self.space = space
        self.weights = [float(s.get('weight', 1.0)) for s in streams]
        self.streams = nn.ModuleDict({
            name:
            build_test_time_stream(s['config'], s.get('checkpoint'))
            for name, s in zip(names, streams)
        })

    def stream_scores(self, inputs: torch.Tensor) -> Dict[str, torch.Tensor]:
        """Test-time scores of every stream.

        Args:
            inputs (torch.Tensor): (B, num_clips, M, T, V, C) joints.

        Returns:
            dict[str, torch.Tensor]: name -> (B, K) clip-averaged scores in
            the stream head's own space.
        """
        out = {}
        for name, model in self.streams.items():
            pre = model.data_preprocessor
            x = pre.to_stream(inputs) if hasattr(pre, 'to_stream') else inputs
            feats, _ = model.extract_feat(x, test_mode=True)
            scores = model.cls_head(feats)
            num_segs = scores.shape[0] // inputs.shape[0]
            out[name] = model.cls_head.average_clip(scores, num_segs)
        return out

    def forward(self, inputs: torch.Tensor) -> torch.Tensor:
        """Fused scores.

        Args:
            inputs (torch.Tensor): (B, num_clips, M, T, V, C) joints.

        Returns:
            torch.Tensor: (B, K) float64 weighted sum in ``self.space``.
        """
        fused = None
        for (name, scores), weight in zip(
                self.stream_scores(inputs).items(), self.weights):
            src = head_score_space(self.streams[name].cls_head)
            part = weight * scores_to_space(scores, src, self.space)
            fused = part if fused is None else fused + part
        return fused

    def stream_names(self) -> List[str]:
        """Names of the streams, in fusion order."""
        return list(self.streams)
