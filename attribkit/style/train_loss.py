"""The perceptual loss of feed-forward style training, with one style target per image.

Johnson et al. (2016) train a network with the loss of optimization-based style transfer:
the per-layer-normalized content loss, the Gram style loss and total variation. All three are
:class:`attribkit.style.PerceptualLoss`'s: :class:`MultiStyleLoss` holds one
``PerceptualLoss`` for the content and total-variation terms and one per style (its Gram
targets), so that every image of a batch is scored against its own style.
:class:`PerceptualStep` is the training step of :class:`attribkit.style.MultiStyleNet` and
:class:`attribkit.style.TransformerNet` (see :func:`attribkit.style.train_loop.run_training`).
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
import torch.nn.functional as F
from torch import nn

from attribkit.layers.hooks import LayerRef, layer_name
from attribkit.models.backbones import BACKBONES
from attribkit.models.backbones import default_layers as backbone_layers
from attribkit.style.losses import PerceptualLoss, PerceptualTerms
from attribkit.style.train_data import ContentBatch

__all__ = [
    "EFFICIENTNET_STYLE_LAYERS",
    "EFFICIENTNET_CONTENT_LAYERS",
    "VGG_STYLE_LAYERS",
    "VGG_CONTENT_LAYERS",
    "default_layers",
    "MultiStyleLoss",
    "PerceptualStep",
]

#: Style layers on EfficientNet-Lite0 (stem activation and five blocks; DESIGN.md §4).
EFFICIENTNET_STYLE_LAYERS = BACKBONES["efficientnet_lite0"].fast_style
#: Content layer on EfficientNet-Lite0.
EFFICIENTNET_CONTENT_LAYERS = BACKBONES["efficientnet_lite0"].fast_content
#: Johnson's style layers on VGG16/19.
VGG_STYLE_LAYERS = BACKBONES["vgg"].fast_style
#: Johnson's content layer on VGG16/19.
VGG_CONTENT_LAYERS = BACKBONES["vgg"].fast_content


def default_layers(
    backbone: nn.Module,
    content_layers: Sequence[LayerRef] | None = None,
    style_layers: Sequence[LayerRef] | None = None,
) -> tuple[list[str], list[str]]:
    """The content and style layers, as dotted names: the given ones, else the backbone's
    defaults from the backbone table (:data:`attribkit.models.backbones.BACKBONES`).

    Raises:
        ValueError: a layer does not exist, or no default fits the backbone.

    Examples:
        >>> from attribkit.models import vgg16
        >>> default_layers(vgg16())
        (['relu2_2'], ['relu1_2', 'relu2_2', 'relu3_3', 'relu4_3'])
    """
    for nm, given in (("content_layers", content_layers), ("style_layers", style_layers)):
        if isinstance(given, (str, nn.Module)):
            raise TypeError(f"{nm} must be a list of layers, got one layer {given!r:.60}")
    try:
        if content_layers is None:
            content_layers = backbone_layers(backbone, "fast_content")
        if style_layers is None:
            style_layers = backbone_layers(backbone, "fast_style")
    except ValueError as err:
        raise ValueError(f"{err}: pass content_layers and style_layers") from None
    return (
        [layer_name(backbone, c) for c in content_layers],
        [layer_name(backbone, s) for s in style_layers],
    )


class MultiStyleLoss(nn.Module):
    """Content + Gram style + total variation, each image against its own style.

    Args:
        backbone: loss network taking images in [0, 1] (never changed).
        content_layers: content layers (names).
        style_layers: style layers (names).
        styles: one ``1×3×H×W`` image per style; their Gram matrices are the targets.
        content_weight: weight of the content term.
        style_weight: weight of the style term.
        tv_weight: weight of the total-variation term.
        pad: reflect padding before the backbone.

    Examples:
        >>> net = nn.Sequential(nn.Conv2d(3, 4, 3, padding=1), nn.ReLU())
        >>> loss = MultiStyleLoss(net, ["1"], ["0"], [torch.rand(1, 3, 8, 8)] * 2, pad=0)
        >>> x = torch.rand(3, 3, 8, 8)
        >>> loss(x, x.flip(-1), torch.tensor([0, 1, 0])).total.shape
        torch.Size([3])
    """

    def __init__(
        self,
        backbone: nn.Module,
        content_layers: Sequence[str],
        style_layers: Sequence[str],
        styles: Sequence[torch.Tensor],
        *,
        content_weight: float = 1.0,
        style_weight: float = 100.0,
        tv_weight: float = 10.0,
        pad: int = 16,
    ) -> None:
        super().__init__()
        if not styles:
            raise ValueError("give at least one style image")
        self.content = PerceptualLoss(
            backbone,
            list(content_layers),
            [],
            content_weight=content_weight,
            tv_weight=tv_weight,
            pad=pad,
        )
        self.styles = nn.ModuleList()
        for img in styles:
            loss = PerceptualLoss(
                backbone, [], list(style_layers), style_weight=style_weight, pad=pad
            )
            loss.set_style(img)
            self.styles.append(loss)
        self.content_layers = list(self.content.content_layers)
        self.style_layers = list(self.style_loss(0).style_layers)

    def style_loss(self, s: int) -> PerceptualLoss:
        """The loss that holds style ``s``'s Gram targets."""
        loss = self.styles[s]
        assert isinstance(loss, PerceptualLoss)
        return loss

    @property
    def layers(self) -> list[str]:
        """All layers read, without repeats."""
        return list(dict.fromkeys(self.content_layers + self.style_layers))

    def forward(
        self, content: torch.Tensor, output: torch.Tensor, style_index: torch.Tensor
    ) -> PerceptualTerms:
        """Weighted per-image terms of ``output`` for the ``content`` images, image ``i``
        against style ``style_index[i]``."""
        self.content.set_content(content)
        feats = self.content.features(output, self.layers)
        base = self.content.terms(feats, output)
        style = output.new_zeros(output.shape[0])
        for s in torch.unique(style_index).tolist():
            rows = torch.nonzero(style_index == s).flatten()
            sub = {k: feats[k][rows] for k in self.style_layers}
            terms = self.style_loss(int(s)).terms(sub, output[rows])
            style = style.index_put((rows,), terms.style)
        total = base.content + style + base.tv
        return PerceptualTerms(content=base.content, style=style, tv=base.tv, total=total)


