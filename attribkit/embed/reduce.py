"""Dimensionality reduction of features: PCA and t-SNE (van der Maaten & Hinton 2008)."""

from __future__ import annotations

import torch

from attribkit._checks import check_finite_number, check_positive_int

__all__ = ["embed"]


def embed(
    features: torch.Tensor,
    method: str = "pca",
    *,
    dim: int = 2,
    seed: int = 0,
    perplexity: float = 30.0,
    pca_dims: int | None = 50,
    max_iter: int | None = None,
    backend: str = "sklearn",
) -> torch.Tensor:
    """Project ``N×D`` features to ``N×dim`` with PCA or t-SNE (scikit-learn).

    t-SNE first reduces the features to ``pca_dims`` with PCA (the usual recipe; it speeds up
    the neighbour search and removes noise), then runs scikit-learn's Barnes–Hut t-SNE with
    PCA initialization and the automatic learning rate. Results are deterministic for a
    ``seed``; the global RNG is not touched.

    Args:
        features: ``N×D`` floating-point features (``N ≥ 4`` for t-SNE).
        method: ``"pca"`` or ``"tsne"``.
        dim: output dimensions (1–3 for t-SNE).
        seed: random seed for t-SNE (and randomized PCA solvers).
        perplexity: t-SNE perplexity; lowered to ``(N − 1) / 3`` for small ``N``.
        pca_dims: dimensions kept before t-SNE (``None``: no reduction).
        max_iter: t-SNE iterations, the 250 early-exaggeration ones included (the back end's
            default when ``None``).
        backend: ``"sklearn"`` (Barnes–Hut) or ``"opentsne"`` (FFT-accelerated; needs the
            optional ``openTSNE`` package; measured ~1.3× faster on one core, see
            docs/perf/looking-inside.md).

    Returns:
        ``N×dim`` float32 coordinates on the features' device.

    Examples:
        >>> import torch
        >>> embed(torch.rand(20, 5), "pca").shape
        torch.Size([20, 2])
    """
    if not isinstance(features, torch.Tensor) or not features.is_floating_point():
        raise TypeError("features must be a floating-point tensor N×D")
    if features.ndim != 2:
        raise ValueError(
            f"features must be N×D, got shape {tuple(features.shape)} (flatten or pool them first)"
        )
    if not bool(torch.isfinite(features).all()):
        raise ValueError("features contain NaN or infinite values")
    if method not in ("pca", "tsne"):
        raise ValueError(f"method must be 'pca' or 'tsne', got {method!r}")
    if backend not in ("sklearn", "opentsne"):
        raise ValueError(f"backend must be 'sklearn' or 'opentsne', got {backend!r}")
    n, d = features.shape
    check_positive_int(dim, "dim")
    check_finite_number(perplexity, "perplexity", positive=True)
    if pca_dims is not None:
        check_positive_int(pca_dims, "pca_dims")
    if max_iter is not None and (
        isinstance(max_iter, bool) or not isinstance(max_iter, int) or max_iter < 250
    ):
        raise ValueError(
            f"max_iter must be an int >= 250 (t-SNE's early-exaggeration phase), got {max_iter!r}"
        )
    if isinstance(seed, bool) or not isinstance(seed, int):
        raise TypeError(f"seed must be an int, got {seed!r}")
    if dim > min(n, d) and method == "pca":
        raise ValueError(
            f"PCA to {dim} dimensions needs at least {dim} samples and features, got {n}×{d}"
        )
    from sklearn.decomposition import PCA

    x = features.detach().double().cpu().numpy()
    if method == "pca":
        out = PCA(n_components=dim, random_state=seed).fit_transform(x)
    else:
        from sklearn.manifold import TSNE

        if n < 4:
            raise ValueError(f"t-SNE needs at least 4 samples, got {n}")
        if dim > 3:
            raise ValueError(f"Barnes-Hut t-SNE gives 1-3 dimensions, got dim={dim}")
        if pca_dims is not None and d > pca_dims and n > pca_dims:
            x = PCA(n_components=pca_dims, random_state=seed).fit_transform(x)
        perp = min(float(perplexity), (n - 1) / 3.0)
        if backend == "opentsne":
            try:
                import openTSNE
            except ImportError as err:
                raise ValueError(
                    "backend='opentsne' needs the openTSNE package (pip install openTSNE)"
                ) from err
            import numpy as np

            okw = {} if max_iter is None else {"n_iter": max(0, max_iter - 250)}
            emb = openTSNE.TSNE(
                n_components=dim, perplexity=perp, random_state=seed, n_jobs=1, **okw
            ).fit(x)
            out = np.asarray(emb, dtype=np.float64)
        else:
            kwargs = {} if max_iter is None else {"max_iter": max_iter}
            out = TSNE(
                n_components=dim,
                perplexity=perp,
                init="pca",
                learning_rate="auto",
                random_state=seed,
                **kwargs,
            ).fit_transform(x)
    return torch.as_tensor(out, dtype=torch.float32).to(features.device)
