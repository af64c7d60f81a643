"""Parameters, buffers and FLOPs of a config's model in training and at test
time (mmengine's FlopAnalyzer)."""
import os.path as osp
from typing import Dict, List, Optional, Sequence, Tuple

import torch
import torch.nn as nn
from mmengine.config import Config
from mmengine.dataset import pseudo_collate
from mmengine.registry import init_default_scope

from .errors import AnalysisError

TRAIN_BATCH = 2  # BatchNorm in training mode needs more than one sample.


class _TestForward(nn.Module):
    """The test-time path: backbone and classification head."""

    def __init__(self, model: nn.Module) -> None:
        super().__init__()
        self.model = model

    def forward(self, inputs: torch.Tensor) -> torch.Tensor:
        """(B, num_clips, M, T, V, C) inputs -> (B * num_clips, K) class
        scores."""
        return self.model.extract_feat(inputs, stage='head')[0]


class _TrainForward(nn.Module):
    """The training forward: every loss term (training-only heads, memory banks
    included), summed as mmengine does."""

    def __init__(self, model: nn.Module, data_samples: List) -> None:
        super().__init__()
        self.model = model
        self.data_samples = data_samples

    def forward(self, inputs: torch.Tensor) -> torch.Tensor:
        """(B, num_clips, M, T, V, C) inputs -> the scalar total loss."""
        losses = self.model.loss(inputs, self.data_samples)
        return sum(v.sum() for k, v in losses.items()
                   if 'loss' in k and isinstance(v, torch.Tensor))


def _dataset(cfg: Config, split: str):
    """The dataset of the config's ``{split}_dataloader``."""
    from mmaction.registry import DATASETS
    loader = cfg.get(f'{split}_dataloader') or {}
    if 'dataset' not in loader:
        raise AnalysisError(f'the config has no {split}_dataloader.dataset')
    return DATASETS.build(loader['dataset'])


def _synthetic_samples(shape: Sequence[int], num: int) -> List[Dict]:
    """``num`` random samples of one input ``shape``, with labels and
    ``sample_idx`` 0, 1, ..."""
    from mmaction.structures import ActionDataSample
    samples = []
    for i in range(num):
        sample = ActionDataSample()
        if hasattr(sample, 'set_gt_label'):  # mmaction2 >= 1.2
            sample.set_gt_label(i)
        else:
            sample.set_gt_labels(torch.tensor([i]))
        sample.set_metainfo(dict(sample_idx=i, frame_dir=f'sample{i}'))
        samples.append(
            dict(inputs=torch.randn(tuple(shape)), data_samples=sample))
    return samples


def _batches(cfg: Config, input_shape: Optional[Sequence[int]],
             num_train_samples: Optional[int]) -> Tuple[List, List, int]:
    """(test samples, training samples, training-set size) as the model's data
    preprocessor takes them."""
    if input_shape is not None:
        if len(input_shape) != 5:
            raise AnalysisError('input_shape is (num_clips, M, T, V, C), got '
                                f'{list(input_shape)}')
        return (_synthetic_samples(input_shape, 1),
                _synthetic_samples(input_shape, TRAIN_BATCH), num_train_samples
                or 0)
    try:
        test_set = _dataset(cfg, 'test')
        train_set = _dataset(cfg, 'train')
    except AnalysisError:
        raise
    except Exception as err:
        raise AnalysisError(
            f'cannot build the config\'s datasets for example inputs ({err}); '
            'pass input_shape (and num_train_samples for memory banks) '
            'instead') from err
    from mmcsre.engine.hooks.memory_bank_init_hook import base_dataset
    size = num_train_samples or len(base_dataset(train_set))
    return ([test_set[0]], [train_set[i] for i in range(TRAIN_BATCH)], size)


def _prepare(model: nn.Module, test_inputs: torch.Tensor,
             num_train_samples: int) -> None:
    """Allocate memory banks and materialise lazy layers, as
    ``MemoryBankInitHook`` does before training."""
    from mmcsre.engine.hooks.memory_bank_init_hook import has_lazy_params
    from mmcsre.models.memory import ContrastiveMemoryBank
    banks = [
        m for m in model.modules() if isinstance(m, ContrastiveMemoryBank)
    ]
    if banks and num_train_samples < 1:
        raise AnalysisError('the model has memory banks: give the training '
                            'set size (num_train_samples)')
    for bank in banks:
        bank.allocate(num_train_samples)
    if has_lazy_params(model):
        model.eval()
        with torch.no_grad():
            feats, _ = model.extract_feat(test_inputs)
            for module in model.modules():
                if module is not model and hasattr(module, 'init_lazy'):
                    module.init_lazy(feats)


