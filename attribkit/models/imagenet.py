"""ImageNet class names and top-k prediction."""

from __future__ import annotations

import operator
from dataclasses import dataclass
from functools import lru_cache

import torch
from torch import nn

from attribkit._checks import check_image_batch, check_positive_int

__all__ = ["imagenet_classes", "class_index", "Prediction", "predict"]


@lru_cache(maxsize=1)
def _classes() -> tuple[str, ...]:
    from torchvision.models import ResNet18_Weights

    return tuple(ResNet18_Weights.IMAGENET1K_V1.meta["categories"])


def imagenet_classes() -> list[str]:
    """Return the 1,000 ImageNet class names (from torchvision's metadata, offline).

    Examples:
        >>> imagenet_classes()[285]
        'Egyptian cat'
    """
    return list(_classes())


def class_index(target: int | str, n_classes: int = 1000) -> int:
    """Turn a class index or an ImageNet class name into an index.

    Names match case-insensitively; a unique prefix or substring is accepted.

    Examples:
        >>> class_index("granny smith")
        948
    """
    check_positive_int(n_classes, "n_classes")
    if not isinstance(target, (bool, str)) and hasattr(target, "__index__"):
        try:
            target = operator.index(target)  # numpy and torch integer scalars
        except TypeError:
            pass
    if isinstance(target, bool) or not isinstance(target, (int, str)):
        raise TypeError(
            f"target must be a class index (int) or an ImageNet class name, got {target!r:.60}"
        )
    if isinstance(target, int):
        if not 0 <= target < n_classes:
            raise ValueError(f"class {target} is out of range 0..{n_classes - 1}")
        return target
    text = target.strip()
    if not text:
        raise ValueError("the class name is empty; give an ImageNet class name or an index")
    if text.lstrip("-").isdigit():
        return class_index(int(text), n_classes)
    names = [n.lower() for n in _classes()]
    key = text.lower()
    if key in names:
        return names.index(key)
    hits = [i for i, n in enumerate(names) if key in n]
    if len(hits) == 1:
        return hits[0]
    if hits:
        shown = ", ".join(f"{i} ({_classes()[i]})" for i in hits[:6])
        raise ValueError(f"class name {target!r} is ambiguous: {shown}; give the index instead")
    raise ValueError(f"no ImageNet class is called {target!r}; give an index 0..999")


@dataclass(frozen=True)
class Prediction:
    """One of the top-k classes for one image."""

    index: int
    name: str
    probability: float

    def __str__(self) -> str:
        return f"{self.name} ({self.probability:.1%})"


def predict(
    model: nn.Module,
    images: torch.Tensor,
    topk: int = 5,
    class_names: list[str] | None = None,
) -> list[list[Prediction]]:
    """Return the ``topk`` softmax predictions for each image.

    Args:
        model: a classifier taking images in [0, 1].
        images: ``N×3×H×W`` float tensor in [0, 1].
        topk: how many classes to return per image.
        class_names: names of the outputs (ImageNet's when the model has 1,000 outputs).

    Returns:
        One list of :class:`Prediction` per image, most probable first.

    Examples:
        >>> from attribkit import efficientnet_lite0, sample_image
        >>> predict(efficientnet_lite0(), sample_image("chelsea", size=224), topk=1)[0][0].name
        'Egyptian cat'
    """
    if not isinstance(model, nn.Module):
        raise TypeError(f"model must be an nn.Module, got {type(model).__name__}")
    check_positive_int(topk, "topk")
    images = check_image_batch(images, "images", unit_range=True)
    # eval mode without autograd changes no buffer; only the modes need restoring (models sit
    # below layers in the import order, so layers.state.frozen is not used here)
    modes = [(m, m.training) for m in model.modules()]
    try:
        model.eval()
        with torch.no_grad():
            logits = model(images)
    finally:
        for m, mode in modes:
            m.training = mode
    probs = logits.float().softmax(dim=-1)
    k = min(topk, probs.shape[-1])
    if class_names is None:
        names = imagenet_classes() if probs.shape[-1] == 1000 else None
    else:
        if not isinstance(class_names, (list, tuple)) or len(class_names) != probs.shape[-1]:
            raise ValueError(
                f"class_names must list one name per output ({probs.shape[-1]}), got "
                f"{len(class_names) if isinstance(class_names, (list, tuple)) else class_names!r}"
            )
        names = list(class_names)
    values, indices = probs.topk(k, dim=-1)
    out = []
    for vrow, irow in zip(values.tolist(), indices.tolist()):
        out.append(
            [Prediction(i, names[i] if names else str(i), float(v)) for v, i in zip(vrow, irow)]
        )
    return out
