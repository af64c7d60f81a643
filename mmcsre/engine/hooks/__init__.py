from .memory_bank_init_hook import MemoryBankInitHook

__all__ = ['MemoryBankInitHook']
