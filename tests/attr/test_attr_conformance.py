"""Every public attribution through the same checks, in the style of Captum's test_config.

Checks: output shape, batch-size independence, no hooks left, model.training, requires_grad and
.grad unchanged, inputs unchanged — after success and after the forward pass raises midway.
"""

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import captum.attr
import pytest
import torch

import attribkit
from attribkit.testing import snapshot_world


@dataclass
class Case:
    name: str
    build: Callable[[torch.nn.Module], Any]
    kwargs: dict[str, Any] = field(default_factory=dict)
    out_shape: Callable[[torch.Tensor], tuple[int, ...]] = lambda x: tuple(x.shape)
    batch_independent: bool = True
    targeted: bool = True


LAYER_SHAPE = lambda x: (x.shape[0], 6, 8, 8)  # noqa: E731 - conv2's output
CAM_SHAPE = lambda x: (x.shape[0], 1, 8, 8)  # noqa: E731

CASES = [
    Case("Saliency", lambda m: attribkit.Saliency(m)),
    Case("GuidedBackprop", lambda m: attribkit.GuidedBackprop(m)),
    Case("Deconvolution", lambda m: attribkit.Deconvolution(m)),
    Case(
        "Occlusion",
        lambda m: attribkit.Occlusion(m),
        {"sliding_window_shapes": (3, 4, 4), "strides": 2},
    ),
    Case(
        "Occlusion-lecture",
        lambda m: attribkit.Occlusion(m),
        {"sliding_window_shapes": 4, "strides": 2, "baselines": "mean", "probability": True},
    ),
    Case("IntegratedGradients", lambda m: attribkit.IntegratedGradients(m), {"n_steps": 8}),
    Case("FeatureAblation", lambda m: attribkit.FeatureAblation(m)),
    Case(
        "NoiseTunnel",
        lambda m: attribkit.NoiseTunnel(attribkit.Saliency(m)),
        {"nt_samples": 3, "stdevs": 0.1},
        batch_independent=False,  # the noise differs between calls
    ),
    Case("LayerGradCam", lambda m: attribkit.LayerGradCam(m, "conv2"), out_shape=CAM_SHAPE),
    Case("GuidedGradCam", lambda m: attribkit.GuidedGradCam(m, "conv2")),
    Case(
        "LayerActivation",
        lambda m: attribkit.LayerActivation(m, "relu6"),
        out_shape=LAYER_SHAPE,
        targeted=False,
    ),
]
IDS = [c.name for c in CASES]


def _call(case: Case, method: Any, x: torch.Tensor, target: Any) -> torch.Tensor:
    kwargs = dict(case.kwargs)
    if case.targeted:
        kwargs["target"] = target
    return method.attribute(x, **kwargs)


def _dirty_world(model: torch.nn.Module) -> None:
    """Give the model a state worth preserving: train mode, a frozen layer, existing grads."""
    model.train()
    model.conv1.weight.requires_grad_(False)
    model.fc.weight.grad = torch.full_like(model.fc.weight, 0.5)


def test_every_public_attribution_is_covered():
    exported = {
        name
        for name in attribkit.__all__
        if isinstance(getattr(attribkit, name), type)
        and issubclass(getattr(attribkit, name), captum.attr.Attribution)
    }
    assert exported == {c.name.split("-")[0] for c in CASES}


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_is_a_captum_attribution(case, tiny_net):
    assert isinstance(case.build(tiny_net), captum.attr.Attribution)


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_shape_and_state_after_success(case, tiny_net, images):
    _dirty_world(tiny_net)
    snap = snapshot_world(tiny_net, images)
    out = _call(case, case.build(tiny_net), images, [0, 2])
    assert tuple(out.shape) == case.out_shape(images)
    assert torch.isfinite(out).all()
    snap.assert_unchanged()


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_state_after_forward_raises(case, tiny_net, images):
    _dirty_world(tiny_net)
    method = case.build(tiny_net)
    tiny_net.fail = True
    snap = snapshot_world(tiny_net, images)
    with pytest.raises(RuntimeError, match="on purpose"):
        _call(case, method, images, [0, 2])
    snap.assert_unchanged()


