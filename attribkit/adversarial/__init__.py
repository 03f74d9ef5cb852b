"""Adversarial examples: fooling images, their pictures, and success-rate sweeps."""

from attribkit.adversarial.fooling import (
    FoolingImage,
    FoolingReport,
    SweepResult,
    fooling_figure,
    fooling_sweep,
)

__all__ = ["FoolingImage", "FoolingReport", "SweepResult", "fooling_figure", "fooling_sweep"]
