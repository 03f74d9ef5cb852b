"""Feature banks: the features of a data set with its images, labels and indices, saved as
safetensors (one file, or one shard per rank plus an ``index.json``) and searched exactly.

The nearest-neighbour back ends live in :mod:`attribkit.embed.search`; this module holds the
container, builds it from a model, and writes and reads it. Reading checks every file: the
format tag, that shard names stay inside their folder, field types, and row counts.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import torch
from torch import nn

from attribkit._checks import (
    check_inside_folder,
    check_positive_int,
    read_json_file,
    read_safetensors_header,
)
from attribkit.embed.search import METRICS, Neighbors, faiss_available, knn_search, squared_norms
from attribkit.layers.distributed import (
    all_gather_objects,
    atomic_path,
    dist_info,
    is_distributed,
    local_shard,
)
from attribkit.layers.features import extract_features

__all__ = ["FeatureBank", "SHARDS_FORMAT"]

#: Format tag of a sharded bank's ``index.json``.
SHARDS_FORMAT = "attribkit.FeatureBank.shards/1"
_TENSORS = ("features", "indices", "images", "labels")
_MAX_INDEX_BYTES = 1 << 24
_WHAT = "a FeatureBank file (a .safetensors file written by FeatureBank.save)"


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


def _string_map(meta: object, what: str) -> dict[str, str]:
    if meta is None:
        return {}
    if not isinstance(meta, Mapping) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in meta.items()
    ):
        raise TypeError(f"{what} must map strings to strings, got {meta!r:.80}")
    return dict(meta)


class FeatureBank:
    """The features of a data set (``N×D``), with its images, labels or indices if given.

    Args:
        features: ``N×D`` floating-point features.
        images: the images (``N×C×H×W``), kept for pictures of neighbours.
        labels: ``N`` labels.
        indices: ``N`` integer indices of the items in the caller's data set (default
            ``0..N-1``).
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
            if t is not None and (
                not isinstance(t, torch.Tensor) or t.ndim == 0 or t.shape[0] != n
            ):
                raise ValueError(f"{nm} must be a tensor with one entry per feature row ({n})")
        if indices is not None and (indices.ndim != 1 or indices.is_floating_point()):
            raise TypeError(
                f"indices must be a 1-D integer tensor, got {indices.dtype} {tuple(indices.shape)}"
            )
        self.images = images
        self.labels = labels
        self.indices = indices if indices is not None else torch.arange(n)
        self.meta = _string_map(meta, "meta")
        self._norms: torch.Tensor | None = None

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
            model: the network (run in eval mode, left as found).
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
        if labels is not None and not isinstance(labels, torch.Tensor):
            raise TypeError(f"labels must be a tensor, got {type(labels).__name__}")
        name = layer if isinstance(layer, str) else type(layer).__name__
        use_dist = is_distributed() if distributed is None else (distributed and is_distributed())
        if use_dist and not gather:
            check_positive_int(batch_size, "batch_size")
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
        return cls(feats, images=images, labels=labels, meta={"layer": name, "pool": str(pool)})

    def __len__(self) -> int:
        return int(self.features.shape[0])

    @property
    def dim(self) -> int:
        """Feature dimensions ``D``."""
        return int(self.features.shape[1])

    def squared_norms(self) -> torch.Tensor:
        """float64 squared norms of the bank's rows (computed once)."""
        if self._norms is None:
            self._norms = squared_norms(self.features)
        return self._norms

    # -- search ------------------------------------------------------------------------------
    def _queries(self, query: object) -> tuple[torch.Tensor, torch.Tensor | None]:
        if (
            isinstance(query, (list, tuple))
            and query
            and all(isinstance(i, int) and not isinstance(i, bool) for i in query)
        ):
            query = torch.tensor(query, dtype=torch.long)
        if isinstance(query, int) and not isinstance(query, bool):
            query = torch.tensor([query])
        if isinstance(query, torch.Tensor) and query.dtype == torch.bool:
            raise TypeError("query must be features or integer bank indices, not a bool tensor")
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
                tie order included, does not depend on the back end
                (:mod:`attribkit.embed.search`).
            exclude_self: when the query is given by indices, leave each query out of its
                own neighbours.
            margin: extra candidates per query for the exact re-ranking (default ``k + 8``).

        Returns:
            :class:`Neighbors` with ``M×k`` indices and float64 distances.

        Raises:
            ValueError: unknown metric, ``k`` larger than the bank, features of another
                width, or faiss asked for but not installed.
        """
        if metric not in METRICS:
            raise ValueError(f"metric must be 'cosine' or 'euclidean', got {metric!r}")
        check_positive_int(k, "k")
        check_positive_int(chunk_size, "chunk_size")
        if margin is not None and (
            isinstance(margin, bool) or not isinstance(margin, int) or margin < 0
        ):
            raise ValueError(f"margin must be a non-negative integer or None, got {margin!r}")
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
        idx, dist, rechecked, used = knn_search(
            self.features,
            self.squared_norms(),
            q.to(self.features.device),
            kk,
            metric=metric,
            chunk_size=chunk_size,
            backend=backend,
            margin=margin if margin is not None else k + 8,
        )
        if drop:
            assert self_idx is not None
            is_self = idx == self_idx.to(idx.device).view(-1, 1)
            # drop the query itself, else (a duplicate took its place) the farthest
            keep = ~is_self
            keep[:, -1] &= is_self.any(dim=1)
            idx = idx[keep].view(-1, k)
            dist = dist[keep].view(-1, k)
        return Neighbors(idx, dist, metric, used, rechecked)

    # -- persistence -------------------------------------------------------------------------
    def save(self, path: str | Path) -> Path:
        """Write the bank to one ``.safetensors`` file (tensors + JSON metadata).

        The file is written under a temporary name and renamed when complete, so a crash
        never leaves a file that looks like a bank. In a distributed run, call it on rank 0
        only (:func:`attribkit.layers.distributed.is_main_process`).
        """
        from safetensors.torch import save_file

        if not isinstance(path, (str, Path)):
            raise TypeError(f"path must be a str or Path, got {type(path).__name__}")
        p = Path(path)
        if p.is_dir():
            raise ValueError(f"{p} is a folder; give a file name (e.g. bank.safetensors)")
        tensors = {
            "features": self.features.detach().cpu().contiguous(),
            "indices": self.indices.detach().cpu().contiguous(),
        }
        if self.images is not None:
            tensors["images"] = self.images.detach().cpu().contiguous()
        if self.labels is not None:
            tensors["labels"] = self.labels.detach().cpu().contiguous()
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
        if not isinstance(folder, (str, Path)):
            raise TypeError(f"folder must be a str or Path, got {type(folder).__name__}")
        root = Path(folder)
        if root.exists() and not root.is_dir():
            raise ValueError(f"{root} exists and is not a folder; give a folder for the shards")
        rank, world = dist_info()
        name = f"shard-{rank:05d}-of-{world:05d}.safetensors"
        self.save(root / name)
        rows = all_gather_objects((name, len(self)))  # also waits for every shard
        if rank == 0:
            index = {
                "format": SHARDS_FORMAT,
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

        Nothing in the files is executed. The shard names in ``index.json`` must be plain
        names inside the folder; the format tag, the field types, each shard's rows and the
        global row numbers are checked.

        Raises:
            FileNotFoundError: nothing at ``path``.
            ValueError: not a bank (the message names the file and what was expected), a
                shard folder without its index (an unfinished write), a shard name that
                leaves the folder, or rows that do not add up.

        Examples:
            >>> import tempfile, os, torch
            >>> p = os.path.join(tempfile.mkdtemp(), "bank.safetensors")
            >>> _ = FeatureBank(torch.eye(3)).save(p)
            >>> len(FeatureBank.load(p))
            3
        """
        if not isinstance(path, (str, Path)):
            raise TypeError(f"path must be a str or Path, got {type(path).__name__}")
        p = Path(path)
        if p.is_dir():
            return cls._load_shards(p, device)
        if not p.exists():
            raise FileNotFoundError(f"no FeatureBank at {p}")
        return cls._load_file(p, device)

    @classmethod
    def _load_shards(cls, root: Path, device: torch.device | str) -> FeatureBank:
        index = _read_index(root)
        parts = [cls._load_file(root / sh["file"], device) for sh in index["shards"]]
        for sh, b in zip(index["shards"], parts):
            if len(b) != sh["rows"]:
                raise ValueError(f"{sh['file']} has {len(b)} rows, the index says {sh['rows']}")
        indices = torch.cat([b.indices for b in parts])
        if indices.numel() != index["rows"]:
            raise ValueError(f"{root}: {indices.numel()} rows, the index says {index['rows']}")
        order = torch.argsort(indices, stable=True)
        if not torch.equal(indices[order].cpu(), torch.arange(index["rows"])):
            raise ValueError(
                f"{root}: the shards' row numbers are not 0..{index['rows'] - 1} exactly once "
                "(shards overlap or come from different runs)"
            )

        def cat(name: str) -> torch.Tensor | None:
            ts = [getattr(b, name) for b in parts]
            return None if any(t is None for t in ts) else torch.cat(ts)[order]

        meta = {k: v for k, v in index["meta"].items() if k != "rows"}
        return cls(
            torch.cat([b.features for b in parts])[order],
            images=cat("images"),
            labels=cat("labels"),
            indices=indices[order],
            meta=meta,
        )

    @classmethod
    def _load_file(cls, path: Path, device: torch.device | str) -> FeatureBank:
        from safetensors import SafetensorError, safe_open

        header = read_safetensors_header(path, _WHAT)
        names = set(header) - {"__metadata__"}
        if "features" not in names:
            raise ValueError(f"{path} is not {_WHAT}: it has no 'features' tensor")
        unknown = sorted(names - set(_TENSORS))
        if unknown:
            raise ValueError(f"{path} is not {_WHAT}: unexpected tensors {unknown[:5]}")
        raw = header["__metadata__"].get("attribkit", "{}")
        try:
            meta = _string_map(json.loads(raw), f"the metadata of {path}")
        except (json.JSONDecodeError, TypeError) as err:
            raise ValueError(f"{path}: its 'attribkit' metadata is not a JSON string map") from err
        try:
            with safe_open(str(path), framework="pt", device=str(device)) as f:
                t = {k: f.get_tensor(k) for k in names}
        except (SafetensorError, OSError, RuntimeError) as err:
            raise ValueError(f"{path} is not a readable {_WHAT}: {err}") from err
        try:
            return cls(
                t["features"],
                images=t.get("images"),
                labels=t.get("labels"),
                indices=t.get("indices"),
                meta=meta,
            )
        except (TypeError, ValueError) as err:
            raise ValueError(f"{path} holds an invalid bank: {err}") from err


