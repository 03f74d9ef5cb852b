"""A layer's activation maps for one image, most active channel framed.

    .venv/bin/python examples/activations.py [--quick] [--out docs/img/activations]

Runs the ``activations`` recipe (:mod:`attribkit.recipes.activations`): writes
``blocks-1.png`` and ``blocks-5.png`` (EfficientNet-Lite0 channels for Chelsea the cat) and
``digits.png`` (all channels of the digits CNN's ``relu2`` for one digit).
"""

from __future__ import annotations

from attribkit.recipes.script import run_example

if __name__ == "__main__":
    run_example(
        "activations",
        __doc__,
        "docs/img/activations",
        files={
            "activations-_blocks-1": "blocks-1",
            "activations-_blocks-5": "blocks-5",
            "activations-digits": "digits",
        },
    )
