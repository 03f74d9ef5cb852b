"""Feature banks and exact k-nearest neighbours, in chunks, with an optional faiss search.

Every search returns the exact top-k under float64 distances, ties broken by the lower bank
index. The float32 scan (torch matmuls, or faiss when installed) only proposes
``k + margin`` candidates per query; they are re-ranked in float64, and a query whose k-th
distance is not safely inside the candidates' boundary (by a bound on float32 rounding) is
recomputed against the whole bank in float64. Both back ends therefore give identical results,
and no ``N × N`` matrix is ever formed.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from torch import nn

__all__ = ["FeatureBank", "Neighbors", "nearest_pixels", "neighbor_grid", "faiss_available"]

_METRICS = ("cosine", "euclidean")


def faiss_available() -> bool:
    """Whether the optional ``faiss`` package can be imported."""
    try:
        import faiss  # noqa: F401
    except ImportError:
        return False
    return True


def _faiss_gpus() -> int:
    """GPUs visible to faiss (0 without faiss, or with the CPU-only build)."""
    try:
        import faiss
    except ImportError:
        return 0
    get = getattr(faiss, "get_num_gpus", None)
    return int(get()) if get is not None else 0


@dataclass
class Neighbors:
    """Result of :meth:`FeatureBank.nearest`.

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


def _as_features(x: object, name: str) -> torch.Tensor:
    if not isinstance(x, torch.Tensor):
        raise TypeError(f"{name} must be a tensor, got {type(x).__name__}")
    if not x.is_floating_point():
        raise TypeError(f"{name} must be floating point, got {x.dtype}")
    if x.ndim == 1:
        x = x.unsqueeze(0)
    if x.ndim != 2:
        raise ValueError(
            f"{name} must be N×D features, got shape {tuple(x.shape)} "
            "(flatten or pool maps first, e.g. extract_features(pool='avg'))"
        )
    if not bool(torch.isfinite(x).all()):
        raise ValueError(f"{name} contains NaN or infinite values")
    return x


def _exact(
    q: torch.Tensor, x: torch.Tensor, qq: torch.Tensor, xx: torch.Tensor, metric: str
) -> torch.Tensor:
    """float64 distances of queries ``q`` (M×1×D) to candidates ``x`` (M×m×D or 1×n×D).

    ``qq`` (M×1) and ``xx`` (M×m or 1×n) are the float64 squared norms. Every pair's value is
    an elementwise product summed over D, so it does not depend on where the pair sits in the
    batch: the candidate re-ranking and the full float64 pass agree bit for bit.
    """
    dot = (q.double() * x.double()).sum(-1)
    if metric == "euclidean":
        return (qq + xx - 2.0 * dot).clamp_min(0.0).sqrt()
    return 1.0 - dot / (qq.sqrt() * xx.sqrt()).clamp_min(1e-300)


