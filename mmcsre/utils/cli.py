"""Command-line plumbing shared by ``tools/*.py``: one error style and checks
that run before anything heavy is built."""
import os.path as osp
import sys
from typing import Callable, Iterator, NoReturn, Optional, Tuple, Type

# Which converter writes the pickle a config names, by a hint in its path.
CONVERTERS = (
    ('nwucla', 'python tools/data/nwucla/nwucla_to_pkl.py '
     '../shared/data/nw-ucla/all_sqe.zip {path}'),
    ('ntu', 'python tools/data/ntu/ntu_skeleton_to_pkl.py RAW_DIR {path} '
     '(or download pyskl\'s pickle: tools/data/pyskl/README.md)'),
    ('kinetics', 'python tools/data/kinetics/kinetics_to_pkl.py RAW_DIR '
     '{path}'),
)


class CLIError(Exception):
    """Bad arguments or a missing input: reported as ``error: ...``."""


def tool_description(doc: Optional[str]) -> str:
    """A tool's ``--help`` description: its docstring's first paragraph, as one
    line (a first *line* often stops mid-sentence).

    Args:
        doc (str, optional): The module docstring.

    Returns:
        str: The paragraph.
    """
    paragraph = (doc or '').strip().split('\n\n')[0]
    return ' '.join(paragraph.split())


def fail(message: str) -> NoReturn:
    """Print ``error: MESSAGE`` to stderr and exit with status 2.

    Args:
        message (str): What went wrong, naming the file or argument.
    """
    print(f'error: {message}', file=sys.stderr, flush=True)
    raise SystemExit(2)


def run_cli(
    main: Callable[[], None], errors: Tuple[Type[BaseException], ...] = ()
) -> None:
    """Run ``main``; :class:`CLIError`, missing files and ``errors`` end it
    with ``error: ...`` and exit status 2 instead of a traceback.

    A ``FileNotFoundError`` that names its file (as ``open`` raises it) is
    reported as ``error: PATH: no such file or folder``; others by their
    message.

    Args:
        main (callable): The tool's main function.
        errors (tuple[type], optional): Further exception types that mean
            bad input. Defaults to ().
    """
    try:
        main()
    except FileNotFoundError as err:
        if err.filename is None:  # a message of ours, naming the file
            fail(str(err))
        # open()'s "[Errno 2] No such file or directory: 'x'"
        fail(f'{err.filename}: no such file or folder')
    except (CLIError, ) + tuple(errors) as err:
        fail(str(err))


def require_file(path: Optional[str], what: str = 'file') -> None:
    """Raise :class:`CLIError` unless ``path`` is an existing file.

    Args:
        path (str, optional): The path; None passes.
        what (str): What the file is, for the message. Defaults to 'file'.
    """
    if path is not None and not osp.isfile(str(path)):
        raise CLIError(f'{path}: no such {what}')


def require_folder(path: Optional[str], what: str = 'folder') -> None:
    """Raise :class:`CLIError` unless ``path`` is an existing folder.

    Args:
        path (str, optional): The path; None passes.
        what (str): What the folder is, for the message. Defaults to
            'folder'.
    """
    if path is not None and not osp.isdir(str(path)):
        raise CLIError(f'{path}: no such {what}')


def _ann_files(node, where: str) -> Iterator[Tuple[str, str]]:
    if isinstance(node, dict):
        if isinstance(node.get('ann_file'), str):
            yield where, node['ann_file']
        for key in ('dataset', 'datasets'):
            if key in node:
                yield from _ann_files(node[key], f'{where}.{key}')
    elif isinstance(node, (list, tuple)):
        for i, child in enumerate(node):
            yield from _ann_files(child, f'{where}[{i}]')


def check_annotation_files(
    cfg, loaders=('train_dataloader', 'val_dataloader', 'test_dataloader')
) -> None:
    """Raise :class:`CLIError` naming the converter to run when a dataset of
    ``cfg`` points at a missing ``ann_file``.

    Args:
        cfg (Config | dict): Run config.
        loaders (Sequence[str]): Dataloader entries to check.
    """
    for loader in loaders:
        loader_cfg = cfg.get(loader) or {}
        for where, path in _ann_files(
                loader_cfg.get('dataset'), f'{loader}.dataset'):
            if osp.isfile(path):
                continue
            hint = next((cmd.format(path=path) for key, cmd in CONVERTERS
                         if key in osp.basename(path).lower()), None)
            how = f'; create it with: {hint}' if hint else \
                '; see docs/datasets.md for how to make one'
            raise CLIError(f'{path}: no such annotation file ({where}.'
                           f'ann_file){how}')
