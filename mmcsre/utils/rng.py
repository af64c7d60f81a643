"""Build training-only modules without moving the global random streams."""
import contextlib
import random
from typing import Iterator

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
