"""Efros–Leung and image quilting: copies of the sample, exact continuation of a periodic
sample, seeded and local randomness, bounded loops, bad input."""

from __future__ import annotations

import pytest
import torch

from attribkit.style import efros_leung, image_quilting


def _sample(channels: int = 1, size: int = 16) -> torch.Tensor:
    g = torch.Generator().manual_seed(0)
    # a quantized random texture: few distinct values, so copies are easy to check
    return (torch.randint(0, 8, (1, channels, size, size), generator=g) / 7.0).float()


def test_smoke_shape_and_values_come_from_sample():
    sample = _sample(1)
    out = efros_leung(sample, (14, 18), window=5, seed=0, show_progress=False)
    assert out.shape == (1, 1, 14, 18)
    assert bool(torch.isin(out, sample).all())


def test_colour_pixels_are_copied_whole():
    sample = _sample(3, 14)
    out = efros_leung(sample, 12, window=5, seed=1, show_progress=False)
    pixels = {tuple(p) for p in sample[0].flatten(1).T.tolist()}
    assert all(tuple(p) in pixels for p in out[0].flatten(1).T.tolist())


def test_periodic_sample_is_continued_exactly():
    # stripes of period 4: any consistent continuation is itself a shifted copy of the stripes
    row = torch.tensor([0.0, 0.0, 1.0, 1.0]).repeat(5)
    sample = row.view(1, 1, 1, 20).expand(1, 1, 20, 20).clone()
    out = efros_leung(sample, 16, window=5, epsilon=0.0, seed=0, show_progress=False)[0, 0]
    assert torch.equal(out, out[:1].expand_as(out))  # constant down the columns
    assert torch.equal(out[0, 4:], out[0, :-4])  # period 4 along the rows


def test_deterministic_given_seed():
    sample = _sample(1)
    a = efros_leung(sample, 12, window=5, seed=3, show_progress=False)
    b = efros_leung(sample, 12, window=5, seed=3, show_progress=False)
    c = efros_leung(sample, 12, window=5, seed=4, show_progress=False)
    assert torch.equal(a, b)
    assert not torch.equal(a, c)
    g1, g2 = torch.Generator().manual_seed(9), torch.Generator().manual_seed(9)
    assert torch.equal(
        efros_leung(sample, 12, window=5, seed=g1, show_progress=False),
        efros_leung(sample, 12, window=5, seed=g2, show_progress=False),
    )


def test_global_rng_untouched():
    state = torch.random.get_rng_state()
    efros_leung(_sample(1), 10, window=5, seed=0, show_progress=False)
    image_quilting(_sample(1), 20, block=6, seed=0)
    # seed=None draws fresh entropy for a local generator, not from the global one
    efros_leung(_sample(1), 10, window=5, seed=None, show_progress=False)
    image_quilting(_sample(1), 20, block=6, seed=None)
    assert torch.equal(state, torch.random.get_rng_state())


def test_tiny_max_error_still_terminates():
    """A threshold far below every match grows until pixels are accepted: the loop ends."""
    out = efros_leung(_sample(1), 9, window=5, max_error=1e-12, seed=0, show_progress=False)
    assert out.shape == (1, 1, 9, 9) and bool(torch.isin(out, _sample(1)).all())


def test_exceptions():
    sample = _sample(1)
    with pytest.raises(ValueError, match="smaller than the window"):
        efros_leung(sample, 4, window=5, show_progress=False)
    with pytest.raises(ValueError, match="odd"):
        efros_leung(sample, 12, window=4, show_progress=False)
    with pytest.raises(ValueError, match="larger than the sample"):
        efros_leung(sample, 40, window=17, show_progress=False)
    with pytest.raises(ValueError, match="one image"):
        efros_leung(sample.repeat(2, 1, 1, 1), 12, window=5, show_progress=False)
    with pytest.raises(ValueError, match="size"):
        efros_leung(sample, (0, 3), window=5, show_progress=False)
    with pytest.raises(TypeError):
        efros_leung(sample.numpy(), 12, window=5, show_progress=False)  # type: ignore[arg-type]
    for name in ("max_error", "epsilon", "sigma"):
        for bad in (float("nan"), float("inf")):
            with pytest.raises(ValueError, match=f"{name} must be a finite number"):
                efros_leung(sample, 12, window=5, show_progress=False, **{name: bad})


def test_quilting_copies_sample_values_and_is_deterministic():
    sample = _sample(3, 24)
    a = image_quilting(sample, (30, 41), block=8, seed=0)
    assert a.shape == (1, 3, 30, 41)
    assert bool(torch.isin(a, sample).all())
    assert torch.equal(a, image_quilting(sample, (30, 41), block=8, seed=0))
    with pytest.raises(ValueError, match="smaller than the block"):
        image_quilting(sample, 6, block=8)
    with pytest.raises(ValueError, match="overlap"):
        image_quilting(sample, 30, block=8, overlap=8)
