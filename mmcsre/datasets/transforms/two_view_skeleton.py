"""Pack the original, a spatially and a temporally augmented view of one sample
(CP-STN's two asymmetric views)."""
import copy
from typing import Dict, List, Sequence

import numpy as np
from mmaction.registry import TRANSFORMS
from mmcv.transforms import BaseTransform
from mmengine.dataset import Compose

VIEWS = ('original', 'spatial', 'temporal')


@TRANSFORMS.register_module()
class TwoViewSkeleton(BaseTransform):
    """Run a spatial and a temporal augmentation pipeline on one sample and
    pack both views with the original, the reconstruction target.

    Put it after ``PoseDecode`` (both views then share the sampled frames)
    and before ``FormatGCNInput``. The three sequences are concatenated
    along time in the order of ``VIEWS`` (original, spatial, temporal) and
    ``num_clips`` is set to 3, so mmaction2's ``FormatGCNInput`` and
    ``PackActionInputs`` turn them into one (3, M, T, V, C) input and a
    normal dataloader batches them as (N, 3, M, T, V, C), the way
    multi-clip test inputs are batched. The temporal pipeline's
    ``temporal_mask`` (see :class:`TemporalMaskTail`) is copied to the
    sample; add ``'temporal_mask'`` to ``PackActionInputs``' ``meta_keys``
    to hand it to the model.

    Like mmpretrain's ``MultiView``, but with one pipeline per view and the
    unaugmented sample kept.

    Required Keys: ``keypoint`` (M, T, V, C), ``keypoint_score``
    (optional, (M, T, V)), ``num_clips`` (optional, must be 1).

    Modified Keys: ``keypoint`` becomes (M, 3 * T, V, C),
    ``keypoint_score`` (M, 3 * T, V), ``num_clips`` becomes 3.

    Added Keys: ``temporal_mask`` (T, ) bool, True for the frames the
    temporal view keeps (all True if its pipeline masks nothing).

    Args:
        spatial_pipeline (Sequence[dict]): Transforms of the spatial view,
            e.g. ``RandomRotation3D``, ``RandomShear``,
            ``RandomJointJitter``.
        temporal_pipeline (Sequence[dict]): Transforms of the temporal
            view, e.g. ``TemporalMaskTail``.
    """

    def __init__(self, spatial_pipeline: Sequence[Dict],
                 temporal_pipeline: Sequence[Dict]) -> None:
        self.spatial_pipeline = Compose(self._build(spatial_pipeline))
        self.temporal_pipeline = Compose(self._build(temporal_pipeline))

    @staticmethod
    def _build(pipeline: Sequence[Dict]) -> List:
        """Build transforms in mmaction2's registry (configs are dicts)."""
        return [
            TRANSFORMS.build(t) if isinstance(t, dict) else t for t in pipeline
        ]

    def transform(self, results: Dict) -> Dict:
        """Make the two views and pack them with the original.

        Args:
            results (dict): The sample, after frame sampling and decoding.

        Returns:
            dict: The sample with the three views stacked along time.
        """
        if results.get('num_clips', 1) != 1:
            raise ValueError('TwoViewSkeleton needs one clip per sample, got '
                             f"num_clips={results['num_clips']}")
        spatial = self.spatial_pipeline(copy.deepcopy(results))
        temporal = self.temporal_pipeline(copy.deepcopy(results))
        num_frames = results['keypoint'].shape[1]
        for key in ('keypoint', 'keypoint_score'):
            if key not in results:
                continue
            views = [results[key], spatial[key], temporal[key]]
            if len({v.shape for v in views}) != 1:
                raise ValueError(f'the views changed the shape of {key}: '
                                 f'{[v.shape for v in views]}')
            results[key] = np.concatenate(views, axis=1)
        results['num_clips'] = len(VIEWS)
        results['temporal_mask'] = temporal.get(
            'temporal_mask', np.ones(num_frames, dtype=bool))
        return results

    def __repr__(self) -> str:
        return (f'{self.__class__.__name__}('
                f'spatial_pipeline={self.spatial_pipeline}, '
                f'temporal_pipeline={self.temporal_pipeline})')
