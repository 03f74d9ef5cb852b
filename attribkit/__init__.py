"""attribkit: visualize and understand convolutional networks, in Captum's API.

Everything public is importable from here: ``from attribkit import Occlusion``.
"""

from attribkit.attr import (
    Deconvolution,
    FeatureAblation,
    GuidedBackprop,
    GuidedGradCam,
    IntegratedGradients,
    LayerActivation,
    LayerGradCam,
    NoiseTunnel,
    Occlusion,
    Saliency,
    UnsupportedActivationError,
    gradcam_map,
    saliency_grabcut,
    saliency_map,
)
from attribkit.data import painting_path, sample_image, sample_names
from attribkit.io import load_image, save_image, to_numpy, to_pil
from attribkit.layers import capture, frozen, preserve_state, resolve_layer
from attribkit.models import (
    DigitsCNN,
    NormalizedModel,
    class_index,
    efficientnet_lite0,
    imagenet_classes,
    load_digits_tensors,
    predict,
    train_digits_cnn,
    vgg16,
    vgg19,
)
from attribkit.viz import Report, make_grid, show

__version__ = "0.1.0"

__all__ = [
    "Deconvolution",
    "FeatureAblation",
    "GuidedBackprop",
    "GuidedGradCam",
    "IntegratedGradients",
    "LayerActivation",
    "LayerGradCam",
    "NoiseTunnel",
    "Occlusion",
    "Saliency",
    "UnsupportedActivationError",
    "gradcam_map",
    "saliency_grabcut",
    "saliency_map",
    "DigitsCNN",
    "NormalizedModel",
    "Report",
    "__version__",
    "capture",
    "class_index",
    "efficientnet_lite0",
    "frozen",
    "imagenet_classes",
    "load_digits_tensors",
    "load_image",
    "make_grid",
    "painting_path",
    "predict",
    "preserve_state",
    "resolve_layer",
    "sample_image",
    "sample_names",
    "save_image",
    "show",
    "to_numpy",
    "to_pil",
    "train_digits_cnn",
    "vgg16",
    "vgg19",
]
