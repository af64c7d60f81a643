"""Docstring gates: interrogate's coverage of mmcsre/ (settings in setup.cfg,
mmaction2's flags, at least 90 %) and, for every public class, an ``Args:``
section that documents each constructor argument with its default, and a
``forward`` docstring that gives tensor shapes."""
import importlib
import inspect
import pkgutil
import re
import subprocess
import sys
from typing import Dict, Optional

import pytest
import torch.nn as nn
from helpers import REPO_ROOT

import mmcsre

SECTION = re.compile(
    r'^(Args|Arguments|Returns|Return|Yields|Raises|Examples?|Notes?|'
    r'Attributes|Warnings?|Todo|References?):\s*$')
# A shape such as (N, C, T, V), (B, D) or (N * M, C): an opening bracket
# followed by a capital letter or a digit and a comma.
DEFAULT = re.compile(r'\bDefaults? (to|is)\b|\bDefault:')
SHAPE = re.compile(r'\(\s*[A-Z][\w\s*\']*,')


def test_docstring_coverage():
    proc = subprocess.run(
        [sys.executable, '-m', 'interrogate', '-vv', 'mmcsre'],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True)
    missed = [line for line in proc.stdout.splitlines() if 'MISSED' in line]
    assert proc.returncode == 0, (
        'docstring coverage below the setup.cfg threshold; undocumented:\n' +
        '\n'.join(missed) + proc.stdout[-600:] + proc.stderr[-2000:])
    assert 'RESULT: PASSED' in proc.stdout


def parse_args_section(doc: str) -> Optional[Dict[str, str]]:
    """``{argument: description}`` of a Google-style ``Args:`` section,
    ``None`` if the docstring has none."""
    lines = inspect.cleandoc(doc).splitlines()
    start = next((i for i, line in enumerate(lines)
                  if line.strip() in ('Args:', 'Arguments:')), None)
    if start is None:
        return None
    entries: Dict[str, str] = {}
    indent, name = None, None
    for line in lines[start + 1:]:
        if not line.strip():
            continue
        depth = len(line) - len(line.lstrip())
        if depth == 0 or SECTION.match(line.strip()):
            break
        if indent is None:
            indent = depth
        if depth == indent:
            match = re.match(r'\s*\**(\w+)\s*(\([^)]*\))?\s*:(.*)', line)
            if match is None:
                break
            name = match.group(1)
            entries[name] = match.group(3)
        elif name is not None:
            entries[name] += ' ' + line.strip()
    return entries


def _public_classes():
    classes = {}
    for info in pkgutil.walk_packages(mmcsre.__path__, 'mmcsre.'):
        module = importlib.import_module(info.name)
        for name, cls in vars(module).items():
            if (inspect.isclass(cls) and cls.__module__ == info.name
                    and not name.startswith('_')
                    and not issubclass(cls, BaseException)):
                classes[f'{info.name}.{name}'] = cls
    return classes


PUBLIC_CLASSES = _public_classes()


def test_parse_args_section():
    doc = """Summary.

    Args:
        a (int): First, continued
            (with a bracket: inside). Defaults to 1.
        **kwargs: Passed on.

    Returns:
        int: Something.
    """
    assert parse_args_section(doc) == {
        'a': ' First, continued (with a bracket: inside). Defaults to 1.',
        'kwargs': ' Passed on.'
    }
    assert parse_args_section('No sections.') is None


def test_public_classes_found():
    for name in ('STFDHead', 'ContrastiveMemoryBank', 'MultiStreamRecognizer',
                 'MemoryBankInitHook', 'SkeletonDataset', 'SkeletonLayout'):
        assert any(q.endswith('.' + name) for q in PUBLIC_CLASSES), name


@pytest.mark.parametrize('qualname', sorted(PUBLIC_CLASSES))
def test_public_class_documents_args_and_shapes(qualname):
    cls = PUBLIC_CLASSES[qualname]
    init = cls.__dict__.get('__init__')
    if init is None and hasattr(cls, '__dataclass_fields__'):
        init = cls  # a dataclass: its fields are the arguments
    params = []
    if init is not None:
        params = [
            p for p in inspect.signature(init).parameters.values()
            if p.name != 'self' and p.kind not in (p.VAR_POSITIONAL,
                                                   p.VAR_KEYWORD)
        ]
    doc = (cls.__doc__ or '') + '\n' + inspect.cleandoc(
        getattr(cls.__dict__.get('__init__'), '__doc__', None) or '')
    if params:
        args = parse_args_section(doc)
        assert args is not None, f'{qualname}: no Args section'
        for p in params:
            assert p.name in args, f'{qualname}: {p.name} not documented'
            if p.default is not inspect.Parameter.empty:
                assert DEFAULT.search(args[p.name]), (
                    f'{qualname}: {p.name} does not say its default '
                    '("Defaults to ...")')
    if issubclass(cls, nn.Module) and 'forward' in cls.__dict__:
        forward_doc = inspect.getdoc(cls.__dict__['forward']) or ''
        assert SHAPE.search(forward_doc), (
            f'{qualname}.forward: docstring gives no tensor shape such as '
            '(N, C, T, V)')
