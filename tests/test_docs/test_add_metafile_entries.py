"""tools/misc/add_metafile_entries.py: a config missing from the metafiles
gets an entry in its method's metafile, with its model's shared metadata."""
import os.path as osp
import shutil
import sys

import yaml
from helpers import REPO_ROOT

sys.path.insert(0, osp.join(REPO_ROOT, 'tools', 'misc'))
import add_metafile_entries as tool  # noqa: E402

BONE = 'configs/csre/stgcn-csre_1xb16-bone-65e_nwucla-keypoint-3d.py'


def _copy(root):
    for rel in ('model-index.yml', 'configs', 'docs/methods'):
        src, dst = osp.join(REPO_ROOT, rel), root / rel
        if osp.isdir(src):
            shutil.copytree(src, dst)
        else:
            dst.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy(src, dst)


def test_method_of():
    assert tool.method_of(BONE) == 'csre'
    assert tool.method_of('configs/demo/stgcn-tiny-frhead_1xb16-joint-15e_'
                          'synthetic.py') == 'frhead'
    assert tool.method_of('configs/demo/hcn-tiny-csre_1xb16-joint-1e_'
                          'synthetic.py') == 'csre'
    assert tool.method_of('configs/demo/stgcn-tiny_1xb16-joint-15e_'
                          'synthetic.py') == 'stgcn'


def test_missing_config_is_added_with_shared_metadata(tmp_path):
    _copy(tmp_path)
    assert tool.add_missing(str(tmp_path)) == {}  # all documented
    meta_path = tmp_path / 'docs/methods/csre/metafile.yml'
    metafile = yaml.safe_load(meta_path.read_text())
    original = next(m for m in metafile['Models'] if m['Config'] == BONE)
    metafile['Models'].remove(original)
    meta_path.write_text(yaml.safe_dump(metafile, sort_keys=False))

    added = tool.add_missing(str(tmp_path))
    assert added == {'docs/methods/csre/metafile.yml': [BONE]}
    entry = next(
        m for m in yaml.safe_load(meta_path.read_text())['Models']
        if m['Config'] == BONE)
    assert entry == original  # the bone stream has no measured result
