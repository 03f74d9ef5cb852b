"""Synthesis by optimization: parameterizations, transforms, objectives, the loop, and the one
base every image-optimization technique stands on.

Class and neuron visualization, DeepDream and feature inversion live here; texture synthesis
and style transfer (:mod:`attribkit.style`) and fooling images (:mod:`attribkit.adversarial`)
stand on the same :class:`ImageSynthesis` base and return the same :class:`SynthesisResult`.
"""

from attribkit.optvis.classvis import ClassVisualization, NeuronVisualization
from attribkit.optvis.deepdream import DeepDream
from attribkit.optvis.distances import alpha_norm, feature_loss
from attribkit.optvis.facets import multifaceted_init
from attribkit.optvis.inversion import (
    FeatureInversion,
    InversionSweep,
    default_tv_weight,
    inversion_sweep,
    psnr,
)
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
    channel,
    class_logit,
    class_logprob,
    deepdream,
    diversity,
    from_lucent,
    neuron,
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
from attribkit.optvis.penalties import blur_penalty, l1, l2, total_variation
from attribkit.optvis.presets import PRESETS, Preset, yosinski_regularizer
from attribkit.optvis.synthesis import (
    ImageSynthesis,
    Problem,
    SynthesisOptions,
    SynthesisResult,
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
    "ImageSynthesis",
    "InversionSweep",
    "Problem",
    "SynthesisOptions",
    "SynthesisResult",
    "alpha_norm",
    "default_tv_weight",
    "feature_loss",
    "inversion_sweep",
    "psnr",
    "PRESETS",
    "ClassVisualization",
    "DeepDream",
    "NeuronVisualization",
    "Preset",
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
