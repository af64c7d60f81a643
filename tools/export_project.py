"""Export one mmcsre method as an mmaction2 ``projects/<name>/`` folder.

The folder runs against a plain mmaction2 install, without mmcsre::

    python tools/export_project.py csre --out projects/csre
    cd projects/csre && export PYTHONPATH=`pwd`:$PYTHONPATH
    python $MMACTION2/tools/train.py configs/csre/CONFIG.py

It holds:

- ``README.md``: the method's README (``docs/methods/<name>/README.md``)
  with an export-specific "Usage" section and config links into the folder;
- ``configs/``: the method's configs and every ``_base_`` they inherit, laid
  out as in mmcsre so the relative ``_base_`` paths hold, with
  ``custom_imports`` naming the exported package instead of ``mmcsre``;
- ``<package>/``: the mmcsre modules the method and its configs need (every
  registered type the configs name, the method's own modules, what those
  import, and mmcsre's compatibility fixes), with their imports rewritten
  from ``mmcsre`` to the package and package ``__init__`` files that import
  only what was exported;
- ``tests/``: the method's unit tests, rewritten the same way.
"""
import argparse
import ast
import glob
import os
import os.path as osp
import re
from typing import Dict, Iterable, List, Optional, Sequence, Set

from mmcsre.utils.cli import require_folder, run_cli, tool_description

REPO_ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))
SRC_PACKAGE = 'mmcsre'
# Exported with every method: the package root applies the compatibility
# fixes (checkpoint allowlist, DRN stub) and exposes the version.
ALWAYS_EXPORTED = ('mmcsre.utils.compat', 'mmcsre.version')
INSTALL_DOC = ('https://mmaction2.readthedocs.io/en/latest/get_started/'
               'installation.html')

METHODS: Dict[str, Dict] = {
    'csre':
    dict(
        title='CSRE',
        readme='docs/methods/csre/README.md',
        modules=[
            'mmcsre.models.heads.stfd_head',
            'mmcsre.models.memory.contrastive_memory_bank',
            'mmcsre.models.recognizers.multi_stream_recognizer',
            'mmcsre.engine.hooks.memory_bank_init_hook',
        ],
        configs=['configs/csre/*.py', 'configs/demo/*-csre_*.py'],
        tests=[
            'tests/test_models/test_heads/test_stfd_head.py',
            'tests/test_models/test_memory/test_contrastive_memory_bank.py',
            'tests/test_models/test_recognizers/'
            'test_multi_stream_recognizer.py',
            'tests/test_engine/test_memory_bank_init_hook.py',
        ]),
}


class ExportError(RuntimeError):
    """A method, module or config that cannot be exported."""


def module_file(module: str, root: str = REPO_ROOT) -> Optional[str]:
    """Source file of a dotted mmcsre module, ``None`` if there is none.

    Args:
        module (str): Dotted name, e.g. ``'mmcsre.models.heads'``.
        root (str): Repository root. Defaults to this repository.

    Returns:
        str | None: ``<path>.py`` for a module, ``<path>/__init__.py`` for a
        package.
    """
    base = osp.join(root, *module.split('.'))
    if osp.isfile(base + '.py'):
        return base + '.py'
    if osp.isfile(osp.join(base, '__init__.py')):
        return osp.join(base, '__init__.py')
    return None


def is_package(module: str, root: str = REPO_ROOT) -> bool:
    """Whether a dotted mmcsre name is a package (a folder with
    ``__init__.py``)."""
    path = module_file(module, root)
    return path is not None and osp.basename(path) == '__init__.py'


def _parse(path: str) -> ast.Module:
    """The syntax tree of a Python file."""
    with open(path, encoding='utf-8') as f:
        return ast.parse(f.read(), filename=path)


def _absolute(node: ast.ImportFrom, module: str, package: bool) -> str:
    """The absolute module a (possibly relative) ``from X import`` names."""
    if not node.level:
        return node.module or ''
    parts = module.split('.')
    # A package's relative imports are relative to itself, a module's to
    # the package holding it.
    keep = len(parts) - node.level + (1 if package else 0)
    base = parts[:keep]
    return '.'.join(base + ([node.module] if node.module else []))


