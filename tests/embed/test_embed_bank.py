"""FeatureBank.nearest: exact chunked k-NN, ties, self-exclusion, faiss identity, save/load."""

import json
from pathlib import Path

import pytest
import torch
from torch import nn

from attribkit.embed import FeatureBank, faiss_available, nearest_pixels, neighbor_grid
from attribkit.testing import snapshot_world


def _brute(x: torch.Tensor, q: torch.Tensor, k: int, metric: str) -> torch.Tensor:
    x64, q64 = x.double(), q.double()
    if metric == "euclidean":
        d = torch.cdist(q64, x64)
    else:
        d = 1 - (q64 / q64.norm(dim=1, keepdim=True)) @ (x64 / x64.norm(dim=1, keepdim=True)).t()
    # (distance, index) order: a stable sort over index-ordered columns
    return torch.argsort(d, dim=1, stable=True)[:, :k]


@pytest.mark.parametrize("metric", ["euclidean", "cosine"])
def test_matches_brute_force_in_any_chunking(metric: str) -> None:
    gen = torch.Generator().manual_seed(0)
    x = torch.randn(300, 16, generator=gen)
    q = torch.randn(25, 16, generator=gen)
    bank = FeatureBank(x)
    ref = _brute(x, q, 7, metric)
    for chunk in (7, 64, 4096):
        nb = bank.nearest(q, 7, metric=metric, chunk_size=chunk)
        assert torch.equal(nb.indices, ref)
        assert torch.all(nb.distances[:, 1:] >= nb.distances[:, :-1])


def test_blocks_never_exceed_chunk_size(monkeypatch: pytest.MonkeyPatch) -> None:
    from attribkit.embed import search

    gen = torch.Generator().manual_seed(4)
    x, q = torch.randn(100, 8, generator=gen), torch.randn(40, 8, generator=gen)
    bank = FeatureBank(x)
    shapes: list[tuple[int, ...]] = []
    orig = search._approx

    def spy(*args: object) -> torch.Tensor:
        out = orig(*args)  # type: ignore[arg-type]
        shapes.append(tuple(out.shape))
        return out

    monkeypatch.setattr(search, "_approx", spy)
    nb = bank.nearest(q, 3, metric="euclidean", chunk_size=16)
    assert max(max(s) for s in shapes) <= 16  # never a 40 × 100 (let alone N × N) block
    assert torch.equal(nb.indices, _brute(x, q, 3, "euclidean"))


def test_ties_broken_by_lower_index_and_recheck_path() -> None:
    # duplicates: every distance comes in groups of equal values
    base = torch.tensor([[0.0, 0.0], [1.0, 0.0], [0.0, 1.0], [3.0, 3.0]])
    x = base.repeat(5, 1)  # index i and i+4, i+8, ... are identical
    bank = FeatureBank(x)
    nb = bank.nearest(torch.tensor([[0.1, 0.0]]), 6, metric="euclidean", margin=0)
    assert nb.indices.tolist() == [[0, 4, 8, 12, 16, 1]]
    assert nb.rechecked == 1  # no margin: the boundary is tied, so the query was recomputed
    nb2 = bank.nearest(torch.tensor([[0.1, 0.0]]), 6, metric="euclidean")
    assert torch.equal(nb.indices, nb2.indices)


def test_query_by_index_excludes_itself() -> None:
    x = torch.tensor([[0.0], [1.0], [3.0], [3.5]])
    bank = FeatureBank(x)
    nb = bank.nearest([0, 2], k=2, metric="euclidean")
    assert nb.indices.tolist() == [[1, 2], [3, 1]]
    assert torch.allclose(nb.distances, torch.tensor([[1.0, 3.0], [0.5, 2.0]], dtype=torch.float64))
    same = bank.nearest(torch.tensor([0]), k=1, metric="euclidean", exclude_self=False)
    assert same.indices.tolist() == [[0]]


def test_agrees_with_sklearn() -> None:
    from sklearn.neighbors import NearestNeighbors

    gen = torch.Generator().manual_seed(2)
    x = torch.rand(400, 32, generator=gen)
    q = torch.rand(10, 32, generator=gen)
    for metric in ("euclidean", "cosine"):
        nn_ = NearestNeighbors(n_neighbors=5, algorithm="brute", metric=metric).fit(x.numpy())
        d, i = nn_.kneighbors(q.numpy())
        nb = FeatureBank(x).nearest(q, 5, metric=metric)
        assert torch.equal(nb.indices, torch.from_numpy(i))
        assert torch.allclose(nb.distances, torch.from_numpy(d).double(), atol=1e-5)


