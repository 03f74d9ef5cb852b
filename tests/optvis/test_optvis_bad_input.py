"""Bad-input rows for the optimization-based visualizations (see ``tests/badinput.py``).

Every refusal happens before the model runs and says what was wrong; the valid odd inputs
(an image that overshoots [0, 1] by rounding, a layer given as a module, …) are accepted.
"""

from __future__ import annotations

import pytest
import torch
from badinput import Bad, Row, Valid, table_tests
from helpers.nets import assert_unit_images, image, overshoot, tiny_net

from attribkit import (
    ClassVisualization,
    DeepDream,
    FeatureInversion,
    NeuronVisualization,
    Objective,
    inversion_sweep,
    optimize,
)
from attribkit.optvis import ObjectiveContext, PixelImage, channel

NAN, INF = float("nan"), float("inf")
NET = tiny_net()
FAST = {"steps": 1, "show_progress": False}


def _photo(n: int = 1, size: int = 12) -> torch.Tensor:
    return 0.1 + 0.8 * image(0, size, n=n)


def _nan_photo() -> torch.Tensor:
    x = _photo().clone()
    x[0, 1, 2, 3] = NAN
    return x


def _cv(target: object = 1, **kw: object) -> object:
    return ClassVisualization(NET).visualize(target, **{"size": 12, **FAST, **kw})  # type: ignore[arg-type]


def _nv(**kw: object) -> object:
    return NeuronVisualization(NET, "conv1").visualize(1, **{"size": 12, **FAST, **kw})  # type: ignore[arg-type]


def _dd(x: object = None, **kw: object) -> object:
    x = _photo(1, 16) if x is None else x
    return DeepDream(NET, "relu1").dream(x, **{"octaves": 1, **FAST, **kw})  # type: ignore[arg-type]


def _inv(x: object = None, **kw: object) -> object:
    x = _photo() if x is None else x
    return FeatureInversion(NET, "relu1").invert(x, **{**FAST, **kw})  # type: ignore[arg-type]


def _ctx(n: int = 2) -> ObjectiveContext:
    x = torch.zeros(n, 3, 2, 2)
    return ObjectiveContext(x, x)