def _count_flops(module: nn.Module, inputs: torch.Tensor) -> Tuple[int, List]:
    """(total FLOPs of ``module(inputs)``, operators it could not count)."""
    from mmengine.analysis import FlopAnalyzer
    analyzer = FlopAnalyzer(module, (inputs, ))
    analyzer.unsupported_ops_warnings(False)
    analyzer.uncalled_modules_warnings(False)
    analyzer.tracer_warnings('none')
    total = analyzer.total()
    return total, sorted(analyzer.unsupported_ops())


def _numel(named, prefixes: Sequence[str]) -> Tuple[int, int]:
    """(all, outside the training-only prefixes) element counts."""
    total = test = 0
    for name, tensor in named:
        total += tensor.numel()
        if not name.startswith(tuple(prefixes)):
            test += tensor.numel()
    return total, test


def model_complexity(config: str,
                     input_shape: Optional[Sequence[int]] = None,
                     num_train_samples: Optional[int] = None,
                     cfg_options: Optional[Dict] = None) -> Dict:
    """Parameters, buffers and forward FLOPs per sample of a config's model in
    training and at test time.

    Test time is the model without its training-only modules (each
    module's ``training_only_modules``: CSRE decomposition layers and
    memory banks, auxiliary heads), i.e. what ``tools/strip_checkpoint.py``
    keeps; its FLOPs are those of the test path (backbone + classification
    head). Training counts every parameter and buffer and the FLOPs of the
    loss forward (contrast against the memory banks included; backward
    passes are not counted). FLOPs follow mmengine's FlopAnalyzer: one
    multiply-add is one FLOP; operators it cannot count are listed.

    Args:
        config (str): Config file.
        input_shape (Sequence[int], optional): One sample's input
            (num_clips, M, T, V, C); default: the first sample of the
            config's test and training sets.
        num_train_samples (int, optional): Memory-bank size; default: the
            training set's length (needed with ``input_shape`` for models
            with banks).
        cfg_options (dict, optional): Config overrides.

    Returns:
        dict: ``params``/``buffers``/``flops`` for ``train`` and ``test``
        (ints; FLOPs per sample), ``input_shape``, ``uncounted_ops``.
    """
    if not osp.isfile(config):
        raise AnalysisError(f'{config}: no such file')
    from mmaction.registry import MODELS

    from mmcsre.models.test_time import training_only_prefixes
    cfg = Config.fromfile(config)
    if cfg_options:
        cfg.merge_from_dict(cfg_options)
    init_default_scope(cfg.get('default_scope', 'mmaction'))
    torch.manual_seed(0)
    model = MODELS.build(cfg.model)
    test_samples, train_samples, size = _batches(cfg, input_shape,
                                                 num_train_samples)
    test = model.data_preprocessor(pseudo_collate(test_samples), False)
    train = model.data_preprocessor(pseudo_collate(train_samples), True)
    _prepare(model, test['inputs'], size)

    prefixes = training_only_prefixes(model)
    params = _numel(model.named_parameters(), prefixes)
    buffers = _numel(model.named_buffers(), prefixes)
    model.eval()
    flops_test, unsupported_test = _count_flops(
        _TestForward(model), test['inputs'])
    model.train()
    flops_train, unsupported_train = _count_flops(
        _TrainForward(model, train['data_samples']), train['inputs'])
    return dict(
        params=dict(train=params[0], test=params[1]),
        buffers=dict(train=buffers[0], test=buffers[1]),
        flops=dict(
            train=int(flops_train) // len(train_samples),
            test=int(flops_test) // len(test_samples)),
        input_shape=list(test['inputs'].shape[1:]),
        training_only=prefixes,
        uncounted_ops=sorted(set(unsupported_test) | set(unsupported_train)))
