"""Looking inside: layer names, activation capture, and leaving the model as it was found."""

from attribkit.layers.hooks import (
    Activations,
    assert_no_hooks,
    capture,
    count_hooks,
    forward_to,
    layer_name,
    resolve_layer,
)
from attribkit.layers.state import frozen, preserve_state

__all__ = [
    "Activations",
    "assert_no_hooks",
    "capture",
    "count_hooks",
    "forward_to",
    "frozen",
    "layer_name",
    "preserve_state",
    "resolve_layer",
]
