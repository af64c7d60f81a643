"""Train, test and fuse the joint / bone / motion streams of a config.

One command trains every stream of a joint-stream config (the stream is the
model's ``data_preprocessor.stream``), tests each with a score dump, fuses
them (2S = J + B at 1:1; 4S = J, B, JM, BM at 2:2:1:1 and at
0.6:0.6:0.4:0.4) and ends with the summary table. It also writes a fused
``MultiStreamRecognizer`` config that evaluates all streams in one pass
and checks that it reproduces the fused scores.

Streams train one after the other on one device, or one stream per GPU when
several GPUs are visible. Re-running the command resumes an interrupted
stream from its last checkpoint and skips finished ones.

Example::

    python tools/train_streams.py \
        configs/stgcn/stgcn-small_1xb16-joint-30e_nwucla-keypoint-3d.py \
        --work-dir work_dirs/stgcn-small_nwucla_4s --seed 0 --deterministic
"""
import argparse
import json
import os
import os.path as osp
import subprocess
import sys
import time
from typing import Dict, List, Optional, Sequence

import mmengine
import numpy as np
from mmengine.config import Config, DictAction

from mmcsre.evaluation.fusion import (WEIGHT_PRESETS, FusionError, fuse,
                                      load_score_dump, markdown_table)
from mmcsre.fileio import safe_load
from mmcsre.models.data_preprocessors import STREAMS
from mmcsre.utils.cli import CLIError, require_file, run_cli, tool_description

REPO = osp.dirname(osp.dirname(osp.abspath(__file__)))
STREAM_NAMES = dict(j='joint', b='bone', jm='joint-motion', bm='bone-motion')
# (row name, streams, preset) of the fused results, as the papers report.
FUSIONS = (('2S (J+B)', ('j', 'b'), '2s'), ('4S 2:2:1:1', STREAMS, '4s'),
           ('4S 0.6:0.6:0.4:0.4', STREAMS, '4s-ctrgcn'))


