"""Receptive fields: hand-worked stacks, static-same padding, residual fallback, empirical."""

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from attribkit.layers import (
    analytic_receptive_field,
    empirical_receptive_field,
    receptive_field,
)
from attribkit.testing import snapshot_world


class _StaticSame(nn.Conv2d):
    """Like EfficientNet's Conv2dStaticSamePadding: a ZeroPad2d child, then a conv with p=0."""

    def __init__(self, i: int, o: int, k: int, stride: int, pad: tuple[int, int, int, int]):
        super().__init__(i, o, k, stride=stride, padding=0)
        self.static_padding = nn.ZeroPad2d(pad)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.conv2d(
            self.static_padding(x),
            self.weight,
            self.bias,
            self.stride,
            self.padding,
            self.dilation,
            self.groups,
        )


class _Residual(nn.Module):
    def __init__(self, inplace_add: bool) -> None:
        super().__init__()
        self.stem = nn.Conv2d(1, 2, 3, padding=1)
        self.conv = nn.Conv2d(2, 2, 3, padding=1)
        self.conv2 = nn.Conv2d(2, 2, 3, padding=1)
        self.inplace_add = inplace_add
        self.relu = nn.ReLU()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.stem(x)
        out = self.conv2(self.conv(x))
        if self.inplace_add:
            out += x
        else:
            out = out + x
        return self.relu(out)


def test_hand_worked_stack() -> None:
    # conv3 p1: r=3 j=1 s=-1; conv3 s2 p1: r=3+2=5 j=2 s=-1-1=-2; maxpool2: r=5+2=7 j=4 s=-2
    net = nn.Sequential(
        nn.Conv2d(3, 4, 3, padding=1),
        nn.ReLU(),
        nn.Conv2d(4, 4, 3, stride=2, padding=1),
        nn.BatchNorm2d(4),
        nn.MaxPool2d(2),
    )
    rf = receptive_field(net, "4", 32)
    assert (rf.method, rf.size, rf.jump, rf.start) == ("analytic", (7, 7), (4, 4), (-2, -2))
    assert rf.output_size == (8, 8)
    assert rf.box(0, 0) == (-2, -2, 5, 5) and rf.box(1, 2, clip=True) == (2, 6, 9, 13)
    boxes = rf.boxes()
    assert boxes.shape == (8, 8, 4) and boxes[3, 5].tolist() == list(rf.box(3, 5))
    # intermediate layers
    assert receptive_field(net, "0", 32).size == (3, 3)
    assert receptive_field(net, "2", 32).start == (-2, -2)


def test_inplace_relu_keeps_the_chain() -> None:
    net = nn.Sequential(
        nn.Conv2d(3, 4, 3), nn.ReLU(inplace=True), nn.Conv2d(4, 4, 3), nn.ReLU(inplace=True)
    )
    rf = receptive_field(net, "3", 16)
    assert (rf.method, rf.size, rf.jump, rf.start) == ("analytic", (5, 5), (1, 1), (0, 0))


def test_torchvision_resnet_falls_back() -> None:
    from torchvision.models import resnet18

    net = resnet18().eval()  # `out += identity` in place, then ReLU(inplace=True)
    assert receptive_field(net, "maxpool", 64).method == "analytic"
    assert receptive_field(net, "layer1.0.conv1", 64).method == "analytic"
    rf = receptive_field(net, "layer1.0", 64)
    assert rf.method == "empirical"
    # stem 7×7/2 (7), maxpool 3×3/2 (11, j4), then two 3×3 convs of the block (+8, +8)
    assert rf.size == (27, 27) and rf.jump == (4, 4)


def test_dilation_rectangular_and_avgpool() -> None:
    # conv k(3,1) d2: r=(5,1); avgpool k3 s3 p1: r=(5+2,1+2)=(7,3), j=3, start=(-1-... )
    net = nn.Sequential(nn.Conv2d(1, 1, (3, 1), dilation=2), nn.AvgPool2d(3, 3, padding=1))
    rf = analytic_receptive_field(net, "1", (20, 12))
    assert rf.size == (7, 3) and rf.jump == (3, 3) and rf.start == (-1, -1)


def test_static_same_padding_like_efficientnet() -> None:
    net = nn.Sequential(
        _StaticSame(3, 4, 3, 2, (0, 1, 0, 1)), nn.ReLU6(), _StaticSame(4, 4, 3, 1, (1, 1, 1, 1))
    )
    rf0 = receptive_field(net, "0", 16)
    assert (rf0.size, rf0.jump, rf0.start, rf0.output_size) == ((3, 3), (2, 2), (0, 0), (8, 8))
    rf2 = receptive_field(net, "2", 16)
    assert (rf2.size, rf2.jump, rf2.start) == ((7, 7), (2, 2), (-2, -2))


