from .contrastive_memory_bank import ContrastiveMemoryBank

__all__ = ['ContrastiveMemoryBank']
