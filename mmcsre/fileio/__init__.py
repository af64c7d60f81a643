"""Loading files without running code from them: a safe ``pickle.load`` for
skeleton pickles and score dumps, and a safe ``mmengine.load``."""
from .safe_pickle import (SafeUnpickler, UnsafePickleError, allowed_globals,
                          safe_load, safe_pickle_load, safe_pickle_loads)

__all__ = [
    'SafeUnpickler', 'UnsafePickleError', 'allowed_globals', 'safe_load',
    'safe_pickle_load', 'safe_pickle_loads'
]
