"""tools/data/check_pkl.py: files without a split dict, --split on such a
file, and errors that give a sample's index in the file."""
import importlib.util
import os.path as osp
import pickle

import numpy as np
import pytest
from helpers import REPO_ROOT

from mmcsre.datasets import AnnotationError


@pytest.fixture(scope='module')
def check_pkl():
    path = osp.join(REPO_ROOT, 'tools', 'data', 'check_pkl.py')
    spec = importlib.util.spec_from_file_location('check_pkl_tool', path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.main


def anno(frame_dir, label=0, frames=4):
    kp = np.random.default_rng(0).normal(size=(1, frames, 25, 3))
    return dict(
        frame_dir=frame_dir, label=label, keypoint=kp.astype(np.float32))


def write(tmp_path, data, name='ann.pkl'):
    path = tmp_path / name
    path.write_bytes(pickle.dumps(data, protocol=4))
    return str(path)


def test_file_without_split_dict(tmp_path, check_pkl, capsys):
    path = write(tmp_path, dict(annotations=[anno('a'), anno('b', 1)]))
    check_pkl([path])
    out = capsys.readouterr().out.splitlines()
    assert out[0] == (f"note: {path} has no 'split' dict; checked all "
                      'annotations')
    assert out[1].startswith('all: 2 samples, 2 classes')
    assert out[-1] == 'OK'
    # a bare list of annotations is the same
    check_pkl([write(tmp_path, [anno('a')], 'list.pkl')])
    assert "has no 'split' dict" in capsys.readouterr().out


def test_empty_split_dict_is_reported(tmp_path, check_pkl, capsys):
    path = write(tmp_path, dict(split={}, annotations=[anno('a')]))
    check_pkl([path])
    assert f'note: {path} has an empty dict' in capsys.readouterr().out


def test_split_asked_for_but_none_in_file(tmp_path, check_pkl):
    path = write(tmp_path, dict(annotations=[anno('a')]))
    with pytest.raises(AnnotationError) as info:
        check_pkl([path, '--split', 'train'])
    msg = str(info.value)
    assert msg.startswith(f"{path} has no 'split' dict, so --split train "
                          'cannot be checked')


def test_split_that_is_not_a_dict(tmp_path, check_pkl):
    path = write(tmp_path, dict(split=['a'], annotations=[anno('a')]))
    with pytest.raises(AnnotationError, match="'split' must be a dict"):
        check_pkl([path])


def test_duplicated_ids_give_both_indices_in_the_file(tmp_path, check_pkl):
    annos = [anno('a'), anno('b'), anno('c'), anno('b')]
    path = write(tmp_path,
                 dict(split=dict(train=['a'], val=['c']), annotations=annos))
    with pytest.raises(AnnotationError) as info:
        check_pkl([path])
    assert str(info.value) == (
        f"{path}: index 3 in the file, frame_dir='b': duplicated frame_dir, "
        'first seen at index 1')


def test_split_errors_give_the_index_in_the_file(tmp_path, check_pkl):
    annos = [anno('a'), anno('b'), anno('c'), anno('d', label=7)]
    path = write(
        tmp_path,
        dict(split=dict(train=['a', 'b'], val=['d', 'b']), annotations=annos))
    with pytest.raises(AnnotationError) as info:
        check_pkl([path, '--split', 'val', '--num-classes', '5'])
    msg = str(info.value)
    assert msg.startswith(f'{path} [val], sample #1 (index 3 in the file), '
                          "frame_dir='d': 'label'=7 out of range [0, 4]"), msg
