"""Bad-input rows for feature space (``attribkit.embed``): banks, neighbours, PCA / t-SNE and
image layouts."""

from __future__ import annotations

from pathlib import Path

import torch
from badinput import Bad, Row, Valid, table_tests
from helpers.tiny import bn_dropout_net, conv_net, images, with_nan

from attribkit import (
    FeatureBank,
    embed,
    grid_layout,
    nearest_pixels,
    neighbor_grid,
    scatter_thumbnails,
)
from attribkit.embed import Neighbors, grid_assignment, scatter_points

X = images(6)
F = torch.rand(6, 4, generator=torch.Generator().manual_seed(1))
C = torch.rand(6, 2, generator=torch.Generator().manual_seed(2))
BANK = FeatureBank(F)


def _nb(**kw: object) -> Neighbors:
    return nearest_pixels(X, [0, 1], k=2, **kw)  # type: ignore[arg-type]


def _missing(tmp: str = "/nonexistent/attribkit/bank.safetensors") -> FeatureBank:
    return FeatureBank.load(Path(tmp))


ROWS = [
    Row(
        "FeatureBank",
        bad=[
            Bad("3-D features", lambda: FeatureBank(torch.zeros(2, 3, 4)), ValueError, "N×D"),
            Bad("NaN", lambda: FeatureBank(with_nan(F)), ValueError, "NaN"),
            Bad(
                "int",
                lambda: FeatureBank(torch.zeros(2, 2, dtype=torch.long)),
                TypeError,
                "floating point",
            ),
            Bad("empty", lambda: FeatureBank(torch.zeros(0, 3)), ValueError, "empty"),
            Bad(
                "labels",
                lambda: FeatureBank(F, labels=torch.zeros(5)),
                ValueError,
                "one entry per feature row",
            ),
            Bad(
                "float indices",
                lambda: FeatureBank(F, indices=torch.zeros(6)),
                TypeError,
                "integer",
            ),
            Bad(
                "meta",
                lambda: FeatureBank(F, meta={"layer": 3}),
                TypeError,  # type: ignore[dict-item]
                "map strings to strings",
            ),
            Bad("k too large", lambda: BANK.nearest(F[:1], 7), ValueError, "larger than the bank"),
            Bad("k 0", lambda: BANK.nearest(F[:1], 0), ValueError, "k must be"),
            Bad("metric", lambda: BANK.nearest(F[:1], metric="l1"), ValueError, "metric"),
            Bad("width", lambda: BANK.nearest(torch.rand(1, 3)), ValueError, "features but"),
            Bad("index range", lambda: BANK.nearest([9]), ValueError, "query indices"),
            Bad("NaN query", lambda: BANK.nearest(with_nan(F[:1])), ValueError, "NaN"),
            Bad("margin", lambda: BANK.nearest(F[:1], margin=-1), ValueError, "margin"),
            Bad("chunk 0", lambda: BANK.nearest(F[:1], chunk_size=0), ValueError, "chunk_size"),
            Bad("bool query", lambda: BANK.nearest(torch.tensor([True])), TypeError, "bool"),
            Bad(
                "from_model batch 0",
                lambda: FeatureBank.from_model(conv_net(), X, "1", batch_size=0),
                ValueError,
                "batch_size",
            ),
            Bad(
                "from_model 3-D",
                lambda: FeatureBank.from_model(conv_net(), X[0], "1"),
                ValueError,
                "batch dimension",
            ),
            Bad("load missing", lambda: _missing(), FileNotFoundError, "no FeatureBank"),
            Bad("load int", lambda: FeatureBank.load(3), TypeError, "str or Path"),  # type: ignore[arg-type]
            Bad("save int", lambda: BANK.save(3), TypeError, "str or Path"),  # type: ignore[arg-type]
        ],
        valid=[
            Valid("one query vector", lambda: BANK.nearest(F[0], 2)),
            Valid(
                "train-mode model",
                lambda: FeatureBank.from_model(bn_dropout_net(), X, "1", show_progress=False),
            ),
        ],
    ),
    Row(
        "embed",
        bad=[
            Bad("3-D", lambda: embed(torch.rand(4, 2, 2)), ValueError, "N×D"),
            Bad("NaN", lambda: embed(with_nan(F)), ValueError, "NaN"),
            Bad("method", lambda: embed(F, "umap"), ValueError, "method"),
            Bad("dim 0", lambda: embed(F, dim=0), ValueError, "dim must be"),
            Bad(
                "perplexity nan",
                lambda: embed(F, "tsne", perplexity=float("nan")),
                ValueError,
                "perplexity",
            ),
            Bad("max_iter", lambda: embed(F, "tsne", max_iter=10), ValueError, "max_iter"),
            Bad("backend", lambda: embed(F, backend="cuml"), ValueError, "backend"),
            Bad("list", lambda: embed([[1.0, 2.0]]), TypeError, "floating-point tensor"),  # type: ignore[arg-type]
            Bad("pca dims 0", lambda: embed(F, "tsne", pca_dims=0), ValueError, "pca_dims"),
        ],
        valid=[Valid("1-D embedding", lambda: embed(F, "pca", dim=1))],
    ),
    Row(
        "nearest_pixels",
        bad=[
            Bad("1-D", lambda: nearest_pixels(torch.zeros(3), 0), ValueError, "N×C×H×W"),
            Bad("NaN", lambda: nearest_pixels(with_nan(X), 0), ValueError, "NaN"),
            Bad(
                "int images",
                lambda: nearest_pixels((X * 255).long(), 0),
                TypeError,
                "floating point",
            ),
            Bad("query shape", lambda: nearest_pixels(X, images(1, 6)), ValueError, "resize them"),
            Bad("k too large", lambda: nearest_pixels(X, 0, k=6), ValueError, "larger"),
            Bad("NaN query", lambda: nearest_pixels(X, with_nan(X[:1])), ValueError, "NaN"),
        ],
        valid=[Valid("single C×H×W query", lambda: nearest_pixels(X, X[0], k=1))],
    ),
    Row(
        "neighbor_grid",
        bad=[
            Bad("no results", lambda: neighbor_grid(X[:2], X, []), ValueError, "at least one"),
            Bad(
                "padding", lambda: neighbor_grid(X[:2], X, _nb(), padding=-1), ValueError, "padding"
            ),
            Bad("size 0", lambda: neighbor_grid(X[:2], X, _nb(), size=0), ValueError, "size"),
            Bad(
                "query count",
                lambda: neighbor_grid(X[:3], X, _nb()),
                ValueError,
                "query images for",
            ),
            Bad(
                "wrong images",
                lambda: neighbor_grid(X[:2], X[:1], _nb()),
                ValueError,
                "pass the images",
            ),
            Bad("NaN", lambda: neighbor_grid(with_nan(X[:2]), X, _nb()), ValueError, "NaN"),
            Bad(
                "not neighbors",
                lambda: neighbor_grid(X[:2], X, [torch.zeros(2, 2)]),
                TypeError,
                "Neighbors",
            ),  # type: ignore[list-item]
        ],
        valid=[Valid("two results", lambda: neighbor_grid(X[:2], X, [_nb(), _nb()], padding=0))],
    ),
    Row(
        "scatter_thumbnails",
        bad=[
            Bad("thumb 0", lambda: scatter_thumbnails(X, C, thumb=0), ValueError, "thumb"),
            Bad(
                "canvas < thumb",
                lambda: scatter_thumbnails(X, C, canvas=4, thumb=8),
                ValueError,
                "thumb <= canvas",
            ),
            Bad("NaN image", lambda: scatter_thumbnails(with_nan(X), C), ValueError, "NaN"),
            Bad("NaN coords", lambda: scatter_thumbnails(X, with_nan(C)), ValueError, "NaN"),
            Bad("count", lambda: scatter_thumbnails(X, C[:5]), ValueError, "coordinates"),
            Bad(
                "channels",
                lambda: scatter_thumbnails(torch.rand(6, 2, 4, 4), C),
                ValueError,
                "1 or 3 channels",
            ),
            Bad(
                "background nan",
                lambda: scatter_thumbnails(X, C, background=float("nan")),
                ValueError,
                "background",
            ),
        ],
        valid=[
            Valid(
                "gray images",
                lambda: scatter_thumbnails(images(6, channels=1), C, canvas=32, thumb=8),
            )
        ],
    ),
    Row(
        "grid_layout",
        bad=[
            Bad("thumb 0", lambda: grid_layout(X, C, 2, 3, thumb=0), ValueError, "thumb"),
            Bad("padding", lambda: grid_layout(X, C, 2, 3, padding=-2), ValueError, "padding"),
            Bad("rows 0", lambda: grid_layout(X, C, 0, 3), ValueError, "rows"),
            Bad("NaN image", lambda: grid_layout(with_nan(X), C, 2, 3), ValueError, "NaN"),
            Bad("NaN coords", lambda: grid_layout(X, with_nan(C), 2, 3), ValueError, "NaN"),
            Bad("coords 3-D", lambda: grid_layout(X, torch.rand(6, 3), 2, 3), ValueError, "N×2"),
            Bad("huge grid", lambda: grid_layout(X, C, 1000, 1000), ValueError, "too large"),
        ],
        valid=[Valid("more cells than images", lambda: grid_layout(X, C, 3, 3, thumb=4))],
    ),
    Row(
        "embed.grid_assignment",
        bad=[
            Bad("cols 0", lambda: grid_assignment(C, 2, 0), ValueError, "cols"),
            Bad("rows float", lambda: grid_assignment(C, 2.0, 3), ValueError, "rows"),  # type: ignore[arg-type]
            Bad("NaN", lambda: grid_assignment(with_nan(C), 2, 3), ValueError, "NaN"),
            Bad("1-D", lambda: grid_assignment(torch.rand(6), 2, 3), ValueError, "N×2"),
            Bad("empty", lambda: grid_assignment(torch.zeros(0, 2), 2, 3), ValueError, "empty"),
        ],
        valid=[
            Valid("integer coords", lambda: grid_assignment(torch.tensor([[0, 1], [1, 0]]), 1, 2))
        ],
    ),
    Row(
        "embed.scatter_points",
        bad=[
            Bad("NaN", lambda: scatter_points(with_nan(C)), ValueError, "NaN"),
            Bad("labels", lambda: scatter_points(C, torch.zeros(5)), ValueError, "one label"),
            Bad("dpi 0", lambda: scatter_points(C, dpi=0), ValueError, "dpi"),
            Bad("inches nan", lambda: scatter_points(C, inches=float("nan")), ValueError, "inches"),
            Bad("size -1", lambda: scatter_points(C, size=-1), ValueError, "size"),
            Bad("huge", lambda: scatter_points(C, dpi=1000, inches=100), ValueError, "too large"),
        ],
        valid=[Valid("no labels", lambda: scatter_points(C, inches=1, dpi=30))],
    ),
]

test_bad_input, test_valid_odd_input = table_tests(ROWS)
