"""NT-Xent, the normalised temperature-scaled cross-entropy of SimCLR."""
import torch
import torch.nn as nn
import torch.nn.functional as F
from mmaction.registry import MODELS


@MODELS.register_module()
class NTXentLoss(nn.Module):
    """Contrastive loss between two views of a batch (CP-STN Eq. 4-5).

    The 2N projections of the two views are L2-normalised; for anchor ``s``
    with positive ``t`` (the other view of the same sample)::

        l(s, t) = -log exp(sim(z_s, z_t) / tau)
                       / sum_{k != s} exp(sim(z_s, z_k) / tau)

    where ``k`` runs over all 2N projections (the other 2N - 2 are the
    negatives). The loss is the mean of ``l`` over the 2N anchors, i.e.
    both ``(s, t)`` and ``(t, s)`` of every pair, as in SimCLR. cp-stn.txt
    Eq. 5 writes the same sum divided by N instead of 2N (twice this
    value); set ``loss_weight=2`` to match it literally.

    Args:
        temperature (float): Temperature ``tau``. Defaults to 0.1.
        loss_weight (float): Factor on the loss. Defaults to 1.0.
    """

    def __init__(self,
                 temperature: float = 0.1,
                 loss_weight: float = 1.0) -> None:
        super().__init__()
        if temperature <= 0:
            raise ValueError(f'temperature must be > 0, got {temperature}')
        self.temperature = temperature
        self.loss_weight = loss_weight

    def forward(self, z_a: torch.Tensor, z_b: torch.Tensor) -> torch.Tensor:
        """Compute the loss.

        Args:
            z_a (torch.Tensor): (N, D) projections of the first view.
            z_b (torch.Tensor): (N, D) projections of the second view; row
                ``i`` is the positive of ``z_a``'s row ``i``.

        Returns:
            torch.Tensor: The scalar loss.
        """
        if z_a.shape != z_b.shape or z_a.dim() != 2:
            raise ValueError('expected two (N, D) tensors of one shape, got '
                             f'{tuple(z_a.shape)} and {tuple(z_b.shape)}')
        n = z_a.shape[0]
        z = F.normalize(torch.cat([z_a, z_b]), dim=1)
        logits = z @ z.t() / self.temperature
        self_pair = torch.eye(2 * n, dtype=torch.bool, device=z.device)
        logits = logits.masked_fill(self_pair, float('-inf'))
        index = torch.arange(n, device=z.device)
        positives = torch.cat([index + n, index])
        return self.loss_weight * F.cross_entropy(logits, positives)
