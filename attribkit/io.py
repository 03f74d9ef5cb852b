"""Reading and writing images: everything at the API boundary is a float tensor in [0, 1].

Sources are read at their full precision: 8-bit files and ``uint8`` arrays take PIL's 8-bit
path, 16-bit files, float TIFFs, ``uint16`` and float arrays and tensors a float path, so a
16-bit ramp keeps its 65,536 levels and a float image its values. Layouts are never guessed:
tensors are channels-first (``[1×]C×H×W``), arrays channels-last (``H×W[×C]``), and
``channels_first=`` says otherwise. Files are written atomically: a bad input or an error
while encoding leaves no partial file behind.
"""

from __future__ import annotations

import math
import os
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from numbers import Integral
from pathlib import Path
from typing import Any

import numpy as np
import torch
from PIL import Image, ImageOps, UnidentifiedImageError

from attribkit._checks import unit_range_tolerance

__all__ = [
    "load_image",
    "save_image",
    "to_pil",
    "to_numpy",
    "atomic_path",
    "ImageLike",
    "MAX_PIXELS",
]

#: Largest image (in pixels) that :func:`load_image` decodes by default: PIL's own limit.
MAX_PIXELS = 89_478_485

ImageLike = str | Path | Image.Image | np.ndarray | torch.Tensor
#: A decoded image: an 8-bit RGB PIL image, or an ``H×W×3`` float array in [0, 1].
_Decoded = Image.Image | np.ndarray

_HIGH_PRECISION_MODES = ("I;16", "I;16L", "I;16B", "I;16N", "I", "F")
_TIFF_SUFFIXES = (".tif", ".tiff")


def _check_hw(value: object, name: str) -> tuple[int, int] | int | None:
    """``None``, a positive int, or a ``(height, width)`` pair of positive ints."""
    if value is None:
        return None
    if isinstance(value, Integral) and not isinstance(value, bool):
        if int(value) <= 0:
            raise ValueError(f"{name} must be positive, got {value}; give a size in pixels")
        return int(value)
    if (
        isinstance(value, (tuple, list))
        and len(value) == 2
        and all(isinstance(s, Integral) and not isinstance(s, bool) for s in value)
    ):
        if min(int(s) for s in value) <= 0:
            raise ValueError(f"{name} must be positive, got {tuple(value)}; give pixels")
        return int(value[0]), int(value[1])
    raise ValueError(
        f"{name} must be None, a positive int or a (height, width) pair of ints, got {value!r}"
    )


def _float_to_unit(a: np.ndarray, what: str, tolerance: float | None = None) -> np.ndarray:
    """Check a float array holds finite values in [0, 1] and clamp it.

    An overshoot by rounding, up to ``tolerance`` (default: :func:`unit_range_tolerance` of the
    array's dtype), is clamped; anything further is an error, never a silent clip.
    """
    tol = unit_range_tolerance(a.dtype) if tolerance is None else tolerance
    if a.size and not np.isfinite(a).all():
        n_bad = int((~np.isfinite(a)).sum())
        raise ValueError(f"{what} contains {n_bad} NaN or infinite value(s); clean it first")
    if a.size:
        lo, hi = a.min(), a.max()  # in the array's dtype: printed with the digits it holds
        if float(lo) < -tol or float(hi) > 1 + tol:
            raise ValueError(
                f"{what} must hold values in [0, 1], got [{lo!s}, {hi!s}]; rescale it (for 8-bit "
                "values divide by 255, for 16-bit by 65535), or clamp it with x.clamp(0, 1) "
                "if the excess is an overshoot of resizing"
            )
    a = a.astype(np.float64, copy=False)
    return np.clip(a, 0.0, 1.0)


def _composite_float(a: np.ndarray) -> np.ndarray:
    """``H×W[×C]`` float in [0, 1] to ``H×W×3``, alpha composited on white."""
    if a.ndim == 2:
        a = a[..., None]
    if a.shape[-1] == 4:
        alpha = a[..., 3:]
        a = a[..., :3] * alpha + (1.0 - alpha)
    if a.shape[-1] == 1:
        a = np.repeat(a, 3, axis=-1)
    return a


