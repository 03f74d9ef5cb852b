"""Reading and writing images: everything at the API boundary is a float tensor in [0, 1]."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import torch
from PIL import Image, ImageOps

__all__ = ["load_image", "save_image", "to_pil", "to_numpy", "ImageLike", "MAX_PIXELS"]

#: Largest image (in pixels) that :func:`load_image` decodes by default: PIL's own limit.
MAX_PIXELS = 89_478_485

ImageLike = str | Path | Image.Image | np.ndarray | torch.Tensor


def _resize(img: Image.Image, size: int | tuple[int, int] | None) -> Image.Image:
    if size is None:
        return img
    if isinstance(size, int) and not isinstance(size, bool):
        if size <= 0:
            raise ValueError(f"size must be positive, got {size}")
        w, h = img.size
        scale = size / min(w, h)
        new = (max(1, round(w * scale)), max(1, round(h * scale)))
        return img.resize(new, Image.Resampling.BICUBIC)
    if (
        isinstance(size, (tuple, list))
        and len(size) == 2
        and all(isinstance(s, int) and s > 0 for s in size)
    ):
        h, w = size
        return img.resize((w, h), Image.Resampling.BICUBIC)
    raise ValueError(f"size must be None, a positive int or (height, width), got {size!r}")


def _center_crop(img: Image.Image, crop: int | tuple[int, int] | None) -> Image.Image:
    if crop is None:
        return img
    ch, cw = (crop, crop) if isinstance(crop, int) else crop
    w, h = img.size
    if ch > h or cw > w:
        raise ValueError(f"crop {ch}×{cw} is larger than the image {h}×{w}")
    left, top = (w - cw) // 2, (h - ch) // 2
    return img.crop((left, top, left + cw, top + ch))


def _array_to_pil(arr: np.ndarray) -> Image.Image:
    a = np.asarray(arr)
    if a.ndim == 3 and a.shape[0] in (1, 3, 4) and a.shape[-1] not in (1, 3, 4):
        a = np.moveaxis(a, 0, -1)
    if a.ndim == 3 and a.shape[-1] == 1:
        a = a[..., 0]
    if a.ndim not in (2, 3) or (a.ndim == 3 and a.shape[-1] not in (3, 4)):
        raise ValueError(f"cannot read an array of shape {a.shape} as an image (H×W or H×W×3)")
    if a.dtype == bool:
        a = a.astype(np.uint8) * 255
    elif np.issubdtype(a.dtype, np.floating):
        if not np.isfinite(a).all():
            raise ValueError("the image array contains NaN or infinite values")
        if a.min() < 0 or a.max() > 1:
            raise ValueError(
                f"a float image array must be in [0, 1], got [{a.min():.3g}, {a.max():.3g}]"
            )
        a = np.round(a * 255).astype(np.uint8)
    elif a.dtype != np.uint8:
        if a.min() < 0 or a.max() > 255:
            raise ValueError(f"an integer image array must be in 0..255, got dtype {a.dtype}")
        a = a.astype(np.uint8)
    return Image.fromarray(a)


def _open(source: ImageLike, max_pixels: int) -> Image.Image:
    if isinstance(source, Image.Image):
        img = source
    elif isinstance(source, np.ndarray):
        img = _array_to_pil(source)
    elif isinstance(source, torch.Tensor):
        t = source.detach().cpu()
        if t.ndim == 4:
            if t.shape[0] != 1:
                raise ValueError("load_image takes one image; got a batch of several")
            t = t[0]
        img = _array_to_pil(t.numpy())
    elif isinstance(source, (str, Path)):
        path = Path(source)
        if not path.is_file():
            raise FileNotFoundError(f"no image file at {path}")
        try:
            img = Image.open(path)
        except Image.DecompressionBombError as err:
            raise ValueError(f"{path} is too large to decode safely: {err}") from err
        except Exception as err:  # PIL raises several types for unreadable files
            raise ValueError(f"cannot read {path} as an image: {err}") from err
    else:
        raise TypeError(
            f"cannot load an image from {type(source).__name__}; "
            "give a path, a PIL image, a numpy array or a tensor"
        )
    w, h = img.size
    if w * h > max_pixels:
        raise ValueError(
            f"image is {w}×{h} = {w * h:,} pixels, more than the limit of {max_pixels:,}; "
            "it may be a decompression bomb. Raise max_pixels if you trust the file."
        )
    try:
        img = ImageOps.exif_transpose(img) or img
        if img.mode in ("RGBA", "LA") or (img.mode == "P" and "transparency" in img.info):
            rgba = img.convert("RGBA")
            background = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
            img = Image.alpha_composite(background, rgba)
        img = img.convert("RGB")
    except (OSError, SyntaxError) as err:
        raise ValueError(f"cannot decode the image: {err}") from err
    return img


def load_image(
    source: ImageLike,
    size: int | tuple[int, int] | None = None,
    crop: int | tuple[int, int] | None = None,
    *,
    device: torch.device | str | None = None,
    dtype: torch.dtype = torch.float32,
    max_pixels: int = MAX_PIXELS,
) -> torch.Tensor:
    """Read an image into a ``1×3×H×W`` float tensor in [0, 1].

    EXIF orientation is applied; grayscale, palette and RGBA images become RGB (transparent
    pixels composited on white).

    Args:
        source: a file path, a PIL image, an ``H×W[×C]`` array (uint8, or float in [0, 1]),
            or a ``[1×]C×H×W`` tensor.
        size: ``int`` resizes the shorter side to it, keeping the aspect ratio;
            ``(height, width)`` resizes exactly; ``None`` keeps the size.
        crop: center crop after resizing, ``int`` for a square or ``(height, width)``.
        device: where to put the tensor.
        dtype: floating-point dtype of the result.
        max_pixels: refuse larger images (decompression bombs).

    Returns:
        A ``1×3×H×W`` tensor in [0, 1].

    Raises:
        FileNotFoundError: the path does not exist.
        ValueError: the file is not a readable image, or is larger than ``max_pixels``.

    Examples:
        >>> import numpy as np
        >>> load_image(np.zeros((10, 20), dtype=np.uint8), size=5).shape
        torch.Size([1, 3, 5, 10])
    """
    if not dtype.is_floating_point:
        raise TypeError(f"dtype must be a floating-point dtype, got {dtype}")
    img = _center_crop(_resize(_open(source, max_pixels), size), crop)
    arr = np.asarray(img, dtype=np.uint8).copy()
    t = torch.from_numpy(arr).permute(2, 0, 1).unsqueeze(0)
    return t.to(device=device, dtype=dtype).div_(255.0)


def to_numpy(image: torch.Tensor) -> np.ndarray:
    """Turn a ``[1×]C×H×W`` tensor in [0, 1] into an ``H×W×C`` (or ``H×W``) uint8 array."""
    if not isinstance(image, torch.Tensor):
        raise TypeError(f"expected a tensor, got {type(image).__name__}")
    t = image.detach().float().cpu()
    if t.ndim == 4:
        if t.shape[0] != 1:
            raise ValueError(f"expected one image, got a batch of {t.shape[0]}; index it first")
        t = t[0]
    if t.ndim == 2:
        t = t.unsqueeze(0)
    if t.ndim != 3 or t.shape[0] not in (1, 3, 4):
        raise ValueError(f"expected a C×H×W image with 1, 3 or 4 channels, got {tuple(t.shape)}")
    if not bool(torch.isfinite(t).all()):
        raise ValueError("the image contains NaN or infinite values")
    arr = (t.clamp(0, 1) * 255).round().to(torch.uint8).permute(1, 2, 0).numpy()
    return arr[..., 0] if arr.shape[-1] == 1 else arr


def to_pil(image: torch.Tensor) -> Image.Image:
    """Turn a ``[1×]C×H×W`` tensor in [0, 1] into a PIL image (values outside are clipped).

    Examples:
        >>> import torch
        >>> to_pil(torch.zeros(3, 4, 5)).size
        (5, 4)
    """
    return Image.fromarray(to_numpy(image))


def save_image(image: torch.Tensor | Image.Image, path: str | Path, **kwargs: Any) -> Path:
    """Save a ``[1×]C×H×W`` tensor in [0, 1] (or a PIL image) to ``path``.

    Parent folders are created. The format follows the suffix (PNG recommended).

    Returns:
        The path written.

    Examples:
        >>> import tempfile, torch, pathlib
        >>> p = save_image(torch.rand(3, 8, 8), pathlib.Path(tempfile.mkdtemp()) / "x.png")
        >>> p.exists()
        True
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    pil = image if isinstance(image, Image.Image) else to_pil(image)
    pil.save(path, **kwargs)
    return path
