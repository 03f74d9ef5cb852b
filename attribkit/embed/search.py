"""Exact k-nearest-neighbour search back ends: chunked torch matmuls, or faiss when installed.

Every search returns the exact top-k under float64 distances, ties broken by the lower bank
index. The float32 scan (torch matmuls, or faiss) only proposes ``k + margin`` candidates per
query; they are re-ranked in float64, and a query whose k-th distance is not safely inside the
candidates' boundary (by a bound on float32 rounding) is recomputed against the whole bank in
float64. Both back ends therefore give identical results, and no ``N × N`` matrix is ever
formed. :class:`attribkit.embed.FeatureBank` holds the features and calls :func:`knn_search`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import torch

__all__ = [
    "Neighbors",
    "METRICS",
    "faiss_available",
    "faiss_gpu_count",
    "squared_norms",
    "exact_distances",
    "torch_candidates",
    "faiss_candidates",
    "rerank",
    "knn_search",
]

#: The distances the search offers.
METRICS = ("cosine", "euclidean")
#: Banks at least this large use faiss under ``backend="auto"`` (when it is installed).
FAISS_MIN_ROWS = 20_000


@dataclass
class Neighbors:
    """Result of :meth:`attribkit.embed.FeatureBank.nearest`.

    Attributes:
        indices: ``M×k`` bank indices, nearest first.
        distances: ``M×k`` float64 distances (Euclidean, or cosine distance ``1 − cos``).
        metric: the metric used.
        backend: ``"torch"`` or ``"faiss"`` (candidate search; the ranking is always exact).
        rechecked: queries that needed the full float64 pass.
    """

    indices: torch.Tensor
    distances: torch.Tensor
    metric: str
    backend: str
    rechecked: int = 0


def faiss_available() -> bool:
    """Whether the optional ``faiss`` package can be imported.

    Examples:
        >>> isinstance(faiss_available(), bool)
        True
    """
    try:
        import faiss  # noqa: F401
    except ImportError:
        return False
    return True


def faiss_gpu_count() -> int:
    """GPUs visible to faiss (0 without faiss, or with the CPU-only build).

    Examples:
        >>> faiss_gpu_count() >= 0
        True
    """
    try:
        import faiss
    except ImportError:
        return 0
    get = getattr(faiss, "get_num_gpus", None)
    return int(get()) if get is not None else 0


def squared_norms(features: torch.Tensor, chunk: int = 8192) -> torch.Tensor:
    """float64 squared norms of the rows of ``features`` (``N×D``), computed in chunks.

    Examples:
        >>> squared_norms(torch.tensor([[3.0, 4.0]]))
        tensor([25.], dtype=torch.float64)
    """
    return torch.cat(
        [(features[t : t + chunk].double() ** 2).sum(1) for t in range(0, features.shape[0], chunk)]
    )


def exact_distances(
    q: torch.Tensor, x: torch.Tensor, qq: torch.Tensor, xx: torch.Tensor, metric: str
) -> torch.Tensor:
    """float64 distances of queries ``q`` (M×1×D) to candidates ``x`` (M×m×D or 1×n×D).

    ``qq`` (M×1) and ``xx`` (M×m or 1×n) are the float64 squared norms. Every pair's value is
    an elementwise product summed over D, so it does not depend on where the pair sits in the
    batch: the candidate re-ranking and the full float64 pass agree bit for bit.

    Examples:
        >>> q, x = torch.tensor([[[0.0, 0.0]]]), torch.tensor([[[3.0, 4.0]]])
        >>> exact_distances(q, x, torch.zeros(1, 1), torch.tensor([[25.0]]), "euclidean")
        tensor([[5.]], dtype=torch.float64)
    """
    dot = (q.double() * x.double()).sum(-1)
    if metric == "euclidean":
        return (qq.double() + xx.double() - 2.0 * dot).clamp_min(0.0).sqrt()
    return 1.0 - dot / (qq.double().sqrt() * xx.double().sqrt()).clamp_min(1e-300)


def _rank(idx: torch.Tensor, dist: torch.Tensor, k: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Sort each row by (distance asc, index asc) and keep ``k``."""
    p = torch.argsort(idx, dim=1, stable=True)
    idx, dist = torch.gather(idx, 1, p), torch.gather(dist, 1, p)
    p = torch.argsort(dist, dim=1, stable=True)
    return torch.gather(idx, 1, p)[:, :k], torch.gather(dist, 1, p)[:, :k]


