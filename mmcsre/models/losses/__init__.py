"""Losses of mmcsre, registered in ``MODELS``."""
from .nt_xent import NTXentLoss

__all__ = ['NTXentLoss']