@pytest.mark.parametrize("case", [c for c in CASES if c.batch_independent], ids=lambda c: c.name)
def test_batch_size_independence(case, tiny_net, images):
    tiny_net.double()
    x = images.double()
    method = case.build(tiny_net)
    batched = _call(case, method, x, [0, 2])
    singles = torch.cat([_call(case, method, x[i : i + 1], [t]) for i, t in enumerate([0, 2])])
    assert torch.allclose(batched, singles, atol=1e-10)


@pytest.mark.parametrize(
    "case", [c for c in CASES if not c.name.startswith("Layer")], ids=lambda c: c.name
)
def test_tuple_in_gives_tuple_out(case, tiny_net, images):
    out = _call(case, case.build(tiny_net), (images,), [0, 2])
    assert isinstance(out, tuple) and len(out) == 1
    assert tuple(out[0].shape) == case.out_shape(images)


@pytest.mark.parametrize("case", [c for c in CASES if c.targeted], ids=lambda c: c.name)
@pytest.mark.parametrize("target", [3, -1, [0, 7]])
def test_target_out_of_range(case, tiny_net, images, target):
    snap = snapshot_world(tiny_net, images)
    with pytest.raises(ValueError, match="out of range"):
        _call(case, case.build(tiny_net), images, target)
    snap.assert_unchanged()


@pytest.mark.parametrize("case", CASES, ids=IDS)
@pytest.mark.parametrize(
    ("bad", "error", "match"),
    [
        (torch.zeros(2, 3, 8, 8, dtype=torch.long), TypeError, "floating-point"),
        (torch.full((2, 3, 8, 8), float("nan")), ValueError, "NaN"),
        (torch.tensor([1.0, 2.0]), ValueError, "batch dimension"),
        ([[1.0]], TypeError, "tensor"),
    ],
    ids=["int", "nan", "1d", "list"],
)
def test_bad_inputs(case, tiny_net, bad, error, match):
    with pytest.raises(error, match=match):
        _call(case, case.build(tiny_net), bad, 0)


def test_image_methods_refuse_missing_batch_dimension(tiny_net):
    with pytest.raises(ValueError, match="unsqueeze"):
        attribkit.GuidedGradCam(tiny_net, "conv2").attribute(torch.rand(3, 8, 8), target=0)
    with pytest.raises(ValueError, match="unsqueeze"):
        attribkit.saliency_map(tiny_net, torch.rand(3, 8, 8), target=0)


@pytest.mark.parametrize(
    "build",
    [
        lambda m: attribkit.LayerGradCam(m, "conv_2"),
        lambda m: attribkit.GuidedGradCam(m, "conv_2"),
        lambda m: attribkit.LayerActivation(m, "conv_2"),
    ],
)
def test_unknown_layer_lists_close_matches(build, tiny_net):
    with pytest.raises(ValueError, match="did you mean 'conv2'"):
        build(tiny_net)


def test_captum_noise_tunnel_and_visualization_work_on_ours(tiny_net, images):
    nt = captum.attr.NoiseTunnel(attribkit.GuidedBackprop(tiny_net))
    out = nt.attribute(images, nt_samples=3, nt_type="smoothgrad_sq", target=0, stdevs=0.1)
    assert out.shape == images.shape
    import matplotlib

    matplotlib.use("Agg")
    from captum.attr import visualization as viz

    attr = out[0].permute(1, 2, 0).detach().numpy()
    fig, _ = viz.visualize_image_attr(
        attr, images[0].permute(1, 2, 0).numpy(), "blended_heat_map", use_pyplot=False
    )
    assert fig is not None
