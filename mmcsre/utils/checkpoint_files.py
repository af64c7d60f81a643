"""Load checkpoint files safely and find the newest intact one to resume."""
import glob
import os
import os.path as osp
import pickle
import re
import zipfile
from typing import Callable, List, Optional, Union

import torch


class CheckpointError(RuntimeError):
    """A checkpoint file is missing, damaged, or holds refused objects."""


def checkpoint_damage(path: str) -> Optional[str]:
    """Why ``path`` is not an intact checkpoint, or None if it looks intact.

    torch saves checkpoints as (uncompressed) zip archives: a truncated file
    has no central directory and a corrupted one fails an entry's CRC.
    Reading the CRCs touches every byte once, which is cheap next to
    loading. Files in torch's pre-1.6 format pass unchecked.

    Args:
        path (str): Checkpoint file.

    Returns:
        str | None: A short reason (``'truncated (no zip directory)'``,
        ``'corrupt entry data/0'``, ...) or None.
    """
    if not osp.isfile(path):
        return 'no such file'
    if osp.getsize(path) == 0:
        return 'empty file'
    if not zipfile.is_zipfile(path):
        with open(path, 'rb') as f:
            head = f.read(2)
        if head[:1] == b'\x80':  # legacy (pre zip) torch format
            return None
        return 'truncated or not a checkpoint (no zip directory)'
    try:
        with zipfile.ZipFile(path) as archive:
            bad = archive.testzip()
    except (zipfile.BadZipFile, OSError, EOFError, ValueError) as err:
        return f'damaged zip archive ({err})'
    return None if bad is None else f'corrupt entry {bad}'


def load_checkpoint_file(path: str,
                         map_location: Union[str, torch.device, Callable,
                                             None] = 'cpu') -> dict:
    """``torch.load(path, weights_only=True)`` with errors that name the file.

    Args:
        path (str): Checkpoint file.
        map_location (str | torch.device | callable, optional): As for
            :func:`torch.load`. Defaults to 'cpu'.

    Returns:
        dict: The checkpoint.

    Raises:
        FileNotFoundError: ``path`` does not exist.
        CheckpointError: The file is truncated or corrupt, or holds objects
            that ``weights_only`` loading refuses (never executed).
    """
    path = osp.expanduser(str(path))
    if not osp.isfile(path):
        raise FileNotFoundError(f'{path}: no such checkpoint file')
    damage = checkpoint_damage(path)
    if damage is not None:
        raise CheckpointError(f'{path}: damaged checkpoint: {damage}')
    try:
        return torch.load(path, map_location=map_location, weights_only=True)
    except pickle.UnpicklingError as err:
        # torch names the refused object deep in a long message
        found = re.search(r'GLOBAL ([\w.]+)', str(err))
        what = f'global {found.group(1)}' if found else \
            ' '.join(str(err).split())[:200]
        raise CheckpointError(
            f'{path}: refused to load (it holds objects other than tensors '
            f'and plain data; nothing was executed): {what}') from err
    except (RuntimeError, EOFError, OSError, ValueError) as err:
        raise CheckpointError(
            f'{path}: damaged checkpoint ({type(err).__name__}: '
            f'{str(err).splitlines()[0] if str(err) else ""})') from err


def _candidates(work_dir: str) -> List[str]:
    """``last_checkpoint``'s target first, then ``*.pth`` newest first."""
    found = []
    pointer = osp.join(work_dir, 'last_checkpoint')
    if osp.isfile(pointer):
        with open(pointer) as f:
            target = f.read().strip()
        if target:
            found.append(target)
    files = sorted(
        glob.glob(osp.join(work_dir, '*.pth')),
        key=lambda p: (os.stat(p).st_mtime_ns, p),
        reverse=True)
    found += [
        p for p in files if osp.abspath(p) not in map(osp.abspath, found)
    ]
    return found


def find_latest_intact_checkpoint(work_dir: str,
                                  log: Optional[Callable[[str], None]] = None
                                  ) -> Optional[str]:
    """The checkpoint to resume from: ``last_checkpoint``'s target if it is
    intact, else the newest intact ``*.pth`` in ``work_dir``.

    Args:
        work_dir (str): The run's work dir.
        log (callable, optional): Called with one line per skipped file and
            for the fallback taken. Defaults to None.

    Returns:
        str | None: The path, or None when no intact checkpoint exists.
    """
    log = log or (lambda msg: None)
    skipped = []
    for path in _candidates(work_dir):
        damage = checkpoint_damage(path)
        if damage is None:
            if skipped:
                log(f'resuming from {path}, the newest intact checkpoint')
            return path
        skipped.append(path)
        log(f'skipping {path}: {damage}')
    return None


def install_checkpoint_loader() -> None:
    """Make mmengine load local checkpoints through
    :func:`load_checkpoint_file` (explicit ``weights_only=True`` and errors
    naming the file) for ``load_from``, ``--resume`` and testing."""
    from mmengine.runner.checkpoint import CheckpointLoader

    def load_from_local(filename: str, map_location) -> dict:
        return load_checkpoint_file(filename, map_location=map_location)

    CheckpointLoader._register_scheme('', load_from_local, force=True)