class PerceptualStep:
    """The training step of a style network over :class:`ContentBatch`\\ es: stylize each
    crop in its style, and score it with a :class:`MultiStyleLoss`.

    Examples:
        >>> from attribkit.style.transformer import MultiStyleNet
        >>> bb = nn.Sequential(nn.Conv2d(3, 4, 3, padding=1), nn.ReLU())
        >>> step = PerceptualStep(MultiStyleLoss(bb, ["1"], ["0"], [torch.rand(1, 3, 16, 16)],
        ...                                      pad=0))
        >>> net = MultiStyleNet(1, width=4, n_residual=1)
        >>> sorted(step.loss(net, ContentBatch(torch.rand(2, 3, 16, 16), torch.zeros(2).long())))
        ['content', 'loss', 'style', 'tv']
    """

    def __init__(self, loss: MultiStyleLoss) -> None:
        self.criterion = loss

    def loss(self, net: nn.Module, batch: ContentBatch) -> dict[str, torch.Tensor]:
        """``{"loss", "content", "style", "tv"}``: batch means (``loss`` is minimized)."""
        p = next(net.parameters())
        x = batch.content.to(device=p.device, dtype=p.dtype)
        sidx = batch.style_index.to(p.device)
        w = F.one_hot(sidx, len(self.criterion.styles)).to(x.dtype)
        y = net(x, w)
        if not bool(torch.isfinite(y).all()):
            raise FloatingPointError("the network's output holds NaN or infinite values")
        t = self.criterion(x, y, sidx)
        return {
            "loss": t.total.mean(),
            "content": t.content.mean(),
            "style": t.style.mean(),
            "tv": t.tv.mean(),
        }
