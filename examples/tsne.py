"""PCA and t-SNE of the digits CNN's penultimate features; a thumbnail grid of the embedding.

    .venv/bin/python examples/tsne.py [--quick] [--out docs/img/embeddings]

Writes ``scatter.png`` (PCA and t-SNE coloured by label), ``grid.png`` (the t-SNE embedding
snapped to a full grid by optimal assignment) and ``thumbnails.png`` (digits at their t-SNE
positions).
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import torch

from attribkit.embed import embed, grid_layout, scatter_points, scatter_thumbnails
from attribkit.io import save_image
from attribkit.layers import extract_features
from attribkit.models import load_digits_tensors, train_digits_cnn


def knn_accuracy(coords: torch.Tensor, labels: torch.Tensor) -> float:
    """How often a point's nearest 2-D neighbour has its label."""
    d = torch.cdist(coords, coords)
    d.fill_diagonal_(float("inf"))
    return float((labels[d.argmin(1)] == labels).float().mean())


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--quick", action="store_true", help="800 digits, fewer iterations")
    ap.add_argument("--out", default="docs/img/embeddings", help="folder for the pictures")
    args = ap.parse_args()
    out = Path(args.out)

    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # a tiny network trains fastest on one thread
    model, acc = train_digits_cnn(epochs=5 if args.quick else 15)
    torch.set_num_threads(threads)
    x, y = load_digits_tensors()
    if args.quick:
        keep = torch.randperm(len(x), generator=torch.Generator().manual_seed(0))[:800]
        x, y = x[keep], y[keep]
    feats = extract_features(model, x, "flatten")
    assert isinstance(feats, torch.Tensor)
    pca = embed(feats, "pca")
    t0 = time.perf_counter()
    tsne = embed(feats, "tsne", seed=0, max_iter=500 if args.quick else 1000)
    print(
        f"digits CNN accuracy {acc:.1%}; t-SNE of {len(x)}×64 in {time.perf_counter() - t0:.1f} s"
    )
    scatter = torch.cat(
        [
            scatter_points(pca, y, title=f"PCA (1-NN acc. {knn_accuracy(pca, y):.1%})", inches=4),
            scatter_points(
                tsne, y, title=f"t-SNE (1-NN acc. {knn_accuracy(tsne, y):.1%})", inches=4
            ),
        ],
        dim=2,
    )
    save_image(scatter, out / "scatter.png")
    rows, cols = (25, 32) if args.quick else (40, 44)
    idx = torch.randperm(len(x), generator=torch.Generator().manual_seed(1))[: rows * cols]
    # 8 px thumbnails are the digits themselves (few grey levels: a small PNG), shown at 2×
    grid = grid_layout(x[idx], tsne[idx], rows, cols, thumb=8, padding=1, background=0.4)
    save_image(torch.nn.functional.interpolate(grid[None], scale_factor=2)[0], out / "grid.png")
    scatter_thumbnails(x[idx], tsne[idx], canvas=560, thumb=12, path=out / "thumbnails.png")


if __name__ == "__main__":
    main()
