"""Looking inside: layer names, activation capture, features, filters, activation maps,
receptive fields and maximally activating patches."""

from attribkit.layers.activations import ActivationGrid, activation_grid
from attribkit.layers.batches import iter_batches
from attribkit.layers.features import extract_features, pool_features
from attribkit.layers.filters import filter_grid, first_conv
from attribkit.layers.hooks import (
    Activations,
    assert_no_hooks,
    capture,
    count_hooks,
    forward_to,
    layer_name,
    resolve_layer,
)
from attribkit.layers.patches import MaxActivatingPatches, crop_box, random_crops
from attribkit.layers.receptive_field import (
    ReceptiveField,
    analytic_receptive_field,
    empirical_receptive_field,
    receptive_field,
)
from attribkit.layers.state import frozen, preserve_state
from attribkit.layers.topk import TopK, batch_topk, merge_topk

__all__ = [
    "ActivationGrid",
    "Activations",
    "MaxActivatingPatches",
    "ReceptiveField",
    "TopK",
    "activation_grid",
    "analytic_receptive_field",
    "assert_no_hooks",
    "batch_topk",
    "capture",
    "count_hooks",
    "crop_box",
    "empirical_receptive_field",
    "extract_features",
    "filter_grid",
    "first_conv",
    "forward_to",
    "frozen",
    "iter_batches",
    "layer_name",
    "merge_topk",
    "pool_features",
    "preserve_state",
    "random_crops",
    "receptive_field",
    "resolve_layer",
]