def registered_types(root: str = REPO_ROOT) -> Dict[str, str]:
    """Every class mmcsre registers, mapped to its module.

    Args:
        root (str): Repository root. Defaults to this repository.

    Returns:
        dict[str, str]: ``{class name: dotted module}`` for classes decorated
        with ``<REGISTRY>.register_module()``.
    """
    types = {}
    pattern = osp.join(root, SRC_PACKAGE, '**', '*.py')
    for path in sorted(glob.glob(pattern, recursive=True)):
        rel = osp.relpath(path, root)[:-len('.py')]
        module = rel.replace(os.sep, '.').replace('.__init__', '')
        for node in ast.walk(_parse(path)):
            if not isinstance(node, ast.ClassDef):
                continue
            for deco in node.decorator_list:
                func = deco.func if isinstance(deco, ast.Call) else deco
                if (isinstance(func, ast.Attribute)
                        and func.attr == 'register_module'):
                    types[node.name] = module
    return types


def _resolve_name(package: str, name: str, root: str) -> Set[str]:
    """The modules that define ``name`` as ``package`` re-exports it."""
    init = module_file(package, root)
    tree = _parse(init)
    found = set()
    for node in tree.body:
        if not isinstance(node, ast.ImportFrom):
            continue
        source = _absolute(node, package, package=True)
        if not source.startswith(SRC_PACKAGE):
            continue
        names = [a.name for a in node.names]
        if name in names:
            found |= _targets(source, [name], root)
        elif '*' in names and is_package(source, root):
            found |= _resolve_name(source, name, root)
    return found


def _targets(source: str, names: Sequence[str], root: str) -> Set[str]:
    """The modules ``from source import names`` loads, beyond the packages on
    the way."""
    if not is_package(source, root):
        return {source}
    targets = set()
    for name in names:
        if name == '*' or module_file(f'{source}.{name}', root):
            sub = source if name == '*' else f'{source}.{name}'
            targets.add(sub)
            continue
        resolved = _resolve_name(source, name, root)
        if not resolved:
            raise ExportError(f'cannot tell which module of {source} '
                              f'defines {name}')
        targets |= resolved
    return targets


def imported_modules(module: str, root: str = REPO_ROOT) -> Set[str]:
    """The mmcsre modules a module imports (at any depth of its code).

    Args:
        module (str): Dotted mmcsre module.
        root (str): Repository root. Defaults to this repository.

    Returns:
        set[str]: Dotted modules; a package stands for all it imports.
    """
    path = module_file(module, root)
    package = osp.basename(path) == '__init__.py'
    found = set()
    for node in ast.walk(_parse(path)):
        if isinstance(node, ast.Import):
            found |= {
                a.name
                for a in node.names if a.name.split('.')[0] == SRC_PACKAGE
            }
        elif isinstance(node, ast.ImportFrom):
            source = _absolute(node, module, package)
            if source.split('.')[0] == SRC_PACKAGE:
                found |= _targets(source, [a.name for a in node.names], root)
    return found


def module_closure(seeds: Iterable[str], root: str = REPO_ROOT) -> Set[str]:
    """``seeds`` and every mmcsre module they import, transitively.

    A package in the result stands for everything its ``__init__`` imports.
    The packages holding the modules are not included.

    Args:
        seeds (Iterable[str]): Dotted mmcsre modules.
        root (str): Repository root. Defaults to this repository.

    Returns:
        set[str]: Dotted modules.
    """
    todo, done = list(seeds), set()
    while todo:
        module = todo.pop()
        if module in done:
            continue
        if module_file(module, root) is None:
            raise ExportError(f'no source for {module}')
        done.add(module)
        todo.extend(imported_modules(module, root) - done)
    return done


def config_bases(path: str) -> List[str]:
    """The ``_base_`` files a config names, as absolute paths.

    Args:
        path (str): Config file.

    Returns:
        list[str]: Base config paths in the order given.
    """
    for node in _parse(path).body:
        if (isinstance(node, ast.Assign) and any(
                isinstance(t, ast.Name) and t.id == '_base_'
                for t in node.targets)):
            value = ast.literal_eval(node.value)
            bases = [value] if isinstance(value, str) else list(value)
            return [
                osp.normpath(osp.join(osp.dirname(path), b)) for b in bases
            ]
    return []


def config_closure(paths: Iterable[str]) -> List[str]:
    """Configs and every base they inherit, transitively, sorted.

    Args:
        paths (Iterable[str]): Config files.

    Returns:
        list[str]: Absolute config paths.
    """
    todo, done = [osp.abspath(p) for p in paths], set()
    while todo:
        path = todo.pop()
        if path in done:
            continue
        if not osp.isfile(path):
            raise ExportError(f'config {path} not found')
        done.add(path)
        todo.extend(config_bases(path))
    return sorted(done)


