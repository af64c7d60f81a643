"""Training-loop utilities of mmcsre (hooks, multi-process setup)."""
from .distributed import distributed_backend, prepare_distributed  # noqa: F401
from .hooks import *  # noqa: F401,F403
