import pytest
import torch
import torch.nn.functional as F
from captum.attr import GuidedBackprop as CaptumGuidedBackprop
from captum.attr import Saliency as CaptumSaliency
from torch import nn

from attribkit import Deconvolution, GuidedBackprop, UnsupportedActivationError
from attribkit.attr import unguidable_modules
from attribkit.testing import snapshot_world


class TwoLayer(nn.Module):
    """y = w2 · act(W1 x) with hand-set weights; ``act`` is a module or a function."""

    def __init__(self, act: nn.Module | None = None, functional=None) -> None:
        super().__init__()
        self.l1 = nn.Linear(3, 3, bias=False)
        self.l2 = nn.Linear(3, 1, bias=False)
        self.act = act
        self.functional = functional
        with torch.no_grad():
            self.l1.weight.copy_(torch.tensor([[1.0, 0.0, 0.0], [0.0, 2.0, 0.0], [0.0, 0.0, -1.0]]))
            self.l2.weight.copy_(torch.tensor([[1.0, -1.0, 1.0]]))

    def forward(self, x):
        h = self.l1(x)
        h = self.act(h) if self.act is not None else self.functional(h)
        return self.l2(h)


# x = (1, 1, 1) -> h = (1, 2, -1); hidden units 0, 1 active; w2 = (1, -1, 1)
X = torch.tensor([[1.0, 1.0, 1.0]])


@pytest.mark.parametrize(
    "model",
    [
        TwoLayer(nn.ReLU()),
        TwoLayer(nn.ReLU6()),
        TwoLayer(functional=F.relu),
        TwoLayer(functional=torch.relu),
        TwoLayer(functional=lambda h: h.relu()),
        TwoLayer(functional=F.relu6),
        TwoLayer(nn.ReLU(inplace=True)),
    ],
    ids=["ReLU", "ReLU6", "F.relu", "torch.relu", "Tensor.relu", "F.relu6", "ReLU-inplace"],
)
def test_guided_backprop_matches_hand_computation(model):
    # plain gradient: W1ᵀ (w2 ⊙ [h > 0]) = W1ᵀ (1, -1, 0) = (1, -2, 0)
    plain = CaptumSaliency(model).attribute(X.clone(), target=0, abs=False)
    assert torch.allclose(plain, torch.tensor([[1.0, -2.0, 0.0]]))
    # guided: W1ᵀ (relu(w2) ⊙ [h > 0]) = W1ᵀ (1, 0, 0) = (1, 0, 0)
    guided = GuidedBackprop(model).attribute(X.clone(), target=0)
    assert torch.allclose(guided, torch.tensor([[1.0, 0.0, 0.0]]))
    # deconvnet: W1ᵀ relu(w2) = W1ᵀ (1, 0, 1) = (1, 0, -1)
    deconv = Deconvolution(model).attribute(X.clone(), target=0)
    assert torch.allclose(deconv, torch.tensor([[1.0, 0.0, -1.0]]))


def test_relu6_saturation_blocks_guided_gradient():
    model = TwoLayer(nn.ReLU6())
    x = torch.tensor([[7.0, 1.0, 1.0]])  # h0 = 7 > 6: saturated, no gradient through unit 0
    assert torch.allclose(GuidedBackprop(model).attribute(x, target=0), torch.zeros(1, 3))


def test_leaky_relu_rule():
    model = TwoLayer(nn.LeakyReLU(0.1))
    # h = (1, 2, -1): local slopes (1, 1, 0.1); relu(w2) = (1, 0, 1)
    # -> (1, 0, 0.1) -> W1ᵀ gives (1, 0, -0.1)
    assert torch.allclose(
        GuidedBackprop(model).attribute(X.clone(), target=0), torch.tensor([[1.0, 0.0, -0.1]])
    )


def test_agrees_with_captum_on_plain_relu_networks():
    g = torch.Generator().manual_seed(0)
    net = nn.Sequential(
        nn.Conv2d(3, 5, 3), nn.ReLU(), nn.Conv2d(5, 5, 3), nn.ReLU(), nn.Flatten(), nn.Linear(80, 4)
    ).double()
    with torch.no_grad():
        for p in net.parameters():
            p.copy_(torch.randn(p.shape, generator=g, dtype=torch.float64))
    x = torch.rand(2, 3, 8, 8, generator=g, dtype=torch.float64)
    ours = GuidedBackprop(net).attribute(x, target=1)
    theirs = CaptumGuidedBackprop(net).attribute(x.clone(), target=1)
    assert torch.allclose(ours, theirs, atol=1e-12)


@pytest.mark.slow
def test_differs_from_plain_gradient_on_efficientnet_where_captum_does_not():
    from attribkit import efficientnet_lite0, sample_image

    model = efficientnet_lite0()
    x = sample_image("chelsea", size=96)
    snap = snapshot_world(model, x)
    plain = CaptumSaliency(model).attribute(x.clone(), target=285, abs=False)
    captum_guided = CaptumGuidedBackprop(model).attribute(x.clone(), target=285)
    ours = GuidedBackprop(model).attribute(x, target=285)
    assert torch.allclose(captum_guided, plain, atol=1e-6)  # Captum ignores ReLU6
    rel = (ours - plain).norm() / plain.norm()
    assert rel > 0.5
    snap.assert_unchanged()


@pytest.mark.parametrize("act", [nn.SiLU(), nn.GELU(), nn.Tanh()])
def test_unguidable_modules_raise_with_their_names(act):
    model = TwoLayer(act)
    assert unguidable_modules(model) == ["act"]
    snap = snapshot_world(model, X)
    with pytest.raises(UnsupportedActivationError, match="act"):
        GuidedBackprop(model).attribute(X, target=0)
    with pytest.raises(UnsupportedActivationError, match="approximate=True"):
        Deconvolution(model).attribute(X, target=0)
    snap.assert_unchanged()


def test_unguidable_functional_raises_and_approximation_is_plain_gradient():
    model = TwoLayer(functional=F.gelu)
    with pytest.raises(UnsupportedActivationError, match="gelu"):
        GuidedBackprop(model).attribute(X, target=0)
    approx = GuidedBackprop(model, approximate=True).attribute(X, target=0)
    plain = CaptumSaliency(model).attribute(X.clone(), target=0, abs=False)
    assert torch.allclose(approx, plain)


def test_gradcheck_of_the_rectifier_forward():
    from attribkit.attr.guided import _Rectifier

    x = torch.randn(5, dtype=torch.float64) * 4
    out = _Rectifier.apply(x, 0.0, 6.0, 0.0, False)
    assert torch.equal(out, x.clamp(0, 6))
