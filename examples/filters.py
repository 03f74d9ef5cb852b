"""First-layer filters as RGB images, deeper filters as per-input-channel grayscale grids.

    .venv/bin/python examples/filters.py [--quick] [--out docs/img/filters]

Runs the ``filters`` recipe (:mod:`attribkit.recipes.filters`): writes ``stem.png``
(EfficientNet-Lite0's 32 first-layer kernels), ``depthwise.png`` (the first block's depthwise
kernels) and ``digits-conv2.png`` (the digits CNN's second layer: one row per filter, one
grayscale kernel per input channel).
"""

from __future__ import annotations

from attribkit.recipes.script import run_example

if __name__ == "__main__":
    run_example(
        "filters",
        __doc__,
        "docs/img/filters",
        files={
            "filters-stem": "stem",
            "filters-depthwise": "depthwise",
            "filters-digits-conv2": "digits-conv2",
        },
    )
