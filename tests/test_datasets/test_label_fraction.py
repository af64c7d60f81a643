"""Class-balanced label-fraction splits and
tools/data/make_label_fraction_split.py."""
import pickle

import numpy as np
import pytest
from helpers import REPO_ROOT, run_tool

from mmcsre.datasets import (AnnotationError, SkeletonDataset,
                             add_label_fraction_splits, class_balanced_subsets,
                             fraction_split_name)
from mmcsre.datasets.label_fraction import class_quota
from mmcsre.utils import CLIError

TOOL = f'{REPO_ROOT}/tools/data/make_label_fraction_split.py'
# 10 classes of unequal size (3 to 57 samples).
COUNTS = np.array([3, 10, 57, 20, 8, 31, 12, 40, 5, 14])
LABELS = np.random.default_rng(0).permutation(np.repeat(np.arange(10), COUNTS))
FRACTIONS = [1, 5, 10, 20, 30, 40, 50, 100]


def load_tool():
    import importlib.util
    spec = importlib.util.spec_from_file_location('make_fractions', TOOL)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def fake_data(labels=LABELS, num_val=4):
    annos = [
        dict(
            frame_dir=f's{i}',
            label=int(label),
            keypoint=np.zeros((1, 2, 20, 3), np.float32))
        for i, label in enumerate(labels)
    ]
    val = [f'v{i}' for i in range(num_val)]
    annos += [
        dict(
            frame_dir=v, label=0, keypoint=np.zeros((1, 2, 20, 3), np.float32))
        for v in val
    ]
    train = [f's{i}' for i in range(len(labels))]
    return dict(split=dict(train=train, val=val), annotations=annos)


def test_each_class_keeps_its_rounded_share_and_at_least_one():
    subsets = class_balanced_subsets(LABELS, FRACTIONS, seed=0)
    for fraction, index in subsets.items():
        per_class = np.bincount(LABELS[index], minlength=10)
        expected = [
            min(n, max(1, int(np.floor(fraction / 100 * n + 0.5))))
            for n in COUNTS
        ]
        assert per_class.tolist() == expected, fraction
        assert np.array_equal(index, np.unique(index))  # sorted, no repeats
    assert np.array_equal(subsets[100.0], np.arange(len(LABELS)))
    # Round half up: 50 % of 3 is 2, of 5 is 3; 1 % of anything is >= 1.
    assert class_quota(np.array([3, 5, 57]), 50).tolist() == [2, 3, 29]
    assert class_quota(np.array([3, 5, 57]), 1).tolist() == [1, 1, 1]


def test_subsets_are_nested():
    subsets = class_balanced_subsets(LABELS, FRACTIONS, seed=3)
    for small, large in zip(FRACTIONS, FRACTIONS[1:]):
        assert set(subsets[small]) < set(subsets[large])


def test_seed_reproduces_and_changes_the_subsets():
    a = class_balanced_subsets(LABELS, [10, 30], seed=0)
    b = class_balanced_subsets(LABELS, [30, 10], seed=0)
    c = class_balanced_subsets(LABELS, [10, 30], seed=1)
    for f in (10, 30):
        assert np.array_equal(a[f], b[f])
        assert not np.array_equal(a[f], c[f])
        assert np.bincount(LABELS[a[f]]).tolist() == \
            np.bincount(LABELS[c[f]]).tolist()


@pytest.mark.parametrize('fractions', [[0], [-5], [100.5], [10, 10], []])
def test_bad_fractions_raise(fractions):
    with pytest.raises(ValueError):
        class_balanced_subsets(LABELS, fractions, seed=0)


def test_add_splits_to_a_copy():
    data = fake_data()
    before = pickle.dumps(data)
    out = add_label_fraction_splits(data, [1, 10, 50], seed=0)
    assert pickle.dumps(data) == before  # input untouched
    assert set(out['split']) == {
        'train', 'val', 'train_1pct', 'train_10pct', 'train_50pct'
    }
    assert fraction_split_name('train', 0.5) == 'train_0.5pct'
    label_of = {a['frame_dir']: a['label'] for a in data['annotations']}
    ids = out['split']['train_10pct']
    # Ids keep the split's order; the counts follow the quota.
    order = {k: i for i, k in enumerate(data['split']['train'])}
    assert sorted(ids, key=order.get) == ids
    assert np.bincount([label_of[i] for i in ids]).tolist() == \
        class_quota(COUNTS, 10).tolist()
    with pytest.raises(AnnotationError, match="unknown split 'nope'"):
        add_label_fraction_splits(data, [10], split='nope')
    with pytest.raises(AnnotationError, match='already exists'):
        add_label_fraction_splits(out, [10])
    with pytest.raises(ValueError, match=r'\(0, 100\]'):
        add_label_fraction_splits(data, [0])


def test_tool_writes_a_new_pickle_that_loads(tmp_path):
    src, dst = tmp_path / 'in.pkl', tmp_path / 'out.pkl'
    with open(src, 'wb') as f:
        pickle.dump(fake_data(), f)
    before = src.read_bytes()
    log = run_tool([TOOL, src, dst, '--fractions', '5', '10', '--seed', '2'])
    assert 'train_10pct: 21 samples, 10 classes, 1-6 per class' in log
    assert src.read_bytes() == before
    dataset = SkeletonDataset(
        str(dst), pipeline=[], split='train_5pct', num_classes=10)
    assert len(dataset) == class_quota(COUNTS, 5).sum()
    with open(dst, 'rb') as f:
        out = pickle.load(f)
    again = add_label_fraction_splits(fake_data(), [5, 10], seed=2)
    assert out['split'] == again['split']
    # Errors are CLIErrors (``error: ...`` and exit status 2 from the
    # command line), and nothing is written.
    tool = load_tool()
    for args in (['--fractions', '0'], ['--split', 'nope'], []):
        bad = tmp_path / 'bad.pkl'
        target = src if not args else bad
        with pytest.raises(CLIError):
            tool.main([str(src), str(target)] + args)
        assert not bad.exists()
    with pytest.raises(CLIError, match='missing.pkl: no such annotation'):
        tool.main([str(tmp_path / 'missing.pkl'), str(bad)])
    assert src.read_bytes() == before
