"""Evaluating style networks: held-out style losses, sample pictures, and a model's styles.

:func:`evaluate_style` scores a trained network on held-out photos with the training style
term (:class:`attribkit.style.PerceptualLoss`'s Gram loss), against the unstylized photos;
:func:`sample_grid` draws photos in every style (what training writes to ``samples/``);
:func:`training_styles` rebuilds the style images a saved model was trained on.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from attribkit._checks import check_finite_number, check_image_batch, check_non_negative_int
from attribkit.layers.hooks import LayerRef
from attribkit.style.losses import PerceptualLoss
from attribkit.style.stylize import stylize
from attribkit.style.train_data import StyleSpec
from attribkit.style.train_loss import default_layers
from attribkit.style.transformer import MultiStyleNet, TransformerNet

__all__ = ["evaluate_style", "sample_grid", "sample_images", "training_styles"]


def training_styles(meta: Mapping[str, Any]) -> dict[str, StyleSpec]:
    """The styles a saved model was trained on, rebuilt from its JSON ``training`` record.

    Args:
        meta: a saved model's metadata (see
            :func:`attribkit.style.checkpoint.read_style_metadata`).

    Raises:
        ValueError: the record does not name its style images (e.g. they were tensors), or
            its fields have the wrong types.

    Examples:
        >>> from attribkit.style.checkpoint import read_style_metadata, shipped_model_path
        >>> sorted(training_styles(read_style_metadata(shipped_model_path())))[:2]
        ['aristotle_with_homer', 'circus_sideshow']
    """
    tr = meta.get("training", {}) if isinstance(meta, Mapping) else None
    if not isinstance(tr, Mapping):
        raise ValueError("the model's metadata has no 'training' record")
    names, sources = tr.get("styles"), tr.get("style_sources")
    if not names or not sources or "tensor" in sources:
        raise ValueError("this model's record does not say which style images it learned")
    sizes = tr.get("style_sizes") or [256] * len(names)
    crops = tr.get("style_crops") or [None] * len(names)
    lists = (names, sources, sizes, crops)
    if not all(isinstance(v, list) and len(v) == len(names) for v in lists):
        raise ValueError("the training record's style fields must be lists of equal length")
    if not all(isinstance(n, str) for n in names) or not all(isinstance(s, str) for s in sources):
        raise ValueError("the training record's style names and sources must be strings")
    try:
        return {
            n: StyleSpec(src, size=sz, crop=tuple(c) if c else None)  # type: ignore[arg-type]
            for n, src, sz, c in zip(names, sources, sizes, crops)
        }
    except (TypeError, ValueError) as err:
        raise ValueError(f"the training record's style fields are invalid: {err}") from err


def sample_grid(net: nn.Module, images: Sequence[torch.Tensor] | torch.Tensor) -> torch.Tensor:
    """Each image followed by its stylization in every style of ``net``, one row per image.

    Examples:
        >>> net = MultiStyleNet(2, width=4, n_residual=1)
        >>> sample_grid(net, torch.rand(1, 3, 16, 16)).shape
        torch.Size([3, 20, 56])
    """
    from attribkit.viz import make_grid

    imgs = list(images.split(1)) if isinstance(images, torch.Tensor) else list(images)
    n_styles = int(getattr(net, "n_styles", 1))
    rows = []
    for img in imgs:
        rows.append(img.cpu())
        for s in range(n_styles):
            out = stylize(net, img, s if n_styles > 1 else None)
            assert isinstance(out, torch.Tensor)
            rows.append(out.cpu())
    return make_grid(torch.cat(rows), nrow=n_styles + 1)


def sample_images(photos: Sequence[str], fallback: torch.Tensor, crop: int) -> list[torch.Tensor]:
    """Images for :func:`sample_grid`: up to two bundled photos, else ``fallback`` resized."""
    from attribkit.data import sample_image

    size = max(crop, 128)
    size -= size % 4
    if photos:
        return [sample_image(n, size=size) for n in photos][:2]
    return [F.interpolate(fallback, size=(size, size), mode="bilinear", align_corners=False)]


@torch.no_grad()
def evaluate_style(
    model: MultiStyleNet | TransformerNet,
    images: torch.Tensor,
    styles: Mapping[str, StyleSpec],
    *,
    backbone: nn.Module | None = None,
    style_layers: Sequence[LayerRef] | None = None,
    style_weight: float = 100.0,
    pad: int = 16,
) -> dict[str, torch.Tensor]:
    """Style loss of each image stylized in each style, and of the unstylized image.

    The loss is the training style term (``style_weight × mean over layers of
    ‖G − Gₛ‖² / ‖Gₛ‖²``, :class:`attribkit.style.PerceptualLoss`), so a model that learned
    its styles scores far below the content image itself.

    Args:
        model: the style network (its style ``s`` is evaluated against ``styles``' ``s``-th).
        images: ``N×3×H×W`` content images in [0, 1] (held out from training).
        styles: the style images, in the model's order.
        backbone: loss network (EfficientNet-Lite0 by default; run in eval mode, left as
            found).
        style_layers: style layers (defaults as in :func:`attribkit.style.train_style`).
        style_weight: weight of the style term.
        pad: reflect padding before the backbone.

    Returns:
        ``{"stylized": S×N, "content": S×N}`` style losses.

    Examples:
        >>> bb = nn.Sequential(nn.Conv2d(3, 4, 3, padding=1), nn.ReLU())
        >>> net = MultiStyleNet(2, width=4, n_residual=1)
        >>> styles = {n: StyleSpec(torch.rand(1, 3, 16, 16)) for n in "ab"}
        >>> res = evaluate_style(net, torch.rand(3, 3, 16, 16), styles, backbone=bb,
        ...                      style_layers=["0", "1"], pad=0)
        >>> tuple(res["stylized"].shape)
        (2, 3)
    """
    if not isinstance(model, (MultiStyleNet, TransformerNet)):
        raise TypeError(
            f"model must be a TransformerNet or MultiStyleNet, got {type(model).__name__}"
        )
    check_image_batch(images, "images", channels=3, unit_range=True)
    check_finite_number(style_weight, "style_weight", minimum=0.0)
    check_non_negative_int(pad, "pad")
    if not isinstance(styles, Mapping) or not all(
        isinstance(s, StyleSpec) for s in styles.values()
    ):
        raise TypeError("styles must map names to StyleSpec (see training_styles)")
    n_styles = int(model.n_styles)
    if len(styles) != n_styles:
        raise ValueError(
            f"the model has {n_styles} styles but {len(styles)} style images were given"
        )
    if backbone is None:
        from attribkit.models import efficientnet_lite0

        backbone = efficientnet_lite0().to(images.device)
    _, s_layers = default_layers(backbone, [], style_layers)
    stylized, plain = [], []
    for s, spec in enumerate(styles.values()):
        loss = PerceptualLoss(backbone, [], s_layers, style_weight=style_weight, pad=pad)
        loss.set_style(spec.load().to(images.device))
        out = stylize(model, images, s if n_styles > 1 else None)
        assert isinstance(out, torch.Tensor)
        stylized.append(loss(out).style)
        plain.append(loss(images).style)
    return {"stylized": torch.stack(stylized), "content": torch.stack(plain)}
