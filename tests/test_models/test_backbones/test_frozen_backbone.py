"""FrozenBackbone: no gradients, eval mode kept, unchanged state-dict keys,
and through tools/train.py + load_from of CP-STN-style ``backbone.*``
weights: a bit-identical backbone after training while the head learns."""
import pickle

import numpy as np
import pytest
import torch
import torch.nn as nn
from helpers import REPO_ROOT, run_tool
from mmaction.registry import MODELS
from mmengine.config import Config
from mmengine.registry import init_default_scope

from mmcsre.models.backbones import FrozenBackbone, freeze_module
from mmcsre.structures import get_layout

SMALL_LINEAR = (f'{REPO_ROOT}/configs/cpstn/'
                'cpstn-small-linear_1xb64-joint-30e_nwucla-keypoint-3d.py')
NWUCLA_GRAPH = dict(
    num_node=20,
    inward=[(i, i + 1) for i in range(19)],  # any tree over 20 joints
    center=2)


def tiny_stgcn(**kwargs):
    cfg = dict(
        type='STGCN',
        graph_cfg=dict(layout=NWUCLA_GRAPH, mode='stgcn_spatial'),
        base_channels=8,
        num_stages=2,
        inflate_stages=[2],
        down_stages=[2],
        tcn_dropout=0.5)
    cfg.update(kwargs)
    return cfg


@pytest.fixture(autouse=True)
def scope():
    init_default_scope('mmaction')


def test_frozen_backbone_is_the_inner_backbone_frozen():
    plain = MODELS.build(tiny_stgcn())
    frozen = MODELS.build(dict(type='FrozenBackbone', backbone=tiny_stgcn()))
    assert isinstance(frozen, type(plain))
    assert type(frozen).__name__ == 'FrozenSTGCN'
    assert list(frozen.state_dict()) == list(plain.state_dict())
    assert all(not p.requires_grad for p in frozen.parameters())
    assert not frozen.training
    # One frozen class per backbone class; freezing twice changes nothing.
    assert type(FrozenBackbone(tiny_stgcn())) is type(frozen)
    assert type(freeze_module(frozen)) is type(frozen)


def test_train_mode_keeps_the_frozen_backbone_in_eval_mode():
    model = MODELS.build(
        dict(
            type='RecognizerGCN',
            backbone=dict(type='FrozenBackbone', backbone=tiny_stgcn()),
            cls_head=dict(
                type='GCNHead', num_classes=3, in_channels=16, dropout=0.)))
    model.train()
    assert model.training and model.cls_head.training
    modes = [m.training for m in model.backbone.modules()]
    assert not any(modes)
    norms = [
        m for m in model.backbone.modules()
        if isinstance(m, nn.modules.batchnorm._BatchNorm)
    ]
    drops = [m for m in model.backbone.modules() if isinstance(m, nn.Dropout)]
    assert norms and drops
    stats = [n.running_mean.clone() for n in norms]
    x = torch.randn(4, 1, 12, 20, 3)
    # Eval mode: deterministic (dropout off), running stats untouched.
    out1, out2 = model.backbone(x), model.backbone(x)
    assert torch.equal(out1, out2)
    assert not out1.requires_grad
    assert all(torch.equal(s, n.running_mean) for s, n in zip(stats, norms))


def _fake_nwucla(path, num_train=20, num_val=10):
    rng = np.random.default_rng(0)
    annos, ids = [], {'train': [], 'val': []}
    for i in range(num_train + num_val):
        split = 'train' if i < num_train else 'val'
        name = f'{split}{i}'
        T = int(rng.integers(20, 60))
        annos.append(
            dict(
                frame_dir=name,
                label=i % 10,
                total_frames=T,
                keypoint=rng.normal(size=(1, T, 20, 3)).astype(np.float32)))
        ids[split].append(name)
    with open(path, 'wb') as f:
        pickle.dump(dict(split=ids, annotations=annos), f)


def _states(path, prefix):
    state = torch.load(path, map_location='cpu')['state_dict']
    return {k: v for k, v in state.items() if k.startswith(prefix)}


def test_linear_eval_through_train_py_keeps_loaded_backbone(tmp_path):
    """tools/train.py, load_from of a checkpoint with backbone.* keys plus
    extra (decoder) keys: the trained backbone is the checkpoint's, bit for bit
    (weights and BN statistics), while the linear head changes."""
    cfg = Config.fromfile(SMALL_LINEAR)
    assert get_layout(cfg.layout).num_node == 20
    # A "pre-trained" encoder: the config's backbone, randomised.
    backbone = MODELS.build(cfg.model.backbone.backbone)
    backbone.init_weights()
    torch.manual_seed(0)
    state = {}
    for k, v in backbone.state_dict().items():
        if 'running_var' in k:
            v = v * (1 + torch.rand_like(v))
        elif v.is_floating_point():
            v = v + 0.05 * torch.randn_like(v)
        state['backbone.' + k] = v
    state['decoder.spatial.weight'] = torch.zeros(3)  # CP-STN-only key
    ckpt = tmp_path / 'pretrain.pth'
    torch.save(dict(state_dict=state), ckpt)

    ann = tmp_path / 'fake.pkl'
    _fake_nwucla(ann)
    work = tmp_path / 'work'
    run_tool([
        'tools/train.py', SMALL_LINEAR, '--work-dir', work, '--cfg-options',
        f'load_from={ckpt}', f'train_dataloader.dataset.ann_file={ann}',
        f'val_dataloader.dataset.ann_file={ann}',
        'train_dataloader.batch_size=5', 'val_dataloader.batch_size=10',
        'train_dataloader.num_workers=0', 'val_dataloader.num_workers=0',
        'train_dataloader.persistent_workers=False',
        'val_dataloader.persistent_workers=False', 'train_cfg.max_epochs=2'
    ])
    for epoch in (1, 2):
        trained = _states(work / f'epoch_{epoch}.pth', 'backbone.')
        assert trained.keys() == {k for k in state if 'decoder' not in k}
        for k, v in trained.items():
            assert torch.equal(v, state[k]), k  # incl. BN running stats
    head1 = _states(work / 'epoch_1.pth', 'cls_head.')
    head2 = _states(work / 'epoch_2.pth', 'cls_head.')
    assert not torch.equal(head1['cls_head.fc.weight'],
                           head2['cls_head.fc.weight'])
