"""Tests of :class:`InfoBottleneckHead`: InfoGCN's latent (mu, logvar,
reparameterisation), its MMD loss to class-conditional priors and its use as a
training-only auxiliary head."""
import torch
import torch.nn.functional as F
from mmaction.structures import ActionDataSample
from mmengine.registry import init_default_scope

from mmcsre.models import test_time
from mmcsre.models.heads import InfoBottleneckHead

K, C = 5, 16


def make_samples(labels):
    samples = []
    for y in labels:
        ds = ActionDataSample()
        if hasattr(ds, 'set_gt_labels'):
            ds.set_gt_labels(torch.LongTensor([int(y)]))
        else:
            ds.set_gt_label(torch.LongTensor([int(y)]))
        samples.append(ds)
    return samples


def test_latent_and_reparameterisation():
    torch.manual_seed(0)
    head = InfoBottleneckHead(K, C, latent_dim=8, noise_ratio=0.5)
    feats = torch.randn(6, 2, C, 4, 5)
    pooled = feats.mean(dim=(1, 3, 4))
    hidden = F.relu(head.fc(pooled))
    mu, logvar = head.fc_mu(hidden), head.fc_logvar(hidden)

    head.eval()
    z, (mu_e, logvar_e) = head(feats)
    torch.testing.assert_close(z, mu)
    torch.testing.assert_close((mu_e, logvar_e), (mu, logvar))

    head.train()
    torch.manual_seed(1)
    z, _ = head(feats)
    torch.manual_seed(1)
    eps = torch.randn_like(mu)
    torch.testing.assert_close(z, mu + eps * (0.5 * logvar).exp())

    # The standard deviation is clamped at 100.
    torch.nn.init.constant_(head.fc_logvar.bias, 1e3)
    torch.manual_seed(2)
    z, (mu, _) = head(feats)
    torch.manual_seed(2)
    torch.testing.assert_close(z, mu + torch.randn_like(mu) * 100)


def test_class_priors_are_orthogonal_and_saved():
    head = InfoBottleneckHead(K, C, prior_gain=3.)
    gram = head.z_prior @ head.z_prior.t()
    torch.testing.assert_close(gram, 9 * torch.eye(K), atol=1e-4, rtol=0)
    assert 'z_prior' in head.state_dict()
    other = InfoBottleneckHead(K, C)
    other.load_state_dict(head.state_dict())
    assert torch.equal(other.z_prior, head.z_prior)


def test_mmd_loss_over_present_classes():
    torch.manual_seed(0)
    head = InfoBottleneckHead(K, C)
    z = torch.randn(7, C)
    labels = torch.tensor([0, 3, 3, 0, 4, 3, 0])  # classes 1, 2 absent
    means = torch.stack([z[labels == k].mean(0) for k in (0, 3, 4)])
    expected = ((means - head.z_prior[[0, 3, 4]])**2).mean()
    torch.testing.assert_close(head.mmd_loss(z, labels), expected)


def test_losses_and_weights():
    torch.manual_seed(0)
    head = InfoBottleneckHead(K, C).eval()  # z = mu: deterministic
    feats = torch.randn(6, 1, C, 3, 4)
    labels = torch.tensor([0, 1, 1, 2, 4, 4])
    losses = head.loss(feats, make_samples(labels))
    z, _ = head(feats)
    assert set(losses) == {
        'loss_cls', 'loss_mmd', 'loss_z_mean', 'z_mean_norm'
    }
    torch.testing.assert_close(losses['loss_mmd'],
                               0.1 * head.mmd_loss(z, labels))
    torch.testing.assert_close(losses['loss_z_mean'], 1e-4 * z.mean(0).norm())
    torch.testing.assert_close(
        losses['loss_cls'],
        F.cross_entropy(head.decoder(z), labels, label_smoothing=0.1))
    assert not losses['z_mean_norm'].requires_grad

    no_decoder = InfoBottleneckHead(K, C, cls_weight=0)
    assert no_decoder.decoder is None
    assert 'loss_cls' not in no_decoder.loss(feats, make_samples(labels))


def test_mmd_pulls_class_means_to_priors():
    torch.manual_seed(0)
    head = InfoBottleneckHead(K, C, cls_weight=0, mmd_weight=1.).eval()
    feats = torch.randn(10, 1, C, 2, 3)
    samples = make_samples(torch.arange(10) % K)
    optim = torch.optim.SGD(head.parameters(), lr=0.2)
    first = None
    for _ in range(30):
        loss = head.loss(feats, samples)['loss_mmd']
        first = first if first is not None else loss.item()
        optim.zero_grad()
        loss.backward()
        optim.step()
    assert loss.item() < 0.5 * first


def test_aux_head_of_multi_stream_recognizer_is_training_only():
    """With GCNHead as classifier: IB losses train the backbone; the head is
    dropped at test time and the stripped model predicts the same."""
    from mmaction.registry import MODELS
    init_default_scope('mmaction')
    torch.manual_seed(0)
    cfg = dict(
        type='MultiStreamRecognizer',
        backbone=dict(
            type='InfoGCN',
            graph_cfg=dict(layout='coco', mode='spatial'),
            base_channels=8,
            num_stages=2,
            inflate_stages=(2, ),
            down_stages=(2, ),
            num_person=1),
        cls_head=dict(type='GCNHead', num_classes=K, in_channels=16),
        aux_heads=dict(
            ib=dict(type='InfoBottleneckHead', num_classes=K, in_channels=16)))
    model = MODELS.build(cfg)
    model.init_weights()
    inputs = torch.randn(4, 1, 1, 9, 17, 3)
    samples = make_samples([0, 1, 2, 1])
    losses = model(inputs, samples, mode='loss')
    assert {'ib.loss_cls', 'ib.loss_mmd', 'ib.loss_z_mean'} <= set(losses)
    (losses['ib.loss_mmd'] + losses['ib.loss_cls']).backward()
    assert model.backbone.gcn[0].gcn.conv_d[0].weight.grad.abs().sum() > 0
    assert model.cls_head.fc.weight.grad is None

    kept, prefixes = test_time.strip_state_dict(model, model.state_dict())
    assert prefixes == ['aux_heads.']
    assert not any(k.startswith('aux_heads.') for k in kept)
    stock = MODELS.build(test_time.test_time_model_cfg(cfg, stock=False))
    stock.load_state_dict(kept, strict=True)
    model.eval()
    stock.eval()
    with torch.no_grad():
        torch.testing.assert_close(
            stock(inputs, mode='tensor'), model(inputs, mode='tensor'))
