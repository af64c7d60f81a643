"""CP-STN: contrastive-pretext spatial-temporal network (self-supervised
pre-training of a skeleton encoder)."""
import copy
from typing import Dict, List, Optional, Sequence, Union

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from mmaction.registry import MODELS
from mmengine.model import BaseModel

NTU_GRAPH = dict(layout='nturgb+d', mode='stgcn_spatial')


@MODELS.register_module()
class CPSTN(BaseModel):
    """Contrastive-pretext spatial-temporal network (cp-stn.txt Sec. 3).

    A shared encoder ``f`` reads a spatially augmented view ``X_i``
    (rotation, shear, joint jitter) and a temporally masked view ``X_j``
    (the first ``T'`` frames) of each sample: ``q = f(X)``, (N, M, C, T',
    V'). Then

    - the first half of ``q_i``'s channels goes to the spatial pretext
      decoder, which regenerates the original ``X`` (``L_s``, Eq. 6, MSE
      over all frames);
    - the second half of ``q_j``'s channels goes to the temporal pretext
      decoder, which regenerates the masked frames (``L_t``, Eq. 7, MSE
      over frames ``T' + 1 .. T`` only);
    - time-average pooling (here over persons, frames and joints, as
      mmaction2's ``GCNHead`` pools) gives the representation ``h`` (N, C),
      a two-layer MLP projects it and NT-Xent contrasts the two views over
      the batch (``L_c``, Eq. 4-5).

    ``L = alpha L_c + beta L_s + gamma L_t`` (Eq. 3, all 1 in the paper).
    The MSE losses are means over their elements rather than the sums of
    Eq. 6-7 (a constant factor). ``extract_feat`` / ``predict`` return
    ``h``, the feature used for linear evaluation.

    The encoder is ``self.backbone``, so the ``backbone.*`` keys of a CP-STN
    checkpoint load into a supervised recognizer with the same backbone
    config via ``load_from`` (the decoder and projector keys are reported
    as unexpected and ignored).

    Inputs come from :class:`~mmcsre.datasets.transforms.TwoViewSkeleton`
    as (N, 3, M, T, V, C): original, spatial view, temporal view; the
    temporal view's kept frames come from the data samples'
    ``temporal_mask`` (or, if absent, are the frames that are not all zero).

    Args:
        backbone (dict, optional): Encoder config; any mmaction2 / mmcsre
            skeleton backbone mapping (N, M, T, V, C) to (N, M, C', T',
            V'). Defaults to mmaction2's ``STGCN`` with six units (64-64-64-
            128-128-256 channels, time stride 2 at units 4 and 6) and the
            fixed physical adjacency (``gcn_adaptive=None``), NTU layout.
        feat_channels (int): Output channels C' of the encoder (even).
            Defaults to 256.
        decoder (dict, optional): Config of both pretext decoders; their
            ``in_channels`` (C' / 2) and ``out_channels`` (``in_channels``)
            are filled in. Defaults to :class:`STGCNDecoder` with five units,
            dropout 0.2, NTU layout.
        in_channels (int): Channels C of the input sequences, the
            decoders' output. Defaults to 3.
        proj_channels (int): Output size of the projection MLP.
            Defaults to 128.
        proj_hidden_channels (int, optional): Hidden size of the projection
            MLP. Defaults to ``feat_channels``.
        loss_contrastive (dict): Contrastive loss config. Defaults to
            ``dict(type='NTXentLoss', temperature=0.1)``.
        alpha (float): Weight of the contrastive loss. Defaults to 1.0.
        beta (float): Weight of the spatial pretext loss. Defaults to 1.0.
        gamma (float): Weight of the temporal pretext loss. Defaults to 1.0.
        data_preprocessor (dict, optional): Data preprocessor config.
            Defaults to ``dict(type='SkeletonDataPreprocessor')``.
        init_cfg (dict | list[dict], optional): Initialisation config.
            Defaults to None.
    """

    def __init__(self,
                 backbone: Optional[Dict] = None,
                 feat_channels: int = 256,
                 decoder: Optional[Dict] = None,
                 in_channels: int = 3,
                 proj_channels: int = 128,
                 proj_hidden_channels: Optional[int] = None,
                 loss_contrastive: Dict = dict(
                     type='NTXentLoss', temperature=0.1),
                 alpha: float = 1.0,
                 beta: float = 1.0,
                 gamma: float = 1.0,
                 data_preprocessor: Optional[Dict] = None,
                 init_cfg: Optional[Union[Dict, List[Dict]]] = None) -> None:
        if data_preprocessor is None:
            data_preprocessor = dict(type='SkeletonDataPreprocessor')
        super().__init__(
            data_preprocessor=data_preprocessor, init_cfg=init_cfg)
        if feat_channels % 2:
            raise ValueError('feat_channels must be even (it is split in '
                             f'two halves), got {feat_channels}')
        if backbone is None:
            backbone = dict(
                type='STGCN',
                graph_cfg=NTU_GRAPH,
                num_stages=6,
                inflate_stages=[4, 6],
                down_stages=[4, 6],
                gcn_adaptive=None)
        if decoder is None:
            decoder = dict(type='STGCNDecoder', graph_cfg=NTU_GRAPH)
        self.backbone = MODELS.build(backbone)
        decoder = dict(
            copy.deepcopy(decoder),
            in_channels=feat_channels // 2,
            out_channels=in_channels)
        self.spatial_decoder = MODELS.build(decoder)
        self.temporal_decoder = MODELS.build(copy.deepcopy(decoder))
        hidden = proj_hidden_channels or feat_channels
        self.projector = nn.Sequential(
            nn.Linear(feat_channels, hidden), nn.ReLU(inplace=True),
            nn.Linear(hidden, proj_channels))
        self.loss_contrastive = MODELS.build(loss_contrastive)
        self.feat_channels = feat_channels
        self.alpha, self.beta, self.gamma = alpha, beta, gamma

    def encode(self, x: torch.Tensor) -> torch.Tensor:
        """Run the encoder.

        Args:
            x (torch.Tensor): (N, M, T, V, C) sequences.

        Returns:
            torch.Tensor: (N, M, C', T', V') features.
        """
        feats = self.backbone(x)
        if isinstance(feats, (tuple, list)):
            feats = feats[-1]
        if feats.shape[2] != self.feat_channels:
            raise ValueError(f'the encoder gives {feats.shape[2]} channels '
                             f'but feat_channels={self.feat_channels}')
        return feats

    @staticmethod
    def pool(feats: torch.Tensor) -> torch.Tensor:
        """Average over persons, time and joints.

        Args:
            feats (torch.Tensor): (N, M, C', T', V') features.

        Returns:
            torch.Tensor: (N, C') representations ``h``.
        """
        return feats.mean(dim=(1, 3, 4))

    def extract_feat(self, inputs: torch.Tensor) -> torch.Tensor:
        """Representations ``h`` for feature extraction / linear evaluation.

        Args:
            inputs (torch.Tensor): (N, num_clips, M, T, V, C) or
                (N, M, T, V, C) sequences.

        Returns:
            torch.Tensor: (N, C') representations, averaged over clips.
        """
        if inputs.dim() == 5:
            inputs = inputs[:, None]
        n, clips = inputs.shape[:2]
        h = self.pool(self.encode(inputs.flatten(0, 1)))
        return h.reshape(n, clips, -1).mean(1)

    def _kept_frames(self, temporal: torch.Tensor,
                     data_samples: Optional[Sequence]) -> torch.Tensor:
        """(N, T) bool mask of the frames the temporal view kept."""
        masks = [ds.metainfo.get('temporal_mask') for ds in data_samples or []]
        if masks and all(m is not None for m in masks):
            return torch.as_tensor(
                np.stack(masks), dtype=torch.bool, device=temporal.device)
        return temporal.abs().sum(dim=(1, 3, 4)) > 0

    def loss(self,
             inputs: torch.Tensor,
             data_samples: Optional[Sequence] = None) -> Dict:
        """The three pre-training losses.

        Args:
            inputs (torch.Tensor): (N, 3, M, T, V, C) original, spatial and
                temporal views.
            data_samples (Sequence[ActionDataSample], optional): Samples
                carrying ``temporal_mask`` (T, ). Defaults to None.

        Returns:
            dict: ``loss_contrastive``, ``loss_spatial``, ``loss_temporal``.
        """
        if inputs.dim() != 6 or inputs.shape[1] != 3:
            raise ValueError(
                'CPSTN trains on (N, 3, M, T, V, C) inputs (original, '
                'spatial and temporal view; see TwoViewSkeleton), got '
                f'{tuple(inputs.shape)}')
        original, spatial, temporal = inputs.unbind(1)
        n, _, T, V, _ = original.shape
        feats = self.encode(torch.cat([spatial, temporal]))
        q_s, q_t = feats.chunk(2)
        half = self.feat_channels // 2
        rec_s = self.spatial_decoder(q_s[:, :, :half], T, V)
        rec_t = self.temporal_decoder(q_t[:, :, half:], T, V)
        z_s, z_t = self.projector(self.pool(feats)).chunk(2)

        masked = ~self._kept_frames(temporal, data_samples)
        frame_err = (rec_t - original).pow(2).mean(dim=(1, 3, 4))  # (N, T)
        loss_t = (frame_err * masked).sum() / masked.sum().clamp(min=1)
        return dict(
            loss_contrastive=self.alpha * self.loss_contrastive(z_s, z_t),
            loss_spatial=self.beta * F.mse_loss(rec_s, original),
            loss_temporal=self.gamma * loss_t)

    def predict(self, inputs: torch.Tensor,
                data_samples: Sequence) -> Sequence:
        """Attach the representation ``h`` to each sample as ``feature``.

        Args:
            inputs (torch.Tensor): (N, num_clips, M, T, V, C) sequences.
            data_samples (Sequence[ActionDataSample]): The samples.

        Returns:
            Sequence[ActionDataSample]: The samples, each with a (C', )
            ``feature`` field.
        """
        h = self.extract_feat(inputs)
        for ds, feat in zip(data_samples, h):
            ds.set_field(feat, 'feature')
        return data_samples

    def forward(self,
                inputs: torch.Tensor,
                data_samples: Optional[Sequence] = None,
                mode: str = 'tensor'):
        """Dispatch on ``mode``.

        Args:
            inputs (torch.Tensor): (N, num_clips, M, T, V, C) sequences;
                num_clips is 3 (the views) for ``'loss'``.
            data_samples (Sequence[ActionDataSample], optional): The
                samples. Defaults to None.
            mode (str): ``'loss'`` (dict of losses), ``'predict'`` (samples
                with ``feature``) or ``'tensor'`` ((N, C') ``h``).
                Defaults to ``'tensor'``.

        Returns:
            dict | Sequence[ActionDataSample] | torch.Tensor: As ``mode``
            says.
        """
        if mode == 'loss':
            return self.loss(inputs, data_samples)
        if mode == 'predict':
            return self.predict(inputs, data_samples)
        if mode == 'tensor':
            return self.extract_feat(inputs)
        raise ValueError(f'invalid mode {mode!r}; use loss, predict, tensor')
