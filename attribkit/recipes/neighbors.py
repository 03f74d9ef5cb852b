"""Recipe: nearest neighbours in feature space vs pixel space (Krizhevsky et al. 2012).

On the digits and on the labelled photos of :func:`attribkit.data.photo_set`, with the
label-agreement figure: how often the k nearest images share the query's label, in feature
space and in pixel space, against chance.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F

from attribkit.embed import Neighbors, neighbor_grid
from attribkit.layers import extract_features
from attribkit.recipes.context import Pictures, RecipeContext, pick, timed
from attribkit.recipes.shared import digits_model, labelled_photos, photo_features

__all__ = [
    "INTRO",
    "PHOTO_LAYER",
    "Agreement",
    "knn",
    "label_agreement",
    "agreement_figure",
    "run",
]

INTRO = (
    "Krizhevsky et al. (2012): images whose last-layer features are close are semantically "
    "alike even when their pixels are not. Each query is followed by its nearest "
    "neighbours in feature space (first row) and in pixel space (second row)."
)

#: EfficientNet-Lite0's pooled head: the photos' feature space.
PHOTO_LAYER = "_bn1"


def knn(vectors: torch.Tensor, k: int, metric: str = "euclidean") -> Neighbors:
    """Leave-one-out k nearest neighbours of every row among all rows, by one ``cdist``.

    This is the all-pairs path (fast for a few thousand items, whatever their dimension);
    :class:`~attribkit.embed.FeatureBank` is the one for large banks.

    Args:
        vectors: ``N×…`` (flattened per item).
        k: neighbours per item (``< N``).
        metric: ``"euclidean"`` or ``"cosine"`` (``1 − cos``).

    Examples:
        >>> knn(torch.tensor([[0.0], [1.0], [5.0]]), 1).indices.tolist()
        [[1], [0], [1]]
    """
    v = vectors.flatten(1).float()
    if not 0 < k < len(v):
        raise ValueError(f"k must be between 1 and {len(v) - 1} (the other items), got {k}")
    if metric == "cosine":
        u = F.normalize(v, dim=1)
        d = 1 - u @ u.T
    elif metric == "euclidean":
        d = torch.cdist(v, v)
    else:
        raise ValueError(f"metric must be 'euclidean' or 'cosine', got {metric!r}")
    d.fill_diagonal_(float("inf"))
    dist, idx = d.topk(k, dim=1, largest=False)
    return Neighbors(idx, dist.double(), metric, "torch")


@dataclass(frozen=True)
class Agreement:
    """Share of the k nearest that carry the query's label, per query (``N`` floats), with
    the neighbours it was counted on (feature space, pixel space)."""

    features: torch.Tensor
    pixels: torch.Tensor
    chance: torch.Tensor
    neighbors: tuple[Neighbors, Neighbors]

    def mean(self, labels: torch.Tensor, groups: int) -> tuple[float, float, float]:
        """``(features, pixels, chance)`` averaged per group, then over groups."""

        def macro(v: torch.Tensor) -> float:
            per = [v[labels == c].mean() for c in range(groups) if bool((labels == c).any())]
            return float(torch.stack(per).mean())

        return macro(self.features), macro(self.pixels), macro(self.chance)


def label_agreement(
    features: torch.Tensor, pixels: torch.Tensor, labels: torch.Tensor, k: int
) -> Agreement:
    """Label agreement of the ``k`` nearest by cosine in feature space and by Euclidean
    distance in pixel space, each query left out; chance is the share of the other items with
    the query's label.

    Examples:
        >>> y = torch.tensor([0, 0, 1, 1])
        >>> a = label_agreement(y.view(-1, 1).float(), torch.rand(4, 3), y, 1)
        >>> float(a.chance.mean())
        0.3333333432674408
    """
    labels = labels.cpu()
    counts = torch.bincount(labels).float()
    chance = (counts[labels] - 1) / (len(labels) - 1)

    def share(nb: Neighbors) -> torch.Tensor:
        return (labels[nb.indices.cpu()] == labels.view(-1, 1)).float().mean(1)

    cos = "cosine" if features.flatten(1).shape[1] > 1 else "euclidean"
    nf, npix = knn(features, k, cos), knn(pixels, k)
    return Agreement(share(nf), share(npix), chance, (nf, npix))


def agreement_figure(
    agreement: Agreement, labels: torch.Tensor, groups: list[str], k: int, title: str
) -> torch.Tensor:
    """Bars per group (and the mean over groups): feature space, pixel space, chance."""
    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt

    from attribkit.viz.overlay import figure_to_tensor

    labels = labels.cpu()
    present = [c for c in range(len(groups)) if bool((labels == c).any())]
    rows = {
        "feature space": agreement.features,
        "pixel space": agreement.pixels,
        "chance": agreement.chance,
    }
    names = [groups[c] for c in present] + ["mean over groups"]
    fig, ax = plt.subplots(figsize=(10, 3.6), dpi=80)
    width = 0.27
    for j, (name, v) in enumerate(rows.items()):
        vals = [float(v[labels == c].mean()) for c in present]
        vals.append(sum(vals) / len(vals))
        ax.bar([i + (j - 1) * width for i in range(len(names))], vals, width, label=name)
    ax.set_xticks(range(len(names)))
    ax.set_xticklabels(names, rotation=35, ha="right", fontsize=8)
    ax.set_ylabel(f"share of {k} nearest with the label")
    ax.set_ylim(0, 1.18)
    ax.set_title(title, fontsize=9)
    ax.legend(fontsize=8, ncol=3, loc="upper center")
    fig.tight_layout()
    image = figure_to_tensor(fig)
    plt.close(fig)
    return image


def _query_per_group(labels: torch.Tensor, n: int, seed: int) -> torch.Tensor:
    """One (seeded) photo from each of ``n`` groups spread over the label range."""
    present = sorted(set(labels.cpu().tolist()))
    step = max(1, len(present) // n)
    g = torch.Generator().manual_seed(seed)
    out = []
    for c in present[::step][:n]:
        idx = torch.nonzero(labels.cpu() == c).flatten()
        out.append(int(idx[torch.randint(len(idx), (1,), generator=g)]))
    return torch.tensor(out)


def _rows(nb: Neighbors, queries: torch.Tensor) -> Neighbors:
    return Neighbors(nb.indices[queries], nb.distances[queries], nb.metric, nb.backend)


def run(ctx: RecipeContext) -> Pictures:
    """Digits: one query per class; photos: one query per group; label agreement of both."""
    out = Pictures(INTRO)
    k = 8
    # -- digits CNN: penultimate features of all 1,797 digits ------------------------------
    with timed() as t:
        model, x, y, acc = digits_model(ctx)
        feats = extract_features(model, x, "flatten", batch_size=256, show_progress=False)
        assert isinstance(feats, torch.Tensor)
        nf, npix = knn(feats, k, "cosine"), knn(x, k)
        queries = torch.tensor([int(torch.nonzero(y == c)[3]) for c in range(10)])
        agree = label_agreement(feats, x, y, 5)
    grid = neighbor_grid(x[queries], x, [_rows(nf, queries), _rows(npix, queries)], size=24)
    out.add(
        grid,
        f"Digits CNN (held-out accuracy {acc:.1%}), layer 'flatten' (64-d penultimate "
        f"features), 1,797 digits. For one query per class: {k} nearest neighbours by cosine "
        "distance in feature space (upper row of each pair) and by Euclidean distance in pixel "
        f"space (lower row). Over all digits, the 5 nearest share the query's label "
        f"{float(agree.features.mean()):.1%} of the time in feature space vs "
        f"{float(agree.pixels.mean()):.1%} in pixel space ({t[0]:.1f} s).",
        "neighbors-digits",
    )
    # -- EfficientNet-Lite0 on the labelled photos -----------------------------------------
    per_group = pick(ctx.quick, 8, None)
    kk = 5
    with timed() as t:
        px, py, groups = labelled_photos(ctx, 224, per_group)
        pf = photo_features(ctx, 224, per_group, PHOTO_LAYER)
        agree = label_agreement(pf, px, py, kk)  # cosine in feature space (1280-d)
        nf, npix = agree.neighbors
    qs = _query_per_group(py, pick(ctx.quick, 6, 10), ctx.seed)
    grid = neighbor_grid(px[qs], px, [_rows(nf, qs), _rows(npix, qs)], size=72)
    f_m, p_m, c_m = agree.mean(py, len(groups))
    shown = ", ".join(groups[int(py[q])] for q in qs)
    out.add(
        grid,
        f"{ctx.model_name}, layer '{PHOTO_LAYER}' global-average-pooled (1,280-d, cosine), "
        f"{len(px)} labelled photos of photo_set() at 224 px"
        f"{f' ({per_group} per group in quick mode)' if per_group else ''}. One query per "
        f"group ({shown}), then its {kk} nearest in feature space (upper row) and in pixel "
        f"space (lower row) ({t[0]:.1f} s).",
        "neighbors-photos",
    )
    title = (
        f"{len(px)} photos, {len(groups)} groups: {kk} nearest share the query's group "
        f"{f_m:.1%} (features) vs {p_m:.1%} (pixels), chance {c_m:.1%}"
    )
    out.add(
        agreement_figure(agree, py, groups, kk, title),
        f"Label agreement, measured by this run: for every photo as a query (left out of its "
        f"own neighbours), the share of its {kk} nearest photos from its own group, averaged "
        f"per group then over groups: feature space {f_m:.1%}, pixel space {p_m:.1%}, chance "
        f"{c_m:.1%} (over all queries: {float(agree.features.mean()):.1%} vs "
        f"{float(agree.pixels.mean()):.1%}). Feature space wins because its distances follow "
        "what is shown, pixel distances follow colour and layout.",
        "neighbors-agreement",
    )
    out.note(
        f"Neighbours: the photos' label agreement (k={kk}, mean over groups) is {f_m:.1%} in "
        f"feature space vs {p_m:.1%} in pixel space; chance {c_m:.1%}."
    )
    return out
