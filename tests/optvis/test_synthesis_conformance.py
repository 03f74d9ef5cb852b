"""The synthesis conformance table: every image-optimization technique through the same checks.

One row per class (class and neuron visualization, DeepDream, feature inversion, Gram textures,
style transfer, fooling images). Each is checked for: output ``N×C×H×W`` in [0, 1], identical
output for the same seed, ``run().images`` equal to the verb's output, callbacks called (with
the model in eval mode), the common keywords accepted with the same defaults, and the caller's
world — hooks, modes, ``requires_grad``, ``.grad``, buffers, inputs and the global random
generators — unchanged after success, after an exception and after ``KeyboardInterrupt``, on a
train-mode model with BatchNorm and dropout.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
import torch
from helpers.nets import RaiseOnCall, bn_net, image
from torch import nn

from attribkit.adversarial import FoolingImage
from attribkit.optvis import (
    ClassVisualization,
    DeepDream,
    FeatureInversion,
    ImageSynthesis,
    NeuronVisualization,
    OptimizationState,
    SynthesisOptions,
    SynthesisResult,
)
from attribkit.optvis.synthesis import COMMON_DEFAULTS
from attribkit.style import StyleTransfer, TextureSynthesis
from attribkit.testing import snapshot_world

SIZE = 16
COMMON = {
    "steps": None,
    "lr": None,
    "optimizer": None,
    "seed": 0,
    "callbacks": (),
    "snapshot_steps": (),
    "show_progress": None,
}


@dataclass(frozen=True)
class Case:
    """One technique: how to build it on a model, its verb, its inputs and call arguments."""

    name: str
    build: Callable[[nn.Module, str], ImageSynthesis[Any]]  # (model, prefix of layer names)
    verb: str
    inputs: Callable[[], tuple[torch.Tensor, ...]]
    args: Callable[[tuple[torch.Tensor, ...]], tuple[Any, ...]]
    shape: tuple[int, ...]
    kwargs: dict[str, Any]
    has_target: bool = False


def _photos() -> tuple[torch.Tensor, ...]:
    return (0.1 + 0.8 * image(3, SIZE, n=2),)


def _content_style() -> tuple[torch.Tensor, ...]:
    return image(4, SIZE, n=2), image(5, SIZE)


def _texture() -> tuple[torch.Tensor, ...]:
    return (image(6, SIZE),)


CASES = [
    Case("ClassVisualization", lambda m, p: ClassVisualization(m), "visualize", lambda: (),
         lambda _: ([1, 3],), (2, 3, SIZE, SIZE), {"size": SIZE}, has_target=True),
    Case("NeuronVisualization", lambda m, p: NeuronVisualization(m, p + "conv2"), "visualize",
         lambda: (), lambda _: ([0, 2],), (2, 3, SIZE, SIZE), {"size": SIZE}, has_target=True),
    Case("DeepDream", lambda m, p: DeepDream(m, p + "relu1"), "dream", _photos, lambda x: x,
         (2, 3, SIZE, SIZE), {"octaves": 2, "jitter": 2}),
    Case("FeatureInversion", lambda m, p: FeatureInversion(m, p + "relu2"), "invert", _photos,
         lambda x: x, (2, 3, SIZE, SIZE), {}),
    Case("TextureSynthesis",
         lambda m, p: TextureSynthesis(m, [p + "relu1", p + "relu2"], pad=2),
         "synthesize", _texture, lambda x: (x[0], (12, 14)), (2, 3, 12, 14), {"n": 2}),
    Case("StyleTransfer",
         lambda m, p: StyleTransfer(m, [p + "relu2"], [p + "relu1", p + "relu2"], pad=2),
         "transfer", _content_style, lambda x: x, (2, 3, SIZE, SIZE), {}),
    Case("FoolingImage", lambda m, p: FoolingImage(m), "perturb", _photos, lambda x: (x[0], 2),
         (2, 3, SIZE, SIZE), {"epsilon": 0.05, "threshold": 1.0}, has_target=True),
]
IDS = [c.name for c in CASES]


def _dirty_model() -> nn.Module:
    """A train-mode model with BatchNorm, dropout and existing ``.grad`` s (a caller's model
    in the middle of training)."""
    net = bn_net().train()
    for i, p in enumerate(net.parameters()):
        p.grad = torch.full_like(p, float(i))
    return net


def _call(case: Case, tech: ImageSynthesis[Any], inputs: tuple[torch.Tensor, ...], *,
          result: bool = False, **kwargs: Any) -> Any:
    fn = tech.run if result else getattr(tech, case.verb)  # type: ignore[attr-defined]
    options = {"steps": 3, "show_progress": False, **case.kwargs, **kwargs}
    return fn(*case.args(inputs), **options)


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_shape_range_seed_and_run(case: Case) -> None:
    tech = case.build(bn_net(), "")
    inputs = case.inputs()
    out = _call(case, tech, inputs)
    assert isinstance(out, torch.Tensor) and tuple(out.shape) == case.shape
    assert out.dtype == torch.float32 and not out.requires_grad
    assert float(out.min()) >= 0.0 and float(out.max()) <= 1.0
    again = _call(case, tech, inputs)
    assert torch.equal(out, again), "the same seed must give the same images"
    res = _call(case, tech, inputs, result=True)
    assert isinstance(res, SynthesisResult)
    assert torch.equal(res.images, out), "run().images must equal the verb's output"
    assert res.seed == 0 and res.steps_run >= 3 and res.seconds > 0
    assert res.history.ndim == 2 and res.history.shape[1] == case.shape[0]
    assert isinstance(res.extras, dict) and res.extras
    assert not res.interrupted and not res.stopped_early
    assert not hasattr(tech, "last_result")


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_common_keywords_and_callbacks(case: Case) -> None:
    model = bn_net().train()
    tech = case.build(model, "")
    inputs = case.inputs()
    seen: list[tuple[int, bool]] = []

    def cb(step: int, state: OptimizationState) -> None:
        assert isinstance(state, OptimizationState) and state.step == step
        seen.append((step, model.training))

    res = _call(case, tech, inputs, result=True, steps=4, lr=0.01, optimizer="adam", seed=7,
                callbacks=[cb], snapshot_steps=[0, 2], show_progress=False)
    assert seen and seen[0][0] == 1
    assert not any(training for _, training in seen), "synthesis must run the model in eval mode"
    assert res.seed == 7 and {0, 2} <= set(res.snapshots)
    other = _call(case, tech, inputs, seed=8, steps=4, lr=0.01, optimizer="adam")
    assert tuple(other.shape) == case.shape
    # the common keywords are declared once (SynthesisOptions, COMMON_DEFAULTS) for every run
    run_params = inspect.signature(tech.run).parameters  # type: ignore[attr-defined]
    assert run_params["options"].kind is inspect.Parameter.VAR_KEYWORD
    assert set(SynthesisOptions.__annotations__) == set(COMMON) and COMMON_DEFAULTS == COMMON
    with pytest.raises(TypeError, match="unexpected keyword argument 'stepz'"):
        _call(case, tech, inputs, stepz=3)
    if case.has_target:
        assert "target" in run_params


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_world_unchanged_after_success(case: Case) -> None:
    model = _dirty_model()
    inputs = case.inputs()
    snap = snapshot_world(model, *inputs)
    _call(case, case.build(model, ""), inputs)
    snap.assert_unchanged()


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_world_unchanged_after_exception(case: Case) -> None:
    model = _dirty_model()
    inputs = case.inputs()
    snap = snapshot_world(model, *inputs)
    tech = case.build(model, "")

    def boom(step: int, state: OptimizationState) -> None:
        raise RuntimeError("callback failed")

    with pytest.raises(RuntimeError, match="callback failed"):
        _call(case, tech, inputs, callbacks=[boom])
    snap.assert_unchanged()
    wrapped = RaiseOnCall(model, k=3)
    snap = snapshot_world(wrapped, *inputs)
    with pytest.raises(RuntimeError, match="boom"):
        _call(case, case.build(wrapped, "net."), inputs)
    snap.assert_unchanged()


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_world_unchanged_after_keyboard_interrupt(case: Case) -> None:
    model = _dirty_model()
    inputs = case.inputs()
    snap = snapshot_world(model, *inputs)

    def ctrl_c(step: int, state: OptimizationState) -> None:
        if step == 2:
            raise KeyboardInterrupt

    res = _call(case, case.build(model, ""), inputs, result=True, steps=5, callbacks=[ctrl_c])
    assert res.interrupted and tuple(res.images.shape) == case.shape
    snap.assert_unchanged()
    wrapped = RaiseOnCall(model, k=3, exc=KeyboardInterrupt)  # Ctrl-C inside a forward pass
    snap = snapshot_world(wrapped, *inputs)
    try:
        _call(case, case.build(wrapped, "net."), inputs, steps=5)
    except KeyboardInterrupt:
        pass
    snap.assert_unchanged()


def test_every_synthesis_class_is_in_the_table() -> None:
    """A new ImageSynthesis subclass exported by attribkit must get a row here."""
    import attribkit
    import attribkit.adversarial
    import attribkit.optvis
    import attribkit.style

    exported = {
        name
        for module in (attribkit, attribkit.optvis, attribkit.style, attribkit.adversarial)
        for name in module.__all__
        if inspect.isclass(getattr(module, name))
        and issubclass(getattr(module, name), ImageSynthesis)
        and getattr(module, name) is not ImageSynthesis
    }
    assert exported == set(IDS)
