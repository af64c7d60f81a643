"""Prepare mmcsre's training-only heads before training starts: size the memory
banks from the training set and materialise lazy layers."""
import torch
from mmaction.registry import HOOKS
from mmengine.dataset import pseudo_collate
from mmengine.hooks import Hook
from mmengine.model import is_model_wrapper
from mmengine.runner import BaseLoop
from torch.nn.modules.lazy import LazyModuleMixin

from mmcsre.models.memory import ContrastiveMemoryBank
from mmcsre.utils import preserve_global_rng


def base_dataset(dataset):
    """Unwrap mmengine dataset wrappers (RepeatDataset, ClassBalancedDataset
    and the like) down to the dataset whose ``sample_idx`` the samples
    carry: the innermost one, or the first wrapper that sets its own index
    (``carries_own_index``, e.g. :class:`IndexedRepeatDataset`)."""
    while hasattr(
            dataset,
            'dataset') and not hasattr(dataset, 'datasets') and not getattr(
                dataset, 'carries_own_index', False):
        dataset = dataset.dataset
    if hasattr(dataset, 'datasets'):
        raise TypeError('memory banks index samples by sample_idx, which a '
                        'ConcatDataset repeats across its parts; use one '
                        'dataset (pickle) for training')
    return dataset


def has_lazy_params(model: torch.nn.Module) -> bool:
    """Whether any sub-module still has uninitialised lazy parameters."""
    return any(
        isinstance(m, LazyModuleMixin) and m.has_uninitialized_params()
        for m in model.modules())


@HOOKS.register_module()
class MemoryBankInitHook(Hook):
    """Give each :class:`ContrastiveMemoryBank` one slot per training sample
    and materialise lazy head layers.

    Banks with ``num_samples=None`` are allocated; banks with a size are
    checked, and a mismatch is an error. Under a plain ``RepeatDataset`` a bank
    has one slot per base sample; under :class:`IndexedRepeatDataset` one per
    repeated index (the official CSRE regime). Heads whose layer sizes depend
    on the feature map (``STFDHead`` without ``num_joints``/``num_frames``) get
    one forward pass of the backbone on the first training sample, in eval mode
    and without gradients, so weight initialisation, checkpoint loading and the
    optimizer see real parameters. Runs in ``before_run``: after the data and
    optimizer are built, before weights are initialised and before a checkpoint
    is loaded or resumed. Models without banks are left alone.
    """

    priority = 'VERY_HIGH'

    def before_run(self, runner) -> None:
        """When training, size every bank from the training set and build lazy
        layers."""
        model = runner.model.module if is_model_wrapper(
            runner.model) else runner.model
        banks = [
            m for m in model.modules() if isinstance(m, ContrastiveMemoryBank)
        ]
        # Only when training: runner.train_loop would build the training
        # data even in a test-only run.
        loop = getattr(runner, '_train_loop', None)
        if not isinstance(loop, BaseLoop):
            return
        dataset = base_dataset(loop.dataloader.dataset)
        for bank in banks:
            bank.allocate(len(dataset))
        if banks:
            runner.logger.info(f'{len(banks)} memory bank(s) with '
                               f'{len(dataset)} slots each')
        if has_lazy_params(model):
            self.init_lazy_layers(model, loop.dataloader.dataset)

    @staticmethod
    def init_lazy_layers(model: torch.nn.Module, dataset) -> None:
        """One no-grad backbone pass on ``dataset[0]``, then each module's
        ``init_lazy(feats)``."""
        was_training = model.training
        model.eval()
        try:
            # The random pipeline must not shift the augmentation draws of
            # the run: a lazy head's run stays paired with its baseline.
            with torch.no_grad(), preserve_global_rng():
                data = model.data_preprocessor(
                    pseudo_collate([dataset[0]]), training=False)
                feats, _ = model.extract_feat(data['inputs'])
                for module in model.modules():
                    if module is not model and hasattr(module, 'init_lazy'):
                        module.init_lazy(feats)
        finally:
            model.train(was_training)
