"""Build the model zoo docs from the metafiles.

``model-index.yml`` imports one ``metafile.yml`` per method
(``docs/methods/<name>/``, mmaction2's model-index format). From them this
writes

- ``docs/model_zoo.md``: every model of every method, with config links,
  test-time parameters and FLOPs, measured accuracy and weights;
- the results tables of each method's ``README.md``, between the
  ``<!-- results:begin -->`` and ``<!-- results:end -->`` markers (the rest
  of the README is written by hand).

``tests/test_docs/test_build_docs.py`` checks that the committed files are
what this script writes::

    python tools/misc/build_docs.py [--check]
"""
import argparse
import os.path as osp
import re
import sys
from collections import OrderedDict
from typing import Dict, List, Optional, Sequence, Tuple

import yaml

from mmcsre.utils.cli import run_cli, tool_description

REPO_ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
MODEL_INDEX = 'model-index.yml'
MODEL_ZOO = osp.join('docs', 'model_zoo.md')
BEGIN = '<!-- results:begin -->'
END = '<!-- results:end -->'
NOT_MEASURED = 'not measured yet'
NO_WEIGHTS = 'none published'
# Order of the datasets in tables (others follow alphabetically).
DATASET_ORDER = ('NW-UCLA', 'NTU60-XSub-3D', 'NTU60-XView-3D',
                 'NTU120-XSub-3D', 'NTU120-XSet-3D', 'Kinetics-400-Skeleton',
                 'Synthetic')


def load_yaml(path: str) -> Dict:
    """A YAML file as a dict."""
    with open(path, encoding='utf-8') as f:
        return yaml.safe_load(f)


def load_metafiles(root: str = REPO_ROOT) -> List[Tuple[str, Dict]]:
    """The metafiles ``model-index.yml`` imports.

    Args:
        root (str): Repository root. Defaults to this repository.

    Returns:
        list[tuple[str, dict]]: ``(path relative to root, content)`` in the
        order of the index.
    """
    index = load_yaml(osp.join(root, MODEL_INDEX))
    return [(rel, load_yaml(osp.join(root, rel))) for rel in index['Import']]


def _metric(model: Dict, name: str) -> Optional[float]:
    """A metric of a model's first result, ``None`` if not measured."""
    results = model.get('Results') or []
    if isinstance(results, dict):
        results = [results]
    for result in results:
        value = (result.get('Metrics') or {}).get(name)
        if value is not None:
            return value
    return None


def _cell(value: Optional[float]) -> str:
    """A metric as a table cell."""
    return NOT_MEASURED if value is None else f'{value:.2f}'


def _link(text: str, target: str, base: str) -> str:
    """A markdown link to a repository path, relative to folder ``base``."""
    return f'[{text}]({osp.relpath(target, base)})'


def _weights(model: Dict) -> str:
    """The weights cell: a link or "none published"."""
    url = model.get('Weights')
    return f'[ckpt]({url})' if url else NO_WEIGHTS


def _by_dataset(models: Sequence[Dict]) -> 'OrderedDict[str, List[Dict]]':
    """Models grouped by training data, in :data:`DATASET_ORDER`."""
    groups: Dict[str, List[Dict]] = {}
    for model in models:
        groups.setdefault(model['Metadata']['Training Data'], []).append(model)

    def rank(name: str) -> Tuple[int, str]:
        order = DATASET_ORDER.index(name) if name in DATASET_ORDER else 99
        return order, name

    return OrderedDict((k, groups[k]) for k in sorted(groups, key=rank))


def results_tables(metafile: Dict, base: str) -> str:
    """Markdown results tables of one metafile, one per training dataset.

    Args:
        metafile (dict): Content of a ``metafile.yml``.
        base (str): Folder (relative to the repository root) the links are
            relative to.

    Returns:
        str: The tables.
    """
    out = []
    for dataset, models in _by_dataset(metafile['Models']).items():
        out += [
            f'### {dataset}', '',
            '| config | modality | architecture | batch | epochs | params '
            '(test) | FLOPs (test) | top1 acc | top5 acc | weights |',
            '| --- ' * 10 + '|'
        ]
        for model in models:
            meta = model['Metadata']
            arch = meta.get('Architecture', '')
            if isinstance(arch, list):
                arch = ' + '.join(arch)
            out.append('| ' + ' | '.join([
                _link(model['Name'], model['Config'], base),
                meta.get('Modality', ''), arch,
                str(meta.get('Batch Size', '')),
                str(meta.get('Epochs', '')),
                str(meta.get('Parameters', '-')),
                str(meta.get('FLOPs', '-')),
                _cell(_metric(model, 'Top 1 Accuracy')),
                _cell(_metric(model, 'Top 5 Accuracy')),
                _weights(model)
            ]) + ' |')
        out.append('')
    return '\n'.join(out)


