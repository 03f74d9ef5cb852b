import pytest
import torch
import torch.nn.functional as F
from captum.attr import Deconvolution as CaptumDeconvolution
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
        TwoLayer(nn.Hardtanh(0.0, 6.0)),
        TwoLayer(nn.Threshold(0.0, 0.0)),
        TwoLayer(functional=lambda h: F.threshold(h, 0.0, 0.0)),
    ],
    ids=[
        "ReLU",
        "ReLU6",
        "F.relu",
        "torch.relu",
        "Tensor.relu",
        "F.relu6",
        "ReLU-inplace",
        "Hardtanh(0,6)",
        "Threshold",
        "F.threshold",
    ],
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


def test_prelu_and_eval_mode_rrelu_rules():
    # h = (1, 2, -1): the negative unit's local slope is the PReLU weight (0.25), then as leaky
    model = TwoLayer(nn.PReLU(init=0.25))
    expected = torch.tensor([[1.0, 0.0, -0.25]])
    assert torch.allclose(GuidedBackprop(model).attribute(X.clone(), target=0), expected)
    # eval-mode RReLU is a leaky ReLU with the mean slope (1/8 + 1/3) / 2
    slope = (1 / 8 + 1 / 3) / 2
    out = GuidedBackprop(TwoLayer(nn.RReLU())).attribute(X.clone(), target=0)
    assert torch.allclose(out, torch.tensor([[1.0, 0.0, -slope]]))
    with pytest.raises(UnsupportedActivationError, match="rrelu in training"):
        GuidedBackprop(TwoLayer(nn.RReLU()), eval_mode=False).attribute(X.clone(), target=0)


class Gated(nn.Module):
    """ReLU modules (which Captum guides) around a sigmoid gate, tanh and softmax."""

    def __init__(self, functional: bool) -> None:
        super().__init__()
        g = torch.Generator().manual_seed(2)
        self.l1, self.l2, self.l3 = nn.Linear(4, 6), nn.Linear(6, 6), nn.Linear(6, 3)
        with torch.no_grad():
            for p in self.parameters():
                p.copy_(torch.randn(p.shape, generator=g))
        self.relu1, self.relu2 = nn.ReLU(), nn.ReLU()
        self.functional = functional
        self.sig, self.tanh, self.soft = nn.Sigmoid(), nn.Tanh(), nn.Softmax(dim=-1)
        self.double()

    def forward(self, x):
        h = self.relu1(self.l1(x))
        gate = torch.sigmoid(self.l2(h)) if self.functional else self.sig(self.l2(h))
        h = torch.tanh(h * gate) if self.functional else self.tanh(h * gate)
        out = self.l3(self.relu2(h))
        return F.softmax(out, dim=-1) if self.functional else self.soft(out)


@pytest.mark.parametrize("functional", [False, True], ids=["modules", "functions"])
@pytest.mark.parametrize("deconv", [False, True], ids=["guided", "deconvnet"])
def test_sigmoid_tanh_softmax_keep_plain_gradients_as_in_captum(functional, deconv):
    x = torch.rand(3, 4, generator=torch.Generator().manual_seed(0), dtype=torch.float64)
    ours_cls, theirs_cls = (
        (Deconvolution, CaptumDeconvolution) if deconv else (GuidedBackprop, CaptumGuidedBackprop)
    )
    model = Gated(functional)
    ours = ours_cls(model).attribute(x, target=1)
    theirs = theirs_cls(Gated(False)).attribute(x.clone(), target=1)  # Captum: nn.ReLU only
    assert torch.allclose(ours, theirs, atol=1e-12)


@pytest.mark.parametrize(
    ("module", "function"),
    [
        (nn.Sigmoid(), torch.sigmoid),
        (nn.Tanh(), torch.tanh),
        (nn.Softmax(dim=-1), lambda h: F.softmax(h, dim=-1)),
        (nn.Hardtanh(0.0, 1.5), lambda h: F.hardtanh(h, 0.0, 1.5)),
        (nn.LeakyReLU(0.2), lambda h: F.leaky_relu(h, 0.2)),
        (nn.ReLU6(), F.relu6),
    ],
    ids=["sigmoid", "tanh", "softmax", "hardtanh", "leaky", "relu6"],
)
def test_modules_and_functions_behave_the_same(module, function):
    x = torch.tensor([[0.5, 1.0, 2.0], [1.0, -1.0, 0.3]])
    for method in (GuidedBackprop, Deconvolution):
        a = method(TwoLayer(module)).attribute(x, target=0)
        b = method(TwoLayer(functional=function)).attribute(x, target=0)
        assert torch.allclose(a, b)


