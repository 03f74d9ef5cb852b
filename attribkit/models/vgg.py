"""VGG16 and VGG19 whose layers are addressed as ``conv1_1``, ``relu1_1`` … ``relu5_4``."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import torch
from torch import nn

from attribkit._checks import check_state_shapes, read_safetensors_header
from attribkit.models.normalize import IMAGENET_MEAN, IMAGENET_STD, Normalize

__all__ = ["VGG", "vgg16", "vgg19", "VGG_CONFIGS"]

VGG_CONFIGS: dict[str, list[int]] = {
    "vgg16": [2, 2, 3, 3, 3],
    "vgg19": [2, 2, 4, 4, 4],
}
_WIDTHS = [64, 128, 256, 512, 512]


class VGG(nn.Module):
    """A VGG network taking images in [0, 1], with named layers as direct children.

    Children, in order: ``normalize``, then per block ``convB_I``, ``reluB_I`` and ``poolB``,
    then ``avgpool``, ``flatten`` and ``classifier``. ``features(x, upto="relu4_1")`` runs
    only as far as needed.
    """

    def __init__(self, config: str = "vgg19", num_classes: int = 1000) -> None:
        super().__init__()
        if config not in VGG_CONFIGS:
            raise ValueError(f"config must be one of {sorted(VGG_CONFIGS)}, got {config!r}")
        self.config = config
        self.normalize = Normalize(IMAGENET_MEAN, IMAGENET_STD)
        in_ch = 3
        self._feature_names: list[str] = []
        for b, (n, width) in enumerate(zip(VGG_CONFIGS[config], _WIDTHS), start=1):
            for i in range(1, n + 1):
                self.add_module(f"conv{b}_{i}", nn.Conv2d(in_ch, width, 3, padding=1))
                self.add_module(f"relu{b}_{i}", nn.ReLU(inplace=False))
                self._feature_names += [f"conv{b}_{i}", f"relu{b}_{i}"]
                in_ch = width
            self.add_module(f"pool{b}", nn.MaxPool2d(2, 2))
            self._feature_names.append(f"pool{b}")
        self.avgpool = nn.AdaptiveAvgPool2d((7, 7))
        self.flatten = nn.Flatten(1)
        self.classifier = nn.Sequential(
            nn.Linear(512 * 7 * 7, 4096),
            nn.ReLU(inplace=False),
            nn.Dropout(),
            nn.Linear(4096, 4096),
            nn.ReLU(inplace=False),
            nn.Dropout(),
            nn.Linear(4096, num_classes),
        )

    @property
    def feature_names(self) -> list[str]:
        """Names of the convolutional part, in order (``conv1_1`` … ``pool5``)."""
        return list(self._feature_names)

    def features(self, x: torch.Tensor, upto: str | None = None) -> torch.Tensor:
        """Run the convolutional part on images in [0, 1], stopping after layer ``upto``."""
        if upto is not None and upto not in self._feature_names:
            raise ValueError(f"unknown VGG layer {upto!r}; valid: {', '.join(self._feature_names)}")
        x = self.normalize(x)
        for name in self._feature_names:
            x = getattr(self, name)(x)
            if name == upto:
                break
        return x

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.classifier(self.flatten(self.avgpool(self.features(x))))


def _convert_torchvision_state(model: VGG, state: dict[str, torch.Tensor]) -> dict[str, Any]:
    """Map torchvision's ``features.K.weight`` keys onto our named layers."""
    if not any(k.startswith("features.") for k in state):
        return state
    convs = [n for n in model.feature_names if n.startswith("conv")]
    conv_idx = sorted({int(k.split(".")[1]) for k in state if k.startswith("features.")})
    if len(conv_idx) != len(convs):
        raise ValueError(
            f"the state dict has {len(conv_idx)} conv layers but {model.config} has {len(convs)}; "
            "did you pass VGG16 weights to vgg19 (or the reverse)?"
        )
    mapping = {idx: name for idx, name in zip(conv_idx, convs)}
    out: dict[str, Any] = {}
    for k, v in state.items():
        if k.startswith("features."):
            _, idx, leaf = k.split(".")
            out[f"{mapping[int(idx)]}.{leaf}"] = v
        else:
            out[k] = v
    return out