@pytest.mark.parametrize(
    "spec",
    [
        [(3, 1, 1, 1), (3, 2, 1, 1), (2, 2, 0, 1)],
        [(5, 2, 2, 1), (3, 1, 0, 2), (3, 2, 1, 1)],
        [(1, 1, 0, 1), (3, 3, 0, 1)],
    ],
)
def test_analytic_matches_empirical(spec: list[tuple[int, int, int, int]]) -> None:
    layers: list[nn.Module] = []
    c = 1
    gen = torch.Generator().manual_seed(0)
    for k, s, p, d in spec:
        conv = nn.Conv2d(c, 2, k, stride=s, padding=p, dilation=d)
        with torch.no_grad():  # positive weights: every input pixel in the box contributes
            conv.weight.copy_(torch.rand(conv.weight.shape, generator=gen) + 0.1)
        layers.append(conv)
        c = 2
    net = nn.Sequential(*layers)
    last = str(len(layers) - 1)
    a = analytic_receptive_field(net, last, 40)
    e = empirical_receptive_field(net, last, 40)
    assert (a.size, a.jump) == (e.size, e.jump)
    assert a.start == e.start and not e.clipped


def test_residual_falls_back_to_empirical() -> None:
    for inplace in (False, True):  # `out += x` must not be mistaken for a chain
        net = _Residual(inplace)
        with pytest.raises(ValueError, match="not a chain"):
            analytic_receptive_field(net, "relu", 16)
        rf = receptive_field(net, "relu", 16)
        # longest path: three 3×3 convs
        assert rf.method == "empirical" and rf.size == (7, 7) and rf.jump == (1, 1)
        assert rf.start == (-3, -3)
    # a layer before the residual is still exact
    assert receptive_field(_Residual(False), "conv", 16).method == "analytic"


def test_digits_cnn_and_vgg_known_answers() -> None:
    from attribkit.models import DigitsCNN, vgg16

    rf = receptive_field(DigitsCNN(), "relu3", 8)
    # conv3 p1 (3) → conv3 p1 (5) → pool2 (6, j2) → conv3 p1 (10, j2, start -1-1-2 = -4)
    assert (rf.size, rf.jump, rf.start) == ((10, 10), (2, 2), (-4, -4))
    # VGG16 pool5: the textbook 212 px field with a 32 px stride
    rf = receptive_field(vgg16(), "pool5", 64)
    assert (rf.size, rf.jump) == ((212, 212), (32, 32))


def test_efficientnet_stem_and_residual_blocks() -> None:
    from attribkit.models import efficientnet_lite0

    m = efficientnet_lite0(pretrained=False)
    stem = receptive_field(m, "_conv_stem", 64)
    assert (stem.method, stem.size, stem.jump, stem.start) == ("analytic", (3, 3), (2, 2), (0, 0))
    b1 = receptive_field(m, "_blocks.1", 64)
    assert (b1.method, b1.size, b1.jump) == ("analytic", (11, 11), (4, 4))
    b2 = receptive_field(m, "_blocks.2", 96)  # residual: empirical, one more 3×3 depthwise
    assert (b2.method, b2.size, b2.jump, b2.start) == ("empirical", (19, 19), (4, 4), (-6, -6))


def test_world_unchanged_after_success_and_exception() -> None:
    net = _Residual(False).train()
    snap = snapshot_world(net)
    receptive_field(net, "relu", 16)
    snap.assert_unchanged()
    receptive_field(net, "conv", 16)
    snap.assert_unchanged()

    class Boom(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.conv = nn.Conv2d(1, 1, 3)

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            raise RuntimeError("boom")

    b = Boom()
    snap = snapshot_world(b)
    for fn in (receptive_field, analytic_receptive_field, empirical_receptive_field):
        with pytest.raises(RuntimeError, match="boom"):
            fn(b, "conv", 8)
        snap.assert_unchanged()
    res = _Residual(True).train()
    snap = snapshot_world(res)
    with pytest.raises(ValueError, match="not a chain"):
        analytic_receptive_field(res, "relu", 16)
    snap.assert_unchanged()


def test_exception() -> None:
    net = nn.Sequential(nn.Conv2d(1, 1, 3), nn.Flatten(), nn.Linear(36, 2))
    with pytest.raises(ValueError, match="spatial"):
        receptive_field(net, "2", 8)
    with pytest.raises(ValueError, match="input_size"):
        receptive_field(net, "0", 0)
    with pytest.raises(ValueError, match="method"):
        receptive_field(net, "0", 8, method="exact")
    with pytest.raises(ValueError, match="outside"):
        receptive_field(net, "0", 8).box(6, 0)
    with pytest.raises(ValueError, match="samples"):
        empirical_receptive_field(net, "0", 8, samples=0)