def _read_index(root: Path) -> dict[str, Any]:
    """``index.json`` of a shard folder, with every field checked."""
    idx_file = root / "index.json"
    if not idx_file.is_file():
        raise ValueError(
            f"{root} has no index.json: not a sharded FeatureBank, or its write did not "
            "finish (rank 0 writes the index last)"
        )
    index = read_json_file(idx_file, _MAX_INDEX_BYTES, "FeatureBank index")
    if not isinstance(index, dict) or index.get("format") != SHARDS_FORMAT:
        raise ValueError(
            f"{idx_file} is not a FeatureBank index (format tag {SHARDS_FORMAT!r} missing); "
            "write sharded banks with FeatureBank.save_shards"
        )
    shards, rows = index.get("shards"), index.get("rows")
    if not isinstance(shards, list) or not shards:
        raise ValueError(f"{idx_file}: 'shards' must be a non-empty list")
    for sh in shards:
        ok = (
            isinstance(sh, dict)
            and isinstance(sh.get("rows"), int)
            and not isinstance(sh.get("rows"), bool)
            and sh["rows"] >= 0
        )
        if not ok:
            raise ValueError(f"{idx_file}: each shard must be {{'file': name, 'rows': int}}")
        check_inside_folder(root, sh.get("file"), "shard")
    if isinstance(rows, bool) or not isinstance(rows, int) or rows < 1:
        raise ValueError(f"{idx_file}: 'rows' must be a positive integer, got {rows!r}")
    index["meta"] = _string_map(index.get("meta", {}), f"'meta' in {idx_file}")
    return index
