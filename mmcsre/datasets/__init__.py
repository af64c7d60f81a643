from .indexed_repeat_dataset import IndexedRepeatDataset
from .label_fraction import (add_label_fraction_splits, class_balanced_subsets,
                             fraction_split_name)
from .skeleton_dataset import SkeletonDataset, load_skeleton_pickle
from .synthetic_dataset import SyntheticSkeletonDataset
from .transforms import *  # noqa: F401,F403
from .validation import (AnnotationError, select_split, split_positions,
                         validate_annotation, validate_annotations)

__all__ = [
    'SkeletonDataset', 'SyntheticSkeletonDataset', 'IndexedRepeatDataset',
    'load_skeleton_pickle', 'AnnotationError', 'validate_annotation',
    'validate_annotations', 'select_split', 'split_positions',
    'add_label_fraction_splits', 'class_balanced_subsets',
    'fraction_split_name'
]
