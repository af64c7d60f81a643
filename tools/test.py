"""Test a checkpoint; optionally dump per-sample scores keyed by sample id.

Example::

    python tools/test.py CONFIG CHECKPOINT --dump work_dirs/x/scores.pkl
    # a fused multi-stream config (tools/train_streams.py writes one) names
    # its streams' checkpoints itself, so CHECKPOINT may be left out
    python tools/test.py work_dirs/x/fused_4s.py --dump fused.pkl
"""
import argparse
import contextlib
import os
import os.path as osp
from typing import Iterator

from mmengine.config import Config, DictAction
from mmengine.dist import get_rank
from mmengine.runner import Runner

import mmcsre  # noqa: F401  (registers modules, applies compat fixes)
from mmcsre.datasets import AnnotationError
from mmcsre.engine import prepare_distributed
from mmcsre.utils import (CheckpointError, check_annotation_files,
                          require_file, run_cli, tool_description)


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=tool_description(__doc__))
    parser.add_argument('config', help='test config file path')
    parser.add_argument(
        'checkpoint',
        nargs='?',
        help='checkpoint file (optional for a fused multi-stream config)')
    parser.add_argument('--work-dir', help='directory for the test logs')
    parser.add_argument(
        '--dump',
        type=str,
        help='write per-sample class scores, keyed by frame_dir, to this '
        '.pkl file (see mmcsre.evaluation.DumpSkeletonScores); a bare file '
        'name goes into the work dir')
    parser.add_argument(
        '--cfg-options',
        nargs='+',
        action=DictAction,
        help='override config entries, e.g. test_dataloader.batch_size=8')
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


def score_space_of(cfg: Config) -> str:
    """'prob' if the head averages softmax outputs, else 'logit'; a fused
    multi-stream model's is its ``fusion_space``."""
    if cfg.model.get('streams'):
        return cfg.model.get('fusion_space', 'prob')
    head = cfg.model.get('cls_head', {}) or {}
    return 'prob' if head.get('average_clips', 'prob') == 'prob' else 'logit'


def merge_args(cfg: Config, args: argparse.Namespace) -> Config:
    """Apply the command-line options to the config."""
    if args.cfg_options is not None:
        cfg.merge_from_dict(args.cfg_options)
    cfg.launcher = args.launcher
    if args.work_dir is not None:
        cfg.work_dir = args.work_dir
    elif cfg.get('work_dir', None) is None:
        cfg.work_dir = osp.join('./work_dirs',
                                osp.splitext(osp.basename(args.config))[0])
    if args.checkpoint is None and not cfg.model.get('streams'):
        raise SystemExit('error: a CHECKPOINT is needed (only fused '
                         'multi-stream configs carry their own)')
    cfg.load_from = args.checkpoint
    if args.dump is not None:
        dump = dict(
            type='DumpSkeletonScores',
            out_file=dump_path(args.dump, cfg.work_dir),
            score_space=score_space_of(cfg))
        evaluator = cfg.test_evaluator
        if isinstance(evaluator, (list, tuple)):
            cfg.test_evaluator = list(evaluator) + [dump]
        elif isinstance(evaluator, dict) and 'metrics' in evaluator:
            evaluator.metrics = list(evaluator.metrics) + [dump]
        else:
            cfg.test_evaluator = [evaluator, dump]
    return cfg


def dump_path(dump: str, work_dir: str) -> str:
    """``--dump`` as written: a bare file name goes into the work dir."""
    return osp.join(work_dir, dump) if not osp.dirname(dump) else dump


@contextlib.contextmanager
def keep_config_dump(cfg: Config, config_file: str) -> Iterator[None]:
    """Leave the training run's config dump in the work dir as it was.

    mmengine's Runner writes the config it runs into ``work_dir/NAME.py``;
    testing in a training work dir would replace the training config (with
    ``load_from`` set to the tested checkpoint) by the test's.
    """
    target = osp.join(cfg.work_dir, osp.basename(config_file))
    saved = None
    if osp.isfile(target):
        with open(target, 'rb') as f:
            saved = f.read()
    try:
        yield
    finally:
        if saved is not None:
            with open(target, 'wb') as f:
                f.write(saved)


def main() -> None:
    args = parse_args()
    require_file(args.config, 'config file')
    require_file(args.checkpoint, 'checkpoint file')
    cfg = Config.fromfile(args.config)
    cfg = merge_args(cfg, args)
    check_annotation_files(cfg, loaders=('test_dataloader', ))
    prepare_distributed(cfg, args.launcher)
    with keep_config_dump(cfg, args.config):
        runner = Runner.from_cfg(cfg)
    runner.test()
    if args.dump is not None and get_rank() == 0:
        print(f'wrote per-sample scores to '
              f'{osp.abspath(dump_path(args.dump, cfg.work_dir))}')


if __name__ == '__main__':
    run_cli(main, errors=(CheckpointError, AnnotationError))