def parse_args(argv: Optional[Sequence[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=tool_description(__doc__))
    parser.add_argument('config', help='joint-stream config')
    parser.add_argument(
        '--work-dir',
        help='root work dir; stream s goes to WORK_DIR/s (default: '
        'work_dirs/<config name>_streams)')
    parser.add_argument(
        '--streams',
        nargs='+',
        choices=STREAMS,
        default=list(STREAMS),
        help='streams to train (default: all four)')
    parser.add_argument('--seed', type=int, help='random seed of every run')
    parser.add_argument(
        '--deterministic', action='store_true', help='deterministic mode')
    parser.add_argument(
        '--gpus',
        type=int,
        help='train one stream per GPU on this many GPUs at once (default: '
        'all visible GPUs; 0 or 1 = one stream after the other)')
    parser.add_argument(
        '--space',
        choices=['prob', 'logit'],
        default='prob',
        help='score space to fuse in (default: prob)')
    parser.add_argument(
        '--no-fused-check',
        action='store_true',
        help='skip testing the fused MultiStreamRecognizer config')
    parser.add_argument(
        '--cfg-options',
        nargs='+',
        action=DictAction,
        help='config overrides passed to every stream')
    # Internal: a child process that trains and tests one stream on one GPU.
    parser.add_argument(
        '--only-train', action='store_true', help=argparse.SUPPRESS)
    return parser.parse_args(argv)


def cfg_option_args(options: Optional[Dict], stream: str) -> List[str]:
    """``--cfg-options`` of one stream: the user's plus the stream."""
    items = [f'{k}={v}' for k, v in (options or {}).items()]
    return ['--cfg-options'
            ] + items + [f'model.data_preprocessor.stream='
                         f'{stream}']


def check_config(config: str) -> Config:
    """Load the config; its model must choose the stream in its data
    preprocessor."""
    require_file(config, 'config file')
    cfg = Config.fromfile(config)
    pre = cfg.model.get('data_preprocessor') or {}
    if pre.get('type') != 'SkeletonDataPreprocessor':
        raise CLIError(
            f'{config}: model.data_preprocessor is {pre or None}; '
            'streams need type=SkeletonDataPreprocessor with the layout')
    if pre.get('stream', 'j') != 'j':
        raise CLIError(f'{config} is a {pre["stream"]!r} config; '
                       'give the joint-stream config')
    return cfg


def last_checkpoint(work_dir: str) -> Optional[str]:
    """The checkpoint mmengine recorded last in ``work_dir``."""
    marker = osp.join(work_dir, 'last_checkpoint')
    if not osp.isfile(marker):
        return None
    with open(marker) as f:
        path = f.read().strip()
    return path if osp.isfile(path) else None


def train_command(args: argparse.Namespace, stream: str,
                  work_dir: str) -> List[str]:
    """The training command line of one stream (resuming if it can)."""
    opts = cfg_option_args(args.cfg_options, stream)
    train = [
        sys.executable,
        osp.join(REPO, 'tools', 'train.py'), args.config, '--work-dir',
        work_dir
    ]
    if args.seed is not None:
        train += ['--seed', str(args.seed)]
    if args.deterministic:
        train.append('--deterministic')
    if last_checkpoint(work_dir):
        train.append('--resume')
    return train + opts


def run_stream(args: argparse.Namespace, stream: str, work_dir: str,
               gpu: Optional[int], log_file: Optional[str]) -> None:
    """Train (or resume) then test one stream; raise if a step fails."""
    env = dict(os.environ)
    env['PYTHONPATH'] = REPO + os.pathsep + env.get('PYTHONPATH', '')
    if gpu is not None:
        env['CUDA_VISIBLE_DEVICES'] = str(gpu)
    out = open(log_file, 'a') if log_file else None
    try:
        subprocess.run(
            train_command(args, stream, work_dir),
            env=env,
            stdout=out,
            stderr=out,
            check=True)
        ckpt = last_checkpoint(work_dir)
        if ckpt is None:
            raise RuntimeError(f'{work_dir}: training left no checkpoint')
        test = [
            sys.executable,
            osp.join(REPO, 'tools', 'test.py'), args.config, ckpt,
            '--work-dir',
            osp.join(work_dir, 'test'), '--dump',
            osp.join(work_dir, 'scores.pkl')
        ] + cfg_option_args(args.cfg_options, stream)
        subprocess.run(test, env=env, stdout=out, stderr=out, check=True)
        mmengine.dump(
            dict(stream=stream, checkpoint=ckpt, finished=time.time()),
            osp.join(work_dir, 'done.json'))
    finally:
        if out:
            out.close()


def stream_done(work_dir: str) -> bool:
    return osp.isfile(osp.join(work_dir, 'done.json')) and osp.isfile(
        osp.join(work_dir, 'scores.pkl'))


def train_all(args: argparse.Namespace, root: str) -> None:
    """Run the streams that are not done, sequentially or one per GPU."""
    todo = [s for s in args.streams if not stream_done(osp.join(root, s))]
    for s in args.streams:
        if s not in todo:
            print(f'[{s}] done already ({osp.join(root, s)}), skipped')
    gpus = args.gpus
    if gpus is None:
        import torch
        gpus = torch.cuda.device_count()
    if gpus <= 1 or len(todo) <= 1:
        for s in todo:
            wd = osp.join(root, s)
            state = 'resuming' if last_checkpoint(wd) else 'training'
            print(
                f'[{s}] {state} the {STREAM_NAMES[s]} stream in {wd}',
                flush=True)
            run_stream(args, s, wd, gpu=None, log_file=None)
        return
    # One stream per GPU; each child's output goes to its own log file.
    pending, running, failed = list(todo), {}, []
    while pending or running:
        free = [g for g in range(gpus) if g not in running.values()]
        while pending and free:
            s, gpu = pending.pop(0), free.pop(0)
            wd = osp.join(root, s)
            mmengine.mkdir_or_exist(wd)
            log = osp.join(wd, 'streams.log')
            print(f'[{s}] GPU {gpu}, log {log}', flush=True)
            proc = _spawn(args, s, wd, gpu, log)
            running[proc] = gpu
            proc.stream = s
        for proc in list(running):
            if proc.poll() is not None:
                del running[proc]
                status = 'finished' if proc.returncode == 0 else 'FAILED'
                print(f'[{proc.stream}] {status}', flush=True)
                if proc.returncode:
                    failed.append(proc.stream)
        time.sleep(2)
    if failed:
        raise CLIError(f'stream(s) {failed} failed; see their streams.log; '
                       're-run to resume')


def _spawn(args: argparse.Namespace, stream: str, work_dir: str, gpu: int,
           log: str) -> subprocess.Popen:
    """Run this script for one stream on one GPU in a child process."""
    cmd = [
        sys.executable,
        osp.abspath(__file__), args.config, '--work-dir',
        osp.dirname(work_dir), '--streams', stream, '--gpus', '1',
        '--no-fused-check', '--only-train'
    ]
    if args.seed is not None:
        cmd += ['--seed', str(args.seed)]
    if args.deterministic:
        cmd.append('--deterministic')
    if args.cfg_options:
        cmd += ['--cfg-options'
                ] + [f'{k}={v}' for k, v in args.cfg_options.items()]
    env = dict(os.environ, CUDA_VISIBLE_DEVICES=str(gpu))
    return subprocess.Popen(
        cmd, env=env, stdout=open(log, 'a'), stderr=subprocess.STDOUT)


def fuse_streams(args: argparse.Namespace, root: str) -> Dict:
    """Per-stream and fused top-1/top-5 of the finished streams."""
    dumps = {
        s: load_score_dump(osp.join(root, s, 'scores.pkl'))
        for s in args.streams
    }
    result = fuse([dumps[s] for s in dumps], [1.0] * len(dumps),
                  [STREAM_NAMES[s] for s in dumps], args.space)
    rows = [dict(r, weight='-') for r in result['rows'][:-1]]
    fused = {}
    for name, streams, preset in FUSIONS:
        if not all(s in dumps for s in streams):
            continue
        weights = WEIGHT_PRESETS[preset]
        out = fuse([dumps[s] for s in streams], weights,
                   [STREAM_NAMES[s] for s in streams], args.space)
        row = dict(out['rows'][-1], name=name)
        row['weight'] = ':'.join(f'{w:g}' for w in weights)
        rows.append(row)
        fused[preset] = dict(streams=streams, weights=weights, result=out)
    return dict(rows=rows, fused=fused, num_samples=len(result['labels']))


def write_fused_config(args: argparse.Namespace, root: str, streams, weights,
                       name: str) -> str:
    """A MultiStreamRecognizer config that fuses the trained streams."""
    entries = []
    for s, w in zip(streams, weights):
        wd = osp.join(root, s)
        done_file = osp.join(wd, 'done.json')
        try:
            done = safe_load(done_file)
            checkpoint = done['checkpoint']
        except (ValueError, KeyError, TypeError) as err:
            raise FusionError(f'{done_file}: not a done marker of '
                              f'tools/train_streams.py ({err!r})') from err
        dumped = osp.join(wd, osp.basename(args.config))
        entries.append(
            dict(
                name=STREAM_NAMES[s],
                config=osp.abspath(dumped),
                checkpoint=osp.abspath(checkpoint),
                weight=float(w)))
    path = osp.join(root, f'fused_{name}.py')
    with open(path, 'w') as f:
        f.write('# Written by tools/train_streams.py: all streams in one '
                'pass, fused as tools/ensemble.py fuses their dumps.\n')
        f.write(f'_base_ = {osp.abspath(entries[0]["config"])!r}\n')
        f.write('model = dict(\n    _delete_=True,\n'
                "    type='MultiStreamRecognizer',\n"
                f'    fusion_space={args.space!r},\n    streams=[\n')
        for e in entries:
            f.write(f'        dict(name={e["name"]!r},\n'
                    f'             config={e["config"]!r},\n'
                    f'             checkpoint={e["checkpoint"]!r},\n'
                    f'             weight={e["weight"]!r}),\n')
        f.write('    ])\n')
    return path


def check_fused(args: argparse.Namespace, root: str, preset: str,
                info: Dict) -> Dict:
    """Test the fused config and compare with the ensemble's scores."""
    path = write_fused_config(args, root, info['streams'], info['weights'],
                              preset)
    dump = osp.join(root, f'fused_{preset}_scores.pkl')
    env = dict(os.environ)
    env['PYTHONPATH'] = REPO + os.pathsep + env.get('PYTHONPATH', '')
    subprocess.run([
        sys.executable,
        osp.join(REPO, 'tools', 'test.py'), path, '--work-dir',
        osp.join(root, f'fused_{preset}_test'), '--dump', dump
    ],
                   env=env,
                   check=True,
                   stdout=subprocess.DEVNULL)
    got = load_score_dump(dump)
    ref = info['result']
    if list(got['frame_dir']) != list(ref['frame_dir']):
        raise FusionError('the fused recognizer saw other samples than the '
                          'stream dumps')
    diff = float(np.abs(got['scores'] - ref['scores']).max())
    same = bool((got['scores'].argmax(1) == ref['scores'].argmax(1)).all())
    return dict(config=path, max_abs_diff=diff, same_predictions=same)


def main(argv: Optional[Sequence[str]] = None) -> None:
    args = parse_args(argv)
    check_config(args.config)
    root = args.work_dir or osp.join(
        'work_dirs',
        osp.splitext(osp.basename(args.config))[0] + '_streams')
    mmengine.mkdir_or_exist(root)
    train_all(args, root)
    if args.only_train:
        return
    summary = fuse_streams(args, root)
    checks = {}
    if not args.no_fused_check and summary['fused']:
        preset = list(summary['fused'])[-1]
        checks[preset] = check_fused(args, root, preset,
                                     summary['fused'][preset])
    table = markdown_table(summary['rows'])
    with open(osp.join(root, 'summary.md'), 'w') as f:
        f.write(f'{args.config}, {summary["num_samples"]} test samples, '
                f'fused in {args.space} space\n\n{table}\n')
    with open(osp.join(root, 'summary.json'), 'w') as f:
        json.dump(
            dict(
                config=args.config,
                num_samples=summary['num_samples'],
                space=args.space,
                rows=summary['rows'],
                fused_recognizer=checks),
            f,
            indent=2)
    print(f'\n{summary["num_samples"]} test samples, fused in {args.space} '
          f'space ({root}/summary.md)\n\n{table}')
    for preset, check in checks.items():
        print(f'\nfused MultiStreamRecognizer ({check["config"]}): max |score'
              f' - ensemble| = {check["max_abs_diff"]:.2e}, same '
              f'predictions: {check["same_predictions"]}')


if __name__ == '__main__':
    run_cli(main, errors=(FusionError, subprocess.CalledProcessError))