def render_readme(readme: str, metafile: Dict, base: str) -> str:
    """A method README with its generated results tables refreshed.

    Args:
        readme (str): Current README text; must hold the markers.
        metafile (dict): The method's metafile.
        base (str): The README's folder relative to the repository root.

    Returns:
        str: The README text with the tables between the markers rewritten.
    """
    pattern = re.compile(re.escape(BEGIN) + '.*?' + re.escape(END), re.S)
    if not pattern.search(readme):
        raise ValueError(f'{base}/README.md lacks {BEGIN} ... {END}')
    block = (f'{BEGIN}\n<!-- Written by tools/misc/build_docs.py from '
             f'metafile.yml; edit that, not this. -->\n\n'
             f'{results_tables(metafile, base)}{END}')
    return pattern.sub(lambda _: block, readme, count=1)


def render_model_zoo(metafiles: Sequence[Tuple[str, Dict]]) -> str:
    """``docs/model_zoo.md``: a section per collection with all its models.

    Args:
        metafiles (Sequence[tuple[str, dict]]): As :func:`load_metafiles`
            returns them.

    Returns:
        str: The markdown text.
    """
    base = osp.dirname(MODEL_ZOO)
    total = sum(len(m['Models']) for _, m in metafiles)
    measured = sum(
        _metric(model, 'Top 1 Accuracy') is not None for _, m in metafiles
        for model in m['Models'])
    out = [
        '# Model zoo', '',
        '<!-- Written by tools/misc/build_docs.py from the metafiles that '
        'model-index.yml imports; edit those, not this. -->', '',
        f'{total} configs in {len(metafiles)} collections; {measured} of '
        'them have measured accuracy. Every accuracy here was measured in '
        'this repository by the commands in '
        '[results.md](results.md) (machine, seeds, protocol); none is '
        f'copied from a paper. "{NOT_MEASURED}" means no run of that config '
        f'has been made yet; "{NO_WEIGHTS}" means no checkpoint is '
        'distributed. Parameters and FLOPs are those of the test-time model '
        '(training-only heads and memory banks removed, as '
        '`tools/strip_checkpoint.py` does; the same for every stream), '
        "measured here with mmengine's `get_model_complexity_info` "
        '(multiply-adds) on one clip: 1 person x 52 frames x 20 joints x 3 '
        '(NW-UCLA), 2 x 64 x 25 x 3 (NTU RGB+D), 1 x 32 x 25 x 3 (synthetic); '
        '"-" where not measured.', ''
    ]
    for rel, metafile in metafiles:
        folder = osp.dirname(rel)
        for collection in metafile['Collections']:
            paper = collection.get('Paper') or {}
            out += [
                f'## {collection["Name"]}', '',
                f'{_link("README", osp.join(folder, "README.md"), base)}, '
                f'{_link("metafile", rel, base)}' +
                (f'; paper: [{paper["Title"]}]({paper["URL"]})'
                 if paper.get('URL') else '') + '.', ''
            ]
        out.append(results_tables(metafile, base))
    return '\n'.join(out).rstrip('\n') + '\n'


def build(root: str = REPO_ROOT) -> Dict[str, str]:
    """Every generated file and the text it should have.

    Args:
        root (str): Repository root. Defaults to this repository.

    Returns:
        dict[str, str]: ``{path relative to root: text}``.
    """
    metafiles = load_metafiles(root)
    outputs = {MODEL_ZOO: render_model_zoo(metafiles)}
    for rel, metafile in metafiles:
        folder = osp.dirname(rel)
        readme = osp.join(folder, 'README.md')
        with open(osp.join(root, readme), encoding='utf-8') as f:
            outputs[readme] = render_readme(f.read(), metafile, folder)
    return outputs


def stale(root: str = REPO_ROOT) -> List[str]:
    """Generated files whose committed text differs from :func:`build`'s."""
    out = []
    for rel, text in build(root).items():
        path = osp.join(root, rel)
        current = None
        if osp.isfile(path):
            with open(path, encoding='utf-8') as f:
                current = f.read()
        if current != text:
            out.append(rel)
    return out


def main(argv: Optional[Sequence[str]] = None) -> int:
    """Write (or with ``--check`` only compare) the generated docs."""
    parser = argparse.ArgumentParser(description=tool_description(__doc__))
    parser.add_argument(
        '--check',
        action='store_true',
        help='write nothing; exit 1 if a generated file is out of date')
    parser.add_argument(
        '--root',
        default=REPO_ROOT,
        help='repository whose docs to build (default: this one)')
    args = parser.parse_args(argv)
    if args.check:
        outdated = stale(args.root)
        for rel in outdated:
            print(f'out of date: {rel}')
        return int(bool(outdated))
    for rel, text in build(args.root).items():
        with open(osp.join(args.root, rel), 'w', encoding='utf-8') as f:
            f.write(text)
        print(f'wrote {rel}')
    return 0


if __name__ == '__main__':
    run_cli(lambda: sys.exit(main()))
