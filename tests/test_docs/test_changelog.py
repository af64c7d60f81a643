"""CHANGELOG.md and mmcsre/version.py agree, as OpenMMLab packages keep
them."""
import os.path as osp
import re

from helpers import REPO_ROOT

import mmcsre


def test_changelog_heads_with_the_package_version():
    with open(osp.join(REPO_ROOT, 'CHANGELOG.md'), encoding='utf-8') as f:
        headings = re.findall(r'^## v(\S+)', f.read(), re.M)
    assert headings, 'CHANGELOG.md has no "## vX.Y.Z" release heading'
    assert headings[0] == mmcsre.__version__
    assert len(headings) == len(set(headings))
