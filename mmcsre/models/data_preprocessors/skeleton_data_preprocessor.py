"""Batch-level choice of the skeleton stream (joint, bone, motion)."""
from typing import Dict, List, Optional, Tuple, Union

import torch
from mmaction.models.data_preprocessors import ActionDataPreprocessor
from mmaction.registry import MODELS

from mmcsre.datasets.transforms.skeleton_ops import joint_to_bone, to_motion
from mmcsre.structures import SkeletonLayout, get_layout

STREAMS = ('j', 'b', 'jm', 'bm')


@MODELS.register_module()
class SkeletonDataPreprocessor(ActionDataPreprocessor):
    """Stack a batch of joint sequences and turn it into one stream.

    The data pipeline always yields joints, so one converted pickle and one
    dataset config serve every stream, and a stream config is a one-line
    child of the joint config::

        _base_ = './stgcn_1xb64-joint-65e_ntu60-xsub-keypoint-3d.py'
        model = dict(data_preprocessor=dict(stream='b'))

    Bones are ``joint[v] - joint[parent(v)]`` for the layout's parents;
    motion is the difference of consecutive frames of the sampled clip,
    ``x[t + 1] - x[t]`` (zero for the last frame), computed after frame
    sampling as CTR-GCN's feeders (whose recipe CSRE uses) do. Channels
    after the first ``num_coords`` (a 2D detector's score) are averaged
    over a bone's joints and a motion's frames, never differenced.

    Args:
        stream (str): ``'j'``, ``'b'``, ``'jm'`` or ``'bm'``. Defaults to
            ``'j'``.
        layout (str | dict | SkeletonLayout, optional): Skeleton layout
            (name or custom dict); needed for bone streams. Defaults to None.
        num_coords (int, optional): Number of coordinate channels, e.g. 2
            for (x, y, score) input. Defaults to all channels.
        **kwargs: Passed to mmaction2's ``ActionDataPreprocessor``.
    """

    def __init__(self,
                 stream: str = 'j',
                 layout: Optional[Union[str, Dict, SkeletonLayout]] = None,
                 num_coords: Optional[int] = None,
                 **kwargs) -> None:
        super().__init__(**kwargs)
        if stream not in STREAMS:
            raise ValueError(
                f'unknown stream {stream!r}; choose from {STREAMS}')
        if stream.startswith('b') and layout is None:
            raise ValueError(f'stream {stream!r} needs the skeleton layout: '
                             'set data_preprocessor=dict(layout=...)')
        self.stream = stream
        self.layout = None if layout is None else get_layout(layout)
        self.num_coords = num_coords

    def to_stream(self, inputs: torch.Tensor) -> torch.Tensor:
        """Turn stacked joints into this preprocessor's stream.

        Args:
            inputs (torch.Tensor): (B, num_clips, M, T, V, C) joints.

        Returns:
            torch.Tensor: (B, num_clips, M, T, V, C) stream features.
        """
        if self.layout is not None and inputs.shape[-2] != \
                self.layout.num_node:
            raise ValueError(
                f'input has {inputs.shape[-2]} joints but the layout '
                f'{self.layout.name!r} has {self.layout.num_node}: the '
                'data_preprocessor layout must be the dataset layout')
        if self.stream.startswith('b'):
            inputs = joint_to_bone(inputs, self.layout, self.num_coords)
        if self.stream.endswith('m'):
            inputs = to_motion(inputs, self.num_coords)
        return inputs

    def preprocess(self,
                   inputs: List[torch.Tensor],
                   data_samples: List,
                   training: bool = False) -> Tuple:
        """Stack, then convert to the stream.

        Args:
            inputs (list[torch.Tensor]): Per-sample (num_clips, M, T, V, C).
            data_samples (list[ActionDataSample]): The batch's samples.
            training (bool): Training mode. Defaults to False.

        Returns:
            tuple: (B, num_clips, M, T, V, C) stream tensor and the samples.
        """
        batch, data_samples = super().preprocess(inputs, data_samples,
                                                 training)
        return self.to_stream(batch), data_samples
