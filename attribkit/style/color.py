"""Colour preservation for style transfer (Gatys et al. 2017, "Controlling perceptual factors").

Two ways to keep the content image's colours:

* **luminance-only transfer** — run the transfer on luminance only and put the content's
  chrominance back: :func:`rgb_to_yiq`, :func:`yiq_to_rgb`, :func:`luminance_only` (which
  also matches the style luminance's mean and spread to the content's);
* **colour matching of the style image** before the transfer — :func:`match_histograms`
  (exact per-channel histogram matching) or :func:`match_color` (mean and covariance, "linear").
"""

from __future__ import annotations

import torch

from attribkit._checks import check_image_batch

__all__ = [
    "rgb_to_yiq",
    "yiq_to_rgb",
    "luminance",
    "transfer_chrominance",
    "match_luminance",
    "match_histograms",
    "match_color",
]

_RGB2YIQ = (
    (0.299, 0.587, 0.114),
    (0.595716, -0.274453, -0.321263),
    (0.211456, -0.522591, 0.311135),
)


def _matrix(like: torch.Tensor) -> torch.Tensor:
    return torch.tensor(_RGB2YIQ, dtype=like.dtype, device=like.device)


def _check_rgb(x: torch.Tensor, name: str) -> None:
    check_image_batch(x, name, channels=3)


def rgb_to_yiq(image: torch.Tensor) -> torch.Tensor:
    """Convert ``N×3×H×W`` RGB to YIQ (Y = luminance in [0, 1], I and Q chrominance).

    Examples:
        >>> import torch
        >>> rgb_to_yiq(torch.ones(1, 3, 1, 1)).flatten().round(decimals=4).abs()
        tensor([1., 0., 0.])
    """
    _check_rgb(image, "image")
    return torch.einsum("ij,njhw->nihw", _matrix(image), image)


def yiq_to_rgb(image: torch.Tensor) -> torch.Tensor:
    """Inverse of :func:`rgb_to_yiq` (not clamped)."""
    check_image_batch(image, "image", channels=3)
    inv = torch.linalg.inv(_matrix(image).double()).to(image.dtype)
    return torch.einsum("ij,njhw->nihw", inv, image)


def luminance(image: torch.Tensor) -> torch.Tensor:
    """The Y channel of an RGB image, repeated to 3 channels (a grey RGB picture)."""
    y = rgb_to_yiq(image)[:, :1]
    return y.expand(-1, 3, -1, -1).contiguous()


def transfer_chrominance(stylized: torch.Tensor, content: torch.Tensor) -> torch.Tensor:
    """Keep the luminance of ``stylized`` and take I, Q (the colours) from ``content``.

    ``content`` is resized to ``stylized`` if their sizes differ. Returns RGB in [0, 1].

    Examples:
        >>> import torch
        >>> c = torch.rand(1, 3, 8, 8)
        >>> torch.allclose(transfer_chrominance(c, c), c, atol=1e-5)
        True
    """
    _check_rgb(stylized, "stylized")
    _check_rgb(content, "content")
    if content.shape[-2:] != stylized.shape[-2:]:
        content = torch.nn.functional.interpolate(
            content, size=stylized.shape[-2:], mode="bilinear", align_corners=False
        )
    s, c = rgb_to_yiq(stylized), rgb_to_yiq(content.to(stylized.dtype))
    if c.shape[0] != s.shape[0]:
        c = c.expand(s.shape[0], -1, -1, -1)
    return yiq_to_rgb(torch.cat([s[:, :1], c[:, 1:]], 1)).clamp(0, 1)


def match_luminance(style: torch.Tensor, content: torch.Tensor) -> torch.Tensor:
    """Grey version of ``style`` whose luminance has the mean and std of ``content``'s.

    Used for luminance-only transfer: the style's luminance statistics are brought to the
    content's before the Gram matrices are taken (Gatys et al. 2017, eq. 5).
    """
    ys = rgb_to_yiq(style)[:, :1]
    yc = rgb_to_yiq(content)[:, :1]
    out = (ys - ys.mean()) * (yc.std() / ys.std().clamp_min(1e-6)) + yc.mean()
    return out.clamp(0, 1).expand(-1, 3, -1, -1).contiguous()