def config_strings(paths: Iterable[str]) -> Set[str]:
    """Every string constant in the configs.

    Registered type names among them are what the configs build, whether
    written as ``type='X'`` or through a variable (``dataset_type = 'X'``).
    """
    return {
        node.value
        for path in paths
        for node in ast.walk(_parse(path))
        if isinstance(node, ast.Constant) and isinstance(node.value, str)
    }


def rewrite_imports(source: str, package: str) -> str:
    """Rewrite the import statements of ``source`` from mmcsre to ``package``;
    everything else (docstrings, comments) is kept.

    Args:
        source (str): Python source.
        package (str): Name of the exported package.

    Returns:
        str: The rewritten source.
    """
    lines = source.splitlines(keepends=True)
    word = re.compile(rf'\b{SRC_PACKAGE}\b')
    for node in ast.walk(ast.parse(source)):
        absolute = (
            isinstance(node, ast.ImportFrom) and not node.level
            and (node.module or '').split('.')[0] == SRC_PACKAGE)
        if absolute or isinstance(node, ast.Import):
            for i in range(node.lineno - 1, node.end_lineno):
                lines[i] = word.sub(package, lines[i])
    return ''.join(lines)


def package_init(package: str,
                 exported: Set[str],
                 root: str = REPO_ROOT,
                 new_name: str = SRC_PACKAGE) -> str:
    """The ``__init__.py`` of ``package`` limited to exported modules.

    Relative imports of modules that were not exported are dropped (names
    they bring are left out of ``__all__``), and absolute mmcsre imports are
    rewritten to ``new_name``; every other statement is kept as written.

    Args:
        package (str): Dotted mmcsre package.
        exported (set[str]): Dotted modules and packages being exported.
        root (str): Repository root. Defaults to this repository.
        new_name (str): Name of the exported package. Defaults to
            ``'mmcsre'``.

    Returns:
        str: Source of the new ``__init__.py``.
    """
    path = module_file(package, root)
    with open(path, encoding='utf-8') as f:
        source = f.read()
    lines = source.splitlines(keepends=True)
    tree = ast.parse(source)
    replace: Dict[int, str] = {}  # first line -> new text ('' drops)
    spans: Dict[int, int] = {}
    names: List[str] = []
    all_node = None
    for node in tree.body:
        if isinstance(node, ast.Assign) and any(
                isinstance(t, ast.Name) and t.id == '__all__'
                for t in node.targets):
            all_node = node
            continue
        if not (isinstance(node, ast.ImportFrom) and node.level):
            continue
        source_mod = _absolute(node, package, package=True)
        kept = [
            a for a in node.names
            if _is_exported(source_mod, a.name, exported, root)
        ]
        spans[node.lineno] = node.end_lineno
        if not kept:
            replace[node.lineno] = ''
            continue
        names += [a.asname or a.name for a in kept if a.name != '*']
        if len(kept) < len(node.names):
            parts = ', '.join(a.name + (f' as {a.asname}' if a.asname else '')
                              for a in kept)
            dots = '.' * node.level
            replace[node.lineno] = (f'from {dots}{node.module or ""} import '
                                    f'{parts}  # noqa: F401\n')
    if all_node is not None:
        spans[all_node.lineno] = all_node.end_lineno
        public = [
            n for n in names if not n.startswith('_') or n.startswith('__')
        ]
        replace[all_node.lineno] = ('__all__ = [\n' +
                                    ''.join(f"    '{n}',\n" for n in public) +
                                    ']\n' if public else '')
    out, i = [], 1
    while i <= len(lines):
        if i in replace:
            out.append(replace[i])
            i = spans[i] + 1
        else:
            out.append(lines[i - 1])
            i += 1
    return rewrite_imports(''.join(out), new_name)


def _is_exported(source: str, name: str, exported: Set[str],
                 root: str) -> bool:
    """Whether ``from source import name`` refers to exported code."""
    if name == '*' or module_file(f'{source}.{name}', root):
        target = source if name == '*' else f'{source}.{name}'
        return any(m == target or m.startswith(target + '.') for m in exported)
    if not is_package(source, root):
        return any(m == source or m.startswith(source + '.') for m in exported)
    return bool(_resolve_name(source, name, root) & _expand(exported, root))


