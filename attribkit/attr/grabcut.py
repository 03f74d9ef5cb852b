"""Saliency-seeded GrabCut segmentation (the lecture's "segmentation without supervision")."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import torch

from attribkit._checks import check_image_batch, check_positive_int
from attribkit.io import to_numpy

__all__ = ["saliency_grabcut"]


def saliency_grabcut(
    image: torch.Tensor,
    saliency: torch.Tensor | np.ndarray,
    fg_quantile: float = 0.95,
    bg_quantile: float = 0.30,
    iterations: int = 5,
) -> torch.Tensor:
    """Foreground mask from OpenCV's GrabCut, seeded by a saliency map.

    Pixels above the ``fg_quantile`` of the (smoothed) saliency are taken as sure foreground,
    those below ``bg_quantile`` as probable background, and the rest as probable foreground;
    a thin frame at the border is sure background. GrabCut then fits colour models and cuts.

    GrabCut draws from OpenCV's global random generator; it is reseeded here
    (``cv2.setRNGSeed(0)``) so that the same inputs give the same mask. OpenCV offers no way to
    read its generator's state, so it cannot be put back: code that relies on OpenCV's own
    random stream should reseed it after this call. The torch, NumPy and ``random`` generators
    are not touched.

    Args:
        image: ``1×3×H×W`` image in [0, 1].
        saliency: ``1×1×H×W``, ``1×H×W`` or ``H×W`` saliency for that image, a tensor or a
            NumPy array.
        fg_quantile: saliency quantile above which pixels are sure foreground.
        bg_quantile: saliency quantile below which pixels are probable background.
        iterations: GrabCut iterations (a positive int).

    Returns:
        An ``H×W`` bool tensor on the image's device, ``True`` for foreground.

    Examples:
        >>> import torch
        >>> img = torch.zeros(1, 3, 32, 32); img[..., 8:24, 8:24] = 1
        >>> sal = torch.zeros(32, 32); sal[10:22, 10:22] = 1
        >>> mask = saliency_grabcut(img, sal)
        >>> bool(mask[16, 16]), bool(mask[1, 1])
        (True, False)
    """
    import cv2

    check_image_batch(image, "image", channels=3, unit_range=True)
    if image.shape[0] != 1:
        raise ValueError("saliency_grabcut segments one image; index the batch first")
    if isinstance(saliency, np.ndarray):
        if not np.issubdtype(saliency.dtype, np.number) or np.iscomplexobj(saliency):
            raise TypeError(f"saliency must hold real numbers, got a {saliency.dtype} array")
        saliency = torch.from_numpy(np.asarray(saliency, dtype=np.float32))
    if not isinstance(saliency, torch.Tensor):
        raise TypeError(
            f"saliency must be a tensor or a NumPy array, got {type(saliency).__name__}"
        )
    for name, q in (("fg_quantile", fg_quantile), ("bg_quantile", bg_quantile)):
        if isinstance(q, bool) or not isinstance(q, (int, float)) or not math.isfinite(q):
            raise ValueError(f"{name} must be a finite number in (0, 1), got {q!r}")
    check_positive_int(iterations, "iterations")
    sal = saliency.detach().float().cpu()
    while sal.ndim > 2 and sal.shape[0] == 1:
        sal = sal[0]
    h, w = image.shape[-2:]
    if sal.shape != (h, w):
        raise ValueError(f"saliency must be {h}×{w} like the image, got {tuple(saliency.shape)}")
    if not bool(torch.isfinite(sal).all()):
        raise ValueError("saliency contains NaN or infinite values")
    if not (0.0 < bg_quantile < fg_quantile < 1.0):
        raise ValueError(
            f"need 0 < bg_quantile < fg_quantile < 1, got bg_quantile={bg_quantile}, "
            f"fg_quantile={fg_quantile}"
        )
    smooth = cv2.GaussianBlur(sal.numpy().astype(np.float32), (0, 0), sigmaX=max(1.0, w / 100))
    hi, lo = np.quantile(smooth, fg_quantile), np.quantile(smooth, bg_quantile)
    if hi <= lo:
        raise ValueError("the saliency map is flat: no pixel stands out as foreground")
    mask = np.full((h, w), cv2.GC_PR_FGD, np.uint8)
    mask[smooth <= lo] = cv2.GC_PR_BGD
    mask[smooth >= hi] = cv2.GC_FGD
    border = max(1, min(h, w) // 50)
    mask[:border, :] = mask[-border:, :] = cv2.GC_BGD
    mask[:, :border] = mask[:, -border:] = cv2.GC_BGD
    bgr = np.ascontiguousarray(to_numpy(image)[..., ::-1])
    bgd, fgd = np.zeros((1, 65), np.float64), np.zeros((1, 65), np.float64)
    cv2.setRNGSeed(0)
    grabcut: Any = cv2.grabCut
    grabcut(bgr, mask, None, bgd, fgd, iterations, cv2.GC_INIT_WITH_MASK)
    fg = (mask == cv2.GC_FGD) | (mask == cv2.GC_PR_FGD)
    return torch.from_numpy(fg).to(image.device)
