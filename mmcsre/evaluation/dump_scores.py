"""Dump per-sample class scores of a test run, keyed by sample id."""
import os.path as osp
from typing import Any, Dict, List, Optional, Sequence

import mmengine
import numpy as np
import torch
from mmaction.registry import METRICS
from mmengine.evaluator import BaseMetric
from mmengine.logging import MessageHub

SCORE_SPACES = ('prob', 'logit')


def _item(value: Any) -> Any:
    """Unwrap mmaction2 1.1's ``{'item': tensor}`` label/score fields."""
    if isinstance(value, dict) and 'item' in value:
        value = value['item']
    return value


def _to_numpy(value: Any) -> np.ndarray:
    """A tensor, array or number as a numpy array."""
    value = _item(value)
    if isinstance(value, torch.Tensor):
        value = value.detach().cpu().numpy()
    return np.asarray(value)


@METRICS.register_module()
class DumpSkeletonScores(BaseMetric):
    """Write every test sample's class scores to a pickle, keyed by id.

    The file holds ``{'frame_dir': list[str] (N,), 'sample_idx': (N,),
    'scores': float32 (N, K), 'labels': int64 (N,), 'score_space':
    'prob' | 'logit', 'classes': list[str] | None}``, rows in dataset
    order, so runs of different streams can be fused by id.

    As a validation metric it can keep one dump per evaluation:
    ``{iter}`` and ``{epoch}`` in ``out_file`` are replaced by the training
    iterations and epochs completed (e.g. ``WORK_DIR/val/iter_{iter}.pkl``),
    which is how ``tools/run_sweep.py`` scores a run by its last k
    evaluations.

    Args:
        out_file (str): Output ``.pkl`` path, optionally with ``{iter}`` /
            ``{epoch}`` placeholders.
        score_space (str): ``'prob'`` if the head averages softmax
            probabilities (``average_clips='prob'``), ``'logit'`` for raw or
            averaged logits. Defaults to ``'prob'``.
        collect_device (str): Device to gather results on. Defaults to
            ``'cpu'``.
        prefix (str, optional): Metric prefix. Defaults to None.
    """

    default_prefix = 'dump'

    def __init__(self,
                 out_file: str,
                 score_space: str = 'prob',
                 collect_device: str = 'cpu',
                 prefix: Optional[str] = None) -> None:
        super().__init__(collect_device=collect_device, prefix=prefix)
        if not out_file.endswith('.pkl'):
            raise ValueError(f'out_file must end with .pkl, got {out_file}')
        if score_space not in SCORE_SPACES:
            raise ValueError(f'score_space must be one of {SCORE_SPACES}, '
                             f'got {score_space!r}')
        self.out_file = out_file
        self.score_space = score_space

    def resolved_out_file(self) -> str:
        """``out_file`` with ``{iter}`` / ``{epoch}`` filled in: the training
        iterations / epochs completed when a validation during training runs
        (the message hub holds the index of the last one started)."""
        if '{' not in self.out_file:
            return self.out_file
        hub = MessageHub.get_current_instance()
        return self.out_file.format(
            iter=int(hub.get_info('iter', -1)) + 1,
            epoch=int(hub.get_info('epoch', -1)) + 1)

    def process(self, data_batch: Any, data_samples: Sequence[Dict]) -> None:
        """Keep id, score and label of each sample of the batch."""
        for sample in data_samples:
            scores = sample.get('pred_score', sample.get('pred_scores'))
            label = sample.get('gt_label', sample.get('gt_labels'))
            self.results.append(
                dict(
                    frame_dir=sample.get('frame_dir'),
                    sample_idx=int(sample.get('sample_idx', -1)),
                    scores=_to_numpy(scores).astype(np.float32).reshape(-1),
                    label=int(_to_numpy(label).reshape(-1)[0])))

    def compute_metrics(self, results: List[Dict]) -> Dict:
        """Write the dump; returns no metric."""
        results = sorted(results, key=lambda r: r['sample_idx'])
        classes = (self.dataset_meta or {}).get('classes')
        dump = dict(
            frame_dir=[r['frame_dir'] for r in results],
            sample_idx=np.array([r['sample_idx'] for r in results]),
            scores=np.stack([r['scores'] for r in results]),
            labels=np.array([r['label'] for r in results], dtype=np.int64),
            score_space=self.score_space,
            classes=None if classes is None else list(classes))
        out_file = self.resolved_out_file()
        mmengine.mkdir_or_exist(osp.dirname(osp.abspath(out_file)))
        mmengine.dump(dump, out_file)
        return {}
