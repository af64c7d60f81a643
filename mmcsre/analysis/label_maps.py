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


def class_names(num_classes: int,
                label_map: Optional[str] = None,
                classes: Optional[Sequence[str]] = None) -> List[str]:
    """Names of classes ``0 .. num_classes - 1``.

    Args:
        num_classes (int): Number of classes K of the analysed run.
        label_map (str, optional): Shipped map name or text file; wins over
            ``classes``. Defaults to None.
        classes (Sequence[str], optional): Names stored with the run (the
            dump's ``classes``). Defaults to None.

    Returns:
        list[str]: K names; ``'class i'`` when neither source is given.

    Raises:
        AnalysisError: If the names do not number K.
    """
    if label_map is not None:
        names, source = load_label_map(label_map), f'label map {label_map!r}'
    elif classes is not None:
        names, source = list(classes), 'the stored class names'
    else:
        return [f'class {i}' for i in range(num_classes)]
    if len(names) != num_classes:
        raise AnalysisError(
            f'{source} has {len(names)} names but the run has {num_classes} '
            'classes; pick the label map of its dataset (shipped: '
            f'{sorted(LABEL_MAPS)})')
    return [str(n) for n in names]
