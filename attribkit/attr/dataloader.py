"""Attribution over a whole data loader: Captum's ``DataLoaderAttribution``, accepting
attribkit's ``FeatureAblation``."""

from __future__ import annotations

from copy import copy
from typing import Any

from captum import attr as _captum

from attribkit.attr._base import CheckedAttribution, captum_attribute

__all__ = ["DataLoaderAttribution"]


class DataLoaderAttribution(CheckedAttribution, _captum.DataLoaderAttribution):
    """Captum's ``DataLoaderAttribution``: feature ablation of a metric over a data loader.

    Captum's constructor accepts only its own ``FeatureAblation`` class (``type(m) is``), so
    ``DataLoaderAttribution(FeatureAblation(model))`` with both imported from attribkit would
    fail there; this one accepts subclasses of Captum's supported methods too.

    Args:
        attr_method: a ``FeatureAblation`` (attribkit's or Captum's).
        eval_mode: see :class:`~attribkit.attr.CheckedAttribution`.

    Examples:
        >>> import torch
        >>> from torch import nn
        >>> from torch.utils.data import DataLoader, TensorDataset
        >>> from attribkit.attr import FeatureAblation
        >>> net = nn.Sequential(nn.Linear(4, 3), nn.ReLU(), nn.Linear(3, 2))
        >>> data = DataLoader(TensorDataset(torch.rand(6, 4)), batch_size=3)
        >>> [a.shape for a in DataLoaderAttribution(FeatureAblation(net)).attribute(data)]
        [torch.Size([12, 4])]
    """

    def __init__(self, attr_method: Any, *, eval_mode: bool = True) -> None:
        supported = (_captum.FeatureAblation,)
        if not isinstance(attr_method, supported) or isinstance(
            attr_method, _captum.FeaturePermutation | _captum.Occlusion
        ):
            raise TypeError(
                f"DataLoaderAttribution supports FeatureAblation, got {type(attr_method).__name__}"
            )
        _captum.Attribution.__init__(self, attr_method.forward_func)
        self.eval_mode = eval_mode
        # as Captum: a shallow copy, so the caller's method keeps its forward function
        self.attr_method = copy(attr_method)
        self.attr_method.forward_func = self._forward_with_dataloader

    attribute = captum_attribute(_captum.DataLoaderAttribution)