def _from_array(
    a: np.ndarray, channels_first: bool, tolerance: float | None = None
) -> _Decoded:
    kind = "an image tensor" if channels_first else "an image array"
    if a.dtype.kind not in "biuf":
        raise TypeError(
            f"{kind} must hold bool, integer or float values, got dtype {a.dtype}; "
            "convert it to uint8 (0..255) or float (0..1) first"
        )
    if a.ndim == 4 and a.shape[0] == 1:
        a = a[0]
    if a.ndim == 4:
        raise ValueError(
            f"load_image takes one image, got a batch of {a.shape[0]}; index it first"
        )
    if a.ndim == 3 and channels_first:
        if a.shape[0] not in (1, 3, 4):
            hint = " (it looks channels-last: pass channels_first=False)" if a.shape[-1] in (
                1, 3, 4) else ""
            raise ValueError(
                f"{kind} is read channels-first, C×H×W with C = 1, 3 or 4; got shape "
                f"{tuple(a.shape)}{hint}"
            )
        a = np.moveaxis(a, 0, -1)
    elif a.ndim == 3 and a.shape[-1] not in (1, 3, 4):
        hint = " (it looks channels-first: pass channels_first=True)" if a.shape[0] in (
            1, 3, 4) else ""
        raise ValueError(
            f"{kind} is read channels-last, H×W×C with C = 1, 3 or 4; got shape "
            f"{tuple(a.shape)}{hint}"
        )
    if a.ndim not in (2, 3):
        raise ValueError(
            f"cannot read {a.ndim}-D data of shape {tuple(a.shape)} as an image; give H×W, "
            "H×W×C (arrays) or C×H×W (tensors)"
        )
    if 0 in a.shape:
        raise ValueError(f"the image is empty (shape {tuple(a.shape)})")
    if a.dtype == bool:
        a = a.astype(np.uint8) * 255
    if a.dtype.kind == "f":
        return _composite_float(_float_to_unit(a, kind, tolerance))
    if a.dtype == np.uint16:
        return _composite_float(a.astype(np.float64) / 65535.0)
    if a.dtype != np.uint8:
        lo, hi = int(a.min()), int(a.max())
        if lo < 0 or hi > 255:
            raise ValueError(
                f"{kind} of dtype {a.dtype} is read as 8-bit and must hold 0..255, got "
                f"{lo}..{hi}; pass uint16 for 16-bit data or floats in [0, 1]"
            )
        a = a.astype(np.uint8)
    return _from_pil(Image.fromarray(a[..., 0] if a.ndim == 3 and a.shape[-1] == 1 else a))


def _from_pil(img: Image.Image) -> _Decoded:
    """Orient, then either keep full precision (16-bit, float) or make 8-bit RGB."""
    img = ImageOps.exif_transpose(img) or img
    if img.mode in _HIGH_PRECISION_MODES:
        a = np.asarray(img)
        if img.mode == "F":
            return _composite_float(_float_to_unit(a, "a float image"))
        lo, hi = int(a.min()), int(a.max())
        if lo < 0 or hi > 65535:
            raise ValueError(
                f"a 32-bit integer image is read as 16-bit and must hold 0..65535, got "
                f"{lo}..{hi}; convert it to 16-bit or to floats in [0, 1]"
            )
        return _composite_float(a.astype(np.float64) / 65535.0)
    if img.mode in ("RGBA", "LA", "PA", "La", "RGBa") or (
        img.mode == "P" and "transparency" in img.info
    ):
        rgba = img.convert("RGBA")
        background = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        img = Image.alpha_composite(background, rgba)
    return img.convert("RGB")


def _read_tiff(path: Path, max_pixels: int) -> np.ndarray:
    """Multi-channel float or 16-bit TIFFs that PIL cannot open, through tifffile."""
    try:
        import tifffile

        with tifffile.TiffFile(path) as tif:
            shape = tif.series[0].shape
            if math.prod(shape[:2]) > max_pixels:
                raise ValueError(
                    f"{path} is {shape[1]}×{shape[0]} pixels, more than the limit of "
                    f"{max_pixels:,}; raise max_pixels if you trust the file"
                )
            return np.asarray(tif.asarray())
    except ValueError:
        raise
    except Exception as err:  # tifffile raises several types for unreadable files
        raise ValueError(f"cannot read {path} as an image: {err}") from err


