"""Models of mmcsre (heads, memory banks, recognizers, backbones)."""
