"""Exact incremental occlusion (Krypton: Nakandala, Kumar & Papakonstantinou, SIGMOD 2019).

``Occlusion.attribute`` calls :func:`try_incremental_occlusion`; the modules below are its
parts: box arithmetic (``geometry``), patched activations (``patch``), local rules (``rules``),
the traced engine (``engine``), Captum's windows (``windows``), batched scoring (``scoring``)
and the approximate mode (``approximate``).
"""

from attribkit.attr.incremental.approximate import (
    Agreement,
    Approximation,
    drill_down,
    map_agreement,
)
from attribkit.attr.incremental.attribute import OcclusionOutcome, try_incremental_occlusion
from attribkit.attr.incremental.engine import IncrementalModel
from attribkit.attr.incremental.geometry import Boxes, Limits
from attribkit.attr.incremental.plan import NotIncremental, Plan, Reference
from attribkit.attr.incremental.scoring import WindowScorer
from attribkit.attr.incremental.windows import WindowGrid

__all__ = [
    "Agreement",
    "Approximation",
    "Boxes",
    "IncrementalModel",
    "Limits",
    "NotIncremental",
    "OcclusionOutcome",
    "Plan",
    "Reference",
    "WindowGrid",
    "WindowScorer",
    "drill_down",
    "map_agreement",
    "try_incremental_occlusion",
]
