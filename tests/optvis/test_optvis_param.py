"""Parameterizations: shapes, range, exact round trips from an image, gradients, bad input."""

from __future__ import annotations

import pytest
import torch

from attribkit.optvis import DecorrelatedColor, FFTImage, LucentParam, PixelImage, image_param
from attribkit.optvis.param import as_param


@pytest.mark.parametrize("kind", ["pixel", "fft"])
@pytest.mark.parametrize("decorrelate", [False, True])
@pytest.mark.parametrize("squash", ["sigmoid", "clamp"])
def test_shape_and_range(kind: str, decorrelate: bool, squash: str) -> None:
    p = image_param(kind, (2, 3, 12, 10), decorrelate=decorrelate, squash=squash, seed=0)
    img = p().detach()
    assert img.shape == (2, 3, 12, 10)
    assert float(img.min()) >= 0.0 and float(img.max()) <= 1.0
    assert p.optim_params() and all(t.requires_grad for t in p.optim_params())
    assert "shape=(2, 3, 12, 10)" in repr(p)


@pytest.mark.parametrize("kind", ["pixel", "fft"])
@pytest.mark.parametrize("decorrelate", [False, True])
@pytest.mark.parametrize("squash", ["sigmoid", "clamp"])
def test_init_round_trip(kind: str, decorrelate: bool, squash: str) -> None:
    g = torch.Generator().manual_seed(1)
    target = torch.rand(1, 3, 9, 11, generator=g) * 0.9 + 0.05
    p = image_param(kind, (2, 3, 9, 11), decorrelate=decorrelate, squash=squash, init=target)
    out = p().detach()
    torch.testing.assert_close(out, target.expand(2, 3, 9, 11), atol=1e-4, rtol=0)


def test_init_is_copied_not_aliased() -> None:
    init = torch.full((1, 3, 4, 4), 0.25)
    p = PixelImage((1, 3, 4, 4), init=init, squash="clamp")
    with torch.no_grad():
        p.pixels.add_(0.5)
    assert torch.equal(init, torch.full((1, 3, 4, 4), 0.25))


def test_seed_reproducible_and_generator_local() -> None:
    state = torch.random.get_rng_state()
    a, b = FFTImage((1, 3, 8, 8), seed=3)(), FFTImage((1, 3, 8, 8), seed=3)()
    assert torch.equal(a, b)
    assert not torch.equal(a, FFTImage((1, 3, 8, 8), seed=4)())
    assert torch.equal(state, torch.random.get_rng_state()), "the global RNG was used"


def test_fft_scale_falls_with_frequency() -> None:
    p = FFTImage((1, 1, 16, 16), seed=0)
    # low frequencies get the largest weight, the highest the smallest
    assert float(p.scale[0, 1]) > float(p.scale[0, 4]) > float(p.scale[8, 8])

    # a unit change of a high-frequency coefficient moves the image less than a low one
    def effect(iy: int, ix: int) -> float:
        q = FFTImage((1, 1, 16, 16), sd=0.0)
        with torch.no_grad():
            q.spectrum[0, 0, iy, ix, 0] = 1.0
        return float(q.raw().detach().abs().sum())

    assert effect(0, 1) > 3 * effect(8, 8)


def test_gradcheck_fft_and_colour() -> None:
    p = DecorrelatedColor(FFTImage((1, 3, 4, 4), seed=0, dtype=torch.float64))
    spec = p.base.spectrum.detach().clone().requires_grad_(True)

    def f(s: torch.Tensor) -> torch.Tensor:
        out = torch.fft.irfft2(torch.view_as_complex(s) * p.base.scale, s=(4, 4), norm="ortho")
        return torch.sigmoid(torch.einsum("ij,njhw->nihw", p.color, out / 4.0))

    assert torch.autograd.gradcheck(f, (spec,))
    # and the module computes that same function
    torch.testing.assert_close(p(), f(p.base.spectrum))


def test_clamp_post_step_projects() -> None:
    p = PixelImage((1, 3, 4, 4), init=0.5, squash="clamp")
    with torch.no_grad():
        p.pixels.add_(torch.linspace(-2, 2, 48).view(1, 3, 4, 4))
    p.post_step()
    assert float(p.pixels.detach().min()) == 0.0 and float(p.pixels.detach().max()) == 1.0


def test_module_features() -> None:
    p = image_param("fft", (1, 3, 8, 8), decorrelate=True, seed=0)
    assert set(p.state_dict()) == {"base.spectrum"}  # scale and colour are non-persistent
    q = p.to(torch.float64)
    assert q().dtype == torch.float64


def test_lucent_style_closure() -> None:
    t = torch.zeros(1, 3, 4, 4, requires_grad=True)
    p = as_param(lambda: ([t], lambda: torch.sigmoid(t)))
    assert isinstance(p, LucentParam)
    assert p.optim_params()[0] is t
    assert p().shape == (1, 3, 4, 4)
    with pytest.raises(TypeError, match="cannot be moved"):
        p.to(torch.float64)


def test_exception() -> None:
    with pytest.raises(ValueError, match="four positive ints"):
        PixelImage((3, 8, 8))
    with pytest.raises(ValueError, match="four positive ints"):
        PixelImage((1, 3, 0, 8))
    with pytest.raises(ValueError, match="squash"):
        PixelImage((1, 3, 8, 8), squash="tanh")
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        PixelImage((1, 3, 4, 4), init=torch.full((1, 3, 4, 4), 2.0))
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        PixelImage((1, 3, 4, 4), init=1.5)
    with pytest.raises(ValueError, match="resize"):
        FFTImage((1, 3, 4, 4), init=torch.rand(1, 3, 5, 4))
    with pytest.raises(TypeError, match="float tensor"):
        PixelImage((1, 3, 4, 4), init=torch.zeros(1, 3, 4, 4, dtype=torch.uint8))
    with pytest.raises(ValueError, match="3 channels"):
        DecorrelatedColor(PixelImage((1, 1, 4, 4)))
    with pytest.raises(ValueError, match="kind"):
        image_param("cppn", (1, 3, 4, 4))
    with pytest.raises(TypeError, match="ImageParam"):
        as_param(torch.nn.Linear(2, 2))
    with pytest.raises(TypeError, match="param_f"):
        as_param(3)
    with pytest.raises(TypeError, match=r"\(params, image_fn\)"):
        as_param(lambda: torch.zeros(1))
