"""A RecognizerGCN that feeds training-only heads from named backbone stages
and checks they get the per-sample data they need."""
from typing import Dict, List, Optional, Sequence, Tuple, Union

import torch
import torch.nn as nn
from mmaction.models.recognizers import RecognizerGCN
from mmaction.registry import MODELS
from mmengine.model import BaseModel
from mmengine.structures import LabelData

from mmcsre.utils import preserve_global_rng
from .stream_fusion import StreamFusion


@MODELS.register_module()
class MultiStreamRecognizer(RecognizerGCN):
    """RecognizerGCN-compatible recognizer for mmcsre's plug-in heads.

    In training it

    - checks that every data sample carries ``sample_idx`` (the dataset
      index memory banks write to) when a head needs it;
    - records the outputs of named backbone sub-modules (``stage_taps``) in
      the same forward pass and hands them to the heads as
      ``stage_feats={name: (N, M, C, T, V)}``;
    - adds the losses of ``aux_heads`` (training-only heads, each with a
      ``loss(feats, data_samples, stage_feats=..., cls_scores=...)``),
      prefixed by name. Each head also gets, from the same pass,
      ``cls_scores`` (N, K): the classification head's logits, detached, for
      heads that weigh samples by the prediction (FR Head);
      ``cls_logits``: the same with their graph, for gradient-based heads
      (STF's focus); ``inputs`` (N, M, T, V, C), the stream the backbone
      took; and ``classify``, a callable giving the logits of other inputs
      with the same network (STF's exploration loss). Heads ignore what
      they do not use through ``**kwargs``.

    At test time only the classification path runs (backbone + cls_head),
    exactly as RecognizerGCN.

    **Fused mode** (``streams=[...]``, test only): the recognizer holds the
    test-time form of N single-stream recognizers (each built from its
    config and checkpoint, training-only parts dropped), feeds them the same
    joint batch in one pass (each computes its own stream) and predicts the
    weighted sum of their scores in ``fusion_space``: exactly the scores
    ``tools/ensemble.py`` computes from the streams' ``--dump`` files.
    ``tools/train_streams.py`` writes such a config.

    Args:
        backbone (dict, optional): Backbone config (not in fused mode).
            Defaults to None.
        cls_head (dict, optional): Classification head config. Defaults
            to None.
        stage_taps (dict[str, str | int], optional): ``{tap name: backbone
            sub-module name or stage index}``, e.g. ``dict(stage5='gcn.4')``
            or ``dict(stage5=4, last=-1)``; indices count the backbone's
            ``stage_names`` (mmaction2's STGCN/AAGCN: its ``gcn`` blocks).
            Defaults to None.
        aux_heads (dict[str, dict], optional): Extra training-only heads.
            Defaults to None.
        streams (Sequence[dict], optional): Fused mode: per stream a dict
            with ``name``, ``config`` (file or model dict), ``checkpoint``
            and ``weight``. Defaults to None.
        fusion_space (str): ``'prob'`` or ``'logit'``, the space the fused
            sum is taken in. Defaults to ``'prob'``.
        **kwargs: Passed to :class:`RecognizerGCN` (``data_preprocessor``,
            ``train_cfg``, ``test_cfg``, ``init_cfg``).
    """

    def __init__(self,
                 backbone: Optional[Dict] = None,
                 cls_head: Optional[Dict] = None,
                 stage_taps: Optional[Dict[str, Union[str, int]]] = None,
                 aux_heads: Optional[Dict[str, Dict]] = None,
                 streams: Optional[Sequence[Dict]] = None,
                 fusion_space: str = 'prob',
                 **kwargs) -> None:
        if streams is not None:
            self._init_fused(streams, fusion_space, backbone, cls_head,
                             stage_taps, aux_heads, **kwargs)
            return
        if backbone is None:
            raise ValueError('MultiStreamRecognizer needs a backbone, or '
                             'streams=[...] for fused mode')
        super().__init__(backbone=backbone, cls_head=cls_head, **kwargs)
        self.fusion = None
        self.stage_taps = {
            tap: self._resolve_stage(module)
            for tap, module in (stage_taps or {}).items()
        }
        modules = dict(self.backbone.named_modules())
        missing = [m for m in self.stage_taps.values() if m not in modules]
        if missing:
            names = [n for n in modules if n and n.count('.') < 2]
            raise KeyError(f'stage_taps name unknown backbone module(s) '
                           f'{missing}; available include {names[:40]}')
        # Training-only heads leave the global random streams untouched, so
        # the same seed initialises the same backbone with or without them.
        with preserve_global_rng():
            self.aux_heads = nn.ModuleDict({
                k: MODELS.build(v)
                for k, v in (aux_heads or {}).items()
            })

    def _init_fused(self,
                    streams: Sequence[Dict],
                    fusion_space: str,
                    *unused,
                    data_preprocessor: Optional[Dict] = None,
                    init_cfg: Optional[Dict] = None,
                    **kwargs) -> None:
        """Build the fused mode: one sub-model per stream config."""
        if any(u is not None for u in unused) or kwargs:
            raise ValueError(
                'fused mode (streams=[...]) takes no backbone, cls_head, '
                'stage_taps, aux_heads, train_cfg or test_cfg: each stream '
                'brings its own from its config')
        # The recognizer's own parts live in the streams, so skip
        # BaseRecognizer's building and set up the BaseModel only.
        BaseModel.__init__(
            self,
            data_preprocessor=data_preprocessor
            or dict(type='ActionDataPreprocessor'),
            init_cfg=init_cfg)
        self.fusion = StreamFusion(streams, space=fusion_space)
        self.stage_taps = {}
        self.aux_heads = nn.ModuleDict()

    def _resolve_stage(self, stage: Union[str, int]) -> str:
        """Module name of a stage given by name or by index.

        Indices count the backbone's ``stage_names`` (mmcsre backbones) or the
        ``gcn`` blocks of mmaction2's STGCN / AAGCN; -1 is the last.
        """
        if isinstance(stage, str):
            return stage
        names = getattr(self.backbone, 'stage_names', None)
        if names is None and isinstance(
                getattr(self.backbone, 'gcn', None), nn.ModuleList):
            names = [f'gcn.{i}' for i in range(len(self.backbone.gcn))]
        if names is None:
            raise KeyError(f'{type(self.backbone).__name__} has no '
                           '`stage_names`: give stage_taps as module names')
        if not -len(names) <= stage < len(names):
            raise KeyError(f'stage index {stage} out of range for the '
                           f'{len(names)} stages {list(names)}')
        return names[stage]

    @property
    def is_fused(self) -> bool:
        """True in fused mode (built from ``streams``)."""
        return self.fusion is not None

    @property
    def training_only_modules(self) -> Tuple[str, ...]:
        """Sub-modules unused at test time (for checkpoint stripping)."""
        return ('aux_heads', ) if len(self.aux_heads) else ()

    def _heads(self) -> List[nn.Module]:
        """The classification head followed by the auxiliary heads."""
        return [self.cls_head] + list(self.aux_heads.values())

    def extract_feat(self,
                     inputs: torch.Tensor,
                     stage: str = 'backbone',
                     with_taps: bool = False,
                     **kwargs) -> Tuple:
        """Backbone features, plus the tapped stages when ``with_taps``.

        Args:
            inputs (torch.Tensor): (B, num_clips, M, T, V, C) skeletons.
            stage (str): 'backbone' or 'head'. Defaults to 'backbone'.
            with_taps (bool): Record ``stage_taps``. Defaults to False.

        Returns:
            tuple: Features and a kwargs dict, which holds ``stage_feats``
            when taps were recorded.
        """
        if not (with_taps and self.stage_taps):
            return super().extract_feat(inputs, stage=stage, **kwargs)
        num_person = inputs.shape[2]
        recorded: Dict[str, torch.Tensor] = {}
        modules = dict(self.backbone.named_modules())
        handles = []
        for tap, module_name in self.stage_taps.items():

            def hook(_module, _inputs, output, tap=tap):
                out = output[0] if isinstance(output, tuple) else output
                nm, c, t, v = out.shape
                recorded[tap] = out.view(nm // num_person, num_person, c, t, v)
                # The network goes on from a view of the recorded tensor, so
                # gradients w.r.t. a tap (Grad-CAM) reach it.
                out = recorded[tap].view(nm, c, t, v)
                return (out, ) + tuple(output[1:]) if isinstance(
                    output, tuple) else out

            handles.append(modules[module_name].register_forward_hook(hook))
        try:
            feats, kw = super().extract_feat(inputs, stage=stage, **kwargs)
        finally:
            for handle in handles:
                handle.remove()
        kw = dict(kw, stage_feats=recorded)
        return feats, kw

    def loss(self, inputs: torch.Tensor, data_samples: List,
             **kwargs) -> Dict[str, torch.Tensor]:
        """Losses of the classification head and the auxiliary heads.

        Args:
            inputs (torch.Tensor): (B, num_clips, M, T, V, C) skeletons.
            data_samples (list[ActionDataSample]): Labels and metainfo.

        Returns:
            dict[str, torch.Tensor]: All losses and logged values.
        """
        if self.is_fused:
            raise RuntimeError('a fused MultiStreamRecognizer only tests; '
                               'train each stream with its own config')
        if any(
                getattr(h, 'requires_sample_idx', False)
                for h in self._heads()):
            missing = [
                i for i, s in enumerate(data_samples)
                if 'sample_idx' not in s.metainfo
            ]
            if missing:
                raise KeyError(
                    f'{len(missing)} data sample(s) lack sample_idx, which '
                    'the memory banks need: add it to the PackActionInputs '
                    "meta_keys, e.g. meta_keys=('frame_dir', 'sample_idx')")
        feats, kw = self.extract_feat(inputs, with_taps=True)
        losses, logits = self._cls_head_loss(feats, data_samples, **kw)
        head_inputs = dict(
            cls_scores=None if logits is None else logits.detach(),
            cls_logits=logits,
            inputs=inputs.reshape((-1, ) + inputs.shape[2:]),
            classify=self._classify)
        for name, head in self.aux_heads.items():
            aux = head.loss(feats, data_samples, **head_inputs, **kw)
            losses.update({f'{name}.{k}': v for k, v in aux.items()})
        return losses

    def _classify(self, inputs: torch.Tensor) -> torch.Tensor:
        """Classification scores of other inputs with the same network (for
        heads that probe it, e.g. STF's exploration loss).

        Args:
            inputs (torch.Tensor): (N, M, T, V, C) skeletons of the stream
                the backbone takes.

        Returns:
            torch.Tensor: (N, K) logits, differentiable.
        """
        return self.cls_head(self.backbone(inputs))

    def _cls_head_loss(self, feats: torch.Tensor, data_samples: List,
                       **kwargs) -> Tuple[Dict, Optional[torch.Tensor]]:
        """The classification head's losses and the scores it computed for them
        (recorded from its forward, so any head whose ``loss`` calls its
        ``forward`` works, dropout included; None if it does not).

        Returns:
            tuple: Loss dict and the (N, K) logits (with their graph) or
            None.
        """
        scores = []
        handle = self.cls_head.register_forward_hook(
            lambda _module, _inputs, output: scores.append(output))
        try:
            losses = self.cls_head.loss(feats, data_samples, **kwargs)
        finally:
            handle.remove()
        return losses, scores[0] if scores else None

    def predict(self, inputs: torch.Tensor, data_samples: List,
                **kwargs) -> List:
        """Predict; in fused mode, with the fused scores of all streams.

        Args:
            inputs (torch.Tensor): (B, num_clips, M, T, V, C) skeletons
                (joints in fused mode).
            data_samples (list[ActionDataSample]): The batch's samples.

        Returns:
            list[ActionDataSample]: Samples with ``pred_scores`` (B, K) and
            ``pred_labels``; fused scores are in ``fusion_space``.
        """
        if not self.is_fused:
            return super().predict(inputs, data_samples, **kwargs)
        fused = self.fusion(inputs).float()
        for sample, score in zip(data_samples, fused):
            sample.pred_scores = LabelData(item=score)
            sample.pred_labels = LabelData(item=score.argmax(-1, True))
        return data_samples

    def _forward(self,
                 inputs: torch.Tensor,
                 stage: str = 'backbone',
                 **kwargs):
        """Network forward; in fused mode the (B, K) fused scores."""
        if self.is_fused:
            return self.fusion(inputs)
        return super()._forward(inputs, stage=stage, **kwargs)
