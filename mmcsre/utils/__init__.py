from .compat import (allow_mmengine_checkpoints, history_buffer_getattr,
                     install_drn_stub, silence_mmcv_lite_warning)
from .rng import preserve_global_rng

__all__ = [
    'allow_mmengine_checkpoints', 'history_buffer_getattr', 'install_drn_stub',
    'silence_mmcv_lite_warning', 'preserve_global_rng'
]
