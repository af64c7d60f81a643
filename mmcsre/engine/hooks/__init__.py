from .memory_bank_init_hook import MemoryBankInitHook
from .non_finite_guard_hook import NonFiniteGuardHook
from .resumable_randomness_hook import ResumableRandomnessHook

__all__ = [
    'MemoryBankInitHook', 'NonFiniteGuardHook', 'ResumableRandomnessHook'
]
