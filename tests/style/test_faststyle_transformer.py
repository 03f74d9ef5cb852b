"""TransformerNet, MultiStyleNet, conditional instance norm and style-weight parsing."""

from __future__ import annotations

import pytest
import torch
from helpers.tiny import one_thread  # noqa: F401 (a fixture, used through pytestmark)

from attribkit.style import ConditionalInstanceNorm2d, MultiStyleNet, TransformerNet, style_weights

pytestmark = pytest.mark.usefixtures("one_thread")


def _net(n_styles: int = 3, names: list[str] | None = None) -> MultiStyleNet:
    with torch.random.fork_rng():
        torch.manual_seed(0)
        net = MultiStyleNet(n_styles, width=4, n_residual=1, style_names=names)
        # make the styles differ: random γ/β per style
        for m in net.modules():
            if isinstance(m, ConditionalInstanceNorm2d):
                m.weight.data.uniform_(0.5, 1.5)
                m.bias.data.uniform_(-0.5, 0.5)
    return net.eval()


def test_smoke() -> None:
    net = TransformerNet(width=4, n_residual=1)
    with torch.no_grad():
        y = net(torch.rand(2, 3, 16, 20))
    assert y.shape == (2, 3, 16, 20)
    assert float(y.min()) >= 0 and float(y.max()) <= 1
    assert "width=4" in repr(net)


def test_shape_multi() -> None:
    net = _net()
    x = torch.rand(3, 3, 12, 8)
    assert net(x, [0, 1, 2]).shape == (3, 3, 12, 8)
    assert net(x, torch.full((3,), 1 / 3)).shape == (3, 3, 12, 8)


def test_no_transposed_conv_and_reflect_padding() -> None:
    net = TransformerNet(width=4, n_residual=2)
    kinds = {type(m).__name__ for m in net.modules()}
    assert "ConvTranspose2d" not in kinds
    assert all(m.padding == (0, 0) for m in net.modules() if isinstance(m, torch.nn.Conv2d))


def test_conditional_norm_closed_form() -> None:
    norm = ConditionalInstanceNorm2d(2, n_styles=2)
    norm.weight.data = torch.tensor([[1.0, 2.0], [3.0, 4.0]])
    norm.bias.data = torch.tensor([[0.0, 1.0], [-1.0, 0.0]])
    x = torch.tensor([[[[0.0, 2.0]], [[1.0, 3.0]]]])  # 1×2×1×2: each channel normalizes to ∓1
    w = torch.tensor([[0.25, 0.75]])
    y = norm(x, w)
    gamma = torch.tensor([2.5, 3.5])
    beta = torch.tensor([-0.75, 0.25])
    xn = torch.tensor([-1.0, 1.0]) * (1 / (1 + 1e-5)) ** 0.5
    expected = gamma[:, None] * xn[None] + beta[:, None]
    torch.testing.assert_close(y[0, :, 0], expected)


def test_one_hot_equals_that_style_and_mix_is_per_image() -> None:
    net = _net()
    x = torch.rand(2, 3, 16, 16)
    with torch.no_grad():
        mixed = net(x, [2, 0])
        a = net(x[:1], 2)
        b = net(x[1:], 0)
    torch.testing.assert_close(mixed, torch.cat([a, b]))


def test_gradcheck() -> None:
    norm = ConditionalInstanceNorm2d(2, n_styles=2).double()
    x = torch.rand(1, 2, 3, 3, dtype=torch.float64, requires_grad=True)
    w = torch.tensor([[0.3, 0.7]], dtype=torch.float64, requires_grad=True)
    assert torch.autograd.gradcheck(norm, (x, w))


def test_style_weights_forms() -> None:
    names = ["a", "b", "c"]
    assert style_weights("b", 3, 2, names).tolist() == [[0, 1, 0], [0, 1, 0]]
    assert style_weights([2, 0], 3, 2).tolist() == [[0, 0, 1], [1, 0, 0]]
    assert style_weights({"a": 0.5, "c": 0.5}, 3, 1, names).tolist() == [[0.5, 0, 0.5]]
    t = style_weights([2.0, 0.0, 2.0], 3, normalize=True)
    assert t.tolist() == [[0.5, 0, 0.5]]


@pytest.mark.parametrize(
    ("spec", "match"),
    [
        (3, "out of range"),
        (-1, "out of range"),
        ([0, 5], "out of range"),
        ([0.5, -0.5, 1.0], "non-negative"),
        ([0.5, 0.2, 0.1], "sum to 1"),
        ([0.5, 0.5], "needs 3 weights"),
        ({"zz": 1.0}, "no style called"),
        ([0.0, 0.0, 0.0], "all be zero"),
        (torch.ones(2, 2), "style weights must be"),
    ],
)
def test_exception_style_weights(spec: object, match: str) -> None:
    net = _net(names=["a", "b", "c"])
    with pytest.raises(ValueError, match=match):
        net(torch.rand(2, 3, 8, 8), spec)


def test_exception_input() -> None:
    net = _net()
    with pytest.raises(ValueError, match="at least 8"):
        net(torch.rand(1, 3, 4, 4), 0)
    with pytest.raises(ValueError, match="divisible by 4"):
        net(torch.rand(1, 3, 10, 12), 0)
    with pytest.raises(ValueError, match="N×3×H×W"):
        net(torch.rand(1, 1, 8, 8), 0)
    with pytest.raises(ValueError, match="n_styles"):
        MultiStyleNet(0)
    with pytest.raises(ValueError, match="distinct"):
        MultiStyleNet(2, style_names=["a", "a"])
