import pytest
import torch

from attribkit.style import (
    luminance,
    match_color,
    match_histograms,
    match_luminance,
    rgb_to_yiq,
    transfer_chrominance,
    yiq_to_rgb,
)


def _img(seed: int, size: int = 8, scale: float = 1.0) -> torch.Tensor:
    g = torch.Generator().manual_seed(seed)
    return torch.rand(1, 3, size, size, generator=g) * scale


def test_yiq_round_trip_and_grey_has_no_chrominance():
    x = _img(0)
    assert torch.allclose(yiq_to_rgb(rgb_to_yiq(x)), x, atol=1e-5)
    grey = torch.full((1, 3, 2, 2), 0.3)
    yiq = rgb_to_yiq(grey)
    assert torch.allclose(yiq[:, 0], torch.full((1, 2, 2), 0.3), atol=1e-6)
    assert torch.allclose(yiq[:, 1:], torch.zeros(1, 2, 2, 2), atol=1e-6)
    assert torch.allclose(luminance(x)[:, 0], rgb_to_yiq(x)[:, 0])


def test_transfer_chrominance_keeps_stylized_luminance_and_content_colours():
    # moderate colours, so that no recombined pixel leaves the RGB cube (no clamping)
    content, stylized = 0.4 + 0.2 * _img(1), 0.3 + 0.4 * _img(2)
    out = transfer_chrominance(stylized, content)
    assert torch.allclose(rgb_to_yiq(out)[:, 0], rgb_to_yiq(stylized)[:, 0], atol=1e-2)
    assert torch.allclose(rgb_to_yiq(out)[:, 1:], rgb_to_yiq(content)[:, 1:], atol=2e-2)


def test_match_luminance_statistics():
    style, content = _img(3, scale=0.5), _img(4)
    out = match_luminance(style, content)
    y = rgb_to_yiq(content)[:, 0]
    assert out.shape == style.shape
    assert torch.allclose(out[:, 0].mean(), y.mean(), atol=0.03)


def test_match_histograms_is_exact_for_equal_sizes_and_keeps_ranks():
    src, ref = _img(5), _img(6, scale=0.3)
    out = match_histograms(src, ref)
    assert torch.allclose(out.flatten(2).sort().values, ref.flatten(2).sort().values)
    assert torch.equal(out.flatten(2).argsort(), src.flatten(2).argsort())
    with pytest.raises(ValueError, match="channels"):
        match_histograms(src, ref[:, :1])


def test_match_color_mean_and_covariance():
    src, ref = _img(7, 16), 0.2 + 0.5 * _img(8, 16)
    out = match_color(src, ref)
    assert torch.allclose(out.mean((2, 3)), ref.mean((2, 3)), atol=1e-3)
    assert torch.allclose(torch.cov(out[0].flatten(1)), torch.cov(ref[0].flatten(1)), atol=1e-3)
    with pytest.raises(ValueError, match="3 channels"):
        match_color(src[:, :1], ref)