def _approx(
    x: torch.Tensor, sq: torch.Tensor, q: torch.Tensor, t: int, chunk: int, metric: str
) -> torch.Tensor:
    """Per-row rank-equivalent float32 scores of the queries against rows ``t…t+chunk``.

    Euclidean: ``‖x‖² − 2 q·x`` (add ``‖q‖²`` for the squared distance); cosine:
    ``−q·x / ‖x‖`` (``1 + score / ‖q‖`` is the cosine distance).
    """
    xs = x[t : t + chunk].float()
    s = sq[t : t + chunk].float()
    if metric == "cosine":
        return (q @ xs.t()).mul_(-1.0 / s.sqrt().clamp_min(1e-30).view(1, -1))
    return torch.addmm(s.view(1, -1), q, xs.t(), beta=1.0, alpha=-2.0)


def torch_candidates(
    x: torch.Tensor, sq: torch.Tensor, q: torch.Tensor, m: int, metric: str, chunk: int
) -> tuple[torch.Tensor, torch.Tensor]:
    """``m`` float32 candidates per query by chunked matmuls, and each query's bound.

    Args:
        x: the bank's ``N×D`` features.
        sq: their float64 squared norms (:func:`squared_norms`).
        q: ``M×D`` queries.
        m: candidates per query.
        metric: ``"cosine"`` or ``"euclidean"``.
        chunk: rows (and queries) per block.

    Returns:
        ``(M×m candidate indices, M bounds)``: the largest candidate distance per query
        (squared for Euclidean).
    """
    q = q.float()
    out_i, out_b = [], []
    for s in range(0, q.shape[0], chunk):
        qc = q[s : s + chunk]
        best_d = torch.empty(qc.shape[0], 0, device=x.device)
        best_i = torch.empty(qc.shape[0], 0, dtype=torch.long, device=x.device)
        for t in range(0, x.shape[0], chunk):
            d = _approx(x, sq, qc, t, chunk, metric)
            top = torch.topk(d, min(m, d.shape[1]), dim=1, largest=False)
            d = torch.cat([best_d, top.values], 1)
            i = torch.cat([best_i, top.indices + t], 1)
            top = torch.topk(d, min(m, d.shape[1]), dim=1, largest=False)
            best_d, best_i = top.values, torch.gather(i, 1, top.indices)
        bound = best_d.max(dim=1).values
        if metric == "cosine":
            bound = 1.0 + bound / qc.norm(dim=1).clamp_min(1e-30)
        else:
            bound = bound + (qc * qc).sum(1)
        out_i.append(best_i)
        out_b.append(bound)
    return torch.cat(out_i), torch.cat(out_b)


def faiss_candidates(
    x: torch.Tensor, q: torch.Tensor, m: int, metric: str
) -> tuple[torch.Tensor, torch.Tensor]:
    """Like :func:`torch_candidates`, with a faiss flat index (on the GPU for a CUDA bank
    when the faiss build has GPUs)."""
    import faiss
    import numpy as np

    xn = x.detach().float().cpu().numpy()
    qn = q.detach().float().cpu().numpy()
    if metric == "cosine":
        xn = xn / np.maximum(np.linalg.norm(xn, axis=1, keepdims=True), 1e-30)
        qn = qn / np.maximum(np.linalg.norm(qn, axis=1, keepdims=True), 1e-30)
        index: Any = faiss.IndexFlatIP(xn.shape[1])
    else:
        index = faiss.IndexFlatL2(xn.shape[1])
    if x.device.type == "cuda" and faiss_gpu_count() > 0:
        res = faiss.StandardGpuResources()
        index = faiss.index_cpu_to_gpu(res, x.device.index or 0, index)
    index.add(np.ascontiguousarray(xn, dtype=np.float32))
    d, i = index.search(np.ascontiguousarray(qn, dtype=np.float32), m)
    d_t = torch.from_numpy(d).to(x.device)
    if metric == "cosine":
        d_t = 1.0 - d_t
    return torch.from_numpy(i).long().to(x.device), d_t.max(dim=1).values


