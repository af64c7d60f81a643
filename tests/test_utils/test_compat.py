"""Checkpoints load with torch.load(weights_only=True) left on."""
import io
import pickle

import numpy as np
import pytest
import torch
from mmengine.logging import HistoryBuffer, MessageHub

import mmcsre  # noqa: F401
from mmcsre.utils import history_buffer_getattr, install_drn_stub


def _roundtrip(obj):
    buf = io.BytesIO()
    torch.save(obj, buf)
    buf.seek(0)
    return torch.load(buf, weights_only=True)


def test_message_hub_state_loads_with_weights_only():
    hub = MessageHub.get_instance('test_compat_hub')
    hub.update_scalar('train/loss', 1.5)
    hub.update_scalar('train/loss', 0.5)
    hub.update_info('epoch', 3)
    ckpt = dict(
        state_dict={'w': torch.ones(2)},
        message_hub=hub.state_dict(),
        meta=dict(seed=0, dtype=np.float32(1.0), arr=np.arange(3)))
    loaded = _roundtrip(ckpt)
    buf = loaded['message_hub']['log_scalars']['train/loss']
    assert isinstance(buf, HistoryBuffer)
    assert buf.mean() == pytest.approx(1.0)
    assert loaded['message_hub']['runtime_info']['epoch'] == 3
    np.testing.assert_array_equal(loaded['meta']['arr'], np.arange(3))


def test_weights_only_still_refuses_arbitrary_globals():

    class Evil:

        def __reduce__(self):
            return (print, ('pwned', ))

    buf = io.BytesIO()
    torch.save({'x': Evil()}, buf)
    buf.seek(0)
    with pytest.raises(pickle.UnpicklingError):
        torch.load(buf, weights_only=True)


def test_getattr_is_restricted_to_history_buffer_statistics():
    assert history_buffer_getattr(HistoryBuffer, 'mean') is HistoryBuffer.mean
    with pytest.raises(pickle.UnpicklingError):
        history_buffer_getattr(HistoryBuffer, '__init__')
    with pytest.raises(pickle.UnpicklingError):
        history_buffer_getattr(torch, 'load')

    class Sneaky:

        def __reduce__(self):
            return (getattr, (HistoryBuffer, '__init__'))

    buf = io.BytesIO()
    torch.save(Sneaky(), buf)
    buf.seek(0)
    with pytest.raises(pickle.UnpicklingError):
        torch.load(buf, weights_only=True)


def test_drn_stub_not_needed_for_pinned_mmaction():
    # mmaction2 1.1.0 ships localizers/drn, so nothing is stubbed and the
    # real model package imports.
    assert install_drn_stub() is False
    import mmaction.models  # noqa: F401


def test_drn_stub_installs_when_folder_missing(tmp_path, monkeypatch):
    import importlib.machinery
    import importlib.util
    import sys
    fake_root = tmp_path / 'mmaction'
    (fake_root / 'models' / 'localizers').mkdir(parents=True)
    spec = importlib.machinery.ModuleSpec('mmaction', None, is_package=True)
    spec.submodule_search_locations = [str(fake_root)]
    monkeypatch.setattr(importlib.util, 'find_spec', lambda name: spec)
    name = 'mmaction.models.localizers.drn'
    saved = {
        k: sys.modules.pop(k)
        for k in list(sys.modules) if k.startswith(name)
    }
    try:
        assert install_drn_stub() is True
        stub = sys.modules[name + '.drn']
        with pytest.raises(ImportError, match='DRN is unavailable'):
            stub.DRN()
    finally:
        for k in list(sys.modules):
            if k.startswith(name):
                del sys.modules[k]
        sys.modules.update(saved)


def test_pkg_resources_available_for_mmengine():
    # setuptools >= 82 dropped pkg_resources; requirements pin it below.
    import pkg_resources  # noqa: F401