def match_histograms(source: torch.Tensor, reference: torch.Tensor) -> torch.Tensor:
    """Remap each channel of ``source`` so its histogram equals ``reference``'s (exactly).

    Pixel ranks are kept: the k-th smallest value of a channel becomes the reference's
    value at the same quantile. Sizes may differ.

    Args:
        source: ``1×C×H×W`` image whose colours are changed (e.g. the style image).
        reference: ``1×C×h×w`` image whose colour distribution is wanted (e.g. the content).

    Returns:
        ``1×C×H×W``, every value taken from ``reference`` (up to interpolation between
        neighbouring quantiles).

    Examples:
        >>> import torch
        >>> a, b = torch.rand(1, 3, 8, 8), 0.5 * torch.rand(1, 3, 8, 8)
        >>> out = match_histograms(a, b)
        >>> torch.equal(out.flatten(2).sort().values, b.flatten(2).sort().values)
        True
    """
    check_image_batch(source, "source")
    check_image_batch(reference, "reference")
    if source.shape[0] != 1 or reference.shape[0] != 1:
        raise ValueError("match_histograms takes one source and one reference image")
    if source.shape[1] != reference.shape[1]:
        raise ValueError(
            f"source has {source.shape[1]} channels and reference {reference.shape[1]}; "
            "convert both to RGB first"
        )
    src = source[0].flatten(1)
    ref = reference[0].to(source.dtype).flatten(1).sort(dim=1).values
    n, m = src.shape[1], ref.shape[1]
    ranks = src.argsort(dim=1).argsort(dim=1).to(source.dtype)
    pos = ranks * ((m - 1) / max(n - 1, 1))
    lo = pos.floor().long().clamp(0, m - 1)
    hi = (lo + 1).clamp(max=m - 1)
    frac = pos - lo.to(pos.dtype)
    out = ref.gather(1, lo) * (1 - frac) + ref.gather(1, hi) * frac
    return out.view_as(source[0])[None]


def match_color(source: torch.Tensor, reference: torch.Tensor, eps: float = 1e-5) -> torch.Tensor:
    """Affine colour transfer: give ``source`` the RGB mean and covariance of ``reference``.

    The map is ``x ↦ A (x − μₛ) + μᵣ`` with ``A = Σᵣ^½ Σₛ^-½`` (symmetric square roots), the
    "linear" colour matching of Gatys et al. 2017. Result clamped to [0, 1].

    Examples:
        >>> import torch
        >>> a, b = torch.rand(1, 3, 16, 16), 0.5 * torch.rand(1, 3, 16, 16)
        >>> out = match_color(a, b)
        >>> torch.allclose(out.mean((2, 3)), b.mean((2, 3)), atol=0.05)
        True
    """
    _check_rgb(source, "source")
    _check_rgb(reference, "reference")
    xs = source[0].flatten(1).double()
    xr = reference[0].flatten(1).double()
    ms, mr = xs.mean(1, keepdim=True), xr.mean(1, keepdim=True)
    eye = torch.eye(3, dtype=torch.float64, device=xs.device)
    cs = torch.cov(xs) + eps * eye
    cr = torch.cov(xr) + eps * eye

    def sqrtm(m: torch.Tensor, power: float) -> torch.Tensor:
        vals, vecs = torch.linalg.eigh(m)
        return vecs @ torch.diag(vals.clamp_min(eps).pow(power)) @ vecs.T

    a = sqrtm(cr, 0.5) @ sqrtm(cs, -0.5)
    out = a @ (xs - ms) + mr
    return out.to(source.dtype).view_as(source[0])[None].clamp(0, 1)
