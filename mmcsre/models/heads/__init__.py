from .stfd_head import STFDHead

__all__ = ['STFDHead']
