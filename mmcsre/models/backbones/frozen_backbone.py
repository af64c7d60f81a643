"""Frozen backbones for linear evaluation of pre-trained encoders.

``FrozenBackbone(backbone=dict(type='STGCN', ...))`` builds the inner
backbone and returns it frozen: every parameter has ``requires_grad=False``
and the module stays in eval mode (BatchNorm uses and keeps its running
statistics, dropout is off) even when the recognizer is put in train mode.

It returns the inner backbone itself (re-classed as a ``Frozen<Name>``
subclass that only overrides :meth:`train`), not a wrapper module, so the
state-dict keys stay ``backbone.*``: a self-supervised checkpoint (CP-STN's
``backbone.*`` keys) loads through the Runner's ``load_from`` or the inner
backbone's ``init_cfg=dict(type='Pretrained', prefix='backbone.')``, and
``MultiStreamRecognizer`` taps the same module names as without freezing.
"""
from typing import Dict, Type

import torch.nn as nn
from mmaction.registry import MODELS


class FrozenModuleMixin:
    """Keeps a module in eval mode: ``train(True)`` is ignored."""

    def train(self, mode: bool = True) -> nn.Module:
        """Put the module (and its children) in eval mode, whatever ``mode``.

        Args:
            mode (bool): Ignored. Defaults to True.

        Returns:
            nn.Module: self.
        """
        return super().train(False)


# One frozen subclass per backbone class, built on first use.
_FROZEN_CLASSES: Dict[Type[nn.Module], Type[nn.Module]] = {}


def frozen_class(cls: Type[nn.Module]) -> Type[nn.Module]:
    """The ``Frozen<Name>`` subclass of a module class.

    Args:
        cls (type): An ``nn.Module`` subclass.

    Returns:
        type: A subclass of ``cls`` whose :meth:`train` keeps eval mode
        (``cls`` itself if it is already frozen).
    """
    if issubclass(cls, FrozenModuleMixin):
        return cls
    if cls not in _FROZEN_CLASSES:
        _FROZEN_CLASSES[cls] = type(f'Frozen{cls.__name__}',
                                    (FrozenModuleMixin, cls),
                                    dict(__module__=cls.__module__))
    return _FROZEN_CLASSES[cls]


def freeze_module(module: nn.Module) -> nn.Module:
    """Freeze a module in place: no gradients, eval mode for good.

    Args:
        module (nn.Module): Any module.

    Returns:
        nn.Module: The same object, now an instance of
        ``frozen_class(type(module))`` with every parameter's
        ``requires_grad`` False.
    """
    module.requires_grad_(False)
    module.__class__ = frozen_class(type(module))
    module.eval()
    return module


@MODELS.register_module()
def FrozenBackbone(backbone: Dict) -> nn.Module:  # noqa: N802
    """Build a backbone and freeze it (linear evaluation).

    Example::

        model = dict(
            backbone=dict(
                type='FrozenBackbone',
                backbone=dict(type='STGCN', graph_cfg=...)),
            cls_head=dict(type='GCNHead', dropout=0., ...))
        load_from = 'work_dirs/<pre-training>/epoch_100.pth'

    Args:
        backbone (dict): Config of the backbone to freeze (any registered
            backbone).

    Returns:
        nn.Module: The built backbone, frozen by :func:`freeze_module`; its
        parameter names are the inner backbone's.
    """
    return freeze_module(MODELS.build(backbone))
