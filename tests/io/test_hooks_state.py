import pytest
import torch
from torch import nn

from attribkit.layers import capture, count_hooks, forward_to, frozen, preserve_state, resolve_layer


def _net() -> nn.Sequential:
    return nn.Sequential(nn.Conv2d(3, 4, 3), nn.ReLU(), nn.Flatten(), nn.Linear(4 * 6 * 6, 2))


def test_resolve_layer_names_and_close_matches():
    net = _net()
    assert resolve_layer(net, "1") is net[1]
    assert resolve_layer(net, net[3]) is net[3]
    with pytest.raises(ValueError, match="does not exist"):
        resolve_layer(net, "7")
    with pytest.raises(ValueError, match="not part of the model"):
        resolve_layer(net, nn.ReLU())
    with pytest.raises(TypeError):
        resolve_layer(net, 3)  # type: ignore[arg-type]


def test_capture_removes_hooks_on_every_exit_path():
    net = _net()
    with capture(net, ["0", net[1]]) as acts:
        net(torch.rand(1, 3, 8, 8))
    assert set(acts) == {"0", "1"} and acts["1"].shape == (1, 4, 6, 6)
    assert count_hooks(net) == 0
    with pytest.raises(RuntimeError):
        with capture(net, "0"):
            raise RuntimeError("boom")
    assert count_hooks(net) == 0


def test_forward_to_stops_early():
    net = _net()
    calls = []
    net[3].register_forward_hook(lambda *a: calls.append(1))
    acts = forward_to(net, torch.rand(1, 3, 8, 8), ["1"])
    assert acts["1"].shape == (1, 4, 6, 6) and calls == []
    assert count_hooks(net) == 1  # only the test's own hook


def test_preserve_state_restores_mode_flags_and_grads():
    net = _net().train()
    net[0].weight.grad = torch.ones_like(net[0].weight)
    net[3].weight.requires_grad_(False)
    with pytest.raises(RuntimeError):
        with preserve_state(net):
            net.eval()
            net(torch.rand(1, 3, 8, 8)).sum().backward()
            net[0].weight.requires_grad_(False)
            raise RuntimeError("midway")
    assert net.training and net[0].training
    assert torch.equal(net[0].weight.grad, torch.ones_like(net[0].weight))
    assert net[0].bias.grad is None
    assert net[0].weight.requires_grad and not net[3].weight.requires_grad
    with frozen(net):
        assert not net.training and not any(p.requires_grad for p in net.parameters())
    assert net.training
