"""Recipe: PCA and t-SNE of the digits CNN's features and of the labelled photos' features."""

from __future__ import annotations

import torch

from attribkit.embed import embed, grid_layout, scatter_points, scatter_thumbnails
from attribkit.layers import extract_features
from attribkit.recipes.context import Pictures, RecipeContext, pick, timed
from attribkit.recipes.shared import digits_model, labelled_photos, photo_features

__all__ = ["INTRO", "knn_accuracy", "square_grid", "run"]

INTRO = (
    "van der Maaten & Hinton (2008): t-SNE places points so that neighbours in feature "
    "space stay neighbours in 2-D. Classes the network separates form islands; the "
    "thumbnail grid snaps the embedding to a full grid by optimal assignment."
)


def knn_accuracy(coords: torch.Tensor, labels: torch.Tensor) -> float:
    """How often a point's nearest 2-D neighbour carries its label.

    Examples:
        >>> knn_accuracy(torch.tensor([[0.0], [0.1], [5.0], [5.1]]), torch.tensor([0, 0, 1, 1]))
        1.0
    """
    d = torch.cdist(coords.float().cpu(), coords.float().cpu())
    d.fill_diagonal_(float("inf"))
    labels = labels.cpu()
    return float((labels[d.argmin(1)] == labels).float().mean())


def square_grid(
    images: torch.Tensor, coords: torch.Tensor, *, thumb: int = 16, seed: int = 0
) -> tuple[torch.Tensor, int]:
    """The largest square grid of ``images`` placed by their 2-D ``coords`` (seeded subset).

    Returns:
        ``(picture, side)``.
    """
    side = int(len(images) ** 0.5)
    idx = torch.randperm(len(images), generator=torch.Generator().manual_seed(seed))[: side * side]
    idx = idx.to(images.device)
    grid = grid_layout(images[idx], coords[idx], side, side, thumb=thumb, padding=1, background=0.4)
    return grid, side


def run(ctx: RecipeContext) -> Pictures:
    """Digits: PCA and t-SNE scatter, the t-SNE grid and thumbnails; photos: t-SNE grid."""
    out = Pictures(INTRO)
    model, x, y, acc = digits_model(ctx)
    if ctx.quick:  # a seeded subset keeps the recipe within its quick-mode budget
        keep = torch.randperm(len(x), generator=torch.Generator().manual_seed(ctx.seed))[:800]
        x, y = x[keep.to(x.device)], y[keep.to(y.device)]
    feats = extract_features(model, x, "flatten", batch_size=256, show_progress=False)
    assert isinstance(feats, torch.Tensor)
    iters = pick(ctx.quick, 500, 1000)
    with timed() as t_pca:
        pca = embed(feats, "pca")
    with timed() as t_tsne:
        tsne = embed(feats, "tsne", seed=ctx.seed, max_iter=iters)
    a_pca, a_tsne = knn_accuracy(pca, y), knn_accuracy(tsne, y)
    both = torch.cat(
        [
            scatter_points(pca, y, title=f"PCA (1-NN acc. in 2-D {a_pca:.1%})", inches=4),
            scatter_points(tsne, y, title=f"t-SNE (1-NN acc. in 2-D {a_tsne:.1%})", inches=4),
        ],
        dim=2,
    )
    out.add(
        both,
        f"Digits CNN (held-out accuracy {acc:.1%}), layer 'flatten' (64-d), {len(x)} digits "
        f"coloured by label. PCA {t_pca[0]:.2f} s; t-SNE (PCA init, perplexity 30, {iters} "
        f"iterations, seed {ctx.seed}) {t_tsne[0]:.1f} s. A point's nearest 2-D neighbour has "
        f"its label {a_tsne:.1%} of the time after t-SNE vs {a_pca:.1%} after PCA.",
        "tsne-scatter",
    )
    with timed() as t:
        grid, side = square_grid(x, tsne, thumb=16, seed=ctx.seed)
    out.add(
        grid,
        f"The t-SNE embedding above snapped to a {side}×{side} grid of {side * side} digits "
        f"(scipy linear_sum_assignment on squared distances, {t[0]:.1f} s).",
        "tsne-grid",
    )
    idx = torch.randperm(len(x), generator=torch.Generator().manual_seed(ctx.seed))[: side * side]
    out.add(
        scatter_thumbnails(x[idx.to(x.device)], tsne[idx.to(x.device)], canvas=640, thumb=14),
        "The same digits drawn as thumbnails at their t-SNE positions.",
        "tsne-thumbnails",
    )
    # -- the labelled photos ---------------------------------------------------------------
    per_group = pick(ctx.quick, 8, None)
    with timed() as t:
        px, py, groups = labelled_photos(ctx, 224, per_group)
        pf = photo_features(ctx, 224, per_group)
        ptsne = embed(pf, "tsne", seed=ctx.seed, perplexity=min(30.0, (len(px) - 1) / 3))
        ppca = embed(pf, "pca")
        grid, side = square_grid(px, ptsne, thumb=pick(ctx.quick, 40, 48), seed=ctx.seed)
    out.add(
        grid,
        f"{len(px)} labelled photos of photo_set() ({len(groups)} groups"
        f"{f', {per_group} per group in quick mode' if per_group else ''}), "
        f"{ctx.model_name} features ('_bn1', average-pooled), t-SNE snapped to a {side}×{side} "
        f"grid: photos of one kind (birds, monuments, underwater scenes, …) gather. A photo's "
        f"nearest 2-D neighbour shares its group {knn_accuracy(ptsne, py):.1%} of the time "
        f"after t-SNE vs {knn_accuracy(ppca, py):.1%} after PCA ({t[0]:.1f} s).",
        "tsne-photos-grid",
    )
    out.add(
        scatter_points(ptsne, py, title="t-SNE of the photos, coloured by group", inches=4),
        f"The photos' t-SNE coloured by group ({len(groups)} groups).",
        "tsne-photos-scatter",
    )
    return out
