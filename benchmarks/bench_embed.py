"""Feature space: exact nearest neighbours and t-SNE, against scikit-learn (and openTSNE/faiss).

Run (2-core CPU):

    OMP_NUM_THREADS=1 .venv/bin/pytest benchmarks/bench_embed.py --benchmark-enable \
        --benchmark-columns=min,median,rounds -p no:cacheprovider

* ``nearest``: 20,000 × 1,280 features (seeded ReLU'd Gaussians, the shape of
  EfficientNet-Lite0's pooled head), 1,000 of the bank's own rows as queries, k = 10, each
  query excluded from its own neighbours. :meth:`attribkit.embed.FeatureBank.nearest`
  (exact float64 ranking) vs ``sklearn.neighbors.NearestNeighbors(algorithm="brute")``
  (fit + kneighbors with k + 1), and the faiss candidate path when faiss is installed.
* ``tsne``: the digits (1,797 × 64 pixels) and 5,000 × 512 features (10 seeded Gaussian
  clusters); :func:`attribkit.embed.embed` (PCA to 50 dims, then scikit-learn's Barnes–Hut
  t-SNE) vs scikit-learn's ``TSNE()`` with its defaults on the raw features, and openTSNE's
  defaults when installed. ``extra_info`` holds the 1-NN label accuracy of each 2-D result.
* ``nearest_interleaved``: the nearest-neighbour searches alternated round by round (3
  rounds), minima and ratios to scikit-learn printed and kept in ``extra_info`` — on a shared
  machine this is the fair comparison.
"""

from __future__ import annotations

import time

import pytest
import torch

from attribkit.embed import FeatureBank, embed, faiss_available

K = 10


@pytest.fixture(scope="module")
def bank() -> FeatureBank:
    gen = torch.Generator().manual_seed(0)
    return FeatureBank(torch.randn(20_000, 1280, generator=gen).relu())


QUERIES = torch.arange(0, 20_000, 20)  # 1,000 rows


@pytest.mark.parametrize("metric", ["euclidean", "cosine"])
def test_nearest_attribkit(benchmark, bank, metric) -> None:
    benchmark.group = f"nearest 20000x1280 {metric}"
    nb = benchmark.pedantic(
        lambda: bank.nearest(QUERIES, K, metric=metric, backend="torch"),
        rounds=3,
        warmup_rounds=1,
    )
    benchmark.extra_info["rechecked"] = nb.rechecked


@pytest.mark.skipif(not faiss_available(), reason="faiss not installed")
@pytest.mark.parametrize("metric", ["euclidean", "cosine"])
def test_nearest_attribkit_faiss(benchmark, bank, metric) -> None:
    benchmark.group = f"nearest 20000x1280 {metric}"
    exact = bank.nearest(QUERIES, K, metric=metric, backend="torch")
    nb = benchmark.pedantic(
        lambda: bank.nearest(QUERIES, K, metric=metric, backend="faiss"),
        rounds=3,
        warmup_rounds=1,
    )
    assert torch.equal(nb.indices, exact.indices)


@pytest.mark.parametrize("metric", ["euclidean", "cosine"])
def test_nearest_sklearn_brute(benchmark, bank, metric) -> None:
    from sklearn.neighbors import NearestNeighbors

    benchmark.group = f"nearest 20000x1280 {metric}"
    x = bank.features.numpy()
    q = x[QUERIES.numpy()]

    def run():
        nn_ = NearestNeighbors(n_neighbors=K + 1, algorithm="brute", metric=metric).fit(x)
        return nn_.kneighbors(q)

    _, idx = benchmark.pedantic(run, rounds=3, warmup_rounds=1)
    ours = bank.nearest(QUERIES, K, metric=metric)
    same = (torch.from_numpy(idx[:, 1:]) == ours.indices).float().mean().item()
    benchmark.extra_info["agreement_with_attribkit"] = same


def _data(name: str) -> tuple[torch.Tensor, torch.Tensor]:
    if name == "digits_1797x64":
        from sklearn.datasets import load_digits

        d = load_digits()
        return torch.tensor(d.data, dtype=torch.float32), torch.tensor(d.target)
    gen = torch.Generator().manual_seed(0)
    centers = torch.randn(10, 512, generator=gen) * 1.5
    labels = torch.arange(5000) % 10
    return centers[labels] + torch.randn(5000, 512, generator=gen), labels


def _knn(coords: torch.Tensor, labels: torch.Tensor) -> float:
    d = torch.cdist(coords.float(), coords.float())
    d.fill_diagonal_(float("inf"))
    return float((labels[d.argmin(1)] == labels).float().mean())


