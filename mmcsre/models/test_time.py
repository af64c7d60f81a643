"""The test-time form of a training model: training-only parts removed.

CSRE's decomposition layers and memory banks, auxiliary heads (FR Head,
information bottleneck) and similar parts are listed by each module in a
``training_only_modules`` attribute. These helpers turn a training config and
checkpoint into mmaction2's stock ``RecognizerGCN`` + ``GCNHead``.
"""
from typing import Dict, List, Tuple

import torch
import torch.nn as nn

# Head arguments mmaction2's GCNHead understands.
GCN_HEAD_KEYS = ('num_classes', 'in_channels', 'loss_cls', 'dropout',
                 'average_clips', 'init_cfg')
STOCK_RECOGNIZER_KEYS = ('backbone', 'cls_head', 'data_preprocessor',
                         'train_cfg', 'test_cfg')


def training_only_prefixes(model: nn.Module) -> List[str]:
    """State-dict prefixes of the sub-modules that are unused at test time.

    Args:
        model (nn.Module): A built training model.

    Returns:
        list[str]: Prefixes such as ``'cls_head.banks.'``, from every
        module's ``training_only_modules`` attribute.
    """
    prefixes = []
    for name, module in model.named_modules():
        for sub in getattr(module, 'training_only_modules', ()):
            prefixes.append(f'{name}.{sub}.' if name else f'{sub}.')
    return prefixes


def test_time_model_cfg(model_cfg: Dict, stock: bool = True) -> Dict:
    """The model config equivalent at test time.

    Args:
        model_cfg (dict): The training model config.
        stock (bool): Also replace a joint-stream ``SkeletonDataPreprocessor``
            by mmaction2's ``ActionDataPreprocessor`` so the result needs
            no mmcsre (other streams keep mmcsre's preprocessor, which
            computes them). Defaults to True.

    Returns:
        dict: A ``RecognizerGCN`` + ``GCNHead`` config.
    """
    model_cfg = dict(model_cfg)
    if model_cfg.get('type') == 'MultiStreamRecognizer':
        model_cfg['type'] = 'RecognizerGCN'
    model_cfg = {
        k: v
        for k, v in model_cfg.items()
        if k == 'type' or k in STOCK_RECOGNIZER_KEYS
    }
    head = dict(model_cfg['cls_head'])
    if head.get('type') != 'GCNHead':
        head = {k: v for k, v in head.items() if k in GCN_HEAD_KEYS}
        head['type'] = 'GCNHead'
        head.pop('init_cfg', None)
    model_cfg['cls_head'] = head
    pre = model_cfg.get('data_preprocessor')
    if stock and pre and pre.get('type') == 'SkeletonDataPreprocessor' \
            and pre.get('stream', 'j') == 'j':
        model_cfg['data_preprocessor'] = dict(type='ActionDataPreprocessor')
    return model_cfg


def strip_state_dict(model: nn.Module,
                     state_dict: Dict[str, torch.Tensor]) -> Tuple[Dict, List]:
    """Drop the training-only tensors of ``model`` from a state dict.

    Args:
        model (nn.Module): The training model the state dict belongs to.
        state_dict (dict[str, torch.Tensor]): Its state dict.

    Returns:
        tuple: (kept state dict, the dropped prefixes).
    """
    prefixes = training_only_prefixes(model)
    kept = {
        k: v
        for k, v in state_dict.items()
        if not any(k.startswith(p) for p in prefixes)
    }
    return kept, prefixes
