"""k-NN evaluation of a (self-supervised) encoder: cosine-similarity k-NN of
validation features against training features.

Builds CONFIG's model (a recognizer config: its stream, backbone and
datasets; e.g. a ``configs/cpstn/cpstn-linear_...`` config), loads only the
``backbone.*`` weights of CHECKPOINT (a CP-STN pre-training checkpoint, a
linear-eval or a supervised one), extracts the backbone features of the
training and validation splits with the test pipeline (pooled over
persons, frames and joints), classifies every validation sample by its k
most similar training samples and writes ``knn.md``, ``knn.csv`` and
``knn.png`` (top-1 accuracy per k).

Votes: ``weighted`` (default) weighs a neighbour of cosine similarity s by
``exp(s / T)``, T = 0.07; ``majority`` counts neighbours. Ties go to the
lowest class index.

Example::

    python tools/analysis/knn_eval.py \
        configs/cpstn/cpstn-linear_1xb64-joint-100e_nwucla-keypoint-3d.py \
        work_dirs/cpstn_1xb64-joint-100e_nwucla-keypoint-3d/epoch_100.pth \
        --k 1 5 20 --out-dir work_dirs/knn
"""
import os.path as osp
from typing import List, Optional

from mmengine.config import DictAction

from mmcsre.analysis import write_tables
from mmcsre.analysis.cli import base_parser, run
from mmcsre.analysis.plotting import plot_grouped_bars
from mmcsre.evaluation.backbone_features import config_backbone_features
from mmcsre.evaluation.knn import VOTES, knn_accuracy
from mmcsre.utils.cli import tool_description


def main(argv: Optional[List[str]] = None) -> None:
    parser = base_parser(tool_description(__doc__))
    parser.set_defaults(out_dir='work_dirs/knn')
    parser.add_argument('config', help='recognizer config')
    parser.add_argument('checkpoint', help='checkpoint with backbone.* keys')
    parser.add_argument(
        '--k',
        type=int,
        nargs='+',
        default=[1, 5, 20],
        help='neighbour counts (default: 1 5 20)')
    parser.add_argument(
        '--vote',
        choices=VOTES,
        default='weighted',
        help='weighted: exp(cos / T) per neighbour; majority: 1 each '
        '(default: weighted)')
    parser.add_argument(
        '--temperature',
        type=float,
        default=0.07,
        help='T of the weighted vote (default: 0.07)')
    parser.add_argument(
        '--device', help='e.g. cpu, cuda:0 (default: cuda if available)')
    parser.add_argument(
        '--cfg-options',
        nargs='+',
        action=DictAction,
        help='override config entries, e.g. val_dataloader.batch_size=64')
    args = parser.parse_args(argv)

    feats = config_backbone_features(args.config, args.checkpoint, args.device,
                                     args.cfg_options)
    (train_x, train_y), (val_x, val_y) = feats['train'], feats['val']
    acc = knn_accuracy(
        train_x,
        train_y,
        val_x,
        val_y,
        args.k,
        vote=args.vote,
        temperature=args.temperature)
    rows = [
        dict(k=k, vote=args.vote, top1=round(100 * acc[k], 2))
        for k in sorted(acc)
    ]
    notes = [
        f'config: {args.config}', f'checkpoint: {args.checkpoint}',
        f'train: {len(train_y)} samples, val: {len(val_y)} samples, '
        f'{train_x.shape[1]}-d features, cosine similarity' +
        (f', T = {args.temperature:g}' if args.vote == 'weighted' else '')
    ]
    md, csv = write_tables(
        rows, args.out_dir, 'knn', title='k-NN evaluation', notes=notes)
    png = plot_grouped_bars([str(row['k']) for row in rows],
                            {'': [row['top1'] for row in rows]},
                            ylabel='top-1 accuracy (%)',
                            title=f'k-NN top-1 accuracy ({args.vote} vote, '
                            f'{len(train_y)} training samples)',
                            path=osp.join(args.out_dir, 'knn.png'),
                            value_format='{:.2f}',
                            xlabel='k (neighbours)')
    for row in rows:
        print(f"k={row['k']:<4d} top-1 {row['top1']:.2f} %")
    print(f'wrote {md}, {osp.basename(csv)} and {osp.basename(png)}')


if __name__ == '__main__':
    run(main)
