"""Skeleton encoders of the CSRE paper's tables, registered in ``MODELS``.

Every backbone maps (N, M, T, V, C) skeletons to (N, M, C', T', V') features
(what mmaction2's ``GCNHead`` and mmcsre's ``STFDHead`` take) and lists its
successive stages in ``stage_names`` so ``MultiStreamRecognizer`` can tap them
by index.
"""
from .blockgcn import BlockGCN
from .ctrgcn import CTRGCN
from .frozen_backbone import FrozenBackbone, freeze_module
from .hcn import HCN
from .hyperformer import Hyperformer
from .infogcn import InfoGCN
from .stfgcn import STFGCN

__all__ = [
    'BlockGCN', 'CTRGCN', 'FrozenBackbone', 'freeze_module', 'HCN',
    'Hyperformer', 'InfoGCN', 'STFGCN'
]
