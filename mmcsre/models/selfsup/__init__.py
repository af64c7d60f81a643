"""Self-supervised pre-training models of mmcsre (CP-STN)."""
from .cpstn import CPSTN
from .stgcn_decoder import STGCNDecoder

__all__ = ['CPSTN', 'STGCNDecoder']
