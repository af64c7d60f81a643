"""Training-loop utilities of mmcsre (hooks, runners)."""