def _read_state_file(path: Path) -> Any:
    """A state dict from a ``torch.save`` file (no code is run) or a ``.safetensors`` file."""
    what = "a VGG state dict (torch.save(model.state_dict()) or a .safetensors file)"
    if path.suffix == ".safetensors":
        from safetensors.torch import load_file

        read_safetensors_header(path, what)
        return load_file(str(path), device="cpu")
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as err:  # torch.load raises many types for foreign files
        raise ValueError(
            f"{path} is not {what}: torch.load(weights_only=True) could not read it "
            f"({type(err).__name__}); no code from it was run"
        ) from err
    if isinstance(state, dict) and "state_dict" in state:
        state = state["state_dict"]
    return state


def _build(config: str, weights: Any, num_classes: int) -> VGG:
    if isinstance(num_classes, bool) or not isinstance(num_classes, int) or num_classes < 1:
        raise ValueError(f"num_classes must be a positive int, got {num_classes!r}")
    if weights is None:
        return VGG(config, num_classes=num_classes).eval()
    if isinstance(weights, (str, Path)):
        path = Path(weights)
        if not path.is_file():
            raise FileNotFoundError(f"VGG weights file {path} does not exist")
        state = _read_state_file(path)
    elif isinstance(weights, dict):
        state = weights
    elif hasattr(weights, "get_state_dict"):  # torchvision WeightsEnum (downloads if absent)
        state = weights.get_state_dict(progress=False)
    else:
        raise TypeError(
            "weights must be None, a state-dict path, a state dict, or a torchvision weights enum"
        )
    if not isinstance(state, dict) or not all(
        isinstance(k, str) and isinstance(v, torch.Tensor) for k, v in state.items()
    ):
        raise ValueError(
            f"the {config} weights must be a state dict (names to tensors), got "
            f"{type(state).__name__}"
        )
    with torch.device("meta"):  # the shapes, checked before any real weight is allocated
        shape_model = VGG(config, num_classes=num_classes)
    converted = _convert_torchvision_state(shape_model, state)
    for k, v in converted.items():
        if v.is_floating_point() and not bool(torch.isfinite(v).all()):
            raise ValueError(f"{config} weight {k} holds NaN or infinite values")
    expected = {k: tuple(v.shape) for k, v in shape_model.state_dict().items()}
    found = {k: tuple(v.shape) for k, v in converted.items()}
    check_state_shapes(
        expected, found, f"these are not {config} weights (num_classes={num_classes})"
    )
    model = VGG(config, num_classes=num_classes)
    model.load_state_dict(converted, strict=True)
    return model.eval()


def vgg16(weights: Any = None, num_classes: int = 1000) -> VGG:
    """VGG16 with layers ``conv1_1`` … ``relu5_3``; random weights unless given.

    Args:
        weights: ``None`` (random), a path to a state dict (ours or torchvision's), a state
            dict, or ``torchvision.models.VGG16_Weights.IMAGENET1K_V1`` when you have it.
        num_classes: outputs of the classifier.

    Examples:
        >>> net = vgg16()
        >>> net.features(__import__("torch").rand(1, 3, 32, 32), upto="relu2_1").shape
        torch.Size([1, 128, 16, 16])
    """
    return _build("vgg16", weights, num_classes)


def vgg19(weights: Any = None, num_classes: int = 1000) -> VGG:
    """VGG19 with layers ``conv1_1`` … ``relu5_4``; random weights unless given.

    Args:
        weights: as for :func:`vgg16`, with VGG19 weights.
        num_classes: outputs of the classifier.

    Examples:
        >>> "relu5_4" in dict(vgg19().named_modules())
        True
    """
    return _build("vgg19", weights, num_classes)
