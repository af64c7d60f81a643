"""Class names for the analysis tools: shipped label maps or text files."""
import os.path as osp
from typing import Dict, List, Optional, Sequence

from .errors import AnalysisError

LABEL_MAP_DIR = osp.join(osp.dirname(osp.abspath(__file__)), 'label_maps')
# Shipped maps: name -> (file, number of classes). NTU60's classes are the
# first 60 of NTU120's.
LABEL_MAPS: Dict[str, tuple] = {
    'ntu60': ('ntu120.txt', 60),
    'ntu120': ('ntu120.txt', 120),
    'nwucla': ('nwucla.txt', 10),
}


def read_label_map(path: str) -> List[str]:
    """Class names from a text file, one per line (line i is label i).

    Blank lines and lines starting with ``#`` are skipped.
    """
    if not osp.isfile(path):
        raise AnalysisError(
            f'label map {path!r} is neither a file nor one of the shipped '
            f'maps {sorted(LABEL_MAPS)}')
    with open(path, encoding='utf-8') as f:
        names = [line.strip() for line in f]
    return [n for n in names if n and not n.startswith('#')]


def load_label_map(name_or_path: str) -> List[str]:
    """A shipped label map by name (``'ntu60'``, ``'ntu120'``, ``'nwucla'``) or
    a text file."""
    if name_or_path in LABEL_MAPS:
        file, num = LABEL_MAPS[name_or_path]
        return read_label_map(osp.join(LABEL_MAP_DIR, file))[:num]
    return read_label_map(name_or_path)


def _preview(names: Sequence, shown: int = 3) -> str:
    """The first few names of a list, for messages."""
    head = ', '.join(repr(n) for n in names[:shown])
    return head + (f', ... ({len(names)} in all)'
                   if len(names) > shown else '')


def class_names(num_classes: int,
                label_map: Optional[str] = None,
                classes: Optional[Sequence[Optional[str]]] = None,
                source: Optional[str] = None) -> List[str]:
    """Names of classes ``0 .. num_classes - 1``.

    Args:
        num_classes (int): Number of classes K of the analysed run.
        label_map (str, optional): Shipped map name or text file; used
            when the run stores no class names, or the same ones. Defaults
            to None.
        classes (Sequence[str], optional): Names stored with the run (the
            dump's ``classes``; ``None`` entries are unnamed classes).
            Defaults to None.
        source (str, optional): The file the run was read from, for
            messages. Defaults to None.

    Returns:
        list[str]: K names; ``'class i'`` when neither source is given.

    Raises:
        AnalysisError: If the names do not number K, or if the run stores
            class names that ``label_map`` contradicts (a map of another
            dataset, or of another class order).
    """
    where = f'{source}: ' if source else ''
    stored = None
    if classes is not None and any(c is not None for c in classes):
        stored = list(classes)
    if label_map is not None:
        names, what = load_label_map(label_map), f'label map {label_map!r}'
    elif stored is not None:
        names, what = stored, 'the stored class names'
    else:
        return [f'class {i}' for i in range(num_classes)]
    if len(names) != num_classes:
        raise AnalysisError(
            f'{where}{what} has {len(names)} names but the run has '
            f'{num_classes} classes; pick the label map of its dataset '
            f'(shipped: {sorted(LABEL_MAPS)})')
    if label_map is not None and stored is not None:
        differ = [
            i for i, (mine, theirs) in enumerate(zip(stored, names))
            if mine is not None and str(mine) != theirs
        ]
        if differ:
            i = differ[0]
            raise AnalysisError(
                f'{where}its classes ({_preview(stored)}) differ from '
                f'{what} ({_preview(names)}): class {i} is {stored[i]!r} '
                f'there and {names[i]!r} in the map; drop --label-map to use '
                'the names it stores')
    return [f'class {i}' if n is None else str(n) for i, n in enumerate(names)]
