"""Fixtures of the analysis tests: written score dumps and in-process access to
the tools/analysis command lines."""
import importlib.util
import os.path as osp

import mmengine
import pytest
from helpers import REPO_ROOT


@pytest.fixture
def write_dump(tmp_path):
    """``write_dump(name, dump) -> path`` of a pickled dump."""

    def write(name, dump):
        path = tmp_path / 'dumps' / name / 'scores.pkl'
        path.parent.mkdir(parents=True, exist_ok=True)
        mmengine.dump(dump, str(path))
        return str(path)

    return write


@pytest.fixture
def tool():
    """``tool(name)``: the module of ``tools/analysis/NAME.py``."""

    def load(name):
        path = osp.join(REPO_ROOT, 'tools', 'analysis', f'{name}.py')
        spec = importlib.util.spec_from_file_location(f'tool_{name}', path)
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        return module

    return load
