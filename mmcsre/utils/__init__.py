from .compat import (allow_mmengine_checkpoints, history_buffer_getattr,
                     install_drn_stub, silence_mmcv_lite_warning)

__all__ = [
    'allow_mmengine_checkpoints', 'history_buffer_getattr', 'install_drn_stub',
    'silence_mmcv_lite_warning'
]