def rerank(
    x: torch.Tensor,
    xx_all: torch.Tensor,
    q: torch.Tensor,
    cand: torch.Tensor,
    bound: torch.Tensor,
    k: int,
    metric: str,
    chunk: int,
) -> tuple[torch.Tensor, torch.Tensor, int]:
    """Exact float64 top-``k`` from the candidates; queries near the bound are rescanned.

    Returns:
        ``(M×k indices, M×k float64 distances, number of queries rescanned in full)``.
    """
    n, dim = x.shape
    m = cand.shape[1]
    qq_all = (q.double() ** 2).sum(1)
    step = max(1, (1 << 20) // max(1, m * dim))
    idx_parts, dist_parts = [], []
    for s in range(0, q.shape[0], step):
        c = cand[s : s + step]
        qq = qq_all[s : s + step].unsqueeze(1)
        d = exact_distances(q[s : s + step].unsqueeze(1), x[c], qq, xx_all[c], metric)
        i, dd = _rank(c, d, k)
        idx_parts.append(i)
        dist_parts.append(dd)
    idx, dist = torch.cat(idx_parts), torch.cat(dist_parts)
    if m >= n:
        return idx, dist, 0
    # float32 rounding bound on the candidate scan's distances
    eps = dim * 2.0**-23
    if metric == "cosine":
        tol = torch.full_like(bound, 4.0 * eps, dtype=torch.float64)
        kth = dist[:, -1]
    else:
        tol = 4.0 * eps * (qq_all + float(xx_all.max()))
        kth = dist[:, -1] ** 2  # the scan compares squared distances
    bad = torch.nonzero(kth >= bound.double() - tol).flatten()
    for r in bad.tolist():
        qr, qqr = q[r : r + 1].unsqueeze(0), qq_all[r : r + 1].view(1, 1)
        d_all = torch.cat(
            [
                exact_distances(
                    qr, x[t : t + chunk].unsqueeze(0), qqr, xx_all[t : t + chunk][None], metric
                )[0]
                for t in range(0, n, chunk)
            ]
        )
        order = torch.argsort(d_all, stable=True)[:k]
        idx[r], dist[r] = order, d_all[order]
    return idx, dist, len(bad)


def knn_search(
    x: torch.Tensor,
    xx: torch.Tensor,
    q: torch.Tensor,
    k: int,
    *,
    metric: str = "cosine",
    chunk_size: int = 4096,
    backend: str = "auto",
    margin: int | None = None,
) -> tuple[torch.Tensor, torch.Tensor, int, str]:
    """The exact ``k`` nearest rows of ``x`` for each query (the options are checked by
    :meth:`attribkit.embed.FeatureBank.nearest`, which calls this).

    Args:
        x: ``N×D`` bank features.
        xx: their float64 squared norms.
        q: ``M×D`` queries on ``x``'s device.
        k: neighbours per query (at most ``N``).
        metric: ``"cosine"`` or ``"euclidean"``.
        chunk_size: block size of the scan.
        backend: ``"auto"``, ``"torch"`` or ``"faiss"``.
        margin: extra candidates per query (default ``k + 8``).

    Returns:
        ``(M×k indices, M×k float64 distances, queries rescanned, back end used)``.

    Examples:
        >>> x = torch.tensor([[0.0, 0.0], [1.0, 0.0], [5.0, 5.0]])
        >>> knn_search(x, squared_norms(x), torch.tensor([[0.9, 0.1]]), 2,
        ...            metric="euclidean")[0].tolist()
        [[1, 0]]
    """
    n = x.shape[0]
    use_faiss = backend == "faiss" or (
        backend == "auto"
        and n >= FAISS_MIN_ROWS
        and faiss_available()
        and (x.device.type == "cpu" or faiss_gpu_count() > 0)
    )
    m = min(n, k + (margin if margin is not None else k + 8))
    if use_faiss:
        cand, bound = faiss_candidates(x, q, m, metric)
    else:
        cand, bound = torch_candidates(x, xx, q, m, metric, chunk_size)
    idx, dist, rechecked = rerank(x, xx, q, cand, bound, k, metric, chunk_size)
    return idx, dist, rechecked, "faiss" if use_faiss else "torch"
