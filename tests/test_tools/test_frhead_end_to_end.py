"""FR Head demo config: train -> resume gives exactly the prototypes of an
uninterrupted run -> strip leaves the baseline model."""
import importlib.util

import torch
from helpers import DEMO_CONFIG, REPO_ROOT, run_tool
from mmengine.config import Config
from mmengine.registry import init_default_scope
from mmengine.runner import Runner

import mmcsre  # noqa: F401

CONFIG = f'{REPO_ROOT}/configs/demo/stgcn-tiny-frhead_1xb16-joint-15e_synthetic.py'  # noqa: E501
# 30 samples (batches of 16 and 14), no validation, and the deterministic
# test-time frame sampling in training: mmengine does not restore the
# global RNG on resume, so random clips would differ after resuming.
SMALL = """
_base_ = '{config}'
train_dataloader = dict(
    dataset=dict(train_per_class=3, pipeline={{{{_base_.val_pipeline}}}}))
train_cfg = dict(max_epochs=2, val_begin=3)
default_hooks = dict(logger=dict(interval=1), checkpoint=dict(interval=1))
"""
PROTOTYPES = 'aux_heads.frhead.prototypes.'


def _strip_tool():
    spec = importlib.util.spec_from_file_location(
        'strip_checkpoint', f'{REPO_ROOT}/tools/strip_checkpoint.py')
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_frhead_demo_resumes_exactly_and_strips(tmp_path):
    config = tmp_path / 'small.py'
    config.write_text(SMALL.format(config=CONFIG))
    work = tmp_path / 'work'
    log = run_tool(
        ['tools/train.py', config, '--work-dir', work, '--seed', '0'])
    for tap in ('stage1', 'stage3', 'stage4'):
        assert f'frhead.loss_{tap}' in log
    uninterrupted = torch.load(
        work / 'epoch_2.pth', weights_only=True)['state_dict']
    after_one = torch.load(
        work / 'epoch_1.pth', weights_only=True)['state_dict']
    assert uninterrupted[PROTOTYPES + 'initialized'].any()
    assert not torch.equal(uninterrupted[PROTOTYPES + 'vectors'],
                           after_one[PROTOTYPES + 'vectors'])

    # Resume epoch 1 -> 2 in mmengine's Runner: the prototypes come back
    # from the checkpoint and evolve exactly as in the uninterrupted run.
    cfg = Config.fromfile(config)
    cfg.merge_from_dict(
        dict(
            work_dir=str(tmp_path / 'resumed'),
            resume=True,
            load_from=str(work / 'epoch_1.pth')))
    runner = Runner.from_cfg(cfg)
    runner.train()
    assert runner.epoch == 2
    state = runner.model.state_dict()
    for key in (PROTOTYPES + 'vectors', PROTOTYPES + 'initialized'):
        torch.testing.assert_close(
            state[key], uninterrupted[key], rtol=0, atol=0)

    # Stripping drops the whole FR Head: the baseline demo model remains.
    init_default_scope('mmaction')
    stripped, deploy_cfg, dropped = _strip_tool().strip(
        CONFIG, str(work / 'epoch_2.pth'))
    assert stripped['meta']['dropped_prefixes'] == ['aux_heads.']
    assert deploy_cfg['type'] == 'RecognizerGCN'
    from mmaction.registry import MODELS
    baseline = MODELS.build(Config.fromfile(DEMO_CONFIG).model)
    assert stripped['state_dict'].keys() == baseline.state_dict().keys()
    assert dropped == sum(k.startswith('aux_heads.') for k in uninterrupted)