def _open(source: ImageLike, max_pixels: int, channels_first: bool | None) -> _Decoded:
    if isinstance(source, Image.Image):
        img = source
    elif isinstance(source, np.ndarray):
        return _from_array(source, bool(channels_first))
    elif isinstance(source, torch.Tensor):
        t = source.detach().cpu()
        if t.is_complex():
            raise TypeError(f"an image tensor must be real, got dtype {t.dtype}")
        tol = unit_range_tolerance(t.dtype) if t.is_floating_point() else None
        if t.is_floating_point() and t.dtype != torch.float64:
            t = t.float()
        return _from_array(t.numpy(), channels_first is not False, tol)
    elif isinstance(source, (str, os.PathLike)):
        path = Path(source)
        if not path.is_file():
            raise FileNotFoundError(f"no image file at {path}")
        try:
            img = Image.open(path)
        except Image.DecompressionBombError as err:
            raise ValueError(f"{path} is too large to decode safely: {err}") from err
        except UnidentifiedImageError as err:
            if path.suffix.lower() in _TIFF_SUFFIXES:
                return _from_array(_read_tiff(path, max_pixels), False)
            raise ValueError(f"cannot read {path} as an image: {err}") from err
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
        return _from_pil(img)
    except (OSError, SyntaxError) as err:
        raise ValueError(f"cannot decode the image: {err}") from err


def _hw(img: _Decoded) -> tuple[int, int]:
    return (img.height, img.width) if isinstance(img, Image.Image) else img.shape[:2]


def _resize(img: _Decoded, size: int | tuple[int, int] | None) -> _Decoded:
    if size is None:
        return img
    h, w = _hw(img)
    if isinstance(size, int):
        scale = size / min(w, h)
        new = (max(1, round(w * scale)), max(1, round(h * scale)))
    else:
        new = (size[1], size[0])
    if isinstance(img, Image.Image):
        return img.resize(new, Image.Resampling.BICUBIC)
    # float path: PIL's bicubic filter on each 32-bit float channel, as on the 8-bit path
    channels = [
        np.asarray(Image.fromarray(img[..., c].astype(np.float32), mode="F").resize(
            new, Image.Resampling.BICUBIC))
        for c in range(img.shape[-1])
    ]
    return np.clip(np.stack(channels, axis=-1), 0.0, 1.0)


def _center_crop(img: _Decoded, crop: int | tuple[int, int] | None) -> _Decoded:
    if crop is None:
        return img
    ch, cw = (crop, crop) if isinstance(crop, int) else crop
    h, w = _hw(img)
    if ch > h or cw > w:
        raise ValueError(f"crop {ch}×{cw} is larger than the image {h}×{w}; crop less")
    left, top = (w - cw) // 2, (h - ch) // 2
    if isinstance(img, Image.Image):
        return img.crop((left, top, left + cw, top + ch))
    return img[top : top + ch, left : left + cw]


def load_image(
    source: ImageLike,
    size: int | tuple[int, int] | None = None,
    crop: int | tuple[int, int] | None = None,
    *,
    channels_first: bool | None = None,
    device: torch.device | str | None = None,
    dtype: torch.dtype = torch.float32,
    max_pixels: int = MAX_PIXELS,
) -> torch.Tensor:
    """Read an image into a ``1×3×H×W`` float tensor in [0, 1].

    EXIF orientation is applied; grayscale, palette and RGBA images become RGB (transparent
    pixels composited on white). 16-bit images are scaled by 65535, float images must hold
    values in [0, 1] (a rounding overshoot up to 1e-5, or two ulps of a half-precision dtype,
    is clamped).

    Args:
        source: a file path; a PIL image; an ``H×W[×C]`` array (C = 1, 3 or 4; bool, uint8,
            uint16, or float in [0, 1]); or a ``[1×]C×H×W`` tensor of the same dtypes.
        size: ``int`` resizes the shorter side to it, keeping the aspect ratio;
            ``(height, width)`` resizes exactly; ``None`` keeps the size.
        crop: center crop after resizing, ``int`` for a square or ``(height, width)``.
        channels_first: the layout of an array or tensor. ``None`` (default): tensors are
            channels-first (``C×H×W``), arrays channels-last (``H×W×C``); ``True`` or ``False``
            says so for either. The layout is never guessed from the shape.
        device: where to put the tensor.
        dtype: floating-point dtype of the result.
        max_pixels: refuse larger images (decompression bombs).

    Returns:
        A ``1×3×H×W`` tensor in [0, 1].

    Raises:
        FileNotFoundError: the path does not exist.
        TypeError: the source, its dtype or ``dtype`` is of the wrong type.
        ValueError: the file is not a readable image or is larger than ``max_pixels``; the
            data has the wrong layout or values outside its range; ``size``/``crop`` are not
            positive.

    Examples:
        >>> import numpy as np, torch
        >>> load_image(np.zeros((10, 20), dtype=np.uint8), size=5).shape
        torch.Size([1, 3, 5, 10])
        >>> load_image(torch.rand(1, 3, 5, 4)).shape        # tensors are channels-first
        torch.Size([1, 3, 5, 4])
        >>> ramp = np.linspace(0, 65535, 64).astype(np.uint16).reshape(8, 8)
        >>> round(float(load_image(ramp).mean()), 3)        # 16-bit, scaled by 65535
        0.5
    """
    if not isinstance(dtype, torch.dtype) or not dtype.is_floating_point:
        raise TypeError(f"dtype must be a floating-point torch dtype, got {dtype}")
    if channels_first is not None and not isinstance(channels_first, bool):
        raise TypeError(f"channels_first must be None, True or False, got {channels_first!r}")
    if isinstance(max_pixels, bool) or not isinstance(max_pixels, Integral) or max_pixels <= 0:
        raise ValueError(f"max_pixels must be a positive int, got {max_pixels!r}")
    size_ = _check_hw(size, "size")
    crop_ = _check_hw(crop, "crop")
    img = _center_crop(_resize(_open(source, int(max_pixels), channels_first), size_), crop_)
    if isinstance(img, Image.Image):
        arr = np.asarray(img, dtype=np.uint8).copy()
        t = torch.from_numpy(arr).permute(2, 0, 1).unsqueeze(0)
        return t.to(device=device, dtype=dtype).div_(255.0)
    t = torch.from_numpy(np.ascontiguousarray(img)).permute(2, 0, 1).unsqueeze(0)
    return t.to(device=device, dtype=dtype).contiguous()