def _swish_by_hand(h):
    return h * torch.sigmoid(h)


@pytest.mark.parametrize(
    "model",
    [
        TwoLayer(nn.SiLU()),
        TwoLayer(nn.GELU()),
        TwoLayer(nn.ELU()),
        TwoLayer(nn.Mish()),
        TwoLayer(nn.Hardswish()),
        TwoLayer(nn.Softplus()),
        TwoLayer(nn.Hardtanh()),
        TwoLayer(functional=F.silu),
        TwoLayer(functional=F.gelu),
        TwoLayer(functional=F.elu),
        TwoLayer(functional=F.mish),
        TwoLayer(functional=F.hardswish),
        TwoLayer(functional=F.hardtanh),
        TwoLayer(functional=_swish_by_hand),
        TwoLayer(functional=lambda h: torch.sigmoid(h) * h),
        TwoLayer(functional=lambda h: h.mul(h.sigmoid())),
    ],
    ids=[
        "SiLU",
        "GELU",
        "ELU",
        "Mish",
        "Hardswish",
        "Softplus",
        "Hardtanh(-1,1)",
        "F.silu",
        "F.gelu",
        "F.elu",
        "F.mish",
        "F.hardswish",
        "F.hardtanh",
        "x*sigmoid(x)",
        "sigmoid(x)*x",
        "x.mul(x.sigmoid())",
    ],
)
def test_rectifier_like_units_without_a_rule_are_refused(model):
    snap = snapshot_world(model, X)
    for method in (GuidedBackprop, Deconvolution):
        with pytest.raises(UnsupportedActivationError, match="approximate=True"):
            method(model).attribute(X, target=0)
        approx = method(model, approximate=True).attribute(X, target=0)
        plain = CaptumSaliency(model).attribute(X.clone(), target=0, abs=False)
        assert torch.allclose(approx, plain)  # no rectifier left: the plain gradient
    snap.assert_unchanged()


def test_unguidable_modules_lists_rectifier_like_modules_only():
    model = nn.Sequential(
        nn.Linear(3, 3), nn.SiLU(), nn.Sigmoid(), nn.Tanh(), nn.Hardtanh(), nn.ReLU6(), nn.GELU()
    )
    assert unguidable_modules(model) == ["1", "4", "6"]


def test_neuron_methods_and_guided_gradcam_use_attribkits_rules():
    from captum.attr import NeuronGuidedBackprop as CaptumNeuronGuidedBackprop

    from attribkit import GuidedGradCam, NeuronDeconvolution, NeuronGuidedBackprop

    model = TwoLayer(nn.ReLU6())
    ours = NeuronGuidedBackprop(model, "l2").attribute(X.clone(), (0,))
    assert torch.allclose(ours, torch.tensor([[1.0, 0.0, 0.0]]))  # as GuidedBackprop, target 0
    theirs = CaptumNeuronGuidedBackprop(model, model.l2).attribute(X.clone(), (0,))
    assert torch.allclose(theirs, torch.tensor([[1.0, -2.0, 0.0]]))  # Captum: plain gradient
    deconv = NeuronDeconvolution(model, "l2").attribute(X.clone(), (0,))
    assert torch.allclose(deconv, torch.tensor([[1.0, 0.0, -1.0]]))
    with pytest.raises(UnsupportedActivationError):
        NeuronGuidedBackprop(TwoLayer(nn.GELU()), "l2").attribute(X.clone(), (0,))
    net = nn.Sequential(nn.Conv2d(3, 2, 3), nn.ReLU6(), nn.Flatten(), nn.Linear(8, 2))
    assert isinstance(GuidedGradCam(net, "0").guided_backprop, GuidedBackprop)


def test_gradcheck_of_the_rectifier_forward():
    from attribkit.attr.guided import _Rectifier

    x = torch.randn(5, dtype=torch.float64) * 4
    out = _Rectifier.apply(x, lambda t: t.clamp(0, 6), lambda t: (t > 0) & (t < 6), False)
    assert torch.equal(out, x.clamp(0, 6))
