"""Sample photos, textures and paintings, all available offline.

Photos and textures are read from installed packages (scikit-image, matplotlib,
scikit-learn); the two public-domain paintings ship inside this folder (see PROVENANCE.md).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import torch

from attribkit.data.imagenet import IMAGENET_SOURCES, imagenet_photos
from attribkit.data.sets import SPLITS, ImageSet, PaintingSet, painting_set, photo_set
from attribkit.io import load_image

__all__ = [
    "SAMPLE_IMAGES",
    "TEXTURES",
    "PAINTINGS",
    "sample_image",
    "sample_names",
    "painting_path",
    "photo_set",
    "painting_set",
    "imagenet_photos",
    "ImageSet",
    "PaintingSet",
    "SPLITS",
    "IMAGENET_SOURCES",
]

_HERE = Path(__file__).resolve().parent


def _skimage(name: str) -> Callable[[], np.ndarray]:
    def load() -> np.ndarray:
        import skimage.data

        return np.asarray(getattr(skimage.data, name)())

    return load


def _grace_hopper() -> np.ndarray:
    import matplotlib
    from PIL import Image

    path = Path(matplotlib.get_data_path()) / "sample_data" / "grace_hopper.jpg"
    return np.asarray(Image.open(path).convert("RGB"))


def _sklearn(index: int) -> Callable[[], np.ndarray]:
    def load() -> np.ndarray:
        from sklearn.datasets import load_sample_images

        return np.asarray(load_sample_images().images[index])

    return load


def _painting(name: str) -> Callable[[], np.ndarray]:
    def load() -> np.ndarray:
        from PIL import Image

        return np.asarray(Image.open(_HERE / f"{name}.jpg").convert("RGB"))

    return load


#: Photos, by name, with the ImageNet class they show best (``None`` where there is none).
SAMPLE_IMAGES: dict[str, Callable[[], np.ndarray]] = {
    "astronaut": _skimage("astronaut"),
    "chelsea": _skimage("chelsea"),
    "coffee": _skimage("coffee"),
    "rocket": _skimage("rocket"),
    "grace_hopper": _grace_hopper,
    "china": _sklearn(0),
    "flower": _sklearn(1),
}
#: Grayscale textures from scikit-image.
TEXTURES: dict[str, Callable[[], np.ndarray]] = {
    "brick": _skimage("brick"),
    "grass": _skimage("grass"),
    "gravel": _skimage("gravel"),
}
#: Public-domain paintings shipped with the package.
PAINTINGS: dict[str, Callable[[], np.ndarray]] = {
    "starry_night": _painting("starry_night"),
    "scream": _painting("scream"),
}
_ALL = {**SAMPLE_IMAGES, **TEXTURES, **PAINTINGS}


def sample_names(kind: str = "all") -> list[str]:
    """Names of the bundled images.

    Args:
        kind: ``photos``, ``textures``, ``paintings`` or ``all``.
    """
    groups = {"photos": SAMPLE_IMAGES, "textures": TEXTURES, "paintings": PAINTINGS, "all": _ALL}
    if kind not in groups:
        raise ValueError(f"kind must be one of {sorted(groups)}, got {kind!r}")
    return list(groups[kind])


def sample_image(
    name: str,
    size: int | tuple[int, int] | None = None,
    crop: int | tuple[int, int] | None = None,
    *,
    device: torch.device | str | None = None,
) -> torch.Tensor:
    """Load a bundled image by name as a ``1×3×H×W`` tensor in [0, 1].

    Args:
        name: one of :func:`sample_names` (``chelsea``, ``brick``, ``starry_night``, …).
        size: resize as in :func:`attribkit.load_image`; an ``int`` with no ``crop`` also
            center-crops to a square of that size, the usual classifier input.
        crop: center crop, as in :func:`attribkit.load_image`.
        device: where to put the tensor.

    Examples:
        >>> sample_image("chelsea", size=224).shape
        torch.Size([1, 3, 224, 224])
    """
    if name not in _ALL:
        import difflib

        close = difflib.get_close_matches(name, list(_ALL), n=3)
        hint = f"; did you mean {', '.join(close)}?" if close else ""
        raise ValueError(f"no sample image called {name!r}{hint} (see sample_names())")
    if isinstance(size, int) and crop is None:
        crop = size
    return load_image(_ALL[name](), size=size, crop=crop, device=device)


def painting_path(name: str) -> Path:
    """Path of a bundled painting file (``starry_night`` or ``scream``)."""
    if name not in PAINTINGS:
        raise ValueError(f"no painting called {name!r}; choose from {sorted(PAINTINGS)}")
    return _HERE / f"{name}.jpg"