def to_numpy(image: torch.Tensor) -> np.ndarray:
    """Turn a ``[1×]C×H×W`` image tensor into an ``H×W×C`` (or ``H×W``) uint8 array.

    Float tensors must hold values in [0, 1] (a rounding overshoot up to 1e-5, or two ulps of
    a half-precision dtype, is clamped); ``uint8`` tensors are taken as 0..255 and bool tensors
    as black and white. ``C`` is 1, 3 or 4; a ``2-D`` tensor is grayscale.

    Raises:
        TypeError: not a tensor, or a dtype that is not float, uint8 or bool.
        ValueError: the wrong shape, a batch of several, NaN or infinity, or values far
            outside [0, 1].

    Examples:
        >>> import torch
        >>> to_numpy(torch.ones(1, 3, 2, 4)).shape
        (2, 4, 3)
        >>> int(to_numpy(torch.full((2, 2), 1.0000001)).max())    # rounding overshoot
        255
    """
    if not isinstance(image, torch.Tensor):
        hint = " (it is already an array)" if isinstance(image, np.ndarray) else ""
        raise TypeError(
            f"expected an image tensor C×H×W, got {type(image).__name__}{hint}; "
            "read pictures with attribkit.load_image"
        )
    t = image.detach().cpu()
    if t.ndim == 4:
        if t.shape[0] != 1:
            raise ValueError(
                f"expected one image, got a batch of {t.shape[0]}; index it first or tile it "
                "with attribkit.make_grid"
            )
        t = t[0]
    if t.ndim == 2:
        t = t.unsqueeze(0)
    if t.ndim != 3 or t.shape[0] not in (1, 3, 4):
        raise ValueError(
            f"expected a C×H×W image with 1, 3 or 4 channels (channels first), got "
            f"{tuple(image.shape)}"
        )
    if 0 in t.shape:
        raise ValueError(f"the image is empty (shape {tuple(image.shape)})")
    if t.dtype == torch.bool:
        arr = t.to(torch.uint8).mul_(255)
    elif t.dtype == torch.uint8:
        arr = t
    elif t.is_floating_point():
        exact = t if t.dtype in (torch.float32, torch.float64) else t.float()  # exact copy
        a = _float_to_unit(exact.numpy(), "the image", unit_range_tolerance(t.dtype))
        arr = torch.from_numpy(np.round(a * 255.0).astype(np.uint8))
    else:
        raise TypeError(
            f"an image tensor must be floating point in [0, 1], uint8 or bool, got {t.dtype}; "
            "for 8-bit values use t.to(torch.uint8) or t.float() / 255"
        )
    out = arr.permute(1, 2, 0).contiguous().numpy()
    return out[..., 0] if out.shape[-1] == 1 else out


