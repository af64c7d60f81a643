"""No code under mmcsre/, tools/, bench/ or configs/ loads files in a way that
can run code from them: an AST scan for ``pickle.load(s)``, unpicklers,
``mmengine.load``, ``torch.load`` without ``weights_only=True``,
``np.load(allow_pickle=True)``, ``pandas.read_pickle``, ``joblib``, ``dill``,
``shelve``, ``marshal`` and unsafe YAML loading.

Files are read through
:mod:`mmcsre.fileio` instead.
"""
import ast
import os
import os.path as osp
from typing import Dict, List, Optional

import pytest
from helpers import REPO_ROOT

SCANNED = ('mmcsre', 'tools', 'bench', 'configs', 'setup.py')
SAFE_MODULE = osp.join('mmcsre', 'fileio', 'safe_pickle.py')

# Dotted names that are unsafe wherever they are used.
UNSAFE = {
    'pickle.load', 'pickle.loads', 'pickle.Unpickler', 'pickle._Unpickler',
    'pickle._load', 'pickle._loads', '_pickle.load', '_pickle.loads',
    '_pickle.Unpickler', 'cPickle.load', 'cPickle.loads', 'cPickle.Unpickler',
    'cloudpickle.load', 'cloudpickle.loads', 'pickle5.load', 'pickle5.loads',
    'joblib.load', 'pandas.read_pickle', 'pandas.io.pickle.read_pickle',
    'shelve.open', 'shelve.DbfilenameShelf', 'shelve.Shelf', 'marshal.load',
    'marshal.loads', 'mmengine.load', 'mmengine.fileio.load',
    'mmengine.fileio.io.load', 'mmengine.fileio.PickleHandler',
    'mmengine.fileio.handlers.PickleHandler',
    'mmengine.fileio.handlers.pickle_handler.PickleHandler',
    'yaml.unsafe_load', 'yaml.unsafe_load_all', 'yaml.full_load',
    'yaml.full_load_all', 'yaml.Loader', 'yaml.UnsafeLoader',
    'yaml.FullLoader', 'numpy.lib.format.read_array'
}
# Packages whose every use is unsafe.
UNSAFE_PACKAGES = ('dill', 'cloudpickle', 'pickle5', 'joblib')
# Allowed only in the safe module (it subclasses the pure-Python unpickler).
SAFE_MODULE_ONLY = {'pickle.Unpickler', 'pickle._Unpickler'}
# Unsafe unless called with the right arguments.
TORCH_LOAD = {'torch.load', 'torch.serialization.load'}
NUMPY_LOAD = {'numpy.load'}
YAML_LOAD = {'yaml.load', 'yaml.load_all'}
SAFE_YAML_LOADERS = {'yaml.SafeLoader', 'yaml.CSafeLoader', 'yaml.BaseLoader'}
# Modules that give the unsafe functions by name (getattr, import_module).
PICKLING_MODULES = ('pickle', '_pickle', 'cPickle', 'dill', 'cloudpickle',
                    'shelve', 'marshal', 'joblib', 'pickle5')


