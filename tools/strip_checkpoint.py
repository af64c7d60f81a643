"""Strip the training-only parts (CSRE decomposition layers, memory banks,
auxiliary heads, optimizer state) from a checkpoint.

The result loads into mmaction2's stock ``RecognizerGCN`` + ``GCNHead``
without mmcsre installed and predicts the same scores. It is a plain
``{'state_dict', 'meta'}`` file that ``torch.load(weights_only=True)``
reads with no allowlist. A deploy config with the stock model is written
beside it: the training config's test dataloader, evaluator and imports
with the stock model and ``load_from`` set, so that
``python tools/test.py deploy.py deploy.pth`` evaluates the stripped model.

Example::

    python tools/strip_checkpoint.py CONFIG work_dirs/x/epoch_65.pth \
        work_dirs/x/deploy.pth
"""
import argparse
import os.path as osp
from typing import Dict, Tuple

import torch
from mmengine.config import Config
from mmengine.registry import init_default_scope

import mmcsre  # noqa: F401  (registers modules, allowlists checkpoints)
from mmcsre.models.test_time import strip_state_dict, test_time_model_cfg
from mmcsre.utils import (CheckpointError, load_checkpoint_file, require_file,
                          run_cli, tool_description)


def strip(config: str, checkpoint: str) -> Tuple[Dict, Dict, int]:
    """Returns (stripped checkpoint, stock model config, keys dropped)."""
    from mmaction.registry import MODELS
    cfg = Config.fromfile(config)
    init_default_scope(cfg.get('default_scope', 'mmaction'))
    model = MODELS.build(cfg.model)
    ckpt = load_checkpoint_file(checkpoint)
    state = ckpt.get('state_dict', ckpt)
    kept, prefixes = strip_state_dict(model, state)
    deploy_cfg = test_time_model_cfg(cfg.model.to_dict())
    stock = MODELS.build(deploy_cfg)
    missing, unexpected = stock.load_state_dict(kept, strict=False)
    if missing or unexpected:
        raise RuntimeError(
            f'{checkpoint}: after stripping {prefixes}, the stock model has '
            f'missing keys {missing} and unexpected keys {unexpected}')
    meta = dict(
        stripped_from=osp.abspath(checkpoint),
        dropped_prefixes=prefixes,
        epoch=int(ckpt.get('meta', {}).get('epoch', -1)),
        mmcsre_version=mmcsre.__version__)
    return dict(state_dict=kept, meta=meta), deploy_cfg, len(state) - len(kept)


# What a test run needs from the training config, besides the model.
TEST_KEYS = ('default_scope', 'custom_imports', 'test_dataloader',
             'test_evaluator', 'test_cfg', 'env_cfg', 'log_level',
             'log_processor', 'randomness')


def deploy_config(config: str, model_cfg: Dict, checkpoint: str) -> Config:
    """The stock model with the training config's test setup.

    Args:
        config (str): The training config.
        model_cfg (dict): Stock model config (see ``test_time_model_cfg``).
        checkpoint (str): Stripped checkpoint, set as ``load_from``.

    Returns:
        Config: Runs through ``tools/test.py`` (and mmaction2's). Its data
        pipeline may still use mmcsre transforms; the model does not, and
        the config loads without mmcsre (``allow_failed_imports=True``).
    """
    cfg = Config.fromfile(config)
    kept = {k: cfg[k] for k in TEST_KEYS if cfg.get(k) is not None}
    kept.setdefault('default_scope', 'mmaction')
    if 'custom_imports' in kept:
        # mmcsre serves the data pipeline only: the config still loads (and
        # its stock model builds) where mmcsre is not installed.
        kept['custom_imports'] = dict(
            kept['custom_imports'], allow_failed_imports=True)
    return Config(
        dict(kept, model=model_cfg, load_from=osp.abspath(checkpoint)))


def main() -> None:
    parser = argparse.ArgumentParser(description=tool_description(__doc__))
    parser.add_argument(
        'config', help='config the checkpoint was trained '
        'with')
    parser.add_argument('checkpoint', help='checkpoint to strip')
    parser.add_argument('out', help='output .pth')
    parser.add_argument(
        '--out-config',
        help='deploy config with the stock model (default: OUT with .py)')
    args = parser.parse_args()
    require_file(args.config, 'config file')
    require_file(args.checkpoint, 'checkpoint file')
    stripped, deploy_cfg, dropped = strip(args.config, args.checkpoint)
    torch.save(stripped, args.out)
    out_config = args.out_config or osp.splitext(args.out)[0] + '.py'
    deploy_config(args.config, deploy_cfg, args.out).dump(out_config)
    numel = sum(v.numel() for v in stripped['state_dict'].values())
    print(f'wrote {args.out} ({len(stripped["state_dict"])} tensors, '
          f'{numel:,} numbers; dropped {dropped} training-only tensors: '
          f'{stripped["meta"]["dropped_prefixes"]}) and {out_config}')


if __name__ == '__main__':
    run_cli(main, errors=(CheckpointError, ))