def to_pil(image: torch.Tensor | Image.Image) -> Image.Image:
    """Turn a ``[1×]C×H×W`` image tensor into a PIL image (a PIL image is returned as is).

    The values are checked as in :func:`to_numpy`: no silent clipping of a wrong range.

    Examples:
        >>> import torch
        >>> to_pil(torch.zeros(3, 4, 5)).size
        (5, 4)
    """
    if isinstance(image, Image.Image):
        return image
    return Image.fromarray(to_numpy(image))


@contextmanager
def atomic_path(path: str | os.PathLike[str]) -> Iterator[Path]:
    """Yield a temporary path next to ``path``; rename it to ``path`` only on success.

    The parent folders are created. On an exception (or Ctrl-C, or if the process dies) the
    final name is never created or replaced, and the temporary file is removed when Python
    still can. The temporary name keeps the suffix, so format detection by suffix works.

    Examples:
        >>> import tempfile, pathlib
        >>> d = pathlib.Path(tempfile.mkdtemp())
        >>> with atomic_path(d / "r.txt") as tmp:
        ...     _ = tmp.write_text("done")
        >>> (d / "r.txt").read_text()
        'done'
    """
    p = Path(path)
    p.parent.mkdir(parents=True, exist_ok=True)
    tmp = p.with_name(f".{p.stem}.tmp-{os.getpid()}-{secrets.token_hex(4)}{p.suffix}")
    try:
        yield tmp
        if not tmp.exists():
            raise FileNotFoundError(f"nothing was written to the temporary file {tmp}")
        os.replace(tmp, p)
    finally:
        if tmp.exists():
            tmp.unlink()


def _format_for(path: Path, kwargs: dict[str, Any]) -> str:
    Image.init()
    fmt = kwargs.pop("format", None)
    if fmt is not None:
        if not isinstance(fmt, str) or fmt.upper() not in Image.SAVE:
            raise ValueError(f"unknown image format {fmt!r}; use e.g. 'PNG' or 'JPEG'")
        return fmt.upper()
    fmt = Image.registered_extensions().get(path.suffix.lower())
    if fmt is None or fmt not in Image.SAVE:
        raise ValueError(
            f"cannot tell which image format to write from the name {path.name!r}; "
            "end it with .png (lossless) or .jpg, or pass format='PNG'"
        )
    return fmt


def save_image(image: torch.Tensor | Image.Image, path: str | Path, **kwargs: Any) -> Path:
    """Save a ``[1×]C×H×W`` tensor in [0, 1] (or a PIL image) to ``path``, atomically.

    The image is checked and encoded before the file appears: bad input (wrong shape or dtype,
    NaN, values outside [0, 1]) or an encoding error raises and leaves no file, not even a
    partial one, and an existing file at ``path`` is kept. Parent folders are created. The
    format follows the suffix (PNG recommended) or ``format=``; other keywords go to
    ``PIL.Image.save``.

    Returns:
        The path written.

    Examples:
        >>> import tempfile, torch, pathlib
        >>> p = save_image(torch.rand(3, 8, 8), pathlib.Path(tempfile.mkdtemp()) / "x.png")
        >>> p.exists()
        True
    """
    if not isinstance(path, (str, os.PathLike)):
        raise TypeError(f"path must be a str or a Path, got {type(path).__name__}")
    if not isinstance(image, (torch.Tensor, Image.Image)):
        raise TypeError(
            f"save_image takes an image tensor C×H×W or a PIL image, got {type(image).__name__}"
        )
    path = Path(path)
    if path.is_dir():
        raise ValueError(f"{path} is a folder; give a file name such as {path / 'image.png'}")
    fmt = _format_for(path, kwargs)
    pil = to_pil(image)
    if fmt == "JPEG" and pil.mode in ("RGBA", "LA", "P"):
        raise ValueError(
            f"JPEG cannot store a {pil.mode} image (it has no alpha channel); save it as .png "
            "or pass a 3-channel image"
        )
    try:
        with atomic_path(path) as tmp:
            pil.save(tmp, format=fmt, **kwargs)
    except (OSError, ValueError, KeyError) as err:
        if isinstance(err, (FileNotFoundError, PermissionError, IsADirectoryError)):
            raise
        raise ValueError(f"cannot write {path} as {fmt}: {err}") from err
    return path
