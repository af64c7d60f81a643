"""tools/misc/build_docs.py: the committed model zoo and README results
tables are what the metafiles generate."""
import os.path as osp
import shutil
import sys

from helpers import REPO_ROOT

sys.path.insert(0, osp.join(REPO_ROOT, 'tools', 'misc'))
import build_docs  # noqa: E402


def test_committed_docs_are_current():
    outdated = build_docs.stale()
    assert not outdated, ('regenerate with python tools/misc/build_docs.py: '
                          f'{outdated}')


def test_model_zoo_links_every_metafile_config():
    with open(osp.join(REPO_ROOT, build_docs.MODEL_ZOO)) as f:
        zoo = f.read()
    for _, metafile in build_docs.load_metafiles():
        for model in metafile['Models']:
            assert f'](../{model["Config"]})' in zoo, model['Name']


def test_a_metafile_change_shows_up(tmp_path):
    """Editing a metafile makes the docs stale; rebuilding fixes them."""
    root = tmp_path / 'repo'
    metafiles = [rel for rel, _ in build_docs.load_metafiles()]
    for rel in ['model-index.yml', 'docs'] + metafiles:
        src = osp.join(REPO_ROOT, rel)
        dst = root / rel
        if osp.isdir(src):
            shutil.copytree(src, dst, dirs_exist_ok=True)
        else:
            dst.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy(src, dst)
    assert build_docs.stale(str(root)) == []
    meta = root / 'docs' / 'methods' / 'csre' / 'metafile.yml'
    text = meta.read_text()
    name = 'stgcn-small-csre_1xb16-joint-30e_nwucla-keypoint-3d'
    assert name in text
    meta.write_text(
        text.replace('Top 1 Accuracy: 81.68', 'Top 1 Accuracy: 12.34'))
    expected = {'docs/model_zoo.md', 'docs/methods/csre/README.md'}
    assert set(build_docs.stale(str(root))) == expected
    for rel, out in build_docs.build(str(root)).items():
        (root / rel).write_text(out)
    assert build_docs.stale(str(root)) == []
    assert '12.34' in (root / 'docs' / 'methods' / 'csre' /
                       'README.md').read_text()