def _expand(modules: Set[str], root: str) -> Set[str]:
    """Modules plus, for each exported package, the modules it imports."""
    return module_closure(modules, root)


def _docstring_end(source: str) -> int:
    """Offset just past a source's module docstring (0 if it has none)."""
    body = ast.parse(source).body
    if (body and isinstance(body[0], ast.Expr)
            and isinstance(body[0].value, ast.Constant)
            and isinstance(body[0].value.value, str)):
        lines = source.splitlines(keepends=True)
        return sum(len(line) for line in lines[:body[0].end_lineno])
    return 0


def _root_docstring(title: str, package: str, root: str) -> str:
    """Module docstring of the exported package."""
    version = next(
        ast.literal_eval(node.value)
        for node in _parse(osp.join(root, SRC_PACKAGE, 'version.py')).body
        if isinstance(node, ast.Assign) and any(
            isinstance(t, ast.Name) and t.id == '__version__'
            for t in node.targets))
    return (f'"""{title} for mmaction2, exported from mmcsre '
            f'{version} by\n'
            f'tools/export_project.py.\n\n``import {package}`` registers its '
            "modules into mmaction2's registries\n(scope ``mmaction``) and "
            'applies the fixes of :mod:`.utils.compat`.\n"""\n')


def _relink_readme(text: str, method: str) -> str:
    """README links made valid inside the exported folder.

    Links to configs point into ``configs/``; other links back into the mmcsre
    repository become plain text naming the mmcsre path.
    """
    text = re.sub(r'\]\((?:\.\./)+configs/', '](./configs/', text)

    def outside(match: re.Match) -> str:
        label, target = match.group(1), match.group(2)
        path = osp.normpath(osp.join('docs', 'methods', method, target))
        return f'{label} (mmcsre: `{path}`)'

    return re.sub(r'\[([^\]]+)\]\((\.\./[^)]+)\)', outside, text)


def _usage(method: str, package: str, configs: Sequence[str]) -> str:
    """The "Usage" section of an exported README."""
    example = next((c for c in configs if '-joint-' in c), configs[0])
    return f"""## Usage

This folder was written by mmcsre's `tools/export_project.py {method}`; it
needs mmaction2 (1.1.0 tested, with mmengine 0.10.7 and mmcv-lite 2.0.1)
and nothing of mmcsre.

### Setup Environment

Please refer to [Installation]({INSTALL_DOC}) to install MMAction2.
Assume that you are located at `$MMACTION2/projects/{method}`, and add it
to `PYTHONPATH` so Python finds the `{package}` package the configs import
(`custom_imports`):

```shell
export PYTHONPATH=`pwd`:$PYTHONPATH
```

### Data Preparation

The configs read pyskl-format pickles under `data/skeleton/` (see the
mmcsre README, "Data preparation"; NW-UCLA: `nwucla_3d.pkl`, NTU RGB+D:
`ntu60_3danno.pkl` / `ntu120_3danno.pkl`). Link the data folder:

```shell
ln -s ../../data ./data
```

### Training and testing commands

```shell
python $MMACTION2/tools/train.py {example}
python $MMACTION2/tools/test.py {example} $CHECKPOINT
```

`mim train mmaction {example}` works the same way.

### Tests

```shell
python -m pytest tests
```
"""


def _replace_usage(readme: str, usage: str) -> str:
    """The README with its "## Usage" section replaced by ``usage``."""
    match = re.search(r'^## Usage\n.*?(?=^## )', readme, re.M | re.S)
    if match is None:
        raise ExportError('the method README has no "## Usage" section '
                          'followed by another section')
    return readme[:match.start()] + usage + '\n' + readme[match.end():]


