"""Demo section 2: nearest neighbours in feature space vs pixel space.

Also holds two helpers the other "looking inside" sections share: the digits CNN trained once
per run (cached on the context) and random crops of the bundled photos.
"""

from __future__ import annotations

import time

import torch
from torch import nn

from attribkit.demo import DemoContext
from attribkit.viz.report import Section

__all__ = ["run", "digits_model", "photo_crops"]


def digits_model(ctx: DemoContext) -> tuple[nn.Module, torch.Tensor, torch.Tensor, float]:
    """The digits CNN (trained once per demo run, kept on ``ctx``), the digits and labels."""
    cached = getattr(ctx, "_looking_inside_digits", None)
    if cached is None:
        from attribkit.models import load_digits_tensors, train_digits_cnn

        # tiny batches: one intra-op thread is ~15× faster than two on a busy 2-core machine
        threads = torch.get_num_threads()
        torch.set_num_threads(1)
        try:
            model, acc = train_digits_cnn(epochs=15, seed=ctx.seed)
        finally:
            torch.set_num_threads(threads)
        x, y = load_digits_tensors()
        cached = (model.to(ctx.device), x.to(ctx.device), y.to(ctx.device), acc)
        ctx._looking_inside_digits = cached  # type: ignore[attr-defined]
    return cached


def photo_crops(
    ctx: DemoContext, per_photo: int, size: int = 128, source: int = 256
) -> tuple[torch.Tensor, torch.Tensor, list[str]]:
    """``per_photo`` random ``size`` px crops of each bundled photo (seeded), with photo ids."""
    from attribkit.data import sample_names
    from attribkit.layers import random_crops

    names = sample_names("photos")
    photos = [ctx.photo(name, source) for name in names]
    crops, ids = random_crops(photos, per_photo, size, seed=ctx.seed)
    return crops, ids, names


def run(ctx: DemoContext, section: Section) -> None:
    from attribkit.embed import FeatureBank, nearest_pixels, neighbor_grid

    section.intro = (
        "Krizhevsky et al. (2012): images whose last-layer features are close are semantically "
        "alike even when their pixels are not. Each query is followed by its nearest "
        "neighbours in feature space (first row) and in pixel space (second row)."
    )
    k = 8
    # -- digits CNN: penultimate features of all 1,797 digits ------------------------------
    t0 = time.perf_counter()
    model, x, y, acc = digits_model(ctx)
    bank = FeatureBank.from_model(
        model, x, "flatten", pool=None, batch_size=256, show_progress=False, labels=y
    )
    queries = torch.tensor([int(torch.nonzero(y == c)[3]) for c in range(10)])
    nf = bank.nearest(queries, k, metric="cosine")
    npix = nearest_pixels(x, queries, k, metric="euclidean")
    every = torch.arange(len(bank))
    f_all = bank.nearest(every, 5, metric="cosine").indices
    p_all = nearest_pixels(x, every, 5).indices
    f_acc = float((y[f_all] == y.view(-1, 1)).float().mean())
    p_acc = float((y[p_all] == y.view(-1, 1)).float().mean())
    grid = neighbor_grid(x[queries], x, [nf, npix], size=24, padding=2)
    section.add_figure(
        grid,
        f"Digits CNN (held-out accuracy {acc:.1%}), layer 'flatten' (64-d penultimate "
        f"features), 1,797 digits. For one query per class: {k} nearest neighbours by cosine "
        "distance in feature space (upper row of each pair) and by Euclidean distance in pixel "
        f"space (lower row). Over all digits, the 5 nearest share the query's label "
        f"{f_acc:.1%} of the time in feature space vs {p_acc:.1%} in pixel space "
        f"({time.perf_counter() - t0:.1f} s).",
        name="neighbors-digits",
    )
    # -- EfficientNet-Lite0 on crops of the bundled photos ---------------------------------
    t0 = time.perf_counter()
    per = 6 if ctx.quick else 16
    crops, ids, names = photo_crops(ctx, per, size=128)
    bank = FeatureBank.from_model(
        ctx.model, crops, "_bn1", pool="avg", batch_size=16, show_progress=False
    )
    qs = torch.arange(0, len(crops), per)  # the first crop of each photo
    kk = 5
    nf = bank.nearest(qs, kk, metric="cosine")
    npix = nearest_pixels(crops, qs, kk)
    every = torch.arange(len(crops))
    same_f = float((ids[bank.nearest(every, 3).indices] == ids.view(-1, 1)).float().mean())
    same_p = float((ids[nearest_pixels(crops, every, 3).indices] == ids.view(-1, 1)).float().mean())
    grid = neighbor_grid(crops[qs], crops, [nf, npix], size=64, padding=2)
    section.add_figure(
        grid,
        f"{ctx.model_name}, layer '_bn1' global-average-pooled (1,280-d), {len(crops)} random "
        f"128 px crops of {len(names)} bundled photos ({per} per photo). Rows as above. The 3 "
        f"nearest crops come from the query's own photo {same_f:.0%} of the time in feature "
        f"space vs {same_p:.0%} in pixel space ({time.perf_counter() - t0:.1f} s).",
        name="neighbors-photos",
    )
