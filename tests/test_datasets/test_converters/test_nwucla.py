"""NW-UCLA converter: real data (when ../shared is present) and bad input."""
import json
import zipfile

import numpy as np
import pytest
from helpers import NWUCLA_ZIP, requires_nwucla, run_tool

from mmcsre.datasets import AnnotationError, load_skeleton_pickle
from mmcsre.datasets.converters.nwucla import (ACTION_IDS, convert_nwucla,
                                               parse_name)


def _write(folder, name, skeletons):
    folder.mkdir(exist_ok=True)
    (folder / name).write_text(json.dumps(dict(skeletons=skeletons)))


def _seq(T, seed=0):
    return np.random.default_rng(seed).normal(size=(T, 20, 3)).tolist()


def test_small_folder_splits_labels_and_shapes(tmp_path):
    src = tmp_path / 'all_sqe'
    _write(src, 'a01_s01_e00_v01.json', _seq(5))
    _write(src, 'a08_s02_e01_v02.json', _seq(1))  # 1-frame sequences exist
    _write(src, 'a12_s03_e02_v03.json', _seq(7))
    data = convert_nwucla(str(src), progress=False)
    by_id = {a['frame_dir']: a for a in data['annotations']}
    assert data['split'] == dict(
        train=['a01_s01_e00_v01', 'a08_s02_e01_v02'], val=['a12_s03_e02_v03'])
    assert [by_id[k]['label'] for k in sorted(by_id)] == [0, 6, 9]
    kp = by_id['a08_s02_e01_v02']['keypoint']
    assert kp.shape == (1, 1, 20, 3) and kp.dtype == np.float32
    np.testing.assert_allclose(kp[0], np.asarray(_seq(1), np.float32))


def test_zip_input_equals_folder_input(tmp_path):
    src = tmp_path / 'all_sqe'
    _write(src, 'a02_s01_e00_v01.json', _seq(4))
    zpath = tmp_path / 'x.zip'
    with zipfile.ZipFile(zpath, 'w') as zf:
        zf.write(src / 'a02_s01_e00_v01.json', 'all_sqe/a02_s01_e00_v01.json')
    a = convert_nwucla(str(src), progress=False)['annotations'][0]
    b = convert_nwucla(str(zpath), progress=False)['annotations'][0]
    assert a['frame_dir'] == b['frame_dir'] == 'a02_s01_e00_v01'
    np.testing.assert_array_equal(a['keypoint'], b['keypoint'])


@pytest.mark.parametrize('name,content,message', [
    ('a01_s01_e00_v01.json', '{"skeletons": [[[1, 2]]]}', 'T x 20 x 3'),
    ('a01_s01_e00_v01.json', '{"skeletons": []}', 'T x 20 x 3'),
    ('a01_s01_e00_v01.json', '{"frames": []}', "cannot read 'skeletons'"),
    ('a01_s01_e00_v01.json', '{"skeletons": [[[', "cannot read 'skeletons'"),
    ('a07_s01_e00_v01.json', json.dumps(
        dict(skeletons=_seq(2))), 'unknown action id a07'),
    ('walk.json', json.dumps(dict(skeletons=_seq(2))), 'aAA_sSS_eEE_vVV'),
])
def test_malformed_file_names_the_file(tmp_path, name, content, message):
    src = tmp_path / 'all_sqe'
    src.mkdir()
    (src / name).write_text(content)
    with pytest.raises(AnnotationError, match=message) as err:
        convert_nwucla(str(src), progress=False)
    assert name in str(err.value)


def test_nan_is_rejected(tmp_path):
    src = tmp_path / 'all_sqe'
    seq = _seq(3)
    seq[1][4][2] = float('nan')
    _write(src, 'a03_s01_e00_v02.json', seq)
    with pytest.raises(AnnotationError, match='NaN'):
        convert_nwucla(str(src), progress=False)


def test_empty_or_missing_source(tmp_path):
    (tmp_path / 'empty').mkdir()
    with pytest.raises(AnnotationError, match='no aAA_sSS_eEE_vVV.json'):
        convert_nwucla(str(tmp_path / 'empty'), progress=False)
    absent = str(tmp_path / 'absent')
    with pytest.raises(
            FileNotFoundError, match=f'^{absent}: no such file or folder$'):
        convert_nwucla(absent)  # raised before a progress bar starts
    (tmp_path / 'plain.txt').write_text('x')
    with pytest.raises(FileNotFoundError, match='neither a folder nor a zip'):
        convert_nwucla(str(tmp_path / 'plain.txt'), progress=False)


def test_cli_names_a_missing_source(tmp_path, capsys):
    """``error: PATH: no such file or folder``, exit status 2, no progress
    bar and no traceback (tests/test_tools/test_cli_errors.py runs every
    tool so)."""
    import importlib.util

    from helpers import REPO_ROOT

    from mmcsre.utils import run_cli
    spec = importlib.util.spec_from_file_location(
        'nwucla_to_pkl', f'{REPO_ROOT}/tools/data/nwucla/nwucla_to_pkl.py')
    cli = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(cli)
    absent = tmp_path / 'all_sqe.zip'
    with pytest.raises(SystemExit) as exit_:
        run_cli(
            lambda: cli.main([str(absent),
                              str(tmp_path / 'x.pkl')]),
            errors=(AnnotationError, ))
    assert exit_.value.code == 2
    assert capsys.readouterr().err == \
        f'error: {absent}: no such file or folder\n'
    assert not (tmp_path / 'x.pkl').exists()


def test_parse_name():
    assert parse_name('x/a11_s02_e03_v01.json') == dict(
        action=11, subject=2, take=3, view=1)


@requires_nwucla
def test_real_nwucla_cross_view_counts(tmp_path):
    out = tmp_path / 'nwucla_3d.pkl'
    log = run_tool([
        'tools/data/nwucla/nwucla_to_pkl.py', NWUCLA_ZIP, out, '--no-progress'
    ])
    assert 'train=1020, val=464, 10 classes, V=20' in log
    data = load_skeleton_pickle(str(out))
    assert len(data['split']['train']) == 1020
    assert len(data['split']['val']) == 464
    annos = data['annotations']
    assert len(annos) == 1484
    assert {a['label'] for a in annos} == set(range(len(ACTION_IDS)))
    assert {a['keypoint'].shape[2] for a in annos} == {20}
    assert min(a['total_frames'] for a in annos) == 1
    val_views = {
        a['view']
        for a in annos if a['frame_dir'] in set(data['split']['val'])
    }
    assert val_views == {3}


def test_check_pkl_tool_reports_malformed_pickle(tmp_path):
    import pickle
    src = tmp_path / 'all_sqe'
    _write(src, 'a01_s01_e00_v01.json', _seq(3))
    _write(src, 'a02_s01_e00_v03.json', _seq(2))
    good = tmp_path / 'good.pkl'
    data = convert_nwucla(str(src), str(good), progress=False)
    out = run_tool([
        'tools/data/check_pkl.py', good, '--layout', 'nw-ucla',
        '--num-classes', '10'
    ])
    assert 'train: 1 samples' in out and out.strip().endswith('OK')
    data['annotations'][1]['label'] = 10
    bad = tmp_path / 'bad.pkl'
    with open(bad, 'wb') as f:
        pickle.dump(data, f)
    with pytest.raises(AssertionError) as err:
        run_tool(['tools/data/check_pkl.py', bad, '--num-classes', '10'])
    assert "frame_dir='a02_s01_e00_v03'" in str(err.value)
    assert "'label'=10 out of range [0, 9]" in str(err.value)
