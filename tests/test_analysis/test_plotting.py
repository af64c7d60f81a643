"""Figure helpers: compact axis labels for long (config) names."""
from mmcsre.analysis.plotting import compact_labels

CONFIGS = [
    'stgcn_1xb16-joint-80e_ntu60-xsub-keypoint-3d',
    'stgcn-csre_1xb16-joint-80e_ntu60-xsub-keypoint-3d',
    'stgcn-frhead_1xb16-joint-80e_ntu60-xsub-keypoint-3d',
]


def test_shared_words_of_config_names_are_dropped():
    labels, shared = compact_labels(CONFIGS)
    assert labels == ['stgcn', 'stgcn-csre', 'stgcn-frhead']
    assert shared == '*_1xb16-joint-80e_ntu60-xsub-keypoint-3d'
    labels, shared = compact_labels([
        'stgcn-tiny_1xb16-joint-15e_synthetic',
        'stgcn-tiny-csre_1xb16-joint-15e_synthetic'
    ])
    assert labels == ['tiny', 'tiny-csre']
    assert shared == 'stgcn-*_1xb16-joint-15e_synthetic'


def test_long_labels_are_wrapped_at_separators():
    names = [
        'cpstn-linear_1xb256-joint-motion-100e_ntu120-xset-keypoint-3d',
        'ctrgcn_1xb16-bone-motion-65e_nwucla-keypoint-3d'
    ]
    labels, shared = compact_labels(names, width=20)
    assert shared == '*-keypoint-3d'
    for label, name in zip(labels, names):
        lines = label.split('\n')
        assert len(lines) > 1 and all(len(line) <= 20 for line in lines)
        assert ''.join(lines) == name[:-len('-keypoint-3d')]
    # a word longer than a line is cut
    label = compact_labels(['x' * 45], width=20)[0][0]
    assert label.split('\n') == ['x' * 20, 'x' * 20, 'x' * 5]


def test_names_are_kept_when_nothing_would_be_left():
    assert compact_labels(['ST-GCN', 'ST-GCN + CSRE'],
                          strip_shared=False) == (['ST-GCN',
                                                   'ST-GCN + CSRE'], '')
    assert compact_labels(['a_b', 'a_b']) == (['a_b', 'a_b'], '')
    assert compact_labels(['only_one-config']) == (['only_one-config'], '')
    assert compact_labels(['x_a', 'x_b']) == (['a', 'b'], 'x_*')
