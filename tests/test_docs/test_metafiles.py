"""Schema and config links of the metafiles (mmaction2's model-index format)
and the method READMEs; every shipped config is documented."""
import functools
import glob
import os.path as osp
import re

import pytest
import yaml
from helpers import REPO_ROOT

METHODS_DIR = osp.join(REPO_ROOT, 'docs', 'methods')
README_SECTIONS = ('## Abstract', '## Usage', '## Results', '## Citation')
MODEL_KEYS = ('Name', 'Config', 'In Collection', 'Metadata')
METADATA_KEYS = ('Architecture', 'Batch Size', 'Training Data',
                 'Training Resources')
RESULT_KEYS = ('Dataset', 'Task', 'Metrics')


def _load(path):
    with open(path, encoding='utf-8') as f:
        return yaml.safe_load(f)


@functools.lru_cache()
def _metafiles():
    index = _load(osp.join(REPO_ROOT, 'model-index.yml'))
    return [(rel, _load(osp.join(REPO_ROOT, rel))) for rel in index['Import']]


def test_model_index_imports_every_method():
    imported = {rel for rel, _ in _metafiles()}
    on_disk = {
        osp.relpath(p, REPO_ROOT)
        for p in glob.glob(osp.join(METHODS_DIR, '*', 'metafile.yml'))
    }
    assert imported == on_disk
    for name in ('csre', 'stgcn', '2s-agcn', 'ctrgcn', 'blockgcn', 'hcn',
                 'infogcn', 'hyperformer', 'frhead'):
        assert f'docs/methods/{name}/metafile.yml' in imported, name


@pytest.mark.parametrize('rel,metafile', _metafiles())
def test_metafile_schema(rel, metafile):
    collections = {c['Name']: c for c in metafile['Collections']}
    assert collections, rel
    for collection in collections.values():
        assert osp.isfile(osp.join(REPO_ROOT, collection['README']))
        assert collection['Paper']['URL'].startswith('https://')
        assert collection['Paper']['Title']
    names = [m['Name'] for m in metafile['Models']]
    assert len(names) == len(set(names)), f'{rel}: duplicated model names'
    for model in metafile['Models']:
        where = f'{rel}: {model.get("Name")}'
        for key in MODEL_KEYS:
            assert key in model, f'{where} lacks {key}'
        assert model['In Collection'] in collections, where
        config = model['Config']
        assert osp.isfile(osp.join(REPO_ROOT, config)), f'{where}: {config}'
        assert model['Name'] == osp.splitext(osp.basename(config))[0], where
        for key in METADATA_KEYS:
            assert key in model['Metadata'], f'{where} lacks Metadata.{key}'
        # the schedule's length: epochs, or iterations (the paired sweeps)
        assert 'Epochs' in model['Metadata'] or \
            'Iterations' in model['Metadata'], f'{where}: no schedule length'
        for key, unit in (('Parameters', 'M'), ('FLOPs', 'G')):
            value = model['Metadata'].get(key)
            assert value is None or re.fullmatch(rf'\d+\.\d+{unit}', value), \
                f'{where}: {key} {value!r}'
        results = model.get('Results') or []
        for result in results if isinstance(results, list) else [results]:
            for key in RESULT_KEYS:
                assert key in result, f'{where}: result lacks {key}'
            assert result['Dataset'] == model['Metadata']['Training Data']
            for metric, value in result['Metrics'].items():
                assert isinstance(value, (int, float)) and 0 <= value <= 100
        weights = model.get('Weights')
        assert weights is None or weights.startswith('https://'), where


def _readme_links(readme_path):
    with open(readme_path, encoding='utf-8') as f:
        text = f.read()
    folder = osp.dirname(readme_path)
    links = re.findall(r'\]\(([^)#\s]+)\)', text)
    return text, [
        osp.normpath(osp.join(folder, t)) for t in links
        if not t.startswith(('http://', 'https://'))
    ]


@pytest.mark.parametrize('rel,metafile', _metafiles())
def test_readme_sections_and_links(rel, metafile):
    readme = osp.join(REPO_ROOT, osp.dirname(rel), 'README.md')
    text, targets = _readme_links(readme)
    for section in README_SECTIONS:
        assert f'\n{section}\n' in text, f'{readme} lacks {section}'
    assert '```bibtex' in text
    assert 'Where the numbers come from' in text
    for target in targets:
        assert osp.exists(target), f'{readme} links to missing {target}'
    # Every config of the metafile appears in the README's tables and
    # every config linked from the README is listed in the metafile.
    configs = {osp.join(REPO_ROOT, m['Config']) for m in metafile['Models']}
    linked = {t for t in targets if t.endswith('.py')}
    assert configs <= linked
    assert linked <= configs | {
        osp.join(REPO_ROOT, m['Config'])
        for _, other in _metafiles()
        for m in other['Models']
    }


def test_every_shipped_config_is_documented():
    documented = {m['Config'] for _, mf in _metafiles() for m in mf['Models']}
    shipped = {
        osp.relpath(p, REPO_ROOT)
        for p in glob.glob(
            osp.join(REPO_ROOT, 'configs', '**', '*.py'), recursive=True)
        if '_base_' not in p.split(osp.sep)
    }
    missing = sorted(shipped - documented)
    assert not missing, ('configs in no docs/methods/*/metafile.yml (run '
                         'tools/misc/add_metafile_entries.py, then '
                         f'tools/misc/build_docs.py): {missing[:20]}')


def test_results_come_from_results_md():
    """Every accuracy in a metafile appears in docs/results.md."""
    with open(osp.join(REPO_ROOT, 'docs', 'results.md')) as f:
        measured = f.read()
    for rel, metafile in _metafiles():
        for model in metafile['Models']:
            results = model.get('Results') or []
            for result in results if isinstance(results, list) else [results]:
                for metric, value in result['Metrics'].items():
                    shown = f'{value:.2f}'.rstrip('0').rstrip('.')
                    assert re.search(rf'\b{re.escape(shown)}', measured), (
                        f'{rel}: {model["Name"]} {metric} {value} is not in '
                        'docs/results.md')
