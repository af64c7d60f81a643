"""RepeatDataset whose samples carry their repeated index."""
from typing import Any

from mmaction.registry import DATASETS
from mmengine.dataset import RepeatDataset


@DATASETS.register_module()
class IndexedRepeatDataset(RepeatDataset):
    """``RepeatDataset`` that gives each repeated index its own identity.

    mmengine's ``RepeatDataset`` returns sample ``i % N`` for index ``i`` of a
    dataset of N samples repeated ``times`` times, so a memory bank indexed
    by ``sample_idx`` has N slots and every repeat overwrites the same one.
    The official CSRE code instead gives each of the ``times * N`` indices its
    own slot (its labels tiled ``times`` times), so the bank holds ``times``
    differently augmented views of each sample. This wrapper reproduces that:
    the packed ``data_samples`` carry ``sample_idx`` = the repeated index and
    ``base_sample_idx`` = the index in the wrapped dataset, and
    ``MemoryBankInitHook`` sizes banks to ``len(self)``.

    Args:
        dataset (dict | BaseDataset): The dataset to repeat.
        times (int): Number of repeats.
        lazy_init (bool): Passed to ``RepeatDataset``. Defaults to False.
    """

    # MemoryBankInitHook stops unwrapping here: these indices are the slots.
    carries_own_index = True

    def __getitem__(self, idx: int) -> Any:
        """The wrapped sample ``idx % N`` with ``sample_idx`` set to ``idx``.

        Args:
            idx (int): Index in ``[0, times * N)``.

        Returns:
            dict: The packed sample (``inputs``, ``data_samples``).
        """
        data = super().__getitem__(idx)
        samples = data.get('data_samples') if isinstance(data, dict) else None
        if samples is None:
            raise TypeError('IndexedRepeatDataset needs a pipeline ending in '
                            'PackActionInputs (no data_samples in the sample)')
        base_idx = samples.metainfo.get('sample_idx',
                                        self._get_ori_dataset_idx(idx))
        samples.set_metainfo(
            dict(sample_idx=idx, base_sample_idx=int(base_idx)))
        return data