def _rank(idx: torch.Tensor, dist: torch.Tensor, k: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Sort each row by (distance asc, index asc) and keep ``k``."""
    p = torch.argsort(idx, dim=1, stable=True)
    idx, dist = torch.gather(idx, 1, p), torch.gather(dist, 1, p)
    p = torch.argsort(dist, dim=1, stable=True)
    return torch.gather(idx, 1, p)[:, :k], torch.gather(dist, 1, p)[:, :k]


class FeatureBank:
    """The features of a data set (``N×D``), with its images, labels or indices if given.

    Args:
        features: ``N×D`` floating-point features.
        images: the images (``N×C×H×W``), kept for pictures of neighbours.
        labels: ``N`` labels.
        indices: ``N`` indices of the items in the caller's data set (default ``0..N-1``).
        meta: small string metadata saved with the bank (layer, pooling, …).

    Examples:
        >>> import torch
        >>> bank = FeatureBank(torch.tensor([[0., 0.], [1., 0.], [5., 5.]]))
        >>> bank.nearest(torch.tensor([0.9, 0.1]), k=2, metric="euclidean").indices.tolist()
        [[1, 0]]
    """

    def __init__(
        self,
        features: torch.Tensor,
        *,
        images: torch.Tensor | None = None,
        labels: torch.Tensor | None = None,
        indices: torch.Tensor | None = None,
        meta: dict[str, str] | None = None,
    ) -> None:
        self.features = _as_features(features, "features")
        n = self.features.shape[0]
        if n == 0:
            raise ValueError("features is empty")
        for nm, t in (("images", images), ("labels", labels), ("indices", indices)):
            if t is not None and (not isinstance(t, torch.Tensor) or t.shape[0] != n):
                raise ValueError(f"{nm} must be a tensor with one entry per feature row ({n})")
        self.images = images
        self.labels = labels
        self.indices = indices if indices is not None else torch.arange(n)
        self.meta = dict(meta or {})
        self._norms_cache: torch.Tensor | None = None

    @classmethod
    def from_model(
        cls,
        model: nn.Module,
        data: torch.Tensor | Iterable[Any],
        layer: str | nn.Module,
        *,
        pool: str | None = "avg",
        batch_size: int = 64,
        keep_images: bool = False,
        labels: torch.Tensor | None = None,
        show_progress: bool | None = None,
        distributed: bool | None = None,
        gather: bool = True,
    ) -> FeatureBank:
        """Build a bank with :func:`attribkit.layers.extract_features` (flattened per image).

        Args:
            model: the network (left as found).
            data: an ``N×…`` tensor, a DataLoader or an iterable of batches.
            layer: the layer whose output is the feature (dotted name or module).
            pool: ``"avg"``/``"max"`` pools spatial maps first; ``None`` flattens them.
            batch_size: slice size when ``data`` is a tensor.
            keep_images: keep ``data`` as the bank's images (tensors only).
            labels: ``N`` labels to keep with the features.
            show_progress: progress bar over batches.
            distributed: shard the data over the ranks of the initialised
                ``torch.distributed`` group and all-gather the features (``None``: whenever
                a group of more than one process is initialised); every rank gets the
                one-process bank, row for row (see :func:`attribkit.layers.extract_features`).
            gather: with ``False`` in a distributed run, each rank keeps only its own shard
                (``indices`` hold the global row numbers); write it with
                :meth:`save_shards` and read the whole bank back with :meth:`load`.

        Examples:
            >>> import torch
            >>> from torch import nn
            >>> net = nn.Sequential(nn.Conv2d(1, 3, 3), nn.ReLU())
            >>> FeatureBank.from_model(net, torch.rand(4, 1, 5, 5), "1",
            ...                        show_progress=False).features.shape
            torch.Size([4, 3])
        """
        from attribkit.layers.distributed import is_distributed, local_shard
        from attribkit.layers.features import extract_features

        use_dist = is_distributed() if distributed is None else (distributed and is_distributed())
        if use_dist and not gather:
            part, start, n = local_shard(data, batch_size)
            local = extract_features(
                model,
                part,
                layer,
                batch_size=batch_size,
                pool=pool,
                flatten=True,
                show_progress=show_progress,
                distributed=False,
            )
            assert isinstance(local, torch.Tensor)
            rows = torch.arange(start, start + local.shape[0])
            name = layer if isinstance(layer, str) else type(layer).__name__
            return cls(
                local,
                labels=labels[rows] if labels is not None else None,
                indices=rows,
                meta={"layer": name, "pool": str(pool), "rows": str(n)},
            )
        feats = extract_features(
            model,
            data,
            layer,
            batch_size=batch_size,
            pool=pool,
            flatten=True,
            show_progress=show_progress,
            distributed=distributed,
        )
        assert isinstance(feats, torch.Tensor)
        images = data if keep_images and isinstance(data, torch.Tensor) else None
        name = layer if isinstance(layer, str) else type(layer).__name__
        return cls(feats, images=images, labels=labels, meta={"layer": name, "pool": str(pool)})

    def __len__(self) -> int:
        return int(self.features.shape[0])

    @property
    def dim(self) -> int:
        """Feature dimensions ``D``."""
        return int(self.features.shape[1])

    # -- search ------------------------------------------------------------------------------
    def _queries(self, query: object) -> tuple[torch.Tensor, torch.Tensor | None]:
        if isinstance(query, (list, tuple)) and all(isinstance(i, int) for i in query):
            query = torch.tensor(query, dtype=torch.long)
        if isinstance(query, int) and not isinstance(query, bool):
            query = torch.tensor([query])
        if isinstance(query, torch.Tensor) and not query.is_floating_point():
            idx = query.flatten().long()
            if idx.numel() and (int(idx.min()) < 0 or int(idx.max()) >= len(self)):
                raise ValueError(f"query indices must be in 0..{len(self) - 1}")
            return self.features[idx.to(self.features.device)], idx
        q = _as_features(query, "query")
        if q.shape[1] != self.dim:
            raise ValueError(
                f"query has {q.shape[1]} features but the bank has {self.dim}; extract both "
                "from the same layer with the same pooling"
            )
        return q, None

    def nearest(
        self,
        query: torch.Tensor | int | Sequence[int],
        k: int = 5,
        *,
        metric: str = "cosine",
        chunk_size: int = 4096,
        backend: str = "auto",
        exclude_self: bool = True,
        margin: int | None = None,
    ) -> Neighbors:
        """The ``k`` nearest bank items of each query, nearest first.

        Args:
            query: ``M×D`` (or ``D``) features, or bank indices (an int, a list of ints or an
                integer tensor) to search the bank's own items.
            k: neighbours per query.
            metric: ``"cosine"`` (distance ``1 − cos``) or ``"euclidean"``.
            chunk_size: bank rows (and queries) per block; memory is
                ``O(chunk_size² + M·k)``, never ``N × N``.
            backend: ``"auto"`` (faiss when installed and the bank has ≥ 20,000 rows, on the
                CPU, or on the bank's GPU with a GPU build of faiss), ``"torch"`` or
                ``"faiss"``. The candidates are re-ranked exactly either way, so the result,
                tie order included, does not depend on the back end.
            exclude_self: when the query is given by indices, leave each query out of its
                own neighbours.
            margin: extra candidates per query for the exact re-ranking (default ``k + 8``).

        Returns:
            :class:`Neighbors` with ``M×k`` indices and float64 distances.

        Raises:
            ValueError: unknown metric, ``k`` larger than the bank, features of another
                width, or faiss asked for but not installed.
        """
        if metric not in _METRICS:
            raise ValueError(f"metric must be 'cosine' or 'euclidean', got {metric!r}")
        if isinstance(k, bool) or not isinstance(k, int) or k <= 0:
            raise ValueError(f"k must be a positive integer, got {k!r}")
        if isinstance(chunk_size, bool) or not isinstance(chunk_size, int) or chunk_size <= 0:
            raise ValueError(f"chunk_size must be a positive integer, got {chunk_size!r}")
        if backend not in ("auto", "torch", "faiss"):
            raise ValueError(f"backend must be 'auto', 'torch' or 'faiss', got {backend!r}")
        q, self_idx = self._queries(query)
        drop = self_idx is not None and exclude_self
        n = len(self)
        kk = k + 1 if drop else k
        if kk > n:
            raise ValueError(
                f"k={k} is larger than the bank ({n} items{', minus the query' if drop else ''})"
            )
        if backend == "faiss" and not faiss_available():
            raise ValueError("backend='faiss' needs the faiss package (pip install faiss-cpu)")
        use_faiss = backend == "faiss" or (
            backend == "auto"
            and n >= 20_000
            and faiss_available()
            and (self.features.device.type == "cpu" or _faiss_gpus() > 0)
        )
        m = min(n, kk + (margin if margin is not None else k + 8))
        x = self.features
        q = q.to(x.device)
        if use_faiss:
            cand, bound = self._faiss_candidates(q, m, metric)
        else:
            cand, bound = self._torch_candidates(q, m, metric, chunk_size)
        idx, dist, rechecked = self._rerank(q, cand, bound, kk, metric, chunk_size)
        if drop:
            assert self_idx is not None
            is_self = idx == self_idx.to(idx.device).view(-1, 1)
            # drop the query itself, else (a duplicate took its place) the farthest
            keep = ~is_self
            keep[:, -1] &= is_self.any(dim=1)
            idx = idx[keep].view(-1, k)
            dist = dist[keep].view(-1, k)
        return Neighbors(idx, dist, metric, "faiss" if use_faiss else "torch", rechecked)

    def _sq_norms(self) -> torch.Tensor:
        """float64 squared norms of the bank's rows (computed once, in chunks)."""
        if self._norms_cache is None:
            x = self.features
            self._norms_cache = torch.cat(
                [(x[t : t + 8192].double() ** 2).sum(1) for t in range(0, x.shape[0], 8192)]
            )
        return self._norms_cache

    def _approx(self, q: torch.Tensor, t: int, chunk: int, metric: str) -> torch.Tensor:
        """Per-row rank-equivalent float32 scores of the queries against rows ``t…t+chunk``.

        Euclidean: ``‖x‖² − 2 q·x`` (add ``‖q‖²`` for the squared distance); cosine:
        ``−q·x / ‖x‖`` (``1 + score / ‖q‖`` is the cosine distance).
        """
        x = self.features[t : t + chunk].float()
        sq = self._sq_norms()[t : t + chunk].float()
        if metric == "cosine":
            return (q @ x.t()).mul_(-1.0 / sq.sqrt().clamp_min(1e-30).view(1, -1))
        return torch.addmm(sq.view(1, -1), q, x.t(), beta=1.0, alpha=-2.0)

    def _torch_candidates(
        self, q: torch.Tensor, m: int, metric: str, chunk: int
    ) -> tuple[torch.Tensor, torch.Tensor]:
        x = self.features
        q = q.float()
        out_i, out_b = [], []
        for s in range(0, q.shape[0], chunk):
            qc = q[s : s + chunk]
            best_d = torch.empty(qc.shape[0], 0, device=x.device)
            best_i = torch.empty(qc.shape[0], 0, dtype=torch.long, device=x.device)
            for t in range(0, x.shape[0], chunk):
                d = self._approx(qc, t, chunk, metric)
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

    def _faiss_candidates(
        self, q: torch.Tensor, m: int, metric: str
    ) -> tuple[torch.Tensor, torch.Tensor]:
        import faiss
        import numpy as np

        x = self.features.detach().float().cpu().numpy()
        qq = q.detach().float().cpu().numpy()
        if metric == "cosine":
            x = x / np.maximum(np.linalg.norm(x, axis=1, keepdims=True), 1e-30)
            qq = qq / np.maximum(np.linalg.norm(qq, axis=1, keepdims=True), 1e-30)
            index: Any = faiss.IndexFlatIP(x.shape[1])
        else:
            index = faiss.IndexFlatL2(x.shape[1])
        if self.features.device.type == "cuda" and _faiss_gpus() > 0:
            res = faiss.StandardGpuResources()
            dev = self.features.device.index or 0
            index = faiss.index_cpu_to_gpu(res, dev, index)
        index.add(np.ascontiguousarray(x, dtype=np.float32))
        d, i = index.search(np.ascontiguousarray(qq, dtype=np.float32), m)
        d_t = torch.from_numpy(d).to(self.features.device)
        if metric == "cosine":
            d_t = 1.0 - d_t
        return torch.from_numpy(i).long().to(self.features.device), d_t.max(dim=1).values

    def _rerank(
        self,
        q: torch.Tensor,
        cand: torch.Tensor,
        bound: torch.Tensor,
        k: int,
        metric: str,
        chunk: int,
    ) -> tuple[torch.Tensor, torch.Tensor, int]:
        x = self.features
        n, dim = x.shape
        m = cand.shape[1]
        xx_all = self._sq_norms()
        qq_all = (q.double() ** 2).sum(1)
        step = max(1, (1 << 20) // max(1, m * dim))
        idx_parts, dist_parts = [], []
        for s in range(0, q.shape[0], step):
            c = cand[s : s + step]
            qq = qq_all[s : s + step].unsqueeze(1)
            d = _exact(q[s : s + step].unsqueeze(1), x[c], qq, xx_all[c], metric)
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
                    _exact(
                        qr, x[t : t + chunk].unsqueeze(0), qqr, xx_all[t : t + chunk][None], metric
                    )[0]
                    for t in range(0, n, chunk)
                ]
            )
            order = torch.argsort(d_all, stable=True)[:k]
            idx[r], dist[r] = order, d_all[order]
        return idx, dist, len(bad)

    # -- persistence -------------------------------------------------------------------------
    def save(self, path: str | Path) -> Path:
        """Write the bank to one ``.safetensors`` file (tensors + JSON metadata).

        The file is written under a temporary name and renamed when complete, so a crash
        never leaves a file that looks like a bank. In a distributed run, call it on rank 0
        only (:func:`attribkit.layers.distributed.is_main_process`).
        """
        from safetensors.torch import save_file

        from attribkit.layers.distributed import atomic_path

        tensors = {
            "features": self.features.detach().cpu().contiguous(),
            "indices": self.indices.detach().cpu().contiguous(),
        }
        if self.images is not None:
            tensors["images"] = self.images.detach().cpu().contiguous()
        if self.labels is not None:
            tensors["labels"] = self.labels.detach().cpu().contiguous()
        p = Path(path)
        with atomic_path(p) as tmp:
            save_file(tensors, str(tmp), metadata={"attribkit": json.dumps(self.meta)})
        return p

    def save_shards(self, folder: str | Path) -> Path:
        """Write this rank's bank as one shard of ``folder``; rank 0 then writes the index.

        Call it on every rank (it synchronises them). Each rank writes
        ``shard-RRRRR-of-WWWWW.safetensors``; once all are written, rank 0 writes
        ``index.json`` (shards, rows, metadata), last and atomically, so a folder without
        it is an incomplete bank. :meth:`load` reads the folder back as one bank, rows in
        global order. In one process this writes a single shard.
        """
        from attribkit.layers.distributed import all_gather_objects, atomic_path, dist_info

        rank, world = dist_info()
        root = Path(folder)
        name = f"shard-{rank:05d}-of-{world:05d}.safetensors"
        self.save(root / name)
        rows = all_gather_objects((name, len(self)))  # also waits for every shard
        if rank == 0:
            index = {
                "format": "attribkit.FeatureBank.shards/1",
                "shards": [{"file": f, "rows": r} for f, r in rows],
                "rows": sum(r for _, r in rows),
                "meta": self.meta,
            }
            with atomic_path(root / "index.json") as tmp:
                tmp.write_text(json.dumps(index, indent=1))
        all_gather_objects(None)  # nobody returns before the index exists
        return root

    @classmethod
    def load(cls, path: str | Path, device: torch.device | str = "cpu") -> FeatureBank:
        """Read a bank written by :meth:`save`, or a folder written by :meth:`save_shards`.

        Raises:
            ValueError: not a bank, or a shard folder without its index (an unfinished
                write) or with missing rows.
        """
        p = Path(path)
        if p.is_dir():
            return cls._load_shards(p, device)
        return cls._load_file(p, device)

    @classmethod
    def _load_shards(cls, root: Path, device: torch.device | str) -> FeatureBank:
        idx_file = root / "index.json"
        if not idx_file.is_file():
            raise ValueError(
                f"{root} has no index.json: not a sharded FeatureBank, or its write did not "
                "finish (rank 0 writes the index last)"
            )
        index = json.loads(idx_file.read_text())
        parts = [cls._load_file(root / sh["file"], device) for sh in index["shards"]]
        for sh, b in zip(index["shards"], parts):
            if len(b) != sh["rows"]:
                raise ValueError(f"{sh['file']} has {len(b)} rows, the index says {sh['rows']}")
        parts = [b for b in parts if len(b)]
        indices = torch.cat([b.indices for b in parts])
        order = torch.argsort(indices, stable=True)
        if indices.numel() != index["rows"]:
            raise ValueError(f"{root}: {indices.numel()} rows, the index says {index['rows']}")

        def cat(name: str) -> torch.Tensor | None:
            ts = [getattr(b, name) for b in parts]
            return None if any(t is None for t in ts) else torch.cat(ts)[order]

        meta = {k: v for k, v in dict(index.get("meta", {})).items() if k != "rows"}
        return cls(
            torch.cat([b.features for b in parts])[order],
            images=cat("images"),
            labels=cat("labels"),
            indices=indices[order],
            meta=meta,
        )

    @classmethod
    def _load_file(cls, path: Path, device: torch.device | str) -> FeatureBank:
        from safetensors import safe_open

        with safe_open(str(path), framework="pt", device=str(device)) as f:
            names = set(f.keys())
            if "features" not in names:
                raise ValueError(f"{path} is not a FeatureBank file (no 'features' tensor)")
            t = {k: f.get_tensor(k) for k in names}
            meta = json.loads((f.metadata() or {}).get("attribkit", "{}"))
        return cls(
            t["features"],
            images=t.get("images"),
            labels=t.get("labels"),
            indices=t.get("indices"),
            meta=meta,
        )


def nearest_pixels(
    images: torch.Tensor,
    query: torch.Tensor | int | Sequence[int],
    k: int = 5,
    *,
    metric: str = "euclidean",
    **kwargs: Any,
) -> Neighbors:
    """Nearest neighbours in pixel space: the raw-pixel twin of :meth:`FeatureBank.nearest`.

    Args:
        images: the bank's images ``N×C×H×W``.
        query: query images ``M×C×H×W`` (or one ``C×H×W``), or bank indices.
        k: neighbours per query.
        metric: ``"euclidean"`` (the lecture's L2 in pixel space) or ``"cosine"``.
        **kwargs: passed on to :meth:`FeatureBank.nearest`.

    Examples:
        >>> import torch
        >>> imgs = torch.stack([torch.zeros(1, 2, 2), torch.ones(1, 2, 2)])
        >>> nearest_pixels(imgs, torch.full((1, 2, 2), 0.9), k=1).indices.tolist()
        [[1]]
    """
    if not isinstance(images, torch.Tensor) or images.ndim < 2:
        raise ValueError("images must be an N×C×H×W tensor")
    bank = FeatureBank(images.flatten(1).float())
    if isinstance(query, torch.Tensor) and query.is_floating_point():
        if query.ndim == images.ndim - 1:
            query = query.unsqueeze(0)
        if query.shape[1:] != images.shape[1:]:
            raise ValueError(
                f"query images have shape {tuple(query.shape[1:])}, the bank's "
                f"{tuple(images.shape[1:])}; resize them to match"
            )
        query = query.flatten(1).float()
    return bank.nearest(query, k, metric=metric, **kwargs)


def neighbor_grid(
    queries: torch.Tensor,
    images: torch.Tensor,
    neighbors: Neighbors | Sequence[Neighbors],
    *,
    size: int | None = None,
    padding: int = 2,
    path: str | Path | None = None,
) -> torch.Tensor:
    """Rows of ``query | its k neighbours``, one row per query and per result given.

    With ``[feature_neighbors, pixel_neighbors]`` the rows alternate feature space / pixel
    space for each query, as in the lecture's figure. A query tile is followed by a gap.

    Returns:
        A ``3×H×W`` image in [0, 1].
    """
    from attribkit.viz import make_grid

    results = [neighbors] if isinstance(neighbors, Neighbors) else list(neighbors)
    if not results:
        raise ValueError("give at least one Neighbors result")
    k = results[0].indices.shape[1]
    if any(r.indices.shape != results[0].indices.shape for r in results):
        raise ValueError("all neighbour results must have the same number of queries and k")
    if queries.shape[0] != results[0].indices.shape[0]:
        raise ValueError(
            f"{queries.shape[0]} query images for {results[0].indices.shape[0]} queries"
        )
    blank = torch.ones_like(images[0]).float()
    tiles: list[torch.Tensor] = []
    for i in range(queries.shape[0]):
        for r in results:
            tiles.append(queries[i].float())
            tiles.append(blank)
            tiles.extend(images[int(j)].float() for j in r.indices[i].tolist())
    grid = make_grid(tiles, nrow=k + 2, padding=padding, size=size)
    if path is not None:
        from attribkit.io import save_image

        save_image(grid, path)
    return grid
