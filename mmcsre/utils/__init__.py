from .checkpoint_files import (CheckpointError, checkpoint_damage,
                               find_latest_intact_checkpoint,
                               install_checkpoint_loader, load_checkpoint_file)
from .cli import (CLIError, check_annotation_files, fail, require_file,
                  require_folder, run_cli, tool_description)
from .compat import (allow_mmengine_checkpoints, history_buffer_getattr,
                     install_drn_stub, silence_mmcv_lite_warning)
from .non_finite import (NonFiniteError, NonFiniteLossError,
                         NonFiniteStateError, check_finite_write)
from .rng import (get_global_rng_state, preserve_global_rng,
                  set_global_rng_state)

__all__ = [
    'CLIError', 'check_annotation_files', 'fail', 'require_file',
    'require_folder', 'run_cli', 'tool_description', 'CheckpointError',
    'checkpoint_damage', 'find_latest_intact_checkpoint',
    'install_checkpoint_loader', 'load_checkpoint_file',
    'allow_mmengine_checkpoints', 'history_buffer_getattr', 'install_drn_stub',
    'silence_mmcv_lite_warning', 'preserve_global_rng', 'get_global_rng_state',
    'set_global_rng_state', 'NonFiniteError', 'NonFiniteLossError',
    'NonFiniteStateError', 'check_finite_write'
]
