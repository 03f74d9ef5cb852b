"""Multifaceted visualization (Nguyen et al. 2016): one start image per facet of a class.

The features of a set of images of the class are clustered with k-means; each facet starts from
its cluster's mean image, so that one class yields several different visualizations.
"""

from __future__ import annotations

import torch
from torch import nn

from attribkit._checks import check_image_batch, check_positive_int
from attribkit.layers import forward_to, frozen, layer_name, resolve_layer

__all__ = ["multifaceted_init"]


@torch.no_grad()
def multifaceted_init(
    model: nn.Module,
    images: torch.Tensor,
    k: int,
    *,
    layer: str | nn.Module | None = None,
    seed: int = 0,
) -> torch.Tensor:
    """Start images for multifaceted visualization (Nguyen et al. 2016).

    The features of ``images`` (at ``layer``, default the model's output) are clustered with
    k-means; each facet starts from the mean of its cluster's images.

    Args:
        model: the network.
        images: ``M×C×H×W`` examples of one class, in [0, 1], ``M >= k``.
        k: number of clusters (facets).
        layer: feature layer (dotted name or module); ``None`` uses the model's output.
        seed: k-means seed.

    Returns:
        ``k×C×H×W`` start images in [0, 1], largest cluster first.

    Examples:
        >>> import torch
        >>> from torch import nn
        >>> net = nn.Sequential(nn.Flatten(), nn.Linear(12, 2))
        >>> imgs = torch.cat([torch.zeros(3, 3, 2, 2), torch.ones(2, 3, 2, 2)])
        >>> multifaceted_init(net, imgs, 2).mean((1, 2, 3))
        tensor([0., 1.])
    """
    from sklearn.cluster import KMeans

    images = check_image_batch(images, "images", unit_range=True)
    k = check_positive_int(k, "k")
    if images.shape[0] < k:
        raise ValueError(f"need at least k={k} images to form {k} clusters, got {images.shape[0]}")
    with frozen(model):
        if layer is None:
            feats = model(images)
        else:
            name = layer_name(model, resolve_layer(model, layer))
            feats = forward_to(model, images, [name])[name]
    if feats.ndim == 4:
        feats = feats.mean((2, 3))
    x = feats.flatten(1).double().cpu().numpy()
    labels = KMeans(n_clusters=k, n_init=10, random_state=seed).fit_predict(x)
    lab = torch.as_tensor(labels)
    order = sorted(range(k), key=lambda c: -int((lab == c).sum()))
    means = [images[(lab == c).to(images.device)].mean(0) for c in order]
    return torch.stack(means).clamp(0, 1)