DATASETS = ["digits_1797x64", "clusters_5000x512"]


@pytest.mark.parametrize("name", DATASETS)
def test_tsne_attribkit(benchmark, name) -> None:
    benchmark.group = f"tsne {name}"
    x, y = _data(name)
    out = benchmark.pedantic(lambda: embed(x, "tsne", seed=0), rounds=1, warmup_rounds=0)
    benchmark.extra_info["knn_acc_2d"] = _knn(out, y)


@pytest.mark.parametrize("name", DATASETS)
def test_tsne_sklearn_default(benchmark, name) -> None:
    from sklearn.manifold import TSNE

    benchmark.group = f"tsne {name}"
    x, y = _data(name)
    out = benchmark.pedantic(
        lambda: TSNE(random_state=0).fit_transform(x.numpy()), rounds=1, warmup_rounds=0
    )
    benchmark.extra_info["knn_acc_2d"] = _knn(torch.from_numpy(out), y)


@pytest.mark.parametrize("name", DATASETS)
def test_tsne_opentsne_default(benchmark, name) -> None:
    ot = pytest.importorskip("openTSNE")
    benchmark.group = f"tsne {name}"
    x, y = _data(name)
    out = benchmark.pedantic(
        lambda: ot.TSNE(random_state=0, n_jobs=1).fit(x.numpy().astype("float64")),
        rounds=1,
        warmup_rounds=0,
    )
    benchmark.extra_info["knn_acc_2d"] = _knn(
        torch.from_numpy(out.view("float64").reshape(-1, 2).copy()), y
    )


@pytest.mark.parametrize("metric", ["euclidean", "cosine"])
def test_nearest_interleaved(benchmark, bank, metric) -> None:
    """The three searches alternated round by round (the machine's load changes over time)."""
    from sklearn.neighbors import NearestNeighbors

    benchmark.group = f"nearest interleaved {metric}"
    x = bank.features.numpy()
    q = x[QUERIES.numpy()]

    def sk() -> None:
        NearestNeighbors(n_neighbors=K + 1, algorithm="brute", metric=metric).fit(x).kneighbors(q)

    work = {
        "attribkit_torch": lambda: bank.nearest(QUERIES, K, metric=metric, backend="torch"),
        "sklearn_brute": sk,
    }
    if faiss_available():
        work["attribkit_faiss"] = lambda: bank.nearest(QUERIES, K, metric=metric, backend="faiss")
    times: dict[str, list[float]] = {k: [] for k in work}

    def run() -> None:
        for _ in range(3):
            for name, fn in work.items():
                t0 = time.perf_counter()
                fn()
                times[name].append(time.perf_counter() - t0)

    benchmark.pedantic(run, rounds=1, warmup_rounds=0)
    best = {k: min(v) for k, v in times.items()}
    print()
    for k, v in best.items():
        benchmark.extra_info[f"min_s_{k}"] = round(v, 3)
        ratio = v / best["sklearn_brute"]
        benchmark.extra_info[f"ratio_{k}_vs_sklearn"] = round(ratio, 3)
        print(f"{metric} {k}: min {v:.3f} s, {ratio:.2f}x sklearn brute")


def _grid_cost():
    import numpy as np

    rng = np.random.default_rng(0)
    c = rng.standard_normal((1760, 2))
    c = (c - c.min(0)) / (c.max(0) - c.min(0))
    gy, gx = np.meshgrid(np.linspace(0, 1, 40), np.linspace(0, 1, 44), indexing="ij")
    cells = np.stack([gx.ravel(), gy.ravel()], 1)
    return ((c[:, None, :] - cells[None]) ** 2).sum(-1)


def test_grid_assignment_scipy(benchmark) -> None:
    """1,760 points onto a 40 × 44 grid: scipy's solver (what ``grid_layout`` uses)."""
    from scipy.optimize import linear_sum_assignment

    benchmark.group = "grid assignment 1760 -> 40x44"
    cost = _grid_cost()
    r, q = benchmark.pedantic(lambda: linear_sum_assignment(cost), rounds=2, warmup_rounds=0)
    benchmark.extra_info["total_cost"] = float(cost[r, q].sum())


def test_grid_assignment_lapjv(benchmark) -> None:
    """The same with lapjv (``pip install lapjv``), when installed."""
    lapjv = pytest.importorskip("lapjv")
    import numpy as np

    benchmark.group = "grid assignment 1760 -> 40x44"
    cost = _grid_cost()
    rc, _, _ = benchmark.pedantic(lambda: lapjv.lapjv(cost), rounds=2, warmup_rounds=0)
    benchmark.extra_info["total_cost"] = float(cost[np.arange(len(cost)), rc].sum())
