"""Demo section 5: maximally activating patches, cropped to each unit's receptive field."""

from __future__ import annotations

import time

from attribkit.demo import DemoContext
from attribkit.viz.report import Section

__all__ = ["run"]


def run(ctx: DemoContext, section: Section) -> None:
    from attribkit.demo.neighbors import digits_model, photo_crops
    from attribkit.layers import MaxActivatingPatches

    section.intro = (
        "Springenberg et al. (2015): scan a data set, keep for each channel the positions "
        "where it responds most, and show the input region each one sees (its receptive "
        "field). One row per channel, strongest hit first. The scan streams: memory is "
        "channels × k, whatever the number of images."
    )
    # -- EfficientNet-Lite0 over crops of the bundled photos -------------------------------
    t0 = time.perf_counter()
    per = 16 if ctx.quick else 64
    crops, _, names = photo_crops(ctx, per, size=128)
    layer, k, rows = "_blocks.4", 6, 8
    mp = MaxActivatingPatches(ctx.model, layer, k=k, batch_size=16, show_progress=ctx.show_progress)
    mp.scan(crops)
    t_scan = time.perf_counter() - t0
    rf = mp.receptive_field()
    grid = mp.grid(crops, mp.top_channels(rows), size=64, pad_value=0.5)
    section.add_figure(
        grid,
        f"{ctx.model_name}, layer '{layer}', {len(crops)} random 128 px crops of "
        f"{len(names)} bundled photos: the top {k} hits (one per crop) of the {rows} "
        f"channels with the strongest best hit, cropped to the receptive field "
        f"({rf.size[0]}×{rf.size[1]} px, stride {rf.jump[0]}, {rf.method}; grey = outside "
        f"the crop). Scan {t_scan:.1f} s, {mp.stored_elements} stored numbers; total "
        f"{time.perf_counter() - t0:.1f} s.",
        name="patches-photos",
    )
    # -- digits CNN over all digits --------------------------------------------------------
    t0 = time.perf_counter()
    model, x, _, acc = digits_model(ctx)
    mp = MaxActivatingPatches(model, "relu3", k=8, batch_size=256, show_progress=False)
    mp.scan(x)
    rf = mp.receptive_field()
    grid = mp.grid(x, mp.top_channels(10), size=40, pad_value=0.5)
    section.add_figure(
        grid,
        f"Digits CNN (held-out accuracy {acc:.1%}), layer 'relu3' (64 channels, 4×4), all "
        f"1,797 digits: top 8 hits of the 10 strongest channels, cropped to the "
        f"{rf.size[0]}×{rf.size[1]} receptive field ({rf.method}, stride {rf.jump[0]}; grey "
        f"= padding) ({time.perf_counter() - t0:.1f} s).",
        name="patches-digits",
    )
