"""t-SNE of pooled backbone features, coloured by class (csre.txt Fig. 6, fr-
head.md Fig. 5).

Reads one or more feature files of tools/analysis/extract_features.py
(several are matched by sample id and embedded separately, side by side),
optionally keeps chosen classes and caps the samples per class, and plots
each 2-D t-SNE embedding. The table gives, per run, silhouette scores of
the classes (higher: tighter, better separated clusters) in the feature
space (cosine) and in the embedding; the CSV holds every embedded point.

Example::

    python tools/analysis/feature_embedding.py base/features.npz \
        csre/features.npz --names ST-GCN CSRE --label-map nwucla \
        --classes 0 1 8 9
"""
import csv
import os.path as osp
from typing import List, Optional

import mmengine
import numpy as np

from mmcsre.analysis import (AnalysisError, align_features, class_names,
                             load_features, markdown_table, require,
                             select_samples, tsne, write_tables)
from mmcsre.analysis.cli import add_label_map, base_parser, run, run_names
from mmcsre.analysis.embedding import class_count
from mmcsre.analysis.plotting import plot_embeddings
from mmcsre.utils.cli import tool_description


def parse_classes(values: Optional[List[str]],
                  names: List[str]) -> Optional[List[int]]:
    """Class indices from indices or exact class names."""
    if values is None:
        return None
    picked = []
    for value in values:
        if value.isdigit() and int(value) < len(names):
            picked.append(int(value))
        elif value in names:
            picked.append(names.index(value))
        else:
            raise AnalysisError(f'--classes: {value!r} is neither a class '
                                f'index below {len(names)} nor a class name')
    return picked


def main(argv: Optional[List[str]] = None) -> None:
    parser = base_parser(tool_description(__doc__))
    parser.add_argument('features', nargs='+', help='feature .npz files')
    parser.add_argument('--names', nargs='+', help='run names')
    add_label_map(parser)
    parser.add_argument(
        '--classes',
        nargs='+',
        help='class indices or names to embed (default: all)')
    parser.add_argument(
        '--max-per-class',
        type=int,
        help='embed at most this many random samples per class')
    parser.add_argument('--perplexity', type=float, default=30.0)
    parser.add_argument('--seed', type=int, default=0)
    parser.add_argument(
        '--max-iter',
        type=int,
        default=1000,
        help='t-SNE iterations (default: 1000, at least 250)')
    args = parser.parse_args(argv)

    default = [osp.splitext(osp.basename(p))[0] for p in args.features]
    names = run_names(args.names, default, 'feature files')
    runs = align_features([load_features(p) for p in args.features], names)
    num = class_count(runs)
    stored = runs[0]['classes'].tolist() or None
    classes = class_names(num, args.label_map, stored, args.features[0])
    picked = select_samples(runs[0], parse_classes(args.classes, classes),
                            args.max_per_class, args.seed)
    metrics = require('sklearn.metrics')
    labels = runs[0]['labels'][picked]
    panels, rows, points = [], [], []
    for run_, name in zip(runs, names):
        feats = run_['feats'][picked]
        print(f'{name}: t-SNE of {len(picked)} samples x {feats.shape[1]} '
              'channels...')
        xy = tsne(feats, args.perplexity, args.seed, args.max_iter)
        panels.append((xy, labels, name))
        two_classes = len(np.unique(labels)) > 1
        rows.append({
            'run':
            name,
            'samples':
            len(picked),
            'classes':
            len(np.unique(labels)),
            'silhouette (features, cosine)':
            round(
                float(
                    metrics.silhouette_score(feats, labels, metric='cosine')),
                3) if two_classes else float('nan'),
            'silhouette (t-SNE 2-D)':
            round(float(metrics.silhouette_score(xy, labels)), 3)
            if two_classes else float('nan'),
        })
        points += [[
            name, run_['frame_dir'][i],
            int(lab), classes[lab],
            round(float(x), 3),
            round(float(y), 3)
        ] for i, lab, (x, y) in zip(picked, labels, xy)]
    png = plot_embeddings(panels, classes,
                          osp.join(args.out_dir, 'feature_embedding.png'))
    md, csv_path = write_tables(
        rows,
        args.out_dir,
        'feature_embedding',
        title='t-SNE of pooled backbone features',
        notes=[
            f'perplexity {args.perplexity:g} (capped at (N - 1) / 3), '
            f'{args.max_iter} iterations, seed {args.seed}, features '
            'L2-normalised; silhouette in '
            '[-1, 1], higher = tighter and better separated classes.'
        ])
    mmengine.mkdir_or_exist(args.out_dir)
    points_path = osp.join(args.out_dir, 'feature_embedding_points.csv')
    with open(points_path, 'w', newline='', encoding='utf-8') as f:
        writer = csv.writer(f)
        writer.writerow(['run', 'frame_dir', 'label', 'class', 'x', 'y'])
        writer.writerows(points)
    print(markdown_table(rows))
    print(f'wrote {png}, {md}, {csv_path}, {points_path}')


if __name__ == '__main__':
    run(main)
