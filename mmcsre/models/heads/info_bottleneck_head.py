"""InfoBottleneckHead: InfoGCN's information-bottleneck objective as a
training-only auxiliary head."""
import math
from typing import Dict, List, Optional, Tuple

import torch
import torch.nn as nn
import torch.nn.functional as F
from mmaction.registry import MODELS
from mmengine.model import BaseModule

from .utils import gt_labels_of


@MODELS.register_module()
class InfoBottleneckHead(BaseModule):
    """The information-bottleneck (IB) objective of InfoGCN (Chi et al., CVPR
    2022) for ``MultiStreamRecognizer``'s ``aux_heads``.

    The backbone feature is pooled over M, T and V, passed through
    ``fc`` + ReLU (+ dropout), and mapped to a Gaussian latent
    (``fc_mu``, ``fc_logvar``). In training
    ``z = mu + eps * exp(noise_ratio * logvar)`` (eps ~ N(0, I), the
    standard deviation clamped at 100); otherwise ``z = mu``. The losses are
    those of the official code (github.com/stnoah1/infogcn, ``main.py`` and
    ``loss.py::get_mmd_loss``):

    - ``loss_cls``: label-smoothed (0.1) cross-entropy of ``decoder(z)``,
      the variational bound on I(Z; Y); weight ``cls_weight``;
    - ``loss_mmd``: mean squared error between the batch mean of z of each
      class present in the batch and that class's prior mean, the MMD to
      class-conditional priors that bounds I(Z; X); weight ``mmd_weight``
      (lambda_2 = 0.1). The prior means are fixed orthogonal vectors
      scaled by ``prior_gain`` (a buffer, saved with the checkpoint);
    - ``loss_z_mean``: L2 norm of the batch mean of z; weight
      ``z_mean_weight`` (lambda_1 = 1e-4).

    With mmaction2's ``GCNHead`` or mmcsre's ``STFDHead`` as the
    classifier, this head only shapes the backbone's features. It is not
    used at test time: ``MultiStreamRecognizer`` lists ``aux_heads`` in its
    ``training_only_modules``, so ``tools/strip_checkpoint.py`` drops it.

    Args:
        num_classes (int): Number of classes.
        in_channels (int): Channels C of the backbone feature.
        latent_dim (int, optional): Size of z. Defaults to ``in_channels``
            (256 in InfoGCN).
        noise_ratio (float): Scale of logvar in the sampling noise.
            Defaults to 0.5 (the official ``--noise_ratio`` default).
        prior_gain (float): Norm of the class prior means. Defaults to 3
            (``--z_prior_gain``).
        cls_weight (float): Weight of the decoder cross-entropy; 0 builds
            no decoder. Defaults to 1.0.
        mmd_weight (float): Weight of the MMD loss. Defaults to 0.1.
        z_mean_weight (float): Weight of the mean-latent norm.
            Defaults to 1e-4.
        label_smoothing (float): Of the decoder cross-entropy.
            Defaults to 0.1.
        dropout (float): Dropout after ``fc``. Defaults to 0.
        init_cfg (dict, optional): Initialisation config. Defaults to None
            (the official initialisation, done at construction).
    """

    def __init__(self,
                 num_classes: int,
                 in_channels: int,
                 latent_dim: Optional[int] = None,
                 noise_ratio: float = 0.5,
                 prior_gain: float = 3.,
                 cls_weight: float = 1.,
                 mmd_weight: float = 0.1,
                 z_mean_weight: float = 1e-4,
                 label_smoothing: float = 0.1,
                 dropout: float = 0.,
                 init_cfg: Optional[Dict] = None) -> None:
        super().__init__(init_cfg=init_cfg)
        latent_dim = latent_dim or in_channels
        self.num_classes = num_classes
        self.noise_ratio = noise_ratio
        self.cls_weight = cls_weight
        self.mmd_weight = mmd_weight
        self.z_mean_weight = z_mean_weight
        self.label_smoothing = label_smoothing
        self.fc = nn.Linear(in_channels, in_channels)
        self.dropout = nn.Dropout(dropout) if dropout else nn.Identity()
        self.fc_mu = nn.Linear(in_channels, latent_dim)
        self.fc_logvar = nn.Linear(in_channels, latent_dim)
        self.decoder = nn.Linear(latent_dim, num_classes) \
            if cls_weight else None
        z_prior = torch.empty(num_classes, latent_dim)
        nn.init.orthogonal_(z_prior, gain=prior_gain)
        self.register_buffer('z_prior', z_prior)
        relu_gain = nn.init.calculate_gain('relu')
        for fc in (self.fc, self.fc_mu, self.fc_logvar):
            nn.init.xavier_uniform_(fc.weight, gain=relu_gain)
        if self.decoder is not None:
            nn.init.normal_(self.decoder.weight, 0,
                            math.sqrt(2. / num_classes))

    def forward(
        self, feats: torch.Tensor
    ) -> Tuple[torch.Tensor, Tuple[torch.Tensor, torch.Tensor]]:
        """Latent of a backbone feature map.

        Args:
            feats (torch.Tensor): (N, M, C, T, V) backbone features.

        Returns:
            tuple: z (N, D), then ``(mu, logvar)``, each (N, D). z is a
            sample in training mode and mu otherwise.
        """
        x = feats.mean(dim=(3, 4)).mean(dim=1)
        x = self.dropout(F.relu(self.fc(x)))
        mu, logvar = self.fc_mu(x), self.fc_logvar(x)
        if not self.training:
            return mu, (mu, logvar)
        std = (logvar * self.noise_ratio).exp().clamp(max=100)
        return mu + torch.randn_like(std) * std, (mu, logvar)

    def mmd_loss(self, z: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
        """Mean squared distance between the class means of z and their priors,
        over the classes present in the batch.

        Args:
            z (torch.Tensor): (N, D) latents.
            labels (torch.Tensor): (N,) class indices.

        Returns:
            torch.Tensor: Scalar loss.
        """
        onehot = F.one_hot(labels, self.num_classes).to(z.dtype)  # (N, K)
        counts = onehot.sum(0)
        present = counts > 0
        means = (onehot.t() @ z)[present] / counts[present, None]
        return F.mse_loss(means, self.z_prior[present].to(means.dtype))

    def loss(self,
             feats: torch.Tensor,
             data_samples: List,
             stage_feats: Optional[Dict[str, torch.Tensor]] = None,
             **kwargs) -> Dict[str, torch.Tensor]:
        """The weighted IB losses.

        Args:
            feats (torch.Tensor): (N, M, C, T, V) backbone features.
            data_samples (list[ActionDataSample]): With ``gt_label(s)``.
            stage_feats (dict, optional): Tapped stages (unused).

        Returns:
            dict[str, torch.Tensor]: ``loss_cls`` (when a decoder is
            built), ``loss_mmd``, ``loss_z_mean`` and the unweighted
            ``z_mean_norm``.
        """
        labels = gt_labels_of(data_samples).to(feats.device)
        z, _ = self(feats)
        z_mean_norm = z.mean(dim=0).norm(p=2)
        losses = dict(
            loss_mmd=self.mmd_weight * self.mmd_loss(z, labels),
            loss_z_mean=self.z_mean_weight * z_mean_norm,
            z_mean_norm=z_mean_norm.detach())
        if self.decoder is not None:
            losses['loss_cls'] = self.cls_weight * F.cross_entropy(
                self.decoder(z), labels, label_smoothing=self.label_smoothing)
        return losses
