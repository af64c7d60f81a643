"""Shared test helpers: repository paths and the optional ../shared data."""
import os
import os.path as osp
import subprocess
import sys

import pytest

REPO_ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))
SHARED_DIR = os.environ.get('MMCSRE_SHARED',
                            osp.join(osp.dirname(REPO_ROOT), 'shared'))
NWUCLA_ZIP = osp.join(SHARED_DIR, 'data', 'nw-ucla', 'all_sqe.zip')
DEMO_CONFIG = osp.join(REPO_ROOT, 'configs', 'demo',
                       'stgcn-tiny_1xb16-joint-15e_synthetic.py')

requires_nwucla = pytest.mark.skipif(
    not osp.isfile(NWUCLA_ZIP),
    reason=f'real NW-UCLA data not found at {NWUCLA_ZIP}')


def run_tool(args, cwd=None, timeout=900, extra_pythonpath=None):
    """Run ``python ARGS`` like a user would; fail with its output."""
    env = dict(os.environ)
    env['PYTHONPATH'] = REPO_ROOT + os.pathsep + env.get('PYTHONPATH', '')
    if extra_pythonpath:
        env['PYTHONPATH'] = extra_pythonpath + os.pathsep + env['PYTHONPATH']
    proc = subprocess.run(
        [sys.executable] + [str(a) for a in args],
        cwd=cwd or REPO_ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        timeout=timeout)
    if proc.returncode != 0:
        raise AssertionError(f'{args} exited {proc.returncode}:\n'
                             f'{proc.stdout[-6000:]}')
    return proc.stdout
