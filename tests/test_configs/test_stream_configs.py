"""Every joint config has its bone / joint-motion / bone-motion siblings, each
a one-line child that only changes the stream."""
import os.path as osp

import pytest
from helpers import REPO_ROOT, run_tool
from mmengine.config import Config

from mmcsre.models.data_preprocessors import SkeletonDataPreprocessor

GEN = osp.join(REPO_ROOT, 'tools', 'misc', 'generate_stream_configs.py')


def load_generator():
    import importlib.util
    spec = importlib.util.spec_from_file_location('gen_streams', GEN)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


gen = load_generator()
JOINT_CONFIGS = gen.joint_configs(REPO_ROOT)


def test_stream_configs_are_generated_and_current():
    out = run_tool([GEN, '--check'])
    assert '0 stream config(s) stale or missing, 0 orphan(s)' in out


def test_every_shipped_dataset_and_backbone_has_joint_configs():
    names = [osp.basename(p) for p in JOINT_CONFIGS]
    for dataset in ('nwucla', 'ntu60-xsub', 'ntu60-xview', 'ntu120-xsub',
                    'ntu120-xset'):
        for model in ('stgcn_', '2s-agcn_', 'stgcn-csre_', '2s-agcn-csre_'):
            assert any(n.startswith(model) and dataset in n for n in names)


@pytest.mark.parametrize(
    'joint', JOINT_CONFIGS, ids=[osp.basename(p) for p in JOINT_CONFIGS])
def test_stream_siblings_differ_only_in_stream(joint):
    base = Config.fromfile(joint)
    assert base.model.data_preprocessor.type == 'SkeletonDataPreprocessor'
    assert base.model.data_preprocessor.get('stream', 'j') == 'j'
    # The joint config's layout is the dataset's: a bone stream would be
    # wrong otherwise.
    pre = SkeletonDataPreprocessor(**{
        k: v
        for k, v in base.model.data_preprocessor.items() if k != 'type'
    })
    dataset = base.train_dataloader.dataset
    while 'dataset' in dataset:
        dataset = dataset.dataset
    layout = dataset.get('layout', 'nturgb+d')
    if isinstance(layout, str):
        assert pre.layout.name == layout
    else:
        assert pre.layout.num_node == layout['num_node']
    for path, stream in zip(gen.stream_configs(joint), ('b', 'jm', 'bm')):
        cfg = Config.fromfile(path)
        assert cfg.model.data_preprocessor.stream == stream
        cfg.model.data_preprocessor.stream = 'j'
        assert cfg.model.to_dict() == base.model.to_dict()
        assert cfg.train_dataloader.to_dict() == \
            base.train_dataloader.to_dict()
