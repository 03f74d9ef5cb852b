"""Occlusion's incremental path: Captum's numbers, on every traced architecture, with the
fallback to full passes where it cannot run, the caller's world unchanged, and the
approximate mode."""

import pytest
import torch
import torchvision
from captum.attr import Occlusion as CaptumOcclusion
from helpers.occlusion_models import DataDependent, OpZoo, SqueezeExcite, seeded
from torch import nn

import attribkit
from attribkit import Occlusion
from attribkit.attr.incremental import Approximation, map_agreement
from attribkit.testing import snapshot_world


def _close(ours, theirs, rel=1e-4):
    scale = float(theirs.abs().max())
    return float((ours - theirs).abs().max()) <= rel * scale + 1e-7


@pytest.fixture
def zoo():
    return seeded(OpZoo(dilation=1)).double()


@pytest.fixture
def x20():
    return torch.rand(2, 3, 20, 20, generator=torch.Generator().manual_seed(5), dtype=torch.float64)


@pytest.mark.parametrize(
    "kwargs",
    [
        {"sliding_window_shapes": (3, 4, 4), "strides": (3, 4, 4), "target": [1, 4]},
        {"sliding_window_shapes": (3, 5, 5), "strides": 3, "target": 2, "baselines": 0.5},
        {"sliding_window_shapes": (2, 6, 5), "strides": (1, 5, 5), "target": torch.tensor([0, 3])},
        {"sliding_window_shapes": 6, "strides": 5, "target": 1, "baselines": "mean",
         "probability": True},
    ],
)  # fmt: skip
def test_equals_captum_and_runs_incrementally(zoo, x20, kwargs):
    occ = Occlusion(zoo)
    ours = occ.attribute(x20, **kwargs)
    assert occ.last_method == "incremental", occ.last_reason
    theirs = Occlusion(zoo, incremental=False).attribute(x20.clone(), **kwargs)
    assert ours.dtype == theirs.dtype == torch.float32
    assert torch.allclose(ours, theirs, rtol=1e-5, atol=1e-7)


def test_equals_captum_itself_with_tensor_baselines_and_tuple_inputs(zoo, x20):
    base = torch.rand(1, 3, 20, 20, dtype=torch.float64)
    occ = Occlusion(zoo)
    (ours,) = occ.attribute((x20,), ((3, 4, 4),), strides=((3, 4, 4),), baselines=(base,),
                            target=[(0,), (2,)])  # fmt: skip
    assert occ.last_method == "incremental", occ.last_reason
    (theirs,) = CaptumOcclusion(zoo).attribute(
        (x20.clone(),), ((3, 4, 4),), strides=((3, 4, 4),), baselines=(base,), target=[(0,), (2,)]
    )
    assert torch.allclose(ours, theirs, rtol=1e-5, atol=1e-7)


def test_batch_size_is_perturbations_per_eval(zoo, x20):
    occ = Occlusion(zoo)
    x = x20[:1]
    a = occ.attribute(x, (3, 5, 5), strides=5, target=0, perturbations_per_eval=3)
    assert occ.last_perturbations_per_eval == 3 and occ.last_method == "incremental"
    b = occ.attribute(x, (3, 5, 5), strides=5, target=0)
    assert occ.last_perturbations_per_eval > 3
    assert torch.allclose(a, b, atol=1e-12)


def _one_score(z):
    return z


@pytest.mark.parametrize(
    "build,call,reason",
    [
        (lambda m: Occlusion(lambda z: m(z)), {}, "not a model"),
        (lambda m: Occlusion(m, incremental=False), {}, "switched off"),
        (lambda m: Occlusion(seeded(DataDependent()).double()), {}, "cannot be traced"),
        (lambda m: Occlusion(m.train(), eval_mode=False), {}, "training mode"),
        (lambda m: Occlusion(m), {"perturbations_per_eval": 1, "target": None}, "score"),
    ],
)
def test_falls_back_to_full_passes_with_captum_numbers(zoo, x20, build, call, reason):
    occ = build(zoo)
    x = x20[:1]
    model = occ.forward_func if isinstance(occ.forward_func, nn.Module) else zoo
    snap = snapshot_world(model, x)
    kwargs = {"sliding_window_shapes": (3, 5, 5), "strides": 5, "target": 1, **call}
    ours = occ.attribute(x, **kwargs)
    snap.assert_unchanged()
    # the same batches as ours (batch norm in training mode depends on them)
    kwargs["perturbations_per_eval"] = occ.last_perturbations_per_eval
    theirs = CaptumOcclusion(occ.forward_func).attribute(x.clone(), **kwargs)
    assert torch.allclose(ours, theirs, atol=1e-6)
    assert occ.last_method == "full" and reason in occ.last_reason


