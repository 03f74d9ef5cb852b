"""embed (PCA / t-SNE), scatter_thumbnails, grid_assignment, grid_layout."""

import pytest
import torch
from torch import nn

from attribkit.embed import (
    embed,
    grid_assignment,
    grid_layout,
    scatter_points,
    scatter_thumbnails,
)
from attribkit.testing import snapshot_world


def test_pca_recovers_a_line() -> None:
    t = torch.linspace(-1, 1, 30)
    direction = torch.tensor([1.0, 2.0, -2.0]) / 3
    x = t[:, None] * direction + 5.0
    c = embed(x, "pca")
    assert c.shape == (30, 2)
    # the first coordinate is ±t (up to sign), the second is ~0
    assert torch.allclose(c[:, 0].abs(), t.abs(), atol=1e-5)
    assert float(c[:, 1].abs().max()) < 1e-5


def test_tsne_separates_clusters_and_is_deterministic() -> None:
    gen = torch.Generator().manual_seed(0)
    a = torch.randn(20, 10, generator=gen)
    b = torch.randn(20, 10, generator=gen) + 20.0
    x = torch.cat([a, b])
    c = embed(x, "tsne", perplexity=5, max_iter=500, seed=1)
    assert c.shape == (40, 2)
    # every point's nearest embedded neighbour (and its 5 nearest) lie in its own cluster
    d = torch.cdist(c, c) + torch.eye(40) * 1e9
    nearest = d.topk(5, largest=False).indices
    label = torch.arange(40) // 20
    assert torch.equal(label[nearest], label.view(-1, 1).expand(40, 5))
    assert torch.equal(c, embed(x, "tsne", perplexity=5, max_iter=500, seed=1))


def test_opentsne_backend_separates_clusters() -> None:
    pytest.importorskip("openTSNE")
    gen = torch.Generator().manual_seed(0)
    x = torch.cat([torch.randn(20, 10, generator=gen), torch.randn(20, 10, generator=gen) + 20])
    c = embed(x, "tsne", perplexity=5, max_iter=500, seed=1, backend="opentsne")
    d = torch.cdist(c, c) + torch.eye(40) * 1e9
    label = torch.arange(40) // 20
    assert torch.equal(label[d.argmin(1)], label)


def test_grid_assignment_keeps_a_grid_in_place() -> None:
    ys, xs = torch.meshgrid(torch.arange(3.0), torch.arange(4.0), indexing="ij")
    coords = torch.stack([xs.flatten(), ys.flatten()], 1)
    perm = torch.randperm(12, generator=torch.Generator().manual_seed(0))
    cells = grid_assignment(coords[perm], 3, 4)
    assert torch.equal(perm[cells], torch.arange(12))
    # fewer points than cells: empty cells are -1, each point used once
    cells = grid_assignment(coords[:5], 3, 4)
    assert (cells >= 0).sum() == 5 and sorted(cells[cells >= 0].tolist()) == list(range(5))


def test_grid_layout_and_scatter_pixels(tmp_path) -> None:
    imgs = torch.stack([torch.full((1, 4, 4), v) for v in (0.0, 0.25, 0.5, 0.75)])
    coords = torch.tensor([[1.0, 1.0], [0.0, 0.0], [1.0, 0.0], [0.0, 1.0]])
    g = grid_layout(imgs, coords, 2, 2, thumb=4, path=tmp_path / "g.png")
    assert g.shape == (3, 8, 8) and (tmp_path / "g.png").exists()
    assert float(g[0, 0, 0]) == 0.25 and float(g[0, 7, 7]) == 0.0  # (0,0) top-left
    s = scatter_thumbnails(imgs, coords, canvas=16, thumb=4, background=1.0)
    assert s.shape == (3, 16, 16)
    assert float(s[0, 0, 0]) == 0.25 and float(s[0, 15, 15]) == 0.0
    assert float(s[0, 8, 8]) == 1.0  # background between thumbnails
    p = scatter_points(coords, torch.tensor([0, 1, 0, 1]), inches=1, dpi=40)
    assert p.shape == (3, 40, 40) and 0 <= float(p.min()) and float(p.max()) <= 1


def test_inputs_unchanged() -> None:
    x = torch.rand(12, 3)
    imgs = torch.rand(12, 3, 4, 4)
    snap = snapshot_world(nn.Identity(), x, imgs)
    c = embed(x, "pca")
    grid_layout(imgs, c, 3, 4, thumb=4)
    scatter_thumbnails(imgs, c, canvas=32, thumb=4)
    snap.assert_unchanged()
    with pytest.raises(ValueError):
        grid_layout(imgs, c[:5], 3, 4)
    snap.assert_unchanged()


def test_exception() -> None:
    with pytest.raises(ValueError, match="method"):
        embed(torch.rand(5, 3), "umap")
    with pytest.raises(ValueError, match="backend"):
        embed(torch.rand(5, 3), "tsne", backend="cuml")
    with pytest.raises(ValueError, match="N×D"):
        embed(torch.rand(5, 3, 2))
    with pytest.raises(ValueError, match="NaN"):
        embed(torch.tensor([[float("nan"), 1.0]] * 5))
    with pytest.raises(TypeError):
        embed(torch.zeros(5, 3, dtype=torch.long))
    with pytest.raises(ValueError, match="at least 4"):
        embed(torch.rand(3, 2), "tsne")
    with pytest.raises(ValueError, match="one 2-D position"):
        scatter_thumbnails(torch.rand(3, 3, 4, 4), torch.rand(2, 2))
    with pytest.raises(ValueError, match="rows"):
        grid_assignment(torch.rand(3, 2), 0, 2)
    with pytest.raises(ValueError, match="N×2"):
        grid_assignment(torch.rand(3, 3), 2, 2)
