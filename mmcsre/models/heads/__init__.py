from .fr_head import FRHead
from .fr_prototypes import ClassPrototypes
from .info_bottleneck_head import InfoBottleneckHead
from .linear_probe_head import LinearProbeHead
from .spatio_temporal_focus_head import SpatioTemporalFocusHead
from .stfd_head import STFDHead

__all__ = [
    'ClassPrototypes', 'FRHead', 'InfoBottleneckHead', 'LinearProbeHead',
    'SpatioTemporalFocusHead', 'STFDHead'
]
