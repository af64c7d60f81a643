"""The embedded synthetic dataset: trains and tests with no download."""
from typing import Callable, Dict, List, Union

from mmaction.registry import DATASETS

from .skeleton_dataset import SkeletonDataset
from .synthetic import CLASSES, generate_dataset
from .validation import select_split


@DATASETS.register_module()
class SyntheticSkeletonDataset(SkeletonDataset):
    """Deterministic synthetic actions on the NTU RGB+D layout.

    See :mod:`mmcsre.datasets.synthetic`. Train and val are disjoint draws;
    the same ``seed`` always gives the same samples.

    Args:
        pipeline (list[dict | callable]): Data transforms.
        split (str): ``'train'`` or ``'val'``. Defaults to ``'train'``.
        num_classes (int): Number of action classes (<= 10). Defaults to 10.
        train_per_class (int): Training samples per class. Defaults to 40.
        val_per_class (int): Validation samples per class. Defaults to 20.
        seed (int): Seed of the generator. Defaults to 0.
        **kwargs: Passed to :class:`SkeletonDataset`.
    """

    def __init__(self,
                 pipeline: List[Union[Dict, Callable]],
                 split: str = 'train',
                 num_classes: int = len(CLASSES),
                 train_per_class: int = 40,
                 val_per_class: int = 20,
                 seed: int = 0,
                 **kwargs) -> None:
        self.generator_cfg = dict(
            num_classes=num_classes,
            train_per_class=train_per_class,
            val_per_class=val_per_class,
            seed=seed)
        kwargs.setdefault('metainfo', dict(classes=CLASSES[:num_classes]))
        super().__init__(
            ann_file='synthetic.pkl',
            pipeline=pipeline,
            split=split,
            num_classes=num_classes,
            layout='nturgb+d',
            **kwargs)

    def load_annotations(self) -> List[Dict]:
        """Generate the samples of ``self.split``."""
        data = generate_dataset(**self.generator_cfg)
        return select_split(data, self.split, '<synthetic dataset>')
