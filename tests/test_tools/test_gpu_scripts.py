"""tools/gpu/*.sh parse, and the GPU check rejects unknown arguments before
it installs or trains anything (its dry run is documented in
docs/results.md: it trains CTR-GCN for minutes, too long for CI)."""
import glob
import os.path as osp
import subprocess

import pytest
from helpers import REPO_ROOT

SCRIPTS = sorted(glob.glob(osp.join(REPO_ROOT, 'tools', 'gpu', '*.sh')))


def test_scripts_found():
    names = [osp.basename(p) for p in SCRIPTS]
    assert names == ['fetch_wheels.sh', 'nwucla_paired_sweep.sh']


@pytest.mark.parametrize('script', SCRIPTS, ids=osp.basename)
def test_script_parses(script):
    subprocess.run(['bash', '-n', script], check=True)


def test_unknown_argument_is_an_error(tmp_path):
    proc = subprocess.run(['bash', SCRIPTS[1], '--seed', '3'],
                          capture_output=True,
                          text=True,
                          env={
                              'PATH': '/usr/bin:/bin',
                              'OUT': str(tmp_path)
                          })
    assert proc.returncode == 2
    assert 'unknown argument --seed' in proc.stderr
