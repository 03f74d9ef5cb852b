"""Synthesis by optimization: parameterizations, transforms, objectives and the loop.

Class and neuron visualization, DeepDream, feature inversion, texture synthesis and style
transfer all build on :func:`optimize`.
"""

from attribkit.optvis.classvis import (
    PRESETS,
    ClassVisualization,
    NeuronVisualization,
    Preset,
    VisualizationResult,
    multifaceted_init,
    yosinski_regularizer,
)
from attribkit.optvis.deepdream import DeepDream, DreamResult
from attribkit.optvis.inversion import FeatureInversion, InversionSweep, inversion_sweep, psnr
from attribkit.optvis.loop import (
    OptimizationResult,
    OptimizationState,
    make_optimizer,
    optimize,
)
from attribkit.optvis.objectives import (
    Objective,
    ObjectiveContext,
    as_objective,
    blur_penalty,
    channel,
    class_logit,
    class_logprob,
    deepdream,
    diversity,
    from_lucent,
    l1,
    l2,
    neuron,
    total_variation,
)
from attribkit.optvis.optim import NormalizedGradient
from attribkit.optvis.param import (
    DecorrelatedColor,
    FFTImage,
    ImageParam,
    LucentParam,
    PixelImage,
    as_param,
    image_param,
)
from attribkit.optvis.transforms import (
    Compose,
    GaussianBlur,
    Jitter,
    Pad,
    RandomRotate,
    RandomScale,
    Transform,
    gaussian_blur,
    standard_transforms,
)

__all__ = [
    "FeatureInversion",
    "InversionSweep",
    "inversion_sweep",
    "psnr",
    "PRESETS",
    "ClassVisualization",
    "DeepDream",
    "DreamResult",
    "NeuronVisualization",
    "Preset",
    "VisualizationResult",
    "multifaceted_init",
    "yosinski_regularizer",
    "Compose",
    "DecorrelatedColor",
    "FFTImage",
    "GaussianBlur",
    "ImageParam",
    "Jitter",
    "LucentParam",
    "NormalizedGradient",
    "Objective",
    "ObjectiveContext",
    "OptimizationResult",
    "OptimizationState",
    "Pad",
    "PixelImage",
    "RandomRotate",
    "RandomScale",
    "Transform",
    "as_objective",
    "as_param",
    "blur_penalty",
    "channel",
    "class_logit",
    "class_logprob",
    "deepdream",
    "diversity",
    "from_lucent",
    "gaussian_blur",
    "image_param",
    "l1",
    "l2",
    "make_optimizer",
    "neuron",
    "optimize",
    "standard_transforms",
    "total_variation",
]
