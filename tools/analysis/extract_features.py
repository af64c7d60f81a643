"""Extract the pooled backbone features of a trained model (for the t-SNE plots
of tools/analysis/feature_embedding.py).

Runs the model of CONFIG with CHECKPOINT over the config's test (or val,
train) dataloader, averages every sample's backbone feature map over
persons, frames and joints (as the classification head does) and saves
``feats`` (N, C), ``labels``, ``frame_dir`` ids and ``classes`` to a
``.npz`` file.

Example::

    python tools/analysis/extract_features.py CONFIG work_dirs/x/epoch_30.pth \
        --out work_dirs/x/features.npz
"""
import argparse
from typing import List, Optional

from mmengine.config import DictAction

from mmcsre.analysis import extract_features, save_features
from mmcsre.analysis.cli import run
from mmcsre.analysis.features import SPLITS
from mmcsre.utils.cli import tool_description


def main(argv: Optional[List[str]] = None) -> None:
    parser = argparse.ArgumentParser(description=tool_description(__doc__))
    parser.add_argument('config', help='config file')
    parser.add_argument('checkpoint', help='checkpoint of that config')
    parser.add_argument('--out', required=True, help='output .npz file')
    parser.add_argument(
        '--split',
        choices=SPLITS,
        default='test',
        help='dataloader of the config to run (default: test)')
    parser.add_argument(
        '--device', help='e.g. cpu, cuda:0 (default: cuda if available)')
    parser.add_argument(
        '--cfg-options',
        nargs='+',
        action=DictAction,
        help='override config entries, e.g. test_dataloader.batch_size=64')
    args = parser.parse_args(argv)
    feats = extract_features(args.config, args.checkpoint, args.split,
                             args.device, args.cfg_options)
    save_features(args.out, feats)
    print(f'wrote {args.out}: {feats["feats"].shape[0]} samples x '
          f'{feats["feats"].shape[1]} channels')


if __name__ == '__main__':
    run(main)
