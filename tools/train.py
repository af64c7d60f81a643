"""Train a recognizer from an mmcsre (or mmaction2) config.

Example::

    python tools/train.py configs/demo/stgcn-tiny_1xb16-joint-15e_synthetic.py
    python tools/train.py CONFIG --work-dir work_dirs/x --resume
"""
import argparse
import glob
import os
import os.path as osp
import re
from typing import Optional

from mmengine.config import Config, DictAction
from mmengine.runner import Runner

import mmcsre  # noqa: F401  (registers modules, applies compat fixes)
from mmcsre.datasets import AnnotationError
from mmcsre.engine import prepare_distributed
from mmcsre.utils import (CheckpointError, CLIError, check_annotation_files,
                          find_latest_intact_checkpoint, require_file, run_cli,
                          tool_description)


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=tool_description(__doc__))
    parser.add_argument('config', help='train config file path')
    parser.add_argument('--work-dir', help='directory for logs and models')
    parser.add_argument(
        '--resume',
        nargs='?',
        type=str,
        const='auto',
        help='resume from the given checkpoint, or, with no value, from the '
        'latest checkpoint in the work dir')
    parser.add_argument(
        '--amp', action='store_true', help='mixed precision training')
    parser.add_argument(
        '--no-validate',
        action='store_true',
        help='do not evaluate during training')
    parser.add_argument(
        '--auto-scale-lr',
        action='store_true',
        help='scale the lr linearly with the total batch size')
    parser.add_argument('--seed', type=int, default=None, help='random seed')
    parser.add_argument(
        '--diff-rank-seed',
        action='store_true',
        help='give each rank a different seed')
    parser.add_argument(
        '--deterministic',
        action='store_true',
        help='deterministic algorithms (cudnn and torch)')
    parser.add_argument(
        '--cfg-options',
        nargs='+',
        action=DictAction,
        help='override config entries, e.g. '
        'train_dataloader.batch_size=8 model.cls_head.num_classes=10')
    parser.add_argument(
        '--launcher',
        choices=['none', 'pytorch', 'slurm', 'mpi'],
        default='none',
        help='job launcher')
    parser.add_argument('--local_rank', '--local-rank', type=int, default=0)
    args = parser.parse_args()
    if 'LOCAL_RANK' not in os.environ:
        os.environ['LOCAL_RANK'] = str(args.local_rank)
    return args


def merge_args(cfg: Config, args: argparse.Namespace) -> Config:
    """Apply the command-line options to the config."""
    if args.no_validate:
        cfg.val_cfg = None
        cfg.val_dataloader = None
        cfg.val_evaluator = None
    cfg.launcher = args.launcher
    if args.work_dir is not None:
        cfg.work_dir = args.work_dir
    elif cfg.get('work_dir', None) is None:
        cfg.work_dir = osp.join('./work_dirs',
                                osp.splitext(osp.basename(args.config))[0])
    if args.amp:
        cfg.optim_wrapper.type = 'AmpOptimWrapper'
        cfg.optim_wrapper.setdefault('loss_scale', 'dynamic')
    if args.resume == 'auto':
        cfg.resume = True
        cfg.load_from = resolve_auto_resume(cfg.work_dir)
    elif args.resume is not None:
        cfg.resume = True
        cfg.load_from = args.resume
    if args.auto_scale_lr:
        cfg.setdefault('auto_scale_lr', {})
        cfg.auto_scale_lr.enable = True
        cfg.auto_scale_lr.setdefault('base_batch_size',
                                     tuned_batch_size(cfg, args.config))
    randomness = cfg.get('randomness', {}) or {}
    if args.seed is not None:
        randomness['seed'] = args.seed
    if args.deterministic:
        randomness['deterministic'] = True
    if args.diff_rank_seed:
        randomness['diff_rank_seed'] = True
    cfg.randomness = randomness
    if args.cfg_options is not None:
        cfg.merge_from_dict(args.cfg_options)
    if not cfg.get('resume') and cfg.get('load_from') and \
            osp.isdir(cfg.load_from):
        cfg.load_from = newest_checkpoint_in(cfg.load_from)
    return cfg


def newest_checkpoint_in(folder: str) -> str:
    """``load_from`` naming a work dir (CP-STN / STF fine-tuning configs) means
    its newest intact checkpoint, whatever epoch it ended at."""
    found = find_latest_intact_checkpoint(
        folder, log=lambda msg: print(f'load_from: {msg}', flush=True))
    if found is None:
        raise CLIError(f'{folder}: load_from names this folder, which holds '
                       'no intact checkpoint (train the config it belongs to '
                       'first)')
    print(f'load_from: {found} (newest checkpoint of {folder})', flush=True)
    return found


def tuned_batch_size(cfg: Config, config_file: str) -> int:
    """The global batch a config's learning rate was tuned for: its name's
    ``NxbM`` (N processes x M samples), else one process x its
    ``train_dataloader.batch_size``."""
    match = re.search(r'(\d+)xb(\d+)', osp.basename(config_file))
    if match:
        return int(match.group(1)) * int(match.group(2))
    return int(cfg.train_dataloader.batch_size)


def resolve_auto_resume(work_dir: str) -> Optional[str]:
    """The newest intact checkpoint of ``work_dir`` (damaged ones are skipped,
    saying so), or None to let mmengine start afresh when the work dir holds no
    checkpoint at all."""
    if not osp.isdir(work_dir):
        return None
    found = find_latest_intact_checkpoint(
        work_dir, log=lambda msg: print(f'resume: {msg}', flush=True))
    if found is None and glob.glob(osp.join(work_dir, '*.pth')):
        raise SystemExit(f'error: {work_dir}: no intact checkpoint to '
                         'resume from (all *.pth files are damaged)')
    return found


def main() -> None:
    args = parse_args()
    require_file(args.config, 'config file')
    cfg = Config.fromfile(args.config)
    cfg = merge_args(cfg, args)
    check_annotation_files(cfg, loaders=('train_dataloader', 'val_dataloader'))
    prepare_distributed(cfg, args.launcher)
    runner = Runner.from_cfg(cfg)
    runner.train()


if __name__ == '__main__':
    run_cli(main, errors=(CheckpointError, AnnotationError))
