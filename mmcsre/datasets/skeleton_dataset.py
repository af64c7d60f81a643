"""Skeleton dataset over pyskl-compatible pickles, with input validation."""
import os.path as osp
import pickle
from typing import Callable, Dict, List, Optional, Union

from mmaction.datasets import PoseDataset
from mmaction.registry import DATASETS

from mmcsre.structures import SkeletonLayout, get_layout
from .validation import (AnnotationError, check_keys, select_split,
                         validate_annotations)


def load_skeleton_pickle(path: str) -> Dict:
    """Load a pyskl-style pickle, turning low-level failures into clear errors
    that name the file.

    Args:
        path (str): The ``.pkl`` file.

    Returns:
        dict: ``{'split': ..., 'annotations': [...]}``. A bare list of
        annotations is wrapped as ``{'annotations': list}``.
    """
    if not osp.isfile(path):
        raise FileNotFoundError(f'annotation file not found: {path}')
    try:
        with open(path, 'rb') as f:
            data = pickle.load(f)
    except (pickle.UnpicklingError, EOFError, AttributeError, ImportError,
            IndexError, KeyError, ValueError, TypeError, OverflowError,
            MemoryError) as err:  # garbage bytes can give any of these
        raise AnnotationError(
            f'{path}: not a readable pickle ({type(err).__name__}: {err})'
        ) from err
    if isinstance(data, list):
        data = dict(annotations=data)
    check_keys(data, path, keys=('annotations', ))
    return data


@DATASETS.register_module()
class SkeletonDataset(PoseDataset):
    """Skeleton action dataset over pyskl-compatible pickles.

    A drop-in for mmaction2's ``PoseDataset`` (pyskl's published pickles load
    unchanged) that checks every sample of the chosen split when it loads
    and reports a bad one by file, index and ``frame_dir``: missing keys,
    wrong ``keypoint`` shape, NaN/inf, empty sequences, labels outside
    ``[0, num_classes)``, joint counts that do not match ``layout``, unknown
    splits, and split ids without an annotation.

    Args:
        ann_file (str): Path to the ``.pkl`` file.
        pipeline (list[dict | callable]): Data transforms.
        split (str, optional): Split name, e.g. ``'xsub_train'``; None uses
            every annotation. Defaults to None.
        num_classes (int, optional): Number of classes, checked against the
            labels. Defaults to None.
        layout (str | dict | SkeletonLayout, optional): Expected skeleton
            layout; its ``num_node`` is checked. Defaults to None.
        **kwargs: Passed to :class:`mmaction.datasets.PoseDataset`.
    """

    def __init__(self,
                 ann_file: str,
                 pipeline: List[Union[Dict, Callable]],
                 split: Optional[str] = None,
                 num_classes: Optional[int] = None,
                 layout: Optional[Union[str, Dict, SkeletonLayout]] = None,
                 **kwargs) -> None:
        self.layout = None if layout is None else get_layout(layout)
        super().__init__(
            ann_file,
            pipeline=pipeline,
            split=split,
            num_classes=num_classes,
            **kwargs)

    def load_annotations(self) -> List[Dict]:
        """Read the annotations of ``self.split`` from ``self.ann_file``.

        Returns:
            list[dict]: The raw annotations (not yet validated).
        """
        data = load_skeleton_pickle(self.ann_file)
        if self.split is None:
            return list(data['annotations'])
        return select_split(data, self.split, self.ann_file)

    def load_data_list(self) -> List[Dict]:
        """Load, validate and return the samples of the split.

        Returns:
            list[dict]: One dict per sample, ``total_frames`` filled in.
        """
        annos = self.load_annotations()
        source = self.ann_file if self.split is None else \
            f'{self.ann_file} [split {self.split!r}]'
        validate_annotations(
            annos,
            source=source,
            num_classes=self.num_classes,
            num_joints=None if self.layout is None else self.layout.num_node)
        data_list = []
        for anno in annos:
            info = dict(anno)
            info.setdefault('total_frames', info['keypoint'].shape[1])
            data_list.append(info)
        return data_list
