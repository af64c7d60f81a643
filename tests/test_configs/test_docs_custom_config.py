"""docs/configs.md's "new dataset with a custom layout" config really works."""
import pickle
import re

import numpy as np
import torch
from helpers import REPO_ROOT
from mmengine.config import Config
from mmengine.dataset import pseudo_collate
from mmengine.registry import init_default_scope


def _readme_config() -> str:
    with open(f'{REPO_ROOT}/docs/configs.md', encoding='utf-8') as f:
        text = f.read()
    section = text.split('## A config for a new dataset')[1]
    return re.search(r'```python\n(.*?)```', section, re.S).group(1)


def test_readme_custom_layout_config_trains_a_step(tmp_path):
    from mmaction.registry import DATASETS, MODELS
    code = _readme_config().replace("'../_base_/",
                                    f"'{REPO_ROOT}/configs/_base_/")
    rng = np.random.default_rng(0)
    annos = [
        dict(
            frame_dir=f'v{i}',
            label=i % 7,
            total_frames=T,
            keypoint=rng.normal(size=(1, T, 5, 3)).astype(np.float32))
        for i, T in enumerate([1, 40, 12])
    ]
    ann = tmp_path / 'my_dataset.pkl'
    with open(ann, 'wb') as f:
        pickle.dump(
            dict(
                split=dict(train=['v0', 'v1'], val=['v2']), annotations=annos),
            f)
    code = code.replace("'data/my_dataset.pkl'", repr(str(ann)))
    path = tmp_path / 'my_config.py'
    path.write_text(code)

    cfg = Config.fromfile(str(path))
    init_default_scope('mmaction')
    dataset = DATASETS.build(cfg.train_dataloader.dataset)
    model = MODELS.build(cfg.model)
    model.init_weights()
    assert model.backbone.graph.num_node == 5
    assert len(DATASETS.build(cfg.val_dataloader.dataset)) == 1
    batch = pseudo_collate([dataset[i] for i in range(2)])
    assert batch['inputs'][0].shape == (1, 1, 32, 5, 3)
    data = model.data_preprocessor(batch, training=True)
    loss = model(**data, mode='loss')['loss_cls']
    assert torch.isfinite(loss)
    loss.backward()


def test_readme_links_point_to_existing_files():
    import os.path as osp
    with open(f'{REPO_ROOT}/README.md', encoding='utf-8') as f:
        text = f.read()
    links = re.findall(r'\]\(([^)#]+)\)', text)
    local = [x for x in links if not x.startswith('http')]
    assert len(local) >= 20
    missing = [x for x in local if not osp.exists(osp.join(REPO_ROOT, x))]
    assert not missing, missing
