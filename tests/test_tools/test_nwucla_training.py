"""A short real training on NW-UCLA (skipped without ../shared)."""
import re

from helpers import NWUCLA_ZIP, REPO_ROOT, requires_nwucla, run_tool

CONFIG = (f'{REPO_ROOT}/configs/stgcn/'
          'stgcn_1xb16-joint-65e_nwucla-keypoint-3d.py')


@requires_nwucla
def test_short_real_training_beats_chance(tmp_path):
    ann = tmp_path / 'nwucla_3d.pkl'
    run_tool([
        'tools/data/nwucla/nwucla_to_pkl.py', NWUCLA_ZIP, ann, '--no-progress'
    ])
    # The shipped config, shrunk: a 4-stage ST-GCN for 2 epochs.
    log = run_tool([
        'tools/train.py', CONFIG, '--work-dir', tmp_path / 'work', '--seed',
        '0', '--deterministic', '--cfg-options',
        f'train_dataloader.dataset.ann_file={ann}',
        f'val_dataloader.dataset.ann_file={ann}',
        f'test_dataloader.dataset.ann_file={ann}', 'train_cfg.max_epochs=2',
        'train_dataloader.num_workers=1', 'val_dataloader.num_workers=1',
        'test_dataloader.num_workers=1', 'model.backbone.base_channels=16',
        'model.backbone.num_stages=4', 'model.backbone.inflate_stages=[3]',
        'model.backbone.down_stages=[3]', 'model.cls_head.in_channels=32',
        'param_scheduler.0.end=1'
    ])
    accs = [float(a) for a in re.findall(r'acc/top1: ([0-9.]+)', log)]
    assert len(accs) == 2, log[-3000:]
    assert accs[-1] > 0.2, f'val top-1 {accs} (chance is 0.1)'
    # Trained on the 1,020 train samples, evaluated on the 464 val samples.
    assert '[64/64]' in log and '[29/29]' in log
