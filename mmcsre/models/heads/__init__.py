from .fr_head import FRHead
from .fr_prototypes import ClassPrototypes
from .info_bottleneck_head import InfoBottleneckHead
from .stfd_head import STFDHead

__all__ = ['ClassPrototypes', 'FRHead', 'InfoBottleneckHead', 'STFDHead']
