"""Models of mmcsre (heads, memory banks, recognizers)."""
from .heads import *  # noqa: F401,F403
from .memory import *  # noqa: F401,F403
from .recognizers import *  # noqa: F401,F403
