"""Errors for non-finite (NaN or infinite) values in training, and the check
that stateful modules run before writing their buffers."""
import copy
from typing import Optional, Sequence

import torch


class NonFiniteError(FloatingPointError):
    """A NaN or infinite value where training needs finite ones.

    Raised by :class:`~mmcsre.engine.hooks.NonFiniteGuardHook` and by modules
    that refuse to store non-finite state; the hook catches the whole family
    during a training step and either skips the step or stops training.
    """

    def with_context(self, context: str) -> 'NonFiniteError':
        """A copy of the error, of the same class and with the same attributes,
        whose message is prefixed with ``context``.

        Args:
            context (str): Where it happened, e.g. the iteration.

        Returns:
            NonFiniteError: The copy.
        """
        error = copy.copy(self)
        message = self.args[0] if self.args else ''
        error.args = (f'{context}: {message}', )
        return error


class NonFiniteLossError(NonFiniteError):
    """A loss term, or the total loss, is not finite.

    Args:
        message (str): The error message.
        terms (Sequence[str]): Names of the non-finite terms. Defaults to ().
    """

    def __init__(self, message: str, terms: Sequence[str] = ()) -> None:
        super().__init__(message)
        self.terms = tuple(terms)


class NonFiniteStateError(NonFiniteError):
    """A module refused to write non-finite values into its buffers (memory
    bank rows, class prototypes), or a checkpoint holds non-finite tensors.

    Args:
        message (str): The error message.
        module (torch.nn.Module, optional): The refusing module. Defaults to
            None.
        num_rows (int): How many rows were not finite. Defaults to 0.
    """

    def __init__(self,
                 message: str,
                 module: Optional[torch.nn.Module] = None,
                 num_rows: int = 0) -> None:
        super().__init__(message)
        self.module = module
        self.num_rows = num_rows


def check_finite_write(rows: torch.Tensor, module: torch.nn.Module,
                       what: str) -> None:
    """Refuse to write ``rows`` into ``module``'s state unless all are finite.

    Call it before any buffer is changed: a caught error then leaves the
    module as it was. One ``isfinite(...).all()`` and one host sync on the
    happy path; rows are counted only when something is wrong.

    Args:
        rows (torch.Tensor): (N, ...) values about to be written, one row
            per slot.
        module (torch.nn.Module): The module whose buffers they would go to.
        what (str): What a row is, for the message, e.g. 'feature rows'.

    Raises:
        NonFiniteStateError: If any value is NaN or infinite.
    """
    finite = torch.isfinite(rows)
    if bool(finite.all()):
        return
    if rows.dim() == 0:
        num_bad, total = 1, 1
    else:
        num_bad = int((~finite.reshape(rows.shape[0], -1).all(1)).sum())
        total = rows.shape[0]
    raise NonFiniteStateError(
        f'{type(module).__name__} refused to write {num_bad} of {total} '
        f'{what}: they hold NaN or infinite values; its buffers are '
        'unchanged',
        module=module,
        num_rows=num_bad)
