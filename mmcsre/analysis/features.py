"""Pooled backbone features of a trained model over a config's dataset, saved
as ``.npz`` for the embedding plots."""
import os.path as osp
from typing import Dict, Optional

import mmengine
import numpy as np
import torch
from mmengine.config import Config
from mmengine.registry import init_default_scope
from mmengine.runner import Runner
from tqdm import tqdm

from .errors import AnalysisError

SPLITS = ('test', 'val', 'train')


def pool_features(feats: torch.Tensor, num_clips: int) -> torch.Tensor:
    """Global average pooling as GCNHead does before its classifier.

    Args:
        feats (torch.Tensor): (B * num_clips, M, C, T, V) backbone output.
        num_clips (int): Clips per sample, averaged.

    Returns:
        torch.Tensor: (B, C) pooled features.
    """
    if feats.dim() != 5:
        raise AnalysisError('expected (N, M, C, T, V) backbone features, got '
                            f'shape {tuple(feats.shape)}')
    pooled = feats.mean(dim=(1, 3, 4))
    return pooled.view(-1, num_clips, pooled.shape[1]).mean(dim=1)


def read_state_dict(checkpoint: str) -> Dict[str, torch.Tensor]:
    """The state dict of a checkpoint (mmengine's or a plain one), without
    DDP's ``module.`` prefix, read by
    :func:`mmcsre.utils.load_checkpoint_file`.

    Args:
        checkpoint (str): ``.pth`` file.

    Returns:
        dict[str, torch.Tensor]: Parameter and buffer tensors by name.

    Raises:
        AnalysisError: If the file is missing, damaged, or holds objects that
            ``torch.load(weights_only=True)`` refuses (never run).
    """
    from mmcsre.utils import CheckpointError, load_checkpoint_file
    try:
        ckpt = load_checkpoint_file(checkpoint)
    except (CheckpointError, FileNotFoundError) as err:
        raise AnalysisError(
            str(err).replace('refused to load',
                             'refused by torch.load(weights_only=True)'))
    state = ckpt.get('state_dict', ckpt)
    return {
        k[len('module.'):] if k.startswith('module.') else k: v
        for k, v in state.items()
    }


def load_weights(model: torch.nn.Module, checkpoint: str) -> None:
    """Load a checkpoint for inference: the training-only parts (CSRE banks,
    auxiliary heads) may be missing, nothing else may.

    Raises:
        AnalysisError: If the checkpoint holds objects that
            ``torch.load(weights_only=True)`` refuses (never run) or does not
            fit the model.
    """
    from mmcsre.models.test_time import training_only_prefixes
    state = read_state_dict(checkpoint)
    try:
        missing, unexpected = model.load_state_dict(state, strict=False)
    except (RuntimeError, ValueError) as err:
        raise AnalysisError(f'{checkpoint} does not fit the config\'s '
                            f'model: {err}') from err
    optional = training_only_prefixes(model)
    missing = [k for k in missing if not k.startswith(tuple(optional))]
    if missing or unexpected:
        raise AnalysisError(
            f'{checkpoint} does not fit the config\'s model: missing '
            f'{missing[:5]}, unexpected {unexpected[:5]}')


def _labels(data_samples) -> np.ndarray:
    """(N,) int labels of mmaction2 data samples."""
    from mmcsre.models.heads.utils import gt_labels_of
    return gt_labels_of(data_samples).cpu().numpy()


@torch.no_grad()
def extract_features(config: str,
                     checkpoint: str,
                     split: str = 'test',
                     device: Optional[str] = None,
                     cfg_options: Optional[Dict] = None,
                     progress: bool = True) -> Dict:
    """Run a trained model over a config's dataloader and keep the pooled
    backbone feature of every sample.

    Args:
        config (str): Config file.
        checkpoint (str): Checkpoint of that config (training-only parts
            are not needed and may be stripped).
        split (str): Which dataloader: 'test', 'val' or 'train' (the
            training loader runs without shuffling but with the training
            pipeline). Defaults to 'test'.
        device (str, optional): Defaults to CUDA when available, else CPU.
        cfg_options (dict, optional): Config overrides.
        progress (bool): Show a progress bar. Defaults to True.

    Returns:
        dict: ``feats`` float32 (N, C), ``labels`` int64 (N,),
        ``frame_dir`` (N,) str, ``classes`` (K,) str (may be empty).
    """
    if split not in SPLITS:
        raise AnalysisError(f'split must be one of {SPLITS}, got {split!r}')
    for path in (config, checkpoint):
        if not osp.isfile(path):
            raise AnalysisError(f'{path}: no such file')
    cfg = Config.fromfile(config)
    if cfg_options:
        cfg.merge_from_dict(cfg_options)
    init_default_scope(cfg.get('default_scope', 'mmaction'))
    loader_cfg = cfg.get(f'{split}_dataloader')
    if not loader_cfg:
        raise AnalysisError(f'{config} has no {split}_dataloader')
    loader_cfg = mmengine.ConfigDict(loader_cfg)
    loader_cfg.sampler = dict(type='DefaultSampler', shuffle=False)
    device = device or ('cuda' if torch.cuda.is_available() else 'cpu')

    from mmaction.registry import MODELS
    model = MODELS.build(cfg.model)
    load_weights(model, checkpoint)
    model.to(device).eval()
    loader = Runner.build_dataloader(loader_cfg)

    feats, labels, ids = [], [], []
    for batch in tqdm(
            loader, desc='extracting features', disable=not progress):
        data = model.data_preprocessor(batch, training=False)
        inputs = data['inputs']
        out, _ = model.extract_feat(inputs, stage='backbone')
        feats.append(pool_features(out, inputs.shape[1]).float().cpu())
        labels.append(_labels(data['data_samples']))
        ids += [s.metainfo.get('frame_dir') for s in data['data_samples']]
    classes = (getattr(loader.dataset, 'metainfo', None) or {}).get('classes')
    return dict(
        feats=torch.cat(feats).numpy(),
        labels=np.concatenate(labels).astype(np.int64),
        frame_dir=np.array([str(i) for i in ids]),
        classes=np.array([str(c) for c in classes or ()]))


def save_features(path: str, features: Dict) -> None:
    """Write :func:`extract_features`'s result as a compressed ``.npz``."""
    mmengine.mkdir_or_exist(osp.dirname(osp.abspath(path)))
    np.savez_compressed(path, **features)


def load_features(path: str) -> Dict:
    """Read a feature file written by :func:`save_features`.

    Raises:
        AnalysisError: If the file is missing or malformed.
    """
    if not osp.isfile(path):
        raise AnalysisError(f'{path}: no such file (write one with '
                            'tools/analysis/extract_features.py)')
    try:
        with np.load(path, allow_pickle=False) as data:
            out = {k: data[k] for k in data.files}
    except Exception as err:
        raise AnalysisError(f'{path}: not a feature .npz ({err})') from err
    missing = [k for k in ('feats', 'labels', 'frame_dir') if k not in out]
    if missing:
        raise AnalysisError(f'{path}: missing {missing} (write it with '
                            'tools/analysis/extract_features.py)')
    n = len(out['feats'])
    if out['feats'].ndim != 2 or len(out['labels']) != n or \
            len(out['frame_dir']) != n:
        raise AnalysisError(
            f'{path}: feats {out["feats"].shape}, {len(out["labels"])} '
            f'labels and {len(out["frame_dir"])} ids do not match')
    out.setdefault('classes', np.array([], dtype=str))
    return out
