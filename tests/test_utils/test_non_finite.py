"""The NonFiniteError family and the pre-write check of stateful modules."""
import pytest
import torch

from mmcsre.utils import (NonFiniteError, NonFiniteLossError,
                          NonFiniteStateError, check_finite_write)


def test_check_finite_write_counts_rows_and_names_the_module():
    module = torch.nn.Linear(2, 2)
    check_finite_write(torch.zeros(3, 2), module, 'rows')  # finite: no-op
    rows = torch.zeros(5, 2, 3)
    rows[1, 0, 0] = float('nan')
    rows[3, 1, 2] = -float('inf')
    rows[3, 0, 0] = float('inf')
    with pytest.raises(NonFiniteStateError) as info:
        check_finite_write(rows, module, 'feature rows')
    assert str(
        info.value).startswith('Linear refused to write 2 of 5 feature rows')
    assert info.value.module is module and info.value.num_rows == 2
    with pytest.raises(NonFiniteStateError, match='1 of 1 scalars'):
        check_finite_write(torch.tensor(float('nan')), module, 'scalars')


def test_with_context_keeps_class_and_attributes():
    error = NonFiniteLossError('loss_cls=nan', terms=['loss_cls'])
    copy = error.with_context('iteration 3')
    assert type(copy) is NonFiniteLossError and copy is not error
    assert str(copy) == 'iteration 3: loss_cls=nan'
    assert copy.terms == ('loss_cls', ) and str(error) == 'loss_cls=nan'
    state = NonFiniteStateError('bad', module=None, num_rows=4)
    assert state.with_context('here').num_rows == 4
    assert issubclass(NonFiniteError, FloatingPointError)
