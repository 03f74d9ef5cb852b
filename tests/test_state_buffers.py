"""preserve_state restores buffers, and never breaks a backward pass that is still pending."""

import torch
from torch import nn

from attribkit.layers.state import frozen, preserve_state


def _bn_net() -> nn.Module:
    torch.manual_seed(0)
    return nn.Sequential(nn.Conv2d(3, 4, 3), nn.BatchNorm2d(4), nn.ReLU())


def test_train_mode_statistics_are_restored() -> None:
    net = _bn_net().train()
    mean = net[1].running_mean.clone()
    tracked = net[1].num_batches_tracked.clone()
    with preserve_state(net):
        net(torch.rand(2, 3, 8, 8))
        assert not torch.equal(net[1].running_mean, mean)
    assert torch.equal(net[1].running_mean, mean)
    assert torch.equal(net[1].num_batches_tracked, tracked)


def test_reassigned_buffer_is_put_back() -> None:
    net = _bn_net()
    original = net[1].running_var
    with preserve_state(net):
        net[1].running_var = torch.zeros(4)
    assert net[1].running_var is original


def test_backward_after_the_block_still_works() -> None:
    # an eval-mode BatchNorm saves its running statistics for backward: an in-place write of
    # unchanged values on exit would fail the pending backward ("modified by an inplace operation")
    net = _bn_net()
    x = torch.rand(2, 3, 8, 8, requires_grad=True)
    with frozen(net):
        y = net(x).sum()
    y.backward()
    assert x.grad is not None


def test_buffers_false_keeps_updates() -> None:
    net = _bn_net().train()
    mean = net[1].running_mean.clone()
    with preserve_state(net, buffers=False):
        net(torch.rand(2, 3, 8, 8))
    assert not torch.equal(net[1].running_mean, mean)
