"""Add a metafile entry for every shipped config that has none.

A config under ``configs/<method>/`` goes to
``docs/methods/<method>/metafile.yml`` (demo configs to the method their
name ends in: ``-csre``, ``-frhead``, else the backbone). The entry takes
``Architecture``, ``Parameters`` and ``FLOPs`` from an entry of the same
model and dataset when there is one (streams share them), parses the rest
from the config name, and has no ``Results``: add measured accuracy by
hand, with its source in ``docs/results.md``. Then rebuild the docs::

    python tools/misc/add_metafile_entries.py
    python tools/misc/build_docs.py
"""
import argparse
import copy
import glob
import os.path as osp
import re
import sys
from typing import Dict, List, Optional

import yaml

sys.path.insert(0, osp.dirname(osp.abspath(__file__)))
from build_docs import REPO_ROOT, load_metafiles  # noqa: E402

from mmcsre.utils.cli import run_cli, tool_description  # noqa: E402

NAME = re.compile(r'(?P<family>[^_]+)_(?P<gpus>\d+)xb(?P<batch>\d+)-'
                  r'(?P<stream>.+?)-(?:(?P<epochs>\d+)e|(?P<iters>\d+)it)_'
                  r'(?P<data>.+)')
DATASETS = (('nwucla', 'NW-UCLA'), ('ntu60-xsub', 'NTU60-XSub-3D'),
            ('ntu60-xview', 'NTU60-XView-3D'),
            ('ntu120-xsub', 'NTU120-XSub-3D'), ('ntu120-xset',
                                                'NTU120-XSet-3D'),
            ('kinetics400', 'Kinetics-400-Skeleton'), ('synthetic',
                                                       'Synthetic'))
# Metadata shared by all streams of one model on one dataset.
SHARED = ('Architecture', 'Parameters', 'FLOPs')


def method_of(config: str) -> str:
    """The ``docs/methods/`` folder a config (relative path) belongs to."""
    folder = config.split('/')[1]
    if folder != 'demo':
        return folder
    family = osp.basename(config).split('_')[0]
    for method in ('frhead', 'csre'):
        if family.endswith('-' + method) or f'-{method}-' in family:
            return method
    return family.split('-tiny')[0]


def _dataset(data: str) -> str:
    """Training-data name of a config name's dataset part."""
    return next(name for key, name in DATASETS if data.startswith(key))


def new_entry(config: str, collection: str,
              models: List[Dict]) -> Optional[Dict]:
    """A metafile entry for ``config``; ``None`` if its name does not follow
    the naming scheme.

    Args:
        config (str): Config path relative to the repository root.
        collection (str): Name of the collection it goes into.
        models (list[dict]): The collection's entries, to copy the
            model's shared metadata from.

    Returns:
        dict | None: The entry.
    """
    name = osp.splitext(osp.basename(config))[0]
    match = NAME.fullmatch(name)
    if match is None:
        return None
    data = _dataset(match['data'])
    meta = {'Architecture': [collection]}
    for model in models:
        other = NAME.fullmatch(model['Name'])
        if (other and other['family'] == match['family']
                and model['Metadata']['Training Data'] == data):
            # Copies: a shared list would be written as a YAML alias.
            meta.update({
                k: copy.deepcopy(model['Metadata'][k])
                for k in SHARED if k in model['Metadata']
            })
            break
    gpus = int(match['gpus'])
    meta.update({
        'Modality':
        match['stream'],
        'Batch Size':
        int(match['batch']),
        'Training Data':
        data,
        'Training Resources':
        f'{gpus} GPU' + ('s' if gpus > 1 else ''),
    })
    if match['epochs']:
        meta['Epochs'] = int(match['epochs'])
    else:
        meta['Iterations'] = int(match['iters'])
    order = ('Architecture', 'Modality', 'Batch Size', 'Epochs', 'Iterations',
             'Parameters', 'FLOPs', 'Training Data', 'Training Resources')
    return {
        'Name': name,
        'Config': config,
        'In Collection': collection,
        'Metadata': {
            k: meta[k]
            for k in order if k in meta
        },
    }


def add_missing(root: str = REPO_ROOT) -> Dict[str, List[str]]:
    """Add entries for undocumented configs to their method's metafile.

    Args:
        root (str): Repository root. Defaults to this repository.

    Returns:
        dict[str, list[str]]: ``{metafile: [added config, ...]}``; configs
        without a method folder or a parsable name are under ``'skipped'``.
    """
    metafiles = dict(load_metafiles(root))
    documented = {
        m['Config']
        for mf in metafiles.values()
        for m in mf['Models']
    }
    configs = sorted(
        osp.relpath(p, root) for p in glob.glob(
            osp.join(root, 'configs', '**', '*.py'), recursive=True)
        if '_base_' not in p.split(osp.sep))
    added: Dict[str, List[str]] = {}
    for config in configs:
        if config in documented:
            continue
        rel = f'docs/methods/{method_of(config)}/metafile.yml'
        metafile = metafiles.get(rel)
        entry = metafile and new_entry(
            config, metafile['Collections'][0]['Name'], metafile['Models'])
        if not entry:
            added.setdefault('skipped', []).append(config)
            continue
        metafile['Models'].append(entry)
        metafile['Models'].sort(key=lambda m: m['Name'])
        added.setdefault(rel, []).append(config)
    for rel, configs in added.items():
        if rel == 'skipped':
            continue
        with open(osp.join(root, rel), 'w', encoding='utf-8') as f:
            yaml.safe_dump(
                metafiles[rel],
                f,
                sort_keys=False,
                width=200,
                allow_unicode=True)
    return added


def main(argv: Optional[List[str]] = None) -> None:
    """Add the missing entries and report them."""
    parser = argparse.ArgumentParser(description=tool_description(__doc__))
    parser.add_argument(
        '--root',
        default=REPO_ROOT,
        help='repository whose metafiles to complete (default: this one)')
    args = parser.parse_args(argv)
    for rel, configs in add_missing(args.root).items():
        print(f'{rel}: {len(configs)}')
        for config in configs:
            print(f'  {config}')


if __name__ == '__main__':
    run_cli(main)
