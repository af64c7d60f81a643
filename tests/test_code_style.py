"""The code base passes the style checks mmaction2 uses (flake8, isort, yapf
with the settings in setup.cfg, codespell, docformatter); the same hooks are
in .pre-commit-config.yaml."""
import subprocess
import sys

import pytest
from helpers import REPO_ROOT

PATHS = ['mmcsre', 'tools', 'tests', 'bench', 'configs', 'setup.py']
# Text files codespell reads besides the code.
TEXT_PATHS = [
    'docs', 'README.md', 'CHANGELOG.md', 'model-index.yml', 'requirements',
    'requirements.txt', 'setup.cfg', '.pre-commit-config.yaml'
]


@pytest.mark.parametrize('tool,args', [
    ('flake8', []),
    ('isort', ['--check-only', '--diff']),
    ('yapf', ['--diff', '--recursive']),
    ('codespell_lib', []),
    ('docformatter', ['--check', '--recursive', '--wrap-descriptions', '79']),
])
def test_style(tool, args):
    paths = PATHS if tool != 'isort' else [p for p in PATHS if p != 'configs']
    if tool == 'codespell_lib':  # settings in setup.cfg [codespell]
        paths = PATHS + TEXT_PATHS
    proc = subprocess.run(
        [sys.executable, '-m', tool] + args + paths,
        cwd=REPO_ROOT,
        capture_output=True,
        text=True)
    assert proc.returncode == 0 and not proc.stdout.strip(), (
        f'{tool} found style problems (fix with: isort / yapf -i -r / '
        'docformatter -i -r --wrap-descriptions 79 / codespell -w):\n'
        f'{proc.stdout[-4000:]}{proc.stderr[-2000:]}')
