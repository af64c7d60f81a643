"""The code base passes the style checks mmaction2 uses (flake8, isort, yapf
with the settings in setup.cfg, codespell, docformatter); the same hooks are in
``.pre-commit-config.yaml``."""
import io
import os
import os.path as osp
import subprocess
import sys
import tokenize

import pytest
import yaml
from helpers import REPO_ROOT

PATHS = ['mmcsre', 'tools', 'tests', 'bench', 'configs', 'setup.py']
# Text files codespell reads besides the code.
TEXT_PATHS = [
    'docs', 'README.md', 'CHANGELOG.md', 'model-index.yml', 'requirements',
    'requirements.txt', 'setup.cfg', '.pre-commit-config.yaml'
]
TEXT_SUFFIXES = ('.py', '.md', '.txt', '.yml', '.yaml', '.cfg', '.sh')


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


def _text_files():
    """Every text file under PATHS and TEXT_PATHS (data and pickles aside)."""
    for top in PATHS + TEXT_PATHS:
        path = osp.join(REPO_ROOT, top)
        if osp.isfile(path):
            yield path
        for folder, dirs, files in os.walk(path):
            dirs[:] = [d for d in dirs if d != '__pycache__']
            for name in files:
                if name.endswith(TEXT_SUFFIXES):
                    yield osp.join(folder, name)


def _double_quoted(source):
    """Lines of single-line strings written in double quotes although they hold
    no single quote (pre-commit's double-quote-string-fixer)."""
    lines = []
    for tok in tokenize.generate_tokens(io.StringIO(source).readline):
        if tok.type != tokenize.STRING:
            continue
        body = tok.string.lstrip('rRbBuUfF')
        if (body.startswith('"') and not body.startswith('"""')
                and "'" not in body):
            lines.append(tok.start[0])
    return lines


def test_file_hygiene():
    """pre-commit-hooks' checks: no trailing whitespace, one final newline, LF
    line endings, no merge conflict markers, valid YAML, single-quoted
    strings."""
    problems = []
    for path in _text_files():
        rel = osp.relpath(path, REPO_ROOT)
        with open(path, 'rb') as f:
            raw = f.read()
        text = raw.decode('utf-8')
        if b'\r' in raw:
            problems.append(f'{rel}: CR line endings')
        if text and (not text.endswith('\n') or text.endswith('\n\n')):
            problems.append(f'{rel}: must end with exactly one newline')
        for i, line in enumerate(text.splitlines(), 1):
            if line != line.rstrip():
                problems.append(f'{rel}:{i}: trailing whitespace')
            if line.startswith(('<<<<<<< ', '>>>>>>> ')) or line == '=======':
                problems.append(f'{rel}:{i}: merge conflict marker')
        if rel.endswith(('.yml', '.yaml')):
            yaml.safe_load(text)
        if rel.endswith('.py'):
            problems += [
                f'{rel}:{i}: use single quotes' for i in _double_quoted(text)
            ]
    assert not problems, '\n'.join(problems[:50])