class _Scanner(ast.NodeVisitor):
    """Collects ``(line, message)`` for every unsafe load of one module."""

    def __init__(self, allow_unpickler: bool) -> None:
        self.aliases: Dict[str, str] = {}
        self.problems: List[tuple] = []
        self.calls: Dict[int, ast.Call] = {}
        self.allow_unpickler = allow_unpickler

    # -- name resolution ---------------------------------------------------
    def visit_Import(self, node: ast.Import) -> None:
        for alias in node.names:
            if alias.asname:
                self.aliases[alias.asname] = alias.name
            else:
                root = alias.name.split('.')[0]
                self.aliases[root] = root
            self._check_package(node, alias.name)

    def visit_ImportFrom(self, node: ast.ImportFrom) -> None:
        if node.level or not node.module:
            return
        for alias in node.names:
            full = f'{node.module}.{alias.name}'
            if alias.name == '*' and node.module.split('.')[0] in \
                    PICKLING_MODULES:
                self.report(node, f'from {node.module} import *')
            self.aliases[alias.asname or alias.name] = full
            self._check_package(node, full)
            self._check_name(node, full)

    def _check_package(self, node: ast.AST, name: str) -> None:
        if name.split('.')[0] in UNSAFE_PACKAGES:
            self.report(node, f'imports {name}')

    def dotted(self, node: ast.AST) -> Optional[str]:
        """The imported dotted name an expression refers to, if any."""
        if isinstance(node, ast.Name):
            return self.aliases.get(node.id)
        if isinstance(node, ast.Attribute):
            base = self.dotted(node.value)
            return None if base is None else f'{base}.{node.attr}'
        return None

    def report(self, node: ast.AST, message: str) -> None:
        self.problems.append((getattr(node, 'lineno', 0), message))

    # -- checks ------------------------------------------------------------
    def _check_name(self, node: ast.AST, name: str) -> None:
        if name in UNSAFE and not (self.allow_unpickler
                                   and name in SAFE_MODULE_ONLY):
            self.report(node, f'uses {name}')

    def visit_Call(self, node: ast.Call) -> None:
        self.calls[id(node.func)] = node
        name = self.dotted(node.func)
        keywords = {k.arg: k.value for k in node.keywords if k.arg}
        if name in TORCH_LOAD:
            flag = keywords.get('weights_only')
            if not (isinstance(flag, ast.Constant) and flag.value is True):
                self.report(node, f'{name} without a literal '
                            'weights_only=True')
        elif name in NUMPY_LOAD:
            flag = keywords.get('allow_pickle')
            if len(node.args) > 2 or (flag is not None
                                      and not (isinstance(flag, ast.Constant)
                                               and flag.value is False)):
                self.report(node, f'{name} with allow_pickle')
        elif name in YAML_LOAD:
            loader = keywords.get('Loader')
            if loader is None and len(node.args) > 1:
                loader = node.args[1]
            if loader is None or self.dotted(loader) not in \
                    SAFE_YAML_LOADERS:
                self.report(
                    node, f'{name} without SafeLoader (use '
                    'yaml.safe_load)')
        elif name in ('builtins.getattr', None) and isinstance(
                node.func, ast.Name) and node.func.id == 'getattr':
            target = self.dotted(node.args[0]) if node.args else None
            if target in PICKLING_MODULES:
                self.report(node, f'getattr on the {target} module')
        elif name in ('importlib.import_module', ) or (isinstance(
                node.func, ast.Name) and node.func.id == '__import__'):
            arg = node.args[0] if node.args else None
            if isinstance(arg, ast.Constant) and str(arg.value).split(
                    '.')[0] in PICKLING_MODULES + ('mmengine', ):
                self.report(node, f'imports {arg.value} dynamically')
        self.generic_visit(node)

    def visit_Attribute(self, node: ast.Attribute) -> None:
        self._check_reference(node)
        self.generic_visit(node)

    def visit_Name(self, node: ast.Name) -> None:
        self._check_reference(node)

    def _check_reference(self, node: ast.AST) -> None:
        name = self.dotted(node)
        if name is None:
            return
        self._check_name(node, name)
        if name.split('.')[0] in UNSAFE_PACKAGES and '.' in name:
            self.report(node, f'uses {name}')
        conditional = TORCH_LOAD | NUMPY_LOAD | YAML_LOAD
        if name in conditional and id(node) not in self.calls:
            # passed around instead of called: its arguments are unknown
            self.report(node, f'refers to {name} outside a call')


def unsafe_loads(source: str, path: str = '<source>') -> List[str]:
    """``'path:line: message'`` for every unsafe load in ``source``."""
    tree = ast.parse(source, filename=path)
    scanner = _Scanner(
        allow_unpickler=osp.normpath(path).endswith(SAFE_MODULE))
    # calls first, so that references know which nodes are called
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            scanner.calls[id(node.func)] = node
    scanner.visit(tree)
    return [f'{path}:{line}: {msg}' for line, msg in sorted(scanner.problems)]


def python_files():
    for top in SCANNED:
        root = osp.join(REPO_ROOT, top)
        if osp.isfile(root):
            yield root
        for folder, dirs, files in os.walk(root):
            dirs[:] = [d for d in dirs if d != '__pycache__']
            for name in sorted(files):
                if name.endswith('.py'):
                    yield osp.join(folder, name)


