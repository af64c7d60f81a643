"""The code base passes the style checks mmaction2 uses (flake8, isort,
yapf with the settings in setup.cfg)."""
import subprocess
import sys

import pytest
from helpers import REPO_ROOT

PATHS = ['mmcsre', 'tools', 'tests', 'bench', 'configs', 'setup.py']


@pytest.mark.parametrize('tool,args', [
    ('flake8', []),
    ('isort', ['--check-only', '--diff']),
    ('yapf', ['--diff', '--recursive']),
])
def test_style(tool, args):
    paths = PATHS if tool != 'isort' else [p for p in PATHS if p != 'configs']
    proc = subprocess.run(
        [sys.executable, '-m', tool] + args + paths,
        cwd=REPO_ROOT,
        capture_output=True,
        text=True)
    assert proc.returncode == 0 and not proc.stdout.strip(), (
        f'{tool} found style problems (fix with: isort / yapf -i -r):\n'
        f'{proc.stdout[-4000:]}{proc.stderr[-2000:]}')
