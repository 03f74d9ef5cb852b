"""What every recipe gets (:class:`RecipeContext`) and what it gives back (:class:`Pictures`).

A recipe is one technique's lecture settings written once, with a function that runs them and
returns captioned pictures. The demo adds the pictures to its report, the examples save them,
the CLI calls the same per-image functions with its own options.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import torch
from torch import nn

__all__ = ["RecipeContext", "Picture", "Pictures", "pick", "timed"]

_T = TypeVar("_T")


def pick(quick: bool, quick_value: _T, full_value: _T) -> _T:
    """``quick_value`` in quick mode, else ``full_value`` (the one spelling of a quick variant).

    Examples:
        >>> pick(True, 64, 300)
        64
    """
    return quick_value if quick else full_value


@contextmanager
def timed() -> Iterator[list[float]]:
    """``with timed() as t: ...`` then ``t[0]`` holds the seconds taken.

    Examples:
        >>> with timed() as t:
        ...     _ = sum(range(10))
        >>> t[0] >= 0
        True
    """
    out = [0.0]
    start = time.perf_counter()
    try:
        yield out
    finally:
        out[0] = time.perf_counter() - start


@dataclass
class Picture:
    """One captioned picture: ``image`` is ``3×H×W`` (or ``1×3×H×W``) in [0, 1]."""

    name: str
    image: torch.Tensor
    caption: str


@dataclass
class Pictures:
    """What a recipe returns: an introduction, its pictures in order, and notes (figures).

    Examples:
        >>> p = Pictures("intro")
        >>> p.add(torch.zeros(3, 4, 4), "a black square", "black")
        >>> [x.name for x in p.pictures]
        ['black']
    """

    intro: str = ""
    pictures: list[Picture] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def add(self, image: torch.Tensor, caption: str, name: str) -> None:
        """Append a picture."""
        self.pictures.append(Picture(name, image.detach().cpu(), caption))

    def note(self, text: str) -> None:
        """Append a note (measured figures, settings)."""
        self.notes.append(text)

    def save(self, folder: str | Path, *, verbose: bool = True) -> list[Path]:
        """Write every picture to ``folder/<name>.png``; print captions and notes when verbose.

        Returns:
            The paths written, in order.
        """
        from attribkit.io import save_image

        out = Path(folder)
        paths = []
        for pic in self.pictures:
            path = save_image(pic.image, out / f"{pic.name}.png")
            paths.append(path)
            if verbose:
                print(f"wrote {path}: {pic.caption}")
        if verbose:
            for text in self.notes:
                print(text)
        return paths


@dataclass
class RecipeContext:
    """The model and the run's settings, shared by every recipe, with a cache for data.

    Attributes:
        model: the classifier (images in [0, 1]).
        model_name: how captions name it.
        quick: the small settings (minutes on 2 CPU cores) instead of the lecture's.
        seed: seed for every random choice.
        device: where to run.
        show_progress: progress bars (``None``: on a terminal only).
        image_size: the classifier's input size.
        cache: data shared between recipes of one run (photos, the digits CNN, …).
    """

    model: nn.Module
    model_name: str = "EfficientNet-Lite0 (ImageNet)"
    quick: bool = True
    seed: int = 0
    device: torch.device = field(default_factory=lambda: torch.device("cpu"))
    show_progress: bool | None = None
    image_size: int = 224
    cache: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def default(
        cls, *, quick: bool = True, seed: int = 0, show_progress: bool | None = None
    ) -> RecipeContext:
        """The bundled EfficientNet-Lite0 on the CPU (what the examples use).

        Examples:
            >>> RecipeContext.default().model_name
            'EfficientNet-Lite0 (ImageNet)'
        """
        from attribkit.models import efficientnet_lite0

        return cls(efficientnet_lite0(), quick=quick, seed=seed, show_progress=show_progress)

    def photo(self, name: str, size: int | None = None) -> torch.Tensor:
        """A bundled sample image as ``1×3×S×S`` on the run's device (cached per size)."""
        from attribkit.data import sample_image

        s = size or self.image_size
        key = f"photo:{name}@{s}"
        if key not in self.cache:
            self.cache[key] = sample_image(name, size=s, device=self.device)
        out: torch.Tensor = self.cache[key]
        return out

    @property
    def photos(self) -> dict[str, torch.Tensor]:
        """The photos loaded so far, by ``name@size``."""
        return {k[6:]: v for k, v in self.cache.items() if k.startswith("photo:")}

    def progress(self, iterable: Sequence[_T] | range, desc: str) -> Iterable[_T]:
        """Per-recipe progress bar (silent when progress is off)."""
        from attribkit._progress import progress_bar

        bar: Iterable[_T] = progress_bar(
            iterable, desc=f"  {desc}", show_progress=self.show_progress
        )
        return bar

    def cached(self, key: str, make: Any) -> Any:
        """``make()`` once per run, kept under ``key``."""
        if key not in self.cache:
            self.cache[key] = make()
        return self.cache[key]
