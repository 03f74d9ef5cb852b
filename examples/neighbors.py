"""Nearest neighbours in feature space vs pixel space, and how often they share a label.

    .venv/bin/python examples/neighbors.py [--quick] [--out docs/img/neighbors]

Runs the ``neighbors`` recipe (:mod:`attribkit.recipes.neighbors`): writes ``digits.png``
(digits CNN penultimate features, one query per class), ``photos.png`` (EfficientNet-Lite0
pooled head features of the labelled photos of ``photo_set()``, one query per group) and
``agreement.png`` (per group: the share of the 5 nearest photos with the query's label, in
feature space, in pixel space and by chance). In each pair of rows, the upper one is feature
space, the lower one pixel space. ``--quick`` keeps 8 photos per group.
"""

from __future__ import annotations

from attribkit.recipes.script import run_example

if __name__ == "__main__":
    run_example(
        "neighbors",
        __doc__,
        "docs/img/neighbors",
        files={
            "neighbors-digits": "digits",
            "neighbors-photos": "photos",
            "neighbors-agreement": "agreement",
        },
    )
