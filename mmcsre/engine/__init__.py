"""Training-loop utilities of mmcsre (hooks)."""
from .hooks import *  # noqa: F401,F403
