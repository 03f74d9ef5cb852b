"""Bad-input rows for texture synthesis, style transfer and the style losses (see
``tests/badinput.py``). Fast style (feed-forward networks) has its own rows."""

from __future__ import annotations

import pytest
import torch
from badinput import Bad, Row, Valid, table_tests
from helpers.nets import assert_unit_images, feature_net, image, overshoot

from attribkit import (
    FeatureLoss,
    GramLoss,
    PerceptualLoss,
    StyleTransfer,
    TextureSynthesis,
    efros_leung,
    gram_matrix,
    image_quilting,
    total_variation,
)

NAN, INF = float("nan"), float("inf")
NET = feature_net()
FAST = {"steps": 1, "show_progress": False}


def _st() -> StyleTransfer:
    return StyleTransfer(NET, ["3"], ["1", "3"], pad=2)


def _transfer(content: object = None, style: object = None, **kw: object) -> object:
    content = image(0) if content is None else content
    style = image(1) if style is None else style
    return _st().transfer(content, style, **{**FAST, **kw})  # type: ignore[arg-type]


def _texture(tex: object = None, size: object = 10, **kw: object) -> object:
    tex = image(2) if tex is None else tex
    return TextureSynthesis(NET, ["1"], pad=0).synthesize(tex, size, **{**FAST, **kw})  # type: ignore[arg-type]


def _sample(channels: int = 1) -> torch.Tensor:
    return image(3, 12, channels=channels)


def _el(**kw: object) -> object:
    return efros_leung(_sample(), **{"size": 8, "window": 5, "show_progress": False, **kw})  # type: ignore[arg-type]


