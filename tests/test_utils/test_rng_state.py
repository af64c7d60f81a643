"""Global random states survive a checkpoint round trip exactly."""
import random

import numpy as np
import torch

from mmcsre.utils import get_global_rng_state, set_global_rng_state


def draws():
    return (random.random(), random.gauss(0, 1), np.random.rand(4).tolist(),
            np.random.randn(), torch.rand(4).tolist())


def test_state_round_trips_through_weights_only_checkpoint(tmp_path):
    np.random.randn()  # leave a cached gaussian in numpy's state
    random.gauss(0, 1)
    state = get_global_rng_state()
    torch.save(dict(meta=dict(rng_states=[state])), tmp_path / 'c.pth')
    expected = draws()
    loaded = torch.load(tmp_path / 'c.pth', weights_only=True)
    set_global_rng_state(loaded['meta']['rng_states'][0])
    assert draws() == expected


def test_state_is_a_copy_not_a_view():
    state = get_global_rng_state()
    first = draws()
    draws()  # moves every stream on
    set_global_rng_state(state)
    assert draws() == first
