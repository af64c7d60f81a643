"""Shared command-line plumbing of ``tools/analysis/*.py``."""
import argparse
from typing import Callable, List, Optional, Sequence

from .errors import AnalysisError


def base_parser(description: str) -> argparse.ArgumentParser:
    """An argument parser with ``--out-dir``."""
    parser = argparse.ArgumentParser(
        description=description,
        formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument(
        '--out-dir',
        default='work_dirs/analysis',
        help='folder for the PNG and the markdown/CSV tables (default: '
        'work_dirs/analysis)')
    return parser


def add_label_map(parser: argparse.ArgumentParser) -> None:
    """``--label-map``: a shipped map name or a text file."""
    parser.add_argument(
        '--label-map',
        help="class names: 'ntu60', 'ntu120', 'nwucla' or a text file with "
        'one name per line (default: the names stored with the run, else '
        "'class i'); refused if the run stores other names")


def run_names(names: Optional[Sequence[str]], default: List[str],
              what: str) -> List[str]:
    """``--names`` or the defaults; their number must match the inputs."""
    if names is None:
        return default
    if len(names) != len(default):
        raise AnalysisError(f'{len(names)} --names for {len(default)} '
                            f'{what}')
    return list(names)


def run(main: Callable[[Optional[List[str]]], None],
        argv: Optional[List[str]] = None) -> None:
    """Run a tool's ``main``; bad input (a missing file, a malformed or refused
    annotation file) ends it with ``error: ...`` on stderr and exit status 2,
    as :func:`mmcsre.utils.cli.run_cli` does for the other tools."""
    from mmcsre.datasets.validation import AnnotationError
    from mmcsre.utils.cli import run_cli
    run_cli(lambda: main(argv), errors=(AnalysisError, AnnotationError))
