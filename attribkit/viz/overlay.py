"""Attribution pictures built on ``captum.attr.visualization``, returned as image tensors."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import torch

__all__ = ["figure_to_tensor", "heatmap_overlay", "attribution_figure"]


def figure_to_tensor(fig: Any) -> torch.Tensor:
    """Render a matplotlib figure (off-screen, with Agg) into a ``3×H×W`` tensor in [0, 1]."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    canvas = FigureCanvasAgg(fig)
    canvas.draw()
    rgba = np.asarray(canvas.buffer_rgba())
    return torch.from_numpy(rgba[..., :3].copy()).permute(2, 0, 1).float() / 255.0


def _hwc(t: torch.Tensor) -> np.ndarray:
    x = t.detach().float().cpu()
    if x.ndim == 4:
        if x.shape[0] != 1:
            raise ValueError("pass one image and its attribution, not a batch")
        x = x[0]
    if x.ndim != 3:
        raise ValueError(f"expected C×H×W, got shape {tuple(t.shape)}")
    return x.permute(1, 2, 0).numpy()


def _panel(
    ax: Any,
    image: np.ndarray,
    attr: np.ndarray | None,
    method: str,
    sign: str,
    title: str,
    outlier_perc: float,
    cmap: str | None = None,
    alpha: float = 0.5,
) -> None:
    from captum.attr import visualization as viz

    if attr is None:
        ax.imshow(np.clip(image, 0, 1))
        ax.set_title(title)
        ax.axis("off")
        return
    if attr.shape[-1] not in (1, 3):
        raise ValueError(f"attribution must have 1 or 3 channels, got {attr.shape[-1]}")
    if not np.abs(attr).max() > 0:
        ax.imshow(image)
        ax.set_title(f"{title} (all zero)")
        ax.axis("off")
        return
    viz.visualize_image_attr(
        attr,
        image,
        method,
        sign,
        plt_fig_axis=(ax.figure, ax),
        use_pyplot=False,
        outlier_perc=outlier_perc,
        title=title,
        cmap=cmap,
        alpha_overlay=alpha,
    )


def heatmap_overlay(
    image: torch.Tensor,
    attribution: torch.Tensor,
    method: str = "blended_heat_map",
    sign: str = "absolute_value",
    title: str | None = None,
    outlier_perc: float = 2,
    size: float = 3.0,
    cmap: str | None = None,
    alpha: float = 0.5,
) -> torch.Tensor:
    """Draw one attribution over its image with Captum's ``visualize_image_attr``.

    Args:
        image: ``[1×]3×H×W`` image in [0, 1].
        attribution: ``[1×]C×H×W`` attribution (C = 1 or 3), e.g. from ``attribute``.
        method: Captum's method (``heat_map``, ``blended_heat_map``, ``masked_image``, …).
        sign: Captum's sign (``absolute_value``, ``positive``, ``negative``, ``all``).
        title: optional title.
        outlier_perc: percentage of extreme values clipped, as Captum.
        size: figure size in inches.
        cmap: matplotlib colormap (Captum's default for the sign if ``None``).
        alpha: opacity of the heat map over the image (blended methods).

    Returns:
        The picture as a ``3×h×w`` tensor (save it with :func:`attribkit.save_image`).

    Examples:
        >>> import torch
        >>> heatmap_overlay(torch.rand(3, 8, 8), torch.rand(1, 8, 8)).shape[0]
        3
    """
    from matplotlib.figure import Figure

    fig = Figure(figsize=(size, size), dpi=100)
    fig.add_subplot(1, 1, 1)
    _panel(
        fig.axes[0],
        _hwc(image),
        _hwc(attribution),
        method,
        sign,
        title or "",
        outlier_perc,
        cmap,
        alpha,
    )
    fig.tight_layout()
    return figure_to_tensor(fig)


def attribution_figure(
    image: torch.Tensor,
    attributions: Mapping[str, torch.Tensor],
    title: str | None = None,
    method: str = "blended_heat_map",
    sign: str = "absolute_value",
    outlier_perc: float = 2,
    size: float = 2.6,
    methods: Mapping[str, str] | None = None,
    signs: Mapping[str, str] | None = None,
    cmap: str | None = None,
    alpha: float = 0.5,
) -> torch.Tensor:
    """The original image and several attributions side by side, one panel each.

    Args:
        image: ``[1×]3×H×W`` image in [0, 1].
        attributions: panel title → ``[1×]C×H×W`` attribution.
        title: figure title (e.g. the predicted class).
        method: Captum's visualization method for every panel.
        sign: Captum's sign for every panel.
        outlier_perc: as Captum.
        size: inches per panel.
        methods: per-panel overrides of ``method``, by panel title.
        signs: per-panel overrides of ``sign``, by panel title.
        cmap: matplotlib colormap for every heat map (Captum's default if ``None``).
        alpha: opacity of blended heat maps.

    Returns:
        A ``3×h×w`` tensor.

    Examples:
        >>> import torch
        >>> fig = attribution_figure(torch.rand(3, 8, 8), {"a": torch.rand(1, 8, 8)})
        >>> fig.shape[0]
        3
    """
    from matplotlib.figure import Figure

    n = len(attributions) + 1
    fig = Figure(figsize=(size * n, size + (0.35 if title else 0)), dpi=100)
    axes = [fig.add_subplot(1, n, i + 1) for i in range(n)]
    img = _hwc(image)
    _panel(axes[0], img, None, method, sign, "input", outlier_perc)
    methods, signs = dict(methods or {}), dict(signs or {})
    for ax, (name, attr) in zip(axes[1:], attributions.items()):
        _panel(
            ax,
            img,
            _hwc(attr),
            methods.get(name, method),
            signs.get(name, sign),
            name,
            outlier_perc,
            cmap,
            alpha,
        )
    if title:
        fig.suptitle(title)
        fig.tight_layout(rect=(0, 0, 1, 0.93))
    else:
        fig.tight_layout()
    return figure_to_tensor(fig)
