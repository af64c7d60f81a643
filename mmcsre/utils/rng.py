"""Build training-only modules without moving the global random streams."""
import contextlib
import random
from typing import Any, Dict, Iterator

import numpy as np
import torch


@contextlib.contextmanager
def preserve_global_rng() -> Iterator[None]:
    """Run a block, then put torch's (CPU and initialised CUDA), numpy's and
    Python's global random states back as they were before it.

    Training-only parts (memory banks, decomposition layers, auxiliary heads)
    are built inside this block, so a baseline and a method arm started with
    the same seed draw the same backbone and classifier initialisation and
    the same data augmentation: their comparison is paired.

    Example:
        >>> with preserve_global_rng():
        ...     layer = torch.nn.Linear(4, 4)  # draws, then restores
    """
    cuda = torch.cuda.is_available() and torch.cuda.is_initialized()
    torch_state = torch.get_rng_state()
    cuda_states = torch.cuda.get_rng_state_all() if cuda else None
    numpy_state = np.random.get_state()
    python_state = random.getstate()
    try:
        yield
    finally:
        torch.set_rng_state(torch_state)
        if cuda_states is not None:
            torch.cuda.set_rng_state_all(cuda_states)
        np.random.set_state(numpy_state)
        random.setstate(python_state)


def get_global_rng_state() -> Dict[str, Any]:
    """Capture Python's, numpy's and torch's (CPU and initialised CUDA) global
    random states as plain tensors and ints.

    The result holds nothing but tensors, ints, floats and strings, so it
    can be stored in a checkpoint that ``torch.load(weights_only=True)``
    reads back.

    Returns:
        dict: ``python`` (625 words + gauss), ``numpy`` (MT19937 key, pos,
        gauss), ``torch`` (ByteTensor) and ``cuda`` (list of ByteTensors,
        empty without initialised CUDA).
    """
    version, words, gauss = random.getstate()
    np_state = np.random.get_state(legacy=False)
    if np_state['bit_generator'] != 'MT19937':
        raise TypeError('numpy global generator is '
                        f"{np_state['bit_generator']}, expected MT19937")
    cuda = torch.cuda.is_available() and torch.cuda.is_initialized()
    return dict(
        python=dict(
            version=version,
            words=torch.tensor(words, dtype=torch.int64),
            gauss=gauss),
        numpy=dict(
            key=torch.from_numpy(np_state['state']['key'].astype(np.int64)),
            pos=int(np_state['state']['pos']),
            has_gauss=int(np_state['has_gauss']),
            gauss=float(np_state['gauss'])),
        torch=torch.get_rng_state(),
        cuda=list(torch.cuda.get_rng_state_all()) if cuda else [])


def set_global_rng_state(state: Dict[str, Any]) -> None:
    """Restore the states captured by :func:`get_global_rng_state`.

    Args:
        state (dict): As returned by :func:`get_global_rng_state`. CUDA
            states are restored only when as many devices are visible.
    """
    py = state['python']
    random.setstate(
        (py['version'], tuple(int(w) for w in py['words']), py['gauss']))
    npy = state['numpy']
    np.random.set_state(
        dict(
            bit_generator='MT19937',
            state=dict(
                key=npy['key'].numpy().astype(np.uint32), pos=npy['pos']),
            has_gauss=npy['has_gauss'],
            gauss=npy['gauss']))
    torch.set_rng_state(state['torch'].cpu())
    cuda = state.get('cuda') or []
    if cuda and torch.cuda.is_available() and \
            torch.cuda.device_count() == len(cuda):
        torch.cuda.set_rng_state_all(cuda)
