"""Attributions in Captum's API: Captum's classes subclassed with input checks, dotted layer
names and state discipline, plus guided backprop that is correct for ReLU6 and ``F.relu``."""

from attribkit.attr.feature_ablation import FeatureAblation
from attribkit.attr.grabcut import saliency_grabcut
from attribkit.attr.gradcam import GuidedGradCam, LayerGradCam, gradcam_map, last_conv_layer
from attribkit.attr.guided import (
    Deconvolution,
    GuidedBackprop,
    UnsupportedActivationError,
    unguidable_modules,
)
from attribkit.attr.integrated_gradients import IntegratedGradients
from attribkit.attr.layer_activation import LayerActivation
from attribkit.attr.neuron import LayerChannels
from attribkit.attr.noise_tunnel import NoiseTunnel
from attribkit.attr.occlusion import Occlusion, count_occlusions
from attribkit.attr.saliency import Saliency, saliency_map

__all__ = [
    "Deconvolution",
    "FeatureAblation",
    "GuidedBackprop",
    "GuidedGradCam",
    "IntegratedGradients",
    "LayerActivation",
    "LayerChannels",
    "LayerGradCam",
    "NoiseTunnel",
    "Occlusion",
    "Saliency",
    "UnsupportedActivationError",
    "count_occlusions",
    "gradcam_map",
    "last_conv_layer",
    "saliency_grabcut",
    "saliency_map",
    "unguidable_modules",
]
