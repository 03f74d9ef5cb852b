"""Input checks shared by every public entry point.

Each check raises ``ValueError`` or ``TypeError`` with a message that says what was wrong and
what to do about it, so that bad input never turns into a silently wrong answer.

The checks live in submodules by job (:mod:`.numbers`, :mod:`.tensors`, :mod:`.targets`,
:mod:`.files`); import them from here."""

from __future__ import annotations

from attribkit._checks.files import (
    MAX_SAFETENSORS_HEADER,
    check_inside_folder,
    read_json_file,
    read_safetensors_header,
)
from attribkit._checks.numbers import (
    check_finite_number,
    check_image_size,
    check_non_negative_int,
    check_non_negative_number,
    check_option_int,
    check_option_number,
    check_positive_int,
    check_positive_number,
    check_seed,
    check_size,
)
from attribkit._checks.targets import (
    TargetError,
    TypeAssertionError,
    ValueAssertionError,
    check_target,
    check_target_fits,
    check_target_form,
)
from attribkit._checks.tensors import (
    UNIT_RANGE_TOLERANCE,
    as_tuple,
    check_choice,
    check_device,
    check_feature_map,
    check_finite,
    check_image_batch,
    check_layer_refs,
    check_model_input,
    check_state_shapes,
    describe,
    unit_range_tolerance,
)

__all__ = [
    "check_positive_int",
    "check_option_int",
    "check_option_number",
    "check_image_size",
    "check_finite_number",
    "check_non_negative_int",
    "check_positive_number",
    "check_non_negative_number",
    "check_size",
    "check_seed",
    "UNIT_RANGE_TOLERANCE",
    "as_tuple",
    "check_finite",
    "check_image_batch",
    "check_layer_refs",
    "check_model_input",
    "describe",
    "check_device",
    "check_state_shapes",
    "check_feature_map",
    "check_choice",
    "unit_range_tolerance",
    "check_target",
    "ValueAssertionError",
    "TypeAssertionError",
    "TargetError",
    "check_target_form",
    "check_target_fits",
    "check_inside_folder",
    "MAX_SAFETENSORS_HEADER",
    "read_safetensors_header",
    "read_json_file",
]
