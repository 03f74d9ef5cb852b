"""Adversarial examples: fooling images, their pictures, and success-rate sweeps."""

from attribkit.adversarial.fooling import (
    FoolingImage,
    FoolingReport,
    SweepResult,
    fooling_figure,
    fooling_sweep,
)
from attribkit.adversarial.projected import ProjectedImage, project

__all__ = [
    "FoolingImage",
    "FoolingReport",
    "ProjectedImage",
    "SweepResult",
    "fooling_figure",
    "fooling_sweep",
    "project",
]