ROWS = [
    Row(
        "ClassVisualization",
        bad=[
            Bad("model not a module", lambda: ClassVisualization(lambda x: x), TypeError,  # type: ignore[arg-type]
                "nn.Module"),
            Bad("fractional target", lambda: ClassVisualization(NET).visualize(1.5, size=12),  # type: ignore[arg-type]
                TypeError, "whole class index"),
            Bad("target out of range", lambda: _cv(target=7), ValueError, "out of range"),
            Bad("size 0", lambda: _cv(size=0), ValueError, "size must be a positive"),
            Bad("negative size", lambda: _cv(size=(-3, 8)), ValueError, "size must be a positive"),
            Bad("steps 0", lambda: _cv(steps=0), ValueError, "steps must be a positive"),
            Bad("infinite lr", lambda: _cv(lr=INF), ValueError, "lr must be a finite"),
            Bad("NaN lr", lambda: _cv(lr=NAN), ValueError, "lr must be a finite"),
            Bad("unknown preset", lambda: _cv(preset="olah"), ValueError, "unknown preset"),
            Bad("negative seed", lambda: _cv(seed=-1), ValueError, "seed"),
            Bad("callback not in a list", lambda: _cv(callbacks=print), TypeError, "list"),
            Bad("3-D init", lambda: _cv(init=_photo()[0]), ValueError, "4-D"),
            Bad("NaN init", lambda: _cv(init=_nan_photo()), ValueError, "NaN"),
        ],
        valid=[
            Valid("init overshooting by rounding", lambda: _cv(init=overshoot(_photo())),
                  assert_unit_images),
            Valid("(height, width) size", lambda: _cv(size=(8, 12)),
                  lambda out: None if out.shape == (1, 3, 8, 12) else pytest.fail("shape")),
        ],
    ),
    Row(
        "NeuronVisualization",
        bad=[
            Bad("unknown layer", lambda: NeuronVisualization(NET, "conv9"), ValueError,
                "does not exist"),
            Bad("layer as an int", lambda: NeuronVisualization(NET, 5), TypeError,  # type: ignore[arg-type]
                "dotted name"),
            Bad("channel out of range", lambda: NeuronVisualization(NET, "conv1").visualize(
                9, size=12, **FAST), ValueError, "out of range"),
            Bad("negative channel", lambda: NeuronVisualization(NET, "conv1").visualize(
                -1, size=12, **FAST), ValueError, "out of range"),
            Bad("channel as a string", lambda: NeuronVisualization(NET, "conv1").visualize(
                "a", size=12, **FAST), TypeError, "channel"),  # type: ignore[arg-type]
            Bad("negative x", lambda: _nv(x=-1), ValueError, "x must be"),
            Bad("size 0", lambda: _nv(size=0), ValueError, "size"),
            Bad("NaN lr", lambda: _nv(lr=NAN), ValueError, "finite"),
        ],
        valid=[
            Valid("layer given as a module", lambda: NeuronVisualization(NET, NET.conv1).visualize(
                [0, 1], size=12, **FAST), assert_unit_images),
        ],
    ),
    Row(
        "DeepDream",
        bad=[
            Bad("3-D image", lambda: _dd(_photo()[0]), ValueError, "4-D"),
            Bad("NaN image", lambda: _dd(_nan_photo()), ValueError, "NaN"),
            Bad("image outside [0, 1]", lambda: _dd(_photo() * 3), ValueError, r"\[0, 1\]"),
            Bad("octaves 0", lambda: _dd(octaves=0), ValueError, "octaves"),
            Bad("NaN octave_scale", lambda: DeepDream(NET, "relu1").dream(
                _photo(1, 16), octave_scale=NAN, **FAST), ValueError, "finite"),
            Bad("octave_scale 1", lambda: DeepDream(NET, "relu1").dream(
                _photo(1, 16), octave_scale=1.0, **FAST), ValueError, "> 1"),
            Bad("negative jitter", lambda: _dd(jitter=-1), ValueError, "jitter"),
            Bad("infinite lr", lambda: _dd(lr=INF), ValueError, "finite"),
            Bad("objective not an Objective", lambda: _dd(objective=lambda c: c.image.sum()),
                TypeError, "Objective"),
            Bad("old keyword steps_per_octave", lambda: _dd(steps_per_octave=3), TypeError,
                "steps_per_octave"),
        ],
        valid=[
            Valid("photo overshooting by rounding", lambda: _dd(overshoot(_photo(1, 16))),
                  assert_unit_images),
        ],
    ),
    Row(
        "FeatureInversion",
        bad=[
            Bad("unknown layer", lambda: FeatureInversion(NET, "relu9"), ValueError,
                "does not exist"),
            Bad("3-D image", lambda: _inv(_photo()[0]), ValueError, "4-D"),
            Bad("features without size", lambda: _inv(image(0, 6, channels=4)), ValueError,
                "size"),
            Bad("features of another layer", lambda: _inv(image(0, 6, channels=4), size=12),
                ValueError, "do not match"),
            Bad("infinite tv_weight", lambda: _inv(tv_weight=INF), ValueError, "finite"),
            Bad("negative tv_weight", lambda: _inv(tv_weight=-1.0), ValueError, "non-negative"),
            Bad("NaN tv_beta", lambda: _inv(tv_beta=NAN), ValueError, "tv_beta must be a finite"),
            Bad("alpha 0", lambda: _inv(alpha=0), ValueError, "alpha must be a positive"),
            Bad("size 0 with features", lambda: _inv(image(0, 12, channels=4), size=0),
                ValueError, "size"),
        ],
        valid=[
            Valid("image overshooting by rounding", lambda: _inv(overshoot(_photo())),
                  assert_unit_images),
            Valid("features with their size", lambda: _inv(
                FeatureInversion(NET, "relu1").features(_photo()), size=12), assert_unit_images),
        ],
    ),
    Row(
        "inversion_sweep",
        bad=[
            Bad("a batch of two", lambda: inversion_sweep(NET, _photo(2), ["relu1"], **FAST),
                ValueError, "one image"),
            Bad("one layer as a string", lambda: inversion_sweep(NET, _photo(), "relu1", **FAST),
                ValueError, "sequence"),
            Bad("no layers", lambda: inversion_sweep(NET, _photo(), [], **FAST), ValueError,
                "non-empty"),
            Bad("tv_weights of the wrong length", lambda: inversion_sweep(
                NET, _photo(), ["relu1"], tv_weights=[1.0, 2.0], **FAST), ValueError, "tv_weights"),
            Bad("tv_weight instead of tv_weights", lambda: inversion_sweep(
                NET, _photo(), ["relu1"], tv_weight=1.0, **FAST), TypeError, "tv_weights"),
            Bad("no default layers", lambda: inversion_sweep(NET, _photo(), **FAST), ValueError,
                "no default"),
            Bad("NaN image", lambda: inversion_sweep(NET, _nan_photo(), ["relu1"], **FAST),
                ValueError, "NaN"),
        ],
        valid=[
            Valid("image overshooting by rounding", lambda: inversion_sweep(
                NET, overshoot(_photo()), ["relu1", "relu2"], **FAST),
                lambda sw: None if len(sw.psnr) == 2 else pytest.fail("two layers")),
        ],
    ),
    Row(
        "Objective",
        bad=[
            Bad("fn not callable", lambda: Objective(5), TypeError, "callable"),  # type: ignore[arg-type]
            Bad("layer as an int", lambda: Objective(lambda c: c.image.sum(), layers=[5]),  # type: ignore[list-item]
                TypeError, "dotted names"),
            Bad("division by zero", lambda: channel("x", 0) / 0, ZeroDivisionError, "zero"),
            Bad("division by a string", lambda: channel("x", 0) / "2", TypeError, "numbers"),  # type: ignore[operator]
            Bad("one score for the batch", lambda: Objective(lambda c: c.image.sum((2, 3)))(_ctx()),
                ValueError, "one score per image"),
            Bad("a layer not captured", lambda: channel("conv9", 0)(_ctx()), KeyError,
                "not captured"),
        ],
        valid=[
            Valid("layers given as one string", lambda: Objective(
                lambda c: c.image.mean((1, 2, 3)), layers="conv1"),
                lambda obj: None if obj.layers == ("conv1",) else pytest.fail("layers")),
        ],
    ),
    Row(
        "optimize",
        bad=[
            Bad("model not a module", lambda: optimize(
                lambda x: x, channel("relu1", 0), PixelImage((1, 3, 8, 8)), **FAST), TypeError,  # type: ignore[arg-type]
                "nn.Module"),
            Bad("objective a lambda", lambda: optimize(
                NET, lambda c: c.image.sum(), PixelImage((1, 3, 8, 8)), **FAST), TypeError,  # type: ignore[arg-type]
                "Objective"),
            Bad("param a tensor", lambda: optimize(
                NET, channel("relu1", 0), torch.zeros(1, 3, 8, 8), **FAST), TypeError, "param"),  # type: ignore[arg-type]
            Bad("NaN lr", lambda: optimize(
                NET, channel("relu1", 0), PixelImage((1, 3, 8, 8)), lr=NAN, **FAST), ValueError,
                "finite"),
            Bad("unknown optimizer", lambda: optimize(
                NET, channel("relu1", 0), PixelImage((1, 3, 8, 8)), optimizer="adamw", **FAST),
                ValueError, "optimizer must be one of"),
            Bad("snapshot beyond the steps", lambda: optimize(
                NET, channel("relu1", 0), PixelImage((1, 3, 8, 8)), snapshot_steps=[5], **FAST),
                ValueError, "snapshot steps"),
            Bad("seed a string", lambda: optimize(
                NET, channel("relu1", 0), PixelImage((1, 3, 8, 8)), seed="0", **FAST),  # type: ignore[arg-type]
                TypeError, "seed"),
        ],
        valid=[
            Valid("seed None (recorded)", lambda: optimize(
                NET, channel("relu1", 0), PixelImage((1, 3, 8, 8)), seed=None, **FAST),
                lambda res: None if isinstance(res.seed, int) else pytest.fail("seed")),
        ],
    ),
]

test_bad_input, test_valid_odd_input = table_tests(ROWS)