def export(method: str,
           out: str,
           package: Optional[str] = None,
           root: str = REPO_ROOT) -> Dict[str, List[str]]:
    """Write ``method``'s mmaction2 project folder.

    Args:
        method (str): A key of :data:`METHODS`, e.g. ``'csre'``.
        out (str): Output folder; created, must be empty if it exists.
        package (str, optional): Name of the exported Python package.
            Defaults to ``method``.
        root (str): Repository root. Defaults to this repository.

    Returns:
        dict[str, list[str]]: Written files relative to ``out``, by kind
        (``'modules'``, ``'configs'``, ``'tests'``, ``'readme'``).
    """
    if method not in METHODS:
        raise ExportError(f'unknown method {method!r}; choose from '
                          f'{sorted(METHODS)}')
    spec = METHODS[method]
    package = package or method
    if not package.isidentifier() or package == SRC_PACKAGE:
        raise ExportError(f'{package!r} cannot name the exported package')
    if osp.isdir(out) and os.listdir(out):
        raise ExportError(f'{out} exists and is not empty')
    written: Dict[str, List[str]] = dict(
        modules=[], configs=[], tests=[], readme=[])

    patterns = [osp.join(root, p) for p in spec['configs']]
    selected = sorted(p for pat in patterns for p in glob.glob(pat))
    if not selected:
        raise ExportError(f'no configs match {spec["configs"]}')
    configs = config_closure(selected)
    registry = registered_types(root)
    seeds = set(spec['modules']) | set(ALWAYS_EXPORTED)
    seeds |= {registry[t] for t in config_strings(configs) if t in registry}
    modules = module_closure(seeds, root)

    def write(rel: str, text: str, kind: str) -> None:
        path = osp.join(out, rel)
        os.makedirs(osp.dirname(path), exist_ok=True)
        with open(path, 'w', encoding='utf-8') as f:
            f.write(text)
        written[kind].append(rel)

    packages = {SRC_PACKAGE}
    for module in sorted(modules):
        parts = module.split('.')
        packages |= {'.'.join(parts[:i]) for i in range(1, len(parts))}
        if is_package(module, root):
            packages.add(module)
            continue
        with open(module_file(module, root), encoding='utf-8') as f:
            text = rewrite_imports(f.read(), package)
        rel = osp.join(package, *parts[1:]) + '.py'
        write(rel, text, 'modules')
    for pkg in sorted(packages):
        rel = osp.join(package, *pkg.split('.')[1:], '__init__.py')
        text = package_init(pkg, modules, root, package)
        if pkg == SRC_PACKAGE:
            text = _root_docstring(spec['title'], package, root) + \
                text[_docstring_end(text):]
        write(rel, text, 'modules')

    config_root = osp.join(root, 'configs')
    for path in configs:
        with open(path, encoding='utf-8') as f:
            text = f.read()
        text = re.sub(rf"(['\"]){SRC_PACKAGE}\1", rf'\g<1>{package}\1', text)
        rel = osp.join('configs', osp.relpath(path, config_root))
        write(rel, text, 'configs')

    for test in spec['tests']:
        with open(osp.join(root, test), encoding='utf-8') as f:
            text = rewrite_imports(f.read(), package)
        write(osp.join('tests', osp.basename(test)), text, 'tests')
    write(
        osp.join('tests', 'conftest.py'),
        f'"""Import {package} first: it registers its modules and applies '
        f'its\ncompatibility fixes before mmaction.models loads."""\n'
        f'import {package}  # noqa: F401\n', 'tests')

    with open(osp.join(root, spec['readme']), encoding='utf-8') as f:
        readme = _relink_readme(f.read(), method)
    shown = [
        osp.relpath(p, out)
        for p in (osp.join(out, 'configs', osp.relpath(s, config_root))
                  for s in selected)
    ]
    readme = _replace_usage(readme, _usage(method, package, shown))
    write('README.md', readme, 'readme')
    return written


def parse_args(argv: Optional[Sequence[str]] = None) -> argparse.Namespace:
    """Command-line arguments."""
    parser = argparse.ArgumentParser(description=tool_description(__doc__))
    parser.add_argument('method', choices=sorted(METHODS))
    parser.add_argument(
        '--out', required=True, help='output folder, e.g. projects/csre')
    parser.add_argument(
        '--package',
        help='name of the exported Python package (default: the method)')
    parser.add_argument(
        '--root',
        default=REPO_ROOT,
        help='mmcsre checkout to export from (default: this repository)')
    return parser.parse_args(argv)


def main(argv: Optional[Sequence[str]] = None) -> None:
    """Export the method named on the command line."""
    args = parse_args(argv)
    require_folder(
        osp.join(args.root, SRC_PACKAGE), 'folder (--root must '
        'be an mmcsre checkout)')
    written = export(args.method, args.out, args.package, args.root)
    print(f'wrote {args.out}: ' + ', '.join(f'{len(v)} {k}'
                                            for k, v in written.items()))


if __name__ == '__main__':
    run_cli(main, errors=(ExportError, ))
