"""Maximally activating patches, cropped to the receptive field.

    .venv/bin/python examples/patches.py [--quick] [--out docs/img/patches]

Runs the ``patches`` recipe (:mod:`attribkit.recipes.patches`): scans random crops of the
labelled photos of ``photo_set()`` with EfficientNet-Lite0 (layer ``_blocks.4``; 12 crops of
each of the 332 photos, ``--quick``: 4 crops of 120) and all 1,797 digits with the digits CNN
(layer ``relu3``); writes ``photos.png`` (each row's hits from different photos) and
``digits.png`` (one row per channel, strongest hits first).
"""

from __future__ import annotations

from attribkit.recipes.script import run_example

if __name__ == "__main__":
    run_example(
        "patches",
        __doc__,
        "docs/img/patches",
        files={"patches-photos": "photos", "patches-digits": "digits"},
    )