# --------------------------------------------------------------------------
# the scanner catches planted examples ...
# --------------------------------------------------------------------------
PLANTED = {
    'pickle.load':
    'import pickle\nwith open(p, "rb") as f:\n    x = pickle.load(f)\n',
    'pickle.loads':
    'import pickle\nx = pickle.loads(b)\n',
    'aliased pickle':
    'import pickle as pk\nx = pk.load(f)\n',
    'from-import':
    'from pickle import loads\nx = loads(b)\n',
    'from-import alias':
    'from pickle import load as read\nx = read(f)\n',
    'star import':
    'from pickle import *\n',
    'Unpickler subclass':
    'import pickle\nclass U(pickle.Unpickler):\n    pass\n',
    'Unpickler call':
    'import pickle\nx = pickle.Unpickler(f).load()\n',
    'cPickle':
    'import _pickle as cPickle\nx = cPickle.loads(b)\n',
    'pickle reference':
    'import pickle\nreader = pickle.load\n',
    'getattr pickle':
    'import pickle\nx = getattr(pickle, "load")(f)\n',
    'dynamic import':
    'import importlib\nm = importlib.import_module('
    '"pickle")\n',
    'mmengine.load':
    'import mmengine\nx = mmengine.load("a.pkl")\n',
    'mmengine.fileio.load':
    'import mmengine.fileio\n'
    'x = mmengine.fileio.load(p)\n',
    'fileio.load':
    'from mmengine import fileio\nx = fileio.load(p)\n',
    'from mmengine import load':
    'from mmengine import load\nx = load(p)\n',
    'PickleHandler':
    'from mmengine.fileio import PickleHandler\n',
    'torch.load bare':
    'import torch\nx = torch.load(p)\n',
    'torch.load weights_only=False':
    'import torch\nx = torch.load(p, weights_only=False)\n',
    'torch.load weights_only variable':
    'import torch\nx = torch.load(p, weights_only=flag)\n',
    'torch.load reference':
    'import torch\nf = torch.load\n',
    'np.load allow_pickle=True':
    'import numpy as np\nx = np.load(p, allow_pickle=True)\n',
    'np.load positional allow_pickle':
    'import numpy as np\nx = np.load(p, None, True)\n',
    'numpy.load allow_pickle variable':
    'import numpy\nx = numpy.load(p, allow_pickle=ok)\n',
    'pandas.read_pickle':
    'import pandas as pd\nx = pd.read_pickle(p)\n',
    'joblib.load':
    'import joblib\nx = joblib.load(p)\n',
    'dill':
    'import dill\n',
    'dill from-import':
    'from dill import loads\n',
    'shelve':
    'import shelve\ndb = shelve.open(p)\n',
    'marshal':
    'import marshal\ncode = marshal.loads(b)\n',
    'yaml.load bare':
    'import yaml\nx = yaml.load(f)\n',
    'yaml.load Loader':
    'import yaml\nx = yaml.load(f, Loader=yaml.Loader)\n',
    'yaml.load FullLoader positional':
    'import yaml\nx = yaml.load(f, yaml.FullLoader)\n',
    'yaml.unsafe_load':
    'import yaml\nx = yaml.unsafe_load(f)\n',
    'yaml.full_load':
    'import yaml\nx = yaml.full_load(f)\n',
    'nested in a function':
    'def f(p):\n    import pickle\n'
    '    return pickle.load(open(p, "rb"))\n',
}

SAFE = {
    'pickle.dump':
    'import pickle\npickle.dump(x, f, protocol=4)\n',
    'pickle.UnpicklingError':
    'import pickle\ntry:\n    pass\nexcept pickle.UnpicklingError:\n'
    '    pass\n',
    'torch.load weights_only=True':
    'import torch\nx = torch.load(p, map_location="cpu", weights_only=True)'
    '\n',
    'np.load plain':
    'import numpy as np\nx = np.load(p)\n',
    'np.load allow_pickle=False':
    'import numpy as np\nwith np.load(p, allow_pickle=False) as d:\n'
    '    pass\n',
    'yaml.safe_load':
    'import yaml\nx = yaml.safe_load(f)\n',
    'yaml.load SafeLoader':
    'import yaml\nx = yaml.load(f, Loader=yaml.SafeLoader)\n',
    'mmengine.dump':
    'import mmengine\nmmengine.dump(x, "a.pkl")\n',
    'a local load method':
    'x = loader.load(p)\nload = 3\n',
    'json.load':
    'import json\nx = json.load(f)\n',
    'mmcsre.fileio':
    'from mmcsre.fileio import safe_load\nx = safe_load(p)'
    '\n',
}


@pytest.mark.parametrize('name', sorted(PLANTED))
def test_scanner_catches_planted_unsafe_load(name):
    found = unsafe_loads(PLANTED[name], 'planted.py')
    assert found, f'{name}: not caught'
    assert all(f.startswith('planted.py:') for f in found)


@pytest.mark.parametrize('name', sorted(SAFE))
def test_scanner_passes_safe_code(name):
    assert unsafe_loads(SAFE[name], 'ok.py') == []


def test_only_the_safe_module_may_subclass_the_unpickler():
    for base in ('pickle.Unpickler', 'pickle._Unpickler'):
        source = f'import pickle\nclass U({base}):\n    pass\n'
        assert unsafe_loads(source, osp.join(REPO_ROOT, SAFE_MODULE)) == []
        assert unsafe_loads(source, 'mmcsre/other.py')
    # pickle.load stays forbidden even there
    assert unsafe_loads('import pickle\npickle.loads(b)\n',
                        osp.join(REPO_ROOT, SAFE_MODULE))


def test_planted_file_in_the_tree_is_caught(tmp_path):
    """The tree walk reads the files it should: a planted module fails."""
    planted = tmp_path / 'evil_loader.py'
    planted.write_text(PLANTED['pickle.load'])
    assert unsafe_loads(planted.read_text(), str(planted))
    assert len(list(python_files())) > 100


# --------------------------------------------------------------------------
# ... and the code base has none
# --------------------------------------------------------------------------
def test_no_unsafe_loads_in_the_code_base():
    problems = []
    for path in python_files():
        with open(path, encoding='utf-8') as f:
            problems += unsafe_loads(f.read(), osp.relpath(path, REPO_ROOT))
    assert not problems, (
        'unsafe file loading (use mmcsre.fileio.safe_pickle_load / safe_load,'
        ' json, yaml.safe_load, torch.load(..., weights_only=True)):\n' +
        '\n'.join(problems))