@pytest.mark.skipif(not faiss_available(), reason="faiss is optional and not installed")
def test_faiss_results_identical_to_exact_path() -> None:
    gen = torch.Generator().manual_seed(3)
    x = torch.randn(2000, 24, generator=gen).relu()
    x[100:110] = x[5]  # ties
    q = torch.cat([x[:5], torch.randn(20, 24, generator=gen)])
    bank = FeatureBank(x)
    for metric in ("euclidean", "cosine"):
        a = bank.nearest(q, 12, metric=metric, backend="torch")
        b = bank.nearest(q, 12, metric=metric, backend="faiss")
        assert b.backend == "faiss"
        assert torch.equal(a.indices, b.indices) and torch.equal(a.distances, b.distances)


def test_from_model_save_load(tmp_path) -> None:
    conv = nn.Conv2d(1, 2, 1, bias=False)
    with torch.no_grad():
        conv.weight.copy_(torch.tensor([1.0, -1.0]).view(2, 1, 1, 1))
    net = nn.Sequential(conv, nn.ReLU(), nn.Flatten(), nn.Linear(8, 2)).train()
    x = torch.rand(6, 1, 2, 2)
    labels = torch.arange(6)
    snap = snapshot_world(net, x)
    bank = FeatureBank.from_model(net, x, "1", keep_images=True, labels=labels, show_progress=False)
    snap.assert_unchanged()
    assert torch.allclose(bank.features[:, 0], x.mean(dim=(1, 2, 3)))
    assert torch.all(bank.features[:, 1] == 0)
    path = bank.save(tmp_path / "bank.safetensors")
    back = FeatureBank.load(path)
    assert torch.equal(back.features, bank.features) and torch.equal(back.images, x)
    assert torch.equal(back.labels, labels) and back.meta == {"layer": "1", "pool": "avg"}
    assert len(back) == 6 and back.dim == 2


