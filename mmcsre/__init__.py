"""mmcsre: contrastive spatiotemporal representation enhancement for
skeleton-based action recognition, as an mmaction2 extension.

``import mmcsre`` registers every module into mmaction2's registries (scope
``mmaction``) and applies the fixes of :mod:`mmcsre.utils.compat`; local
checkpoints load through :func:`mmcsre.utils.load_checkpoint_file`.
"""
from .utils.checkpoint_files import install_checkpoint_loader
from .utils.compat import (allow_mmengine_checkpoints, install_drn_stub,
                           silence_mmcv_lite_warning)

silence_mmcv_lite_warning()
install_drn_stub()  # must precede the first import of mmaction.models
allow_mmengine_checkpoints()
install_checkpoint_loader()  # weights_only=True, errors naming the file

# mmaction2's own modules first (some, like its ConvBranch initializer, are
# only registered when their package is imported).
from mmaction.utils import register_all_modules  # noqa: E402

register_all_modules(init_default_scope=False)

from . import datasets, engine, evaluation, models, structures  # noqa: E402
from .version import __version__, version_info  # noqa: E402

__all__ = [
    '__version__', 'version_info', 'datasets', 'engine', 'evaluation',
    'models', 'structures'
]
