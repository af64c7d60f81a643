"""The CP-STN evaluation configs (linear evaluation, semi-supervised
fine-tuning): each starts from the checkpoint of an existing pre-training
config with the same encoder, and follows its documented recipe."""
import glob
import os.path as osp
import re

import pytest
from helpers import REPO_ROOT
from mmengine.config import Config

CPSTN_DIR = osp.join(REPO_ROOT, 'configs', 'cpstn')
EVAL = sorted(
    p for p in glob.glob(osp.join(CPSTN_DIR, 'cpstn-*.py'))
    if not osp.basename(p).startswith('cpstn-small_'))
JOINT = [p for p in EVAL if '-joint-' in p and '-joint-motion-' not in p]
# the pre-training run's folder; tools/train.py loads its newest checkpoint
LOAD_FROM = re.compile(r'^work_dirs/(?P<name>[^/]+)/$')


def _ids(paths):
    return [osp.basename(p) for p in paths]


def test_configs_found():
    assert {
        osp.basename(p)
        for p in JOINT
    } == {
        'cpstn-linear_1xb64-joint-100e_nwucla-keypoint-3d.py',
        'cpstn-linear_1xb256-joint-100e_ntu60-xsub-keypoint-3d.py',
        'cpstn-linear_1xb256-joint-100e_ntu60-xview-keypoint-3d.py',
        'cpstn-linear_1xb256-joint-100e_ntu120-xsub-keypoint-3d.py',
        'cpstn-linear_1xb256-joint-100e_ntu120-xset-keypoint-3d.py',
        'cpstn-semi-10pct_1xb64-joint-100e_nwucla-keypoint-3d.py',
        'cpstn-semi-10pct_1xb256-joint-100e_ntu120-xsub-keypoint-3d.py',
        'cpstn-small-linear_1xb64-joint-30e_nwucla-keypoint-3d.py',
        'cpstn-small-semi-10pct_1xb16-joint-100e_nwucla-keypoint-3d.py',
    }
    assert len(EVAL) == 4 * len(JOINT)  # and the three other streams


@pytest.mark.parametrize('path', EVAL, ids=_ids(EVAL))
def test_loads_the_encoder_of_its_pre_training(path):
    """load_from is the work dir of a shipped pre-training config of the same
    stream and dataset, whose encoder is this config's."""
    cfg = Config.fromfile(path)
    match = LOAD_FROM.match(cfg.load_from)
    assert match, cfg.load_from
    pretrain = Config.fromfile(osp.join(CPSTN_DIR, match['name'] + '.py'))
    assert pretrain.model.type == 'CPSTN'
    linear = osp.basename(path).split('_')[0].endswith('linear')
    encoder = cfg.model.backbone
    if linear:
        assert encoder.type == 'FrozenBackbone'
        encoder = encoder.backbone
    assert encoder.to_dict() == pretrain.model.backbone.to_dict()
    assert cfg.model.data_preprocessor.to_dict() == \
        pretrain.model.data_preprocessor.to_dict()
    # Same dataset, and the clip length of the pre-training.
    data, pre_data = cfg.train_dataloader.dataset, \
        pretrain.train_dataloader.dataset
    assert data.layout == pre_data.layout
    assert data.num_classes == pre_data.num_classes
    assert data.split.startswith(pre_data.split)

    def clip_len(pipeline):
        return [t.clip_len for t in pipeline if 'clip_len' in t]

    assert clip_len(data.pipeline) == clip_len(pre_data.pipeline)
    assert clip_len(cfg.val_dataloader.dataset.pipeline) == \
        clip_len(pre_data.pipeline)


@pytest.mark.parametrize('path', JOINT, ids=_ids(JOINT))
def test_protocol(path):
    cfg = Config.fromfile(path)
    name = osp.basename(path)
    head = cfg.model.cls_head
    assert cfg.model.type == 'RecognizerGCN'
    # Linear evaluation standardises the frozen features (LinearProbeHead);
    # fine-tuning trains them, so a plain GCNHead.
    probe = 'LinearProbeHead' if '-semi-' not in name else 'GCNHead'
    assert (head.type, head.dropout) == (probe, 0.)
    assert head.in_channels == 4 * cfg.model.backbone.get(
        'backbone', cfg.model.backbone).base_channels
    assert cfg.val_cfg.type == 'ValLoop' and cfg.val_dataloader.dataset.split
    train = cfg.train_dataloader.dataset
    if '-semi-10pct' in name:
        assert cfg.model.backbone.type == 'STGCN'  # fine-tuned
        assert train.split.endswith('train_10pct')
        assert train.ann_file.endswith('_fractions.pkl')
        assert cfg.val_dataloader.dataset.ann_file == train.ann_file
    else:
        assert train.split.endswith('train') and '_fractions' not in \
            train.ann_file
    if '-small-' in name:
        return  # CPU-budget schedules, see their headers
    # The paper's recipe (cp-stn.txt Sec. 4.1.4).
    assert cfg.optim_wrapper.optimizer == dict(type='Adam', lr=5e-5)
    (sched, ) = cfg.param_scheduler
    assert (sched.type, sched.power, sched.eta_min, sched.end) == \
        ('PolyLR', 1.0, 0.0, 100)
    assert cfg.train_cfg.max_epochs == 100
    batch = 64 if 'nwucla' in name else 256
    assert cfg.train_dataloader.batch_size == batch
