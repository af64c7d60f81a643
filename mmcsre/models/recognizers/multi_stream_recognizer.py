"""A RecognizerGCN that feeds training-only heads from named backbone
stages and checks they get the per-sample data they need."""
from typing import Dict, List, Optional, Tuple

import torch
import torch.nn as nn
from mmaction.models.recognizers import RecognizerGCN
from mmaction.registry import MODELS


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
      ``loss(feats, data_samples, stage_feats=...)``), prefixed by name.

    At test time only the classification path runs (backbone + cls_head),
    exactly as RecognizerGCN.

    Args:
        backbone (dict): Backbone config.
        cls_head (dict): Classification head config.
        stage_taps (dict[str, str], optional): ``{tap name: backbone
            sub-module name}``, e.g. ``dict(stage5='gcn.4')`` for mmaction2's
            STGCN/AAGCN. Defaults to None.
        aux_heads (dict[str, dict], optional): Extra training-only heads.
            Defaults to None.
        **kwargs: Passed to :class:`RecognizerGCN`.
    """

    def __init__(self,
                 backbone: Dict,
                 cls_head: Optional[Dict] = None,
                 stage_taps: Optional[Dict[str, str]] = None,
                 aux_heads: Optional[Dict[str, Dict]] = None,
                 **kwargs) -> None:
        super().__init__(backbone=backbone, cls_head=cls_head, **kwargs)
        self.stage_taps = dict(stage_taps or {})
        modules = dict(self.backbone.named_modules())
        missing = [m for m in self.stage_taps.values() if m not in modules]
        if missing:
            names = [n for n in modules if n and n.count('.') < 2]
            raise KeyError(f'stage_taps name unknown backbone module(s) '
                           f'{missing}; available include {names[:40]}')
        self.aux_heads = nn.ModuleDict({
            k: MODELS.build(v)
            for k, v in (aux_heads or {}).items()
        })

    @property
    def training_only_modules(self) -> Tuple[str, ...]:
        """Sub-modules unused at test time (for checkpoint stripping)."""
        return ('aux_heads', ) if len(self.aux_heads) else ()

    def _heads(self) -> List[nn.Module]:
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
        losses = self.cls_head.loss(feats, data_samples, **kw)
        for name, head in self.aux_heads.items():
            aux = head.loss(feats, data_samples, **kw)
            losses.update({f'{name}.{k}': v for k, v in aux.items()})
        return losses