def test_world_unchanged_after_exception_in_from_model() -> None:
    class Boom(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.conv, self.calls = nn.Conv2d(1, 2, 1), 0

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            self.calls += 1
            if self.calls == 2:
                raise RuntimeError("boom")
            return self.conv(x)

    b = Boom().train()
    x = torch.rand(4, 1, 2, 2)
    snap = snapshot_world(b, x)
    with pytest.raises(RuntimeError, match="boom"):
        FeatureBank.from_model(b, x, "conv", batch_size=1, show_progress=False)
    snap.assert_unchanged()


def test_nearest_pixels_and_grid() -> None:
    imgs = torch.zeros(5, 1, 2, 2)
    for i in range(5):
        imgs[i] += i / 4
    nb = nearest_pixels(imgs, torch.full((1, 2, 2), 0.3), k=2)
    assert nb.indices.tolist() == [[1, 2]]
    nbf = nearest_pixels(imgs, [0], k=2)
    assert nbf.indices.tolist() == [[1, 2]]
    g = neighbor_grid(imgs[:1], imgs, [nbf, nbf], padding=0)
    assert g.shape == (3, 2 * 2, 4 * 2)


def test_exception() -> None:
    bank = FeatureBank(torch.rand(5, 3))
    with pytest.raises(ValueError, match="3"):
        bank.nearest(torch.rand(2, 4), 2)
    with pytest.raises(ValueError, match="larger than the bank"):
        bank.nearest(torch.rand(1, 3), 6)
    with pytest.raises(ValueError, match="larger than the bank"):
        bank.nearest([0], 5)  # itself excluded: only 4 left
    with pytest.raises(ValueError, match="metric"):
        bank.nearest(torch.rand(1, 3), 2, metric="manhattan")
    with pytest.raises(ValueError, match="indices"):
        bank.nearest([9], 1)
    with pytest.raises(ValueError, match="N×D"):
        FeatureBank(torch.rand(2, 3, 4))
    with pytest.raises(ValueError, match="NaN"):
        FeatureBank(torch.tensor([[float("nan")]]))
    with pytest.raises(ValueError, match="one entry per"):
        FeatureBank(torch.rand(3, 2), labels=torch.arange(4))
    with pytest.raises(ValueError, match="resize"):
        nearest_pixels(torch.rand(3, 1, 2, 2), torch.rand(1, 1, 3, 3))
    if not faiss_available():
        with pytest.raises(ValueError, match="faiss"):
            bank.nearest(torch.rand(1, 3), 2, backend="faiss")


def _shards(tmp_path: Path) -> Path:
    bank = FeatureBank(torch.rand(5, 3), labels=torch.arange(5))
    return bank.save_shards(tmp_path / "bank")


def _index(root: Path, **changes: object) -> None:
    idx = json.loads((root / "index.json").read_text())
    idx.update(changes)
    (root / "index.json").write_text(json.dumps(idx))


@pytest.mark.parametrize(
    "name",
    ["../outside.safetensors", "../../x.safetensors", "/etc/passwd", "a/../../x.safetensors"],
)
def test_load_refuses_shard_names_that_leave_the_folder(tmp_path: Path, name: str) -> None:
    root = _shards(tmp_path)
    FeatureBank(torch.rand(5, 3)).save(tmp_path / "outside.safetensors")
    _index(root, shards=[{"file": name, "rows": 5}])
    with pytest.raises(ValueError, match="leaves the folder"):
        FeatureBank.load(root)


def test_load_refuses_links_out_of_the_folder(tmp_path: Path) -> None:
    root = _shards(tmp_path)
    FeatureBank(torch.rand(5, 3)).save(tmp_path / "outside.safetensors")
    (root / "link.safetensors").symlink_to(tmp_path / "outside.safetensors")
    _index(root, shards=[{"file": "link.safetensors", "rows": 5}])
    with pytest.raises(ValueError, match="link that leads out"):
        FeatureBank.load(root)


@pytest.mark.parametrize(
    "changes, phrase",
    [
        ({"format": "something/1"}, "format tag"),
        ({"shards": "shard-00000-of-00001.safetensors"}, "'shards' must be a non-empty list"),
        ({"shards": [{"file": "shard-00000-of-00001.safetensors", "rows": "5"}]}, "each shard"),
        ({"shards": [{"file": 7, "rows": 5}]}, "non-empty string"),
        ({"rows": -1}, "'rows' must be a positive integer"),
        ({"rows": 6}, "the index says 6"),
        ({"meta": {"layer": 3}}, "map strings to strings"),
    ],
)
def test_load_checks_the_index(tmp_path: Path, changes: dict[str, object], phrase: str) -> None:
    root = _shards(tmp_path)
    _index(root, **changes)
    with pytest.raises((ValueError, TypeError), match=phrase):
        FeatureBank.load(root)


def test_load_refuses_overlapping_shards(tmp_path: Path) -> None:
    root = _shards(tmp_path)
    name = "shard-00000-of-00001.safetensors"
    _index(root, shards=[{"file": name, "rows": 5}, {"file": name, "rows": 5}], rows=10)
    with pytest.raises(ValueError, match="exactly once"):
        FeatureBank.load(root)


def test_load_says_which_file_is_not_a_bank(tmp_path: Path) -> None:
    p = tmp_path / "bank.safetensors"
    p.write_bytes(b"PK\x03\x04 this is a zip, not a bank" * 4)
    with pytest.raises(ValueError, match=r"bank\.safetensors is not a FeatureBank file"):
        FeatureBank.load(p)
    from safetensors.torch import save_file

    save_file({"weights": torch.zeros(2)}, str(p))
    with pytest.raises(ValueError, match="no 'features' tensor"):
        FeatureBank.load(p)
    save_file({"features": torch.zeros(2, 2), "evil": torch.zeros(1)}, str(p))
    with pytest.raises(ValueError, match="unexpected tensors"):
        FeatureBank.load(p)
    save_file({"features": torch.zeros(2, 2)}, str(p), metadata={"attribkit": "[1, 2]"})
    with pytest.raises(ValueError, match="metadata"):
        FeatureBank.load(p)
    with pytest.raises(FileNotFoundError):
        FeatureBank.load(tmp_path / "missing.safetensors")


def test_a_failed_save_leaves_no_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import safetensors.torch

    def disk_full(tensors: object, filename: str, metadata: object = None) -> None:
        Path(filename).write_bytes(b"half")
        raise OSError("No space left on device")

    monkeypatch.setattr(safetensors.torch, "save_file", disk_full)
    with pytest.raises(OSError):
        FeatureBank(torch.rand(4, 2)).save(tmp_path / "bank.safetensors")
    with pytest.raises(OSError):
        FeatureBank(torch.rand(4, 2)).save_shards(tmp_path / "shards")
    leftovers = [p for p in tmp_path.rglob("*") if p.is_file()]
    assert leftovers == []
    with pytest.raises(ValueError, match="is a folder"):
        FeatureBank(torch.rand(4, 2)).save(tmp_path)
