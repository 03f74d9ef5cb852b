"""Demo section 3: PCA and t-SNE of the digits CNN's penultimate features."""

from __future__ import annotations

import time

import torch

from attribkit.demo import DemoContext
from attribkit.viz.report import Section

__all__ = ["run"]


def _knn_acc(coords: torch.Tensor, labels: torch.Tensor) -> float:
    d = torch.cdist(coords, coords)
    d.fill_diagonal_(float("inf"))
    return float((labels[d.argmin(1)] == labels).float().mean())


def run(ctx: DemoContext, section: Section) -> None:
    from attribkit.demo.neighbors import digits_model
    from attribkit.embed import embed, grid_layout, scatter_points, scatter_thumbnails
    from attribkit.layers import extract_features

    section.intro = (
        "van der Maaten & Hinton (2008): t-SNE places points so that neighbours in feature "
        "space stay neighbours in 2-D. Classes the network separates form islands; the "
        "thumbnail grid snaps the embedding to a full grid by optimal assignment."
    )
    model, x, y, acc = digits_model(ctx)
    if ctx.quick:  # a seeded subset keeps the section within its quick-mode budget
        keep = torch.randperm(len(x), generator=torch.Generator().manual_seed(ctx.seed))[:800]
        x, y = x[keep.to(x.device)], y[keep.to(y.device)]
    feats = extract_features(model, x, "flatten", batch_size=256, show_progress=False)
    assert isinstance(feats, torch.Tensor)
    t0 = time.perf_counter()
    pca = embed(feats, "pca")
    t_pca = time.perf_counter() - t0
    t0 = time.perf_counter()
    tsne = embed(feats, "tsne", seed=ctx.seed, max_iter=500 if ctx.quick else 1000)
    t_tsne = time.perf_counter() - t0
    a_pca, a_tsne = _knn_acc(pca.cpu(), y.cpu()), _knn_acc(tsne.cpu(), y.cpu())
    both = torch.cat(
        [
            scatter_points(pca, y, title=f"PCA (1-NN acc. in 2-D {a_pca:.1%})", inches=4),
            scatter_points(tsne, y, title=f"t-SNE (1-NN acc. in 2-D {a_tsne:.1%})", inches=4),
        ],
        dim=2,
    )
    section.add_figure(
        both,
        f"Digits CNN (held-out accuracy {acc:.1%}), layer 'flatten' (64-d), {len(x)} digits "
        f"coloured by label. PCA {t_pca:.2f} s; t-SNE (PCA init, perplexity 30, "
        f"{500 if ctx.quick else 1000} iterations, seed {ctx.seed}) {t_tsne:.1f} s. A point's "
        f"nearest 2-D neighbour has its label {a_tsne:.1%} of the time after t-SNE vs "
        f"{a_pca:.1%} after PCA.",
        name="tsne-scatter",
    )
    t0 = time.perf_counter()
    rows, cols = (25, 32) if ctx.quick else (40, 45)
    idx = torch.randperm(len(x), generator=torch.Generator().manual_seed(ctx.seed))
    idx = idx[: rows * cols]
    idx = idx.to(x.device)
    grid = grid_layout(x[idx], tsne[idx], rows, cols, thumb=16, padding=1, background=0.4)
    section.add_figure(
        grid,
        f"The t-SNE embedding above snapped to a {rows}×{cols} grid of {len(idx)} digits "
        f"(scipy linear_sum_assignment on squared distances, "
        f"{time.perf_counter() - t0:.1f} s).",
        name="tsne-grid",
    )
    scatter = scatter_thumbnails(x[idx], tsne[idx], canvas=640, thumb=14)
    section.add_figure(
        scatter,
        "The same digits drawn as thumbnails at their t-SNE positions.",
        name="tsne-thumbnails",
    )