ROWS = [
    Row(
        "StyleTransfer",
        bad=[
            Bad("layers as one string", lambda: StyleTransfer(NET, "act2", ["1"]), TypeError,
                "sequence of layers"),
            Bad("no style layer", lambda: StyleTransfer(NET, ["3"], []), ValueError,
                "at least one style layer"),
            Bad("unknown layer", lambda: StyleTransfer(NET, ["3"], ["conv9"]), ValueError,
                "does not exist"),
            Bad("negative pad", lambda: StyleTransfer(NET, ["3"], ["1"], pad=-1), ValueError,
                "pad"),
            Bad("weight for an unused layer", lambda: StyleTransfer(
                NET, ["3"], ["1"], layer_weights={"2": 1.0}), ValueError, "not in use"),
            Bad("NaN layer weight", lambda: StyleTransfer(
                NET, ["3"], ["1"], layer_weights={"1": NAN}), ValueError, "finite"),
            Bad("3-D content", lambda: _transfer(image(0)[0]), ValueError, "4-D"),
            Bad("4-channel style", lambda: _transfer(style=image(1, channels=4)), ValueError,
                "4 channels"),
            Bad("NaN style_weight", lambda: _transfer(style_weight=NAN), ValueError,
                "style_weight must be a finite"),
            Bad("infinite tv_weight", lambda: _transfer(tv_weight=INF), ValueError,
                "tv_weight must be a finite"),
            Bad("style_scale 0", lambda: _transfer(style_scale=0), ValueError, "style_scale"),
            Bad("unknown preserve_color", lambda: _transfer(preserve_color="sepia"), ValueError,
                "preserve_color"),
            Bad("unknown init", lambda: _transfer(init="zeros"), ValueError, "init"),
            Bad("NaN blend weight", lambda: _transfer(style=[image(1), image(2)],
                                                      style_weights=[1.0, NAN]),
                ValueError, "finite"),
            Bad("infinite lr", lambda: _transfer(lr=INF), ValueError, "lr must be a finite"),
        ],
        valid=[
            Valid("content overshooting by rounding", lambda: _transfer(overshoot(image(0))),
                  assert_unit_images),
            Valid("grey content", lambda: _transfer(image(0, channels=1)),
                  lambda out: None if out.shape[1] == 3 else pytest.fail("RGB out")),
        ],
    ),
    Row(
        "TextureSynthesis",
        bad=[
            Bad("layers as one string", lambda: TextureSynthesis(NET, "1"), TypeError,
                "sequence of layers"),
            Bad("negative shift", lambda: TextureSynthesis(NET, ["1"], shift=-1), ValueError,
                "shift"),
            Bad("a batch of textures", lambda: _texture(image(2, n=2)), ValueError, "one texture"),
            Bad("2-channel texture", lambda: _texture(image(2, channels=2)), ValueError,
                "1 or 3 channels"),
            Bad("size 0", lambda: _texture(size=0), ValueError, "size"),
            Bad("n 0", lambda: _texture(n=0), ValueError, "n must be a positive"),
            Bad("NaN tv_weight", lambda: _texture(tv_weight=NAN), ValueError, "finite"),
            Bad("grayscale a string", lambda: _texture(grayscale="yes"), TypeError, "grayscale"),
            Bad("texture outside [0, 1]", lambda: _texture(image(2) * 2), ValueError, r"\[0, 1\]"),
        ],
        valid=[
            Valid("one-channel texture", lambda: _texture(image(2, channels=1)),
                  lambda out: None if out.shape == (1, 3, 10, 10) else pytest.fail("shape")),
            Valid("texture overshooting by rounding", lambda: _texture(overshoot(image(0))),
                  assert_unit_images),
        ],
    ),
    Row(
        "efros_leung",
        bad=[
            Bad("NaN max_error", lambda: _el(max_error=NAN), ValueError,
                "max_error must be a finite"),
            Bad("negative epsilon", lambda: _el(epsilon=-1.0), ValueError, "epsilon"),
            Bad("infinite sigma", lambda: _el(sigma=INF), ValueError, "sigma must be a finite"),
            Bad("even window", lambda: _el(window=4), ValueError, "odd"),
            Bad("size 0", lambda: _el(size=0), ValueError, "size"),
            Bad("a batch of samples", lambda: efros_leung(image(3, 12, n=2), 8, window=5),
                ValueError, "one image"),
            Bad("seed a string", lambda: _el(seed="x"), TypeError, "seed"),
            Bad("numpy sample", lambda: efros_leung(_sample().numpy(), 8, window=5), TypeError,  # type: ignore[arg-type]
                "torch.Tensor"),
        ],
        valid=[
            Valid("seed None (local entropy)", lambda: _el(seed=None),
                  lambda out: None if out.shape == (1, 1, 8, 8) else pytest.fail("shape")),
        ],
    ),
    Row(
        "image_quilting",
        bad=[
            Bad("block 1", lambda: image_quilting(_sample(3), 20, block=1), ValueError, "block"),
            Bad("overlap = block", lambda: image_quilting(_sample(3), 20, block=6, overlap=6),
                ValueError, "overlap"),
            Bad("size 0", lambda: image_quilting(_sample(3), 0, block=6), ValueError, "size"),
            Bad("NaN tolerance", lambda: image_quilting(_sample(3), 20, block=6, tolerance=NAN),
                ValueError, "finite"),
            Bad("3-D sample", lambda: image_quilting(_sample(3)[0], 20, block=6), ValueError,
                "4-D"),
            Bad("output smaller than a block", lambda: image_quilting(_sample(3), 4, block=6),
                ValueError, "smaller than the block"),
        ],
        valid=[
            Valid("seed None", lambda: image_quilting(_sample(3), 20, block=6, seed=None),
                  lambda out: None if out.shape == (1, 3, 20, 20) else pytest.fail("shape")),
        ],
    ),
    Row(
        "gram_matrix",
        bad=[
            Bad("3-D features", lambda: gram_matrix(torch.zeros(3, 4, 4)), ValueError, "N×C×H×W"),
            Bad("5-D features", lambda: gram_matrix(torch.zeros(1, 1, 3, 4, 4)), ValueError,
                "N×C×H×W"),
            Bad("integer features", lambda: gram_matrix(torch.zeros(1, 3, 4, 4, dtype=torch.long)),
                TypeError, "floating point"),
            Bad("a list", lambda: gram_matrix([[1.0]]), TypeError, "tensor"),  # type: ignore[arg-type]
            Bad("None", lambda: gram_matrix(None), TypeError, "tensor"),  # type: ignore[arg-type]
        ],
        valid=[
            Valid("float64 features", lambda: gram_matrix(torch.ones(1, 2, 3, 3).double()),
                  lambda g: None if g.dtype == torch.float64 else pytest.fail("dtype")),
        ],
    ),
    Row(
        "total_variation",
        bad=[
            Bad("beta 0", lambda: total_variation(image(0), beta=0), ValueError, "beta"),
            Bad("NaN beta", lambda: total_variation(image(0), beta=NAN), ValueError, "finite"),
            Bad("3-D image", lambda: total_variation(image(0)[0]), ValueError, "N×C×H×W"),
            Bad("integer image", lambda: total_variation(torch.zeros(1, 1, 3, 3, dtype=torch.long)),
                TypeError, "floating point"),
            Bad("a list", lambda: total_variation([0.0]), TypeError, "tensor"),  # type: ignore[arg-type]
        ],
        valid=[
            Valid("edge-preserving beta 1", lambda: total_variation(image(0), beta=1.0),
                  lambda tv: None if tv.shape == (1,) else pytest.fail("shape")),
        ],
    ),
    Row(
        "FeatureLoss",
        bad=[
            Bad("3-D target", lambda: FeatureLoss(torch.zeros(4, 3, 3)), ValueError, "N×C×H×W"),
            Bad("target a list", lambda: FeatureLoss([1.0]), TypeError, "tensor"),  # type: ignore[arg-type]
            Bad("features of another size", lambda: FeatureLoss(torch.zeros(1, 4, 3, 3))(
                torch.zeros(1, 4, 5, 5)), ValueError, "same size"),
            Bad("integer features", lambda: FeatureLoss(torch.zeros(1, 4, 3, 3))(
                torch.zeros(1, 4, 3, 3, dtype=torch.long)), TypeError, "floating point"),
            Bad("3-D features", lambda: FeatureLoss(torch.zeros(1, 4, 3, 3))(torch.zeros(4, 3, 3)),
                ValueError, "N×C×H×W"),
        ],
        valid=[
            Valid("float64 features", lambda: FeatureLoss(torch.ones(1, 2, 3, 3))(
                torch.ones(1, 2, 3, 3, dtype=torch.float64)),
                lambda v: None if float(v) == 0.0 else pytest.fail("zero at the target")),
        ],
    ),
    Row(
        "GramLoss",
        bad=[
            Bad("3-D features", lambda: GramLoss(torch.zeros(4, 3, 3)), ValueError, "N×C×H×W"),
            Bad("negative blend weight", lambda: GramLoss(torch.rand(2, 3, 4, 4), weights=[1, -1]),
                ValueError, "non-negative"),
            Bad("NaN blend weight", lambda: GramLoss(torch.rand(2, 3, 4, 4), weights=[1, NAN]),
                ValueError, "finite"),
            Bad("wrong number of weights", lambda: GramLoss(torch.rand(2, 3, 4, 4), weights=[1]),
                ValueError, "one per image"),
            Bad("non-square Gram", lambda: GramLoss.from_gram(torch.zeros(1, 3, 4)), ValueError,
                "C×C"),
            Bad("features with other channels", lambda: GramLoss(torch.rand(1, 3, 4, 4))(
                torch.rand(1, 5, 4, 4)), ValueError, "channels"),
        ],
        valid=[
            Valid("blend weights as a tuple", lambda: GramLoss(torch.rand(2, 3, 4, 4),
                                                               weights=(3, 1)),
                  lambda loss: None if loss.target.shape == (1, 3, 3) else pytest.fail("shape")),
        ],
    ),
    Row(
        "PerceptualLoss",
        bad=[
            Bad("layers as one string", lambda: PerceptualLoss(NET, "3", ["1"]), TypeError,
                "sequence of layers"),
            Bad("unknown layer", lambda: PerceptualLoss(NET, ["9"], ["1"]), ValueError,
                "does not exist"),
            Bad("NaN style_weight", lambda: PerceptualLoss(NET, ["3"], ["1"], style_weight=NAN),
                ValueError, "finite"),
            Bad("negative layer weight", lambda: PerceptualLoss(
                NET, ["3"], ["1"], layer_weights={"1": -2.0}), ValueError, "non-negative"),
            Bad("negative pad", lambda: PerceptualLoss(NET, ["3"], ["1"], pad=-1), ValueError,
                "pad"),
            Bad("no layers", lambda: PerceptualLoss(NET, [], []), ValueError, "at least one"),
            Bad("model not a module", lambda: PerceptualLoss(lambda x: x, ["3"], ["1"]),  # type: ignore[arg-type]
                TypeError, "nn.Module"),
        ],
        valid=[
            Valid("layers given as modules", lambda: PerceptualLoss(NET, [NET[3]], [NET[1]]),
                  lambda loss: None if loss.layers == ["3", "1"] else pytest.fail("names")),
        ],
    ),
]

test_bad_input, test_valid_odd_input = table_tests(ROWS)
