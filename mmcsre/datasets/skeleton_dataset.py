"""Skeleton dataset over pyskl-compatible pickles, with input validation."""
import os.path as osp
import pickle
from typing import Callable, Dict, List, Optional, Union

from mmaction.datasets import PoseDataset
from mmaction.registry import DATASETS

from mmcsre.fileio import safe_pickle_load
from mmcsre.structures import SkeletonLayout, get_layout
from .validation import (AnnotationError, check_keys, split_positions,
                         validate_annotations)


def load_skeleton_pickle(path: str) -> Dict:
    """Load a pyskl-style pickle, turning low-level failures into clear errors
    that name the file.

    The pickle is read with :func:`mmcsre.fileio.safe_pickle_load`: only
    plain containers, numbers, strings and numpy arrays are admitted, so a
    crafted file cannot run code.

    Args:
        path (str): The ``.pkl`` file.

    Returns:
        dict: ``{'split': ..., 'annotations': [...]}``. A bare list of
        annotations is wrapped as ``{'annotations': list}``.

    Raises:
        FileNotFoundError: If the file does not exist.
        AnnotationError: If it is not a readable pickle, names a refused
            global, or is not a dict with ``annotations``.
    """
    if not osp.isfile(path):
        raise FileNotFoundError(f'annotation file not found: {path}')
    try:
        data = safe_pickle_load(path)
    except pickle.UnpicklingError as err:  # refused global or garbage bytes
        raise AnnotationError(str(err)) from err
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
        self._file_positions = None
        if self.split is None:
            return list(data['annotations'])
        # Kept for messages: where each sample of the split is in the file.
        self._file_positions = split_positions(data, self.split, self.ann_file)
        return [data['annotations'][i] for i in self._file_positions]

    def load_data_list(self) -> List[Dict]:
        """Load, validate and return the samples of the split.

        Returns:
            list[dict]: One dict per sample, ``total_frames`` filled in.
        """
        annos = self.load_annotations()
        positions = getattr(self, '_file_positions', None)
        if positions is not None and len(positions) != len(annos):
            positions = None  # a subclass changed the list
        source = self.ann_file if self.split is None else \
            f'{self.ann_file} [split {self.split!r}]'
        validate_annotations(
            annos,
            source=source,
            num_classes=self.num_classes,
            num_joints=None if self.layout is None else self.layout.num_node,
            positions=positions)
        data_list = []
        for anno in annos:
            info = dict(anno)
            info.setdefault('total_frames', info['keypoint'].shape[1])
            data_list.append(info)
        return data_list

    def get_cat_ids(self, idx: int) -> List[int]:
        """The class of a sample, as mmengine's ``ClassBalancedDataset`` asks
        for it.

        Args:
            idx (int): Sample index.

        Returns:
            list[int]: ``[label]`` (one action per sample).
        """
        label = self.get_data_info(idx)['label']
        if hasattr(label, 'item'):  # a numpy scalar or one-element array
            label = label.item()
        return [int(label)]
