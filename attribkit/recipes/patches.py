"""Recipe: maximally activating patches (Springenberg et al. 2015), cropped to each unit's
receptive field, scanned over many crops of many labelled photos."""

from __future__ import annotations

import torch

from attribkit.layers import MaxActivatingPatches, random_crops
from attribkit.recipes.context import Pictures, RecipeContext, pick, timed
from attribkit.recipes.shared import digits_model
from attribkit.viz.grid import make_grid

__all__ = ["INTRO", "DEFAULT_LAYER", "photo_crop_set", "distinct_rows", "run"]

INTRO = (
    "Springenberg et al. (2015): scan a data set, keep for each channel the positions "
    "where it responds most, and show the input region each one sees (its receptive "
    "field). One row per channel, strongest hit first, each hit from a different photo. The "
    "scan streams: memory is channels × k, whatever the number of images."
)

#: The layer ``attribkit patches`` scans when none is given.
DEFAULT_LAYER = "_blocks.4"


def photo_crop_set(
    photos: int | None, per_photo: int, size: int = 128, *, seed: int = 0
) -> tuple[torch.Tensor, torch.Tensor, int]:
    """``per_photo`` random ``size`` px crops of ``photos`` photos of
    :func:`~attribkit.data.photo_set` (a seeded choice spread over the groups; ``None``: all).

    Returns:
        ``(crops, photo index of each crop, number of photos)``.
    """
    from attribkit.data import photo_set

    data = photo_set(size=int(size * 1.5), crop=False)
    order = list(range(len(data)))
    if photos is not None and photos < len(data):
        perm = torch.randperm(len(data), generator=torch.Generator().manual_seed(seed))
        order = sorted(int(i) for i in perm[:photos])
    images = [data.image(i) for i in order]
    crops, ids = random_crops(images, per_photo, size, seed=seed)
    return crops, ids, len(order)


def distinct_rows(
    mp: MaxActivatingPatches,
    images: torch.Tensor,
    sources: torch.Tensor,
    channels: list[int],
    k: int,
    *,
    size: int = 64,
) -> tuple[torch.Tensor, float]:
    """Rows of ``k`` hits per channel, each from a different source photo (the scan keeps more).

    Returns:
        The grid picture, and the mean number of distinct photos per row.
    """
    assert mp.state is not None
    tiles = []
    distinct = []
    patches = mp.patches(images, channels, size=size, pad_value=0.5)
    for row, c in zip(patches, channels):
        seen: set[int] = set()
        keep = []
        for j in range(mp.k):
            src = int(sources[int(mp.state.index[c, j])])
            if src not in seen:
                seen.add(src)
                keep.append(row[j])
            if len(keep) == k:
                break
        distinct.append(len(keep))
        keep += [torch.full_like(row[0], 0.5)] * (k - len(keep))
        tiles += keep
    grid = make_grid(torch.stack(tiles).clamp(0, 1), nrow=k, padding=2)
    return grid, sum(distinct) / len(distinct)


def run(ctx: RecipeContext) -> Pictures:
    """EfficientNet-Lite0 over crops of the labelled photos, then the digits CNN."""
    out = Pictures(INTRO)
    n_photos, per = pick(ctx.quick, 120, None), pick(ctx.quick, 4, 12)
    layer, k, rows = DEFAULT_LAYER, 6, 8
    with timed() as t_scan:
        crops, ids, n = photo_crop_set(n_photos, per, 128, seed=ctx.seed)
        crops = crops.to(ctx.device)
        mp = MaxActivatingPatches(
            ctx.model, layer, k=4 * k, batch_size=32, show_progress=ctx.show_progress
        )
        mp.scan(crops)
    rf = mp.receptive_field()
    with timed() as t_grid:
        grid, distinct = distinct_rows(mp, crops, ids, mp.top_channels(rows), k)
    out.add(
        grid,
        f"{ctx.model_name}, layer '{layer}', {len(crops)} random 128 px crops of {n} labelled "
        f"photos of photo_set() ({per} per photo): for the {rows} channels with the strongest "
        f"best hit, the top {k} hits from different photos ({distinct:.1f} distinct photos per "
        f"row), cropped to the receptive field ({rf.size[0]}×{rf.size[1]} px, stride "
        f"{rf.jump[0]}, {rf.method}; grey = outside the crop). Scan {t_scan[0]:.1f} s, "
        f"{mp.stored_elements} stored numbers; grid {t_grid[0]:.1f} s.",
        "patches-photos",
    )
    with timed() as t:
        model, x, _, acc = digits_model(ctx)
        mpd = MaxActivatingPatches(model, "relu3", k=8, batch_size=256, show_progress=False)
        mpd.scan(x)
        rf = mpd.receptive_field()
        grid = mpd.grid(x, mpd.top_channels(10), size=40, pad_value=0.5)
    out.add(
        grid,
        f"Digits CNN (held-out accuracy {acc:.1%}), layer 'relu3' (64 channels, 4×4), all "
        f"1,797 digits: top 8 hits of the 10 strongest channels, cropped to the "
        f"{rf.size[0]}×{rf.size[1]} receptive field ({rf.method}, stride {rf.jump[0]}; grey "
        f"= padding) ({t[0]:.1f} s).",
        "patches-digits",
    )
    return out
