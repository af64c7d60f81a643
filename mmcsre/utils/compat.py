"""Workarounds for known problems of today's OpenMMLab releases.

Each function is idempotent and is applied by ``import mmcsre``:

* :func:`allow_mmengine_checkpoints` -- torch >= 2.6 loads checkpoints with
  ``weights_only=True`` by default; mmengine 0.10.x calls ``torch.load``
  without the argument and its checkpoints hold a few plain Python/numpy/
  mmengine objects (the message hub's ``HistoryBuffer``, numpy scalars and
  dtypes, and ``getattr(HistoryBuffer, 'mean')``-style references). We
  allowlist exactly those, with a ``getattr`` that only resolves
  HistoryBuffer's statistics methods, instead of turning ``weights_only``
  off, so arbitrary pickled code is still refused.
* mmcv-lite lacks compiled ops; the warning mmcv prints about a missing
  deformable-attention op (never used by skeleton models) is silenced.
* :func:`install_drn_stub` -- the mmaction2 1.2.0 wheel lacks
  ``mmaction/models/localizers/drn`` so ``import mmaction.models`` fails.
  A stub module stands in for it (DRN itself, a video grounding model, is
  then unavailable; nothing in skeleton recognition uses it).
"""
import importlib.util
import os.path as osp
import pickle
import sys
import types
import warnings
from typing import List

import numpy as np
import torch


def history_buffer_getattr(obj: object, name: str) -> object:
    """A ``getattr`` restricted to HistoryBuffer's statistics methods.

    mmengine pickles ``HistoryBuffer._statistics_methods`` as
    ``getattr(HistoryBuffer, 'mean')`` etc. Allowlisting the builtin
    ``getattr`` would let a checkpoint reach any attribute (and from there
    ``eval``), so checkpoints get this one instead.
    """
    from mmengine.logging.history_buffer import HistoryBuffer
    allowed = getattr(HistoryBuffer, '_statistics_methods', {})
    if obj is not HistoryBuffer or name.startswith('_') or (
            name not in allowed
            and name not in ('min', 'max', 'mean', 'current')):
        raise pickle.UnpicklingError(
            f'refusing getattr({obj!r}, {name!r}) while loading a checkpoint'
            ' (only HistoryBuffer statistics methods are allowed)')
    return getattr(HistoryBuffer, name)


def _numpy_multiarray() -> types.ModuleType:
    """numpy's ``multiarray`` module (``numpy._core`` or ``numpy.core``)."""
    core = getattr(np, '_core', None) or getattr(np, 'core')
    return core.multiarray


def _safe_checkpoint_globals() -> List[object]:
    """Objects mmengine writes into checkpoints besides tensors."""
    from mmengine.logging.history_buffer import HistoryBuffer
    multiarray = _numpy_multiarray()
    safe = [HistoryBuffer, np.ndarray, np.dtype]
    # numpy >= 2 pickles as numpy._core.*, numpy 1.x as numpy.core.*: accept
    # checkpoints written by either.
    for module in ('numpy._core.multiarray', 'numpy.core.multiarray'):
        safe.append((multiarray._reconstruct, f'{module}._reconstruct'))
        safe.append((multiarray.scalar, f'{module}.scalar'))
    dtypes = getattr(np, 'dtypes', None)
    if dtypes is not None:
        safe += [
            getattr(dtypes, name) for name in dir(dtypes) if
            name.endswith('DType') and isinstance(getattr(dtypes, name), type)
        ]
    safe += [(history_buffer_getattr, 'builtins.getattr'),
             (history_buffer_getattr, '__builtin__.getattr')]
    return safe


def allow_mmengine_checkpoints() -> None:
    """Allowlist the non-tensor objects of mmengine checkpoints for
    ``torch.load(weights_only=True)``."""
    add = getattr(torch.serialization, 'add_safe_globals', None)
    if add is None:  # torch < 2.4: weights_only is off by default anyway
        return
    add(_safe_checkpoint_globals())


def silence_mmcv_lite_warning() -> None:
    """Hide mmcv-lite's warning about its missing deformable-attention op."""
    warnings.filterwarnings(
        'ignore', message='Fail to import ``MultiScaleDeformableAttention``')


def install_drn_stub() -> bool:
    """Stand in for ``mmaction.models.localizers.drn`` if the installed
    mmaction2 lacks it.

    Returns:
        bool: Whether a stub was installed.
    """
    spec = importlib.util.find_spec('mmaction')
    if spec is None or not spec.submodule_search_locations:
        return False
    root = list(spec.submodule_search_locations)[0]
    localizers = osp.join(root, 'models', 'localizers')
    if not osp.isdir(localizers) or osp.isdir(osp.join(localizers, 'drn')):
        return False
    name = 'mmaction.models.localizers.drn'
    if name in sys.modules:
        return False

    class DRN:  # noqa: D101 - placeholder
        """Placeholder for mmaction2's DRN, missing from its 1.2.0 wheel."""

        def __init__(self, *args, **kwargs) -> None:
            raise ImportError('mmaction2 was installed without '
                              'models/localizers/drn; DRN is unavailable')

    package = types.ModuleType(name)
    package.__path__ = []
    module = types.ModuleType(name + '.drn')
    module.DRN = package.DRN = DRN
    sys.modules[name] = package
    sys.modules[name + '.drn'] = module
    return True
