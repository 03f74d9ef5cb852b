"""Offline models: EfficientNet-Lite0 (ImageNet), VGG16/19 with named layers, a digits CNN."""

from attribkit.models.backbones import (
    BACKBONES,
    LAYER_USES,
    BackboneLayers,
    backbone_layers,
    default_layers,
)
from attribkit.models.digits import DigitsCNN, load_digits_tensors, train_digits_cnn
from attribkit.models.efficientnet import EfficientNetLite0, efficientnet_lite0
from attribkit.models.imagenet import Prediction, class_index, imagenet_classes, predict
from attribkit.models.normalize import IMAGENET_MEAN, IMAGENET_STD, Normalize, NormalizedModel
from attribkit.models.registry import MODEL_HELP, load_model
from attribkit.models.vgg import VGG, vgg16, vgg19

__all__ = [
    "BACKBONES",
    "BackboneLayers",
    "LAYER_USES",
    "backbone_layers",
    "default_layers",
    "DigitsCNN",
    "EfficientNetLite0",
    "IMAGENET_MEAN",
    "IMAGENET_STD",
    "Normalize",
    "NormalizedModel",
    "Prediction",
    "VGG",
    "class_index",
    "efficientnet_lite0",
    "imagenet_classes",
    "MODEL_HELP",
    "load_digits_tensors",
    "load_model",
    "predict",
    "train_digits_cnn",
    "vgg16",
    "vgg19",
]
