"""Reading labels and dataset indices from mmaction2 data samples."""
from typing import Sequence

import torch


def gt_labels_of(data_samples: Sequence) -> torch.Tensor:
    """(N,) int64 labels; works with mmaction2 1.1 (``gt_labels.item``) and 1.2
    (``gt_label``) data samples."""
    labels = []
    for sample in data_samples:
        if 'gt_label' in sample:
            label = sample.gt_label
        else:
            label = sample.gt_labels.item
        labels.append(torch.as_tensor(label).reshape(-1)[:1])
    return torch.cat(labels).long()


def sample_indices_of(data_samples: Sequence) -> torch.Tensor:
    """(N,) int64 dataset indices from each sample's ``sample_idx``."""
    try:
        return torch.tensor(
            [int(s.metainfo['sample_idx']) for s in data_samples])
    except KeyError:
        raise KeyError(
            "data samples carry no 'sample_idx': add it to the "
            'PackActionInputs meta_keys of the training pipeline, e.g. '
            "dict(type='PackActionInputs', meta_keys=('frame_dir', "
            "'sample_idx'))") from None
