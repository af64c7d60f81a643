"""Building blocks shared by several backbones."""
from .multiscale_tcn import MultiScaleTCN, TemporalUnit

__all__ = ['MultiScaleTCN', 'TemporalUnit']
