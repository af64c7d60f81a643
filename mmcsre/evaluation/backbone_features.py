"""Pooled features of a config's backbone loaded from any checkpoint with
``backbone.*`` keys (self-supervised, linear-eval or supervised), over the
training and validation splits, for k-NN evaluation."""
import copy
import os.path as osp
from typing import Dict, Optional, Tuple

import mmengine
import torch
import torch.nn as nn
from mmengine.config import Config
from mmengine.registry import init_default_scope
from mmengine.runner import Runner
from tqdm import tqdm

from mmcsre.analysis.errors import AnalysisError
from mmcsre.analysis.features import pool_features, read_state_dict

SPLITS = ('train', 'val')


def load_backbone_weights(model: nn.Module,
                          checkpoint: str,
                          prefix: str = 'backbone.') -> int:
    """Load the ``prefix`` keys of a checkpoint into ``model.backbone``; other
    keys (heads, CP-STN decoders and projector) are ignored.

    Args:
        model (nn.Module): A model with a ``backbone`` attribute.
        checkpoint (str): ``.pth`` file (mmengine or plain state dict).
        prefix (str): Key prefix of the backbone. Defaults to
            ``'backbone.'``.

    Returns:
        int: Number of tensors loaded.

    Raises:
        AnalysisError: If the file is missing, holds objects that
            ``torch.load(weights_only=True)`` refuses (never run) or its
            backbone does not fit (missing, unexpected or mis-shaped keys).
    """
    state = read_state_dict(checkpoint)
    backbone = {
        k[len(prefix):]: v
        for k, v in state.items() if k.startswith(prefix)
    }
    if not backbone:
        raise AnalysisError(f'{checkpoint} has no {prefix!r} keys')
    try:
        model.backbone.load_state_dict(backbone, strict=True)
    except RuntimeError as err:
        raise AnalysisError(f'the backbone of {checkpoint} does not fit the '
                            f"config's backbone: {err}") from err
    return len(backbone)


def split_loader_cfg(cfg: Config, split: str) -> mmengine.ConfigDict:
    """Dataloader config of a split with the test pipeline, unshuffled.

    ``'val'`` is the config's ``val_dataloader``; ``'train'`` is the same
    loader on the training set's ``ann_file`` and ``split`` (the training
    features then use the deterministic test-time clip sampling, not the
    training augmentation).

    Args:
        cfg (Config): A recognizer config.
        split (str): ``'train'`` or ``'val'``.

    Returns:
        ConfigDict: The dataloader config.
    """
    if split not in SPLITS:
        raise AnalysisError(f'split must be one of {SPLITS}, got {split!r}')
    # A deep copy: editing the nested dataset must not change the config.
    loader = copy.deepcopy(mmengine.ConfigDict(cfg.val_dataloader))
    loader.sampler = dict(type='DefaultSampler', shuffle=False)
    loader.persistent_workers = False
    if split == 'train':
        train_ds = cfg.train_dataloader.dataset
        while 'dataset' in train_ds:  # RepeatDataset and other wrappers
            train_ds = train_ds.dataset
        for key in ('ann_file', 'split'):
            if key in train_ds:
                loader.dataset[key] = train_ds[key]
    return loader


@torch.no_grad()
def extract_backbone_features(model: nn.Module,
                              loader,
                              device: str = 'cpu',
                              progress: bool = True
                              ) -> Tuple[torch.Tensor, torch.Tensor]:
    """Backbone features of every sample, averaged over persons, frames, joints
    and clips (the pooling of GCNHead).

    Args:
        model (nn.Module): A recognizer (``data_preprocessor`` makes the
            stream, ``backbone`` maps (N, M, T, V, C) to (N, M, C', T', V')).
        loader (Iterable): Batches of the test pipeline.
        device (str): Defaults to ``'cpu'``.
        progress (bool): Show a progress bar. Defaults to True.

    Returns:
        tuple[torch.Tensor, torch.Tensor]: (N, C') float features and (N, )
        int64 labels.
    """
    from mmcsre.models.heads.utils import gt_labels_of
    model.to(device).eval()
    feats, labels = [], []
    for batch in tqdm(loader, desc='features', disable=not progress):
        data = model.data_preprocessor(batch, training=False)
        inputs = data['inputs']  # (N, clips, M, T, V, C)
        out = model.backbone(inputs.flatten(0, 1))
        feats.append(pool_features(out, inputs.shape[1]).float().cpu())
        labels.append(gt_labels_of(data['data_samples']))
    return torch.cat(feats), torch.cat(labels)


def config_backbone_features(config: str,
                             checkpoint: str,
                             device: Optional[str] = None,
                             cfg_options: Optional[Dict] = None,
                             progress: bool = True
                             ) -> Dict[str, Tuple[torch.Tensor, torch.Tensor]]:
    """Train and val features of a config's backbone with a checkpoint's
    ``backbone.*`` weights.

    Args:
        config (str): Recognizer config (e.g. a ``cpstn-linear_`` config):
            its model, stream and datasets are used, its heads are not.
        checkpoint (str): Any checkpoint with ``backbone.*`` keys.
        device (str, optional): Defaults to CUDA when available, else CPU.
        cfg_options (dict, optional): Config overrides.
        progress (bool): Show progress bars. Defaults to True.

    Returns:
        dict: ``{'train': (feats, labels), 'val': (feats, labels)}``.
    """
    if not osp.isfile(config):
        raise AnalysisError(f'{config}: no such file')
    cfg = Config.fromfile(config)
    if cfg_options:
        cfg.merge_from_dict(cfg_options)
    init_default_scope(cfg.get('default_scope', 'mmaction'))
    from mmaction.registry import MODELS
    model = MODELS.build(cfg.model)
    load_backbone_weights(model, checkpoint)
    device = device or ('cuda' if torch.cuda.is_available() else 'cpu')
    return {
        split:
        extract_backbone_features(
            model, Runner.build_dataloader(split_loader_cfg(cfg, split)),
            device, progress)
        for split in SPLITS
    }
