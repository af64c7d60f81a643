"""docs/backbones.md's "your backbone + CSRE" example trains through
tools/train.py and tests through tools/test.py."""
import pickle
import re

import numpy as np
from helpers import REPO_ROOT, run_tool


def _examples():
    with open(f'{REPO_ROOT}/docs/backbones.md', encoding='utf-8') as f:
        text = f.read()
    section = text.split('## Your backbone + CSRE')[1]
    return re.findall(r'```python\n(.*?)```', section, re.S)


def test_backbone_plus_csre_example_trains_and_tests(tmp_path):
    backbone, config = _examples()
    assert len(config.strip().splitlines()) <= 10
    (tmp_path / 'my_backbone.py').write_text(backbone)
    rng = np.random.default_rng(0)
    annos = [
        dict(
            frame_dir=f'v{i}',
            label=i % 10,
            total_frames=t,
            keypoint=rng.normal(size=(1, t, 20, 3)).astype(np.float32))
        for i, t in enumerate([30, 60, 45, 52, 20, 70])
    ]
    ann = tmp_path / 'nwucla.pkl'
    with open(ann, 'wb') as f:
        pickle.dump(
            dict(
                split=dict(train=['v0', 'v1', 'v2', 'v3'], val=['v4', 'v5']),
                annotations=annos), f)
    loader = (f'dict(batch_size=2, num_workers=0, persistent_workers=False, '
              f'dataset=dict(ann_file={str(ann)!r}))')
    (tmp_path / 'my_config.py').write_text(
        config.replace("'../stgcn/", f"'{REPO_ROOT}/configs/stgcn/") +
        f'train_dataloader = {loader}\nval_dataloader = {loader}\n'
        'test_dataloader = val_dataloader\ntrain_cfg = dict(max_epochs=1)\n')
    env_path = str(tmp_path)
    log = run_tool([
        'tools/train.py', tmp_path / 'my_config.py', '--work-dir',
        tmp_path / 'work'
    ],
                   extra_pythonpath=env_path)
    assert '2 memory bank(s) with 4 slots each' in log
    assert 'loss_spatial' in log
    out = run_tool([
        'tools/test.py', tmp_path / 'my_config.py',
        tmp_path / 'work' / 'epoch_1.pth', '--work-dir', tmp_path / 'test'
    ],
                   extra_pythonpath=env_path)
    assert 'acc/top1' in out