def test_train_mode_model_runs_incrementally_in_eval_mode(zoo, x20):
    exact = Occlusion(zoo, incremental=False).attribute(x20, (3, 5, 5), strides=5, target=1)
    zoo.train()
    snap = snapshot_world(zoo, x20)
    occ = Occlusion(zoo)
    ours = occ.attribute(x20, (3, 5, 5), strides=5, target=1)
    snap.assert_unchanged()
    assert zoo.training and occ.last_method == "incremental", occ.last_reason
    assert torch.allclose(ours, exact, rtol=1e-5, atol=1e-7)


def test_leaves_the_world_unchanged_and_reports_bad_targets(zoo, x20):
    snap = snapshot_world(zoo, x20)
    occ = Occlusion(zoo)
    occ.attribute(x20, (3, 5, 5), strides=5, target=[0, 1])
    assert occ.last_method == "incremental"
    snap.assert_unchanged()
    with pytest.raises(ValueError, match="out of range"):
        occ.attribute(x20, (3, 5, 5), strides=5, target=7)
    snap.assert_unchanged()


def test_squeeze_excite_model_equals_captum():
    model = seeded(SqueezeExcite())
    x = torch.rand(1, 3, 16, 16)
    occ = Occlusion(model)
    ours = occ.attribute(x, (3, 4, 4), strides=3, target=2)
    assert occ.last_method == "incremental"
    theirs = CaptumOcclusion(model).attribute(x, (3, 4, 4), strides=3, target=2)
    assert _close(ours, theirs)


def _architectures():
    torch.manual_seed(0)
    tv = torchvision.models
    return {
        "efficientnet_lite0": lambda: attribkit.efficientnet_lite0(),
        "resnet18": lambda: tv.resnet18(weights=None),
        "resnet50": lambda: tv.resnet50(weights=None),
        "vgg16": lambda: tv.vgg16(weights=None),
        "mobilenet_v2": lambda: tv.mobilenet_v2(weights=None),
    }


@pytest.mark.parametrize("name", list(_architectures()))
def test_architectures_equal_captum(name):
    model = _architectures()[name]().eval()
    for p in model.parameters():
        p.requires_grad_(False)
    x = torch.rand(1, 3, 48, 48, generator=torch.Generator().manual_seed(1))
    occ = Occlusion(model)
    kwargs = {"sliding_window_shapes": (3, 16, 16), "strides": (3, 12, 12), "target": 3}
    ours = occ.attribute(x, **kwargs)
    assert occ.last_method == "incremental", occ.last_reason
    theirs = CaptumOcclusion(model).attribute(x, perturbations_per_eval=16, **kwargs)
    assert _close(ours, theirs), float((ours - theirs).abs().max() / theirs.abs().max())


def test_approximate_mode(zoo, x20):
    x20 = x20[:1]
    kwargs = {"sliding_window_shapes": (3, 4, 4), "strides": 3, "target": 2}
    exact = Occlusion(zoo).attribute(x20, **kwargs)
    occ = Occlusion(zoo)
    # no threshold and every position scored: exact
    same = occ.attribute(x20, approximate=Approximation(threshold=1.0, coarse=2, drill=1.0),
                         **kwargs)  # fmt: skip
    assert occ.last_method == "approximate"
    assert torch.allclose(same, exact, atol=1e-6)
    approx = occ.attribute(x20, approximate=True, **kwargs)
    assert occ.last_method == "approximate"
    agreement = map_agreement(approx, exact)
    assert -1.0 <= agreement.correlation <= 1.0 and 0.0 <= agreement.top_overlap <= 1.0
    assert map_agreement(exact, exact).correlation == pytest.approx(1.0)
    # the coarse pass alone with no drill-down
    coarse = occ.attribute(x20, approximate=Approximation(1.0, coarse=2, drill=0.0), **kwargs)
    assert not torch.allclose(coarse, exact)
    with pytest.raises(TypeError, match="Approximation"):
        occ.attribute(x20, approximate="fast", **kwargs)


def test_approximate_needs_the_incremental_path(zoo, x20):
    occ = Occlusion(lambda z: zoo(z))
    out = occ.attribute(x20, (3, 4, 4), strides=4, target=0, approximate=True)
    assert occ.last_method == "full"
    exact = CaptumOcclusion(zoo).attribute(x20, (3, 4, 4), strides=4, target=0)
    assert torch.allclose(out, exact, atol=1e-12)
