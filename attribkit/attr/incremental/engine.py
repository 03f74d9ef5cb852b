"""Incremental inference of a traced model on occluded copies of one image.

:class:`IncrementalModel` traces a model with ``torch.fx`` and classifies every node once.
:meth:`IncrementalModel.plan` follows the occluding boxes through the graph for every window
position at once: each node with a local rule (:mod:`~attribkit.attr.incremental.rules`) gets
a box per position; the first node without one, and every node after it that reads it, runs
whole on the patched tensors. :meth:`Plan.reference` runs the unoccluded image once and keeps
the activations the plan reads; :meth:`Plan.evaluate` then computes the model's output for a
batch of occluded copies from their input boxes.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import torch
from torch import fx, nn

from attribkit.attr.incremental.geometry import Boxes, Limits
from attribkit.attr.incremental.local_ops import is_in_place, rule_for
from attribkit.attr.incremental.plan import NotIncremental, Plan, assemble, fetch_attr, run_node
from attribkit.attr.incremental.rules import Rule
from attribkit.models.normalize import Normalize

__all__ = ["IncrementalModel"]

#: tensor attributes that do not depend on the batch
_FIXED_ATTRS = {"dtype", "device", "ndim", "is_cuda", "layout", "is_floating_point"}
_META_METHODS = {"size", "dim", "ndimension"}


class _Tracer(fx.Tracer):
    """``torch.fx``'s tracer keeping attribkit's input normalization as one call (its input
    shape check cannot be traced; the local rule treats it as a per-channel operation)."""

    def is_leaf_module(self, m: nn.Module, module_qualified_name: str) -> bool:
        return isinstance(m, Normalize) or super().is_leaf_module(m, module_qualified_name)


class IncrementalModel:
    """A model traced for incremental inference on occluded copies of an image.

    Args:
        model: the network (an ``nn.Module`` in eval mode taking one ``N×C×H×W`` tensor).
        example: a ``1×C×H×W`` image of the size that will be occluded.

    Raises:
        TypeError: ``model`` is not an ``nn.Module`` or ``example`` not a tensor.
        ValueError: ``example`` is not one floating-point ``1×C×H×W`` image.
        NotIncremental: the model cannot be traced, is in training mode, writes in place into
            a tensor that something else reads, or needs a second input.

    Examples:
        >>> import torch
        >>> from torch import nn
        >>> net = nn.Sequential(nn.Conv2d(3, 4, 3, padding=1), nn.ReLU(),
        ...                     nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(4, 2)).eval()
        >>> x = torch.rand(1, 3, 16, 16)
        >>> inc = IncrementalModel(net, x)
        >>> boxes = Boxes(torch.tensor([4]), torch.tensor([4]), 4, 4, 16, 16)
        >>> plan = inc.plan(boxes)
        >>> ref = plan.reference(x)
        >>> occluded = x.clone(); occluded[..., 4:8, 4:8] = 0
        >>> out = plan.evaluate(ref, occluded[..., 4:8, 4:8], slice(0, 1))
        >>> torch.allclose(out, net(occluded), atol=1e-6)
        True
    """

    def __init__(self, model: nn.Module, example: torch.Tensor) -> None:
        if not isinstance(model, nn.Module):
            raise TypeError(f"model must be an nn.Module, got {type(model).__name__}")
        if not isinstance(example, torch.Tensor):
            raise TypeError(f"example must be a tensor, got {type(example).__name__}")
        if example.dim() != 4 or example.shape[0] != 1 or not example.is_floating_point():
            raise ValueError(
                f"example must be one floating-point 1×C×H×W image, got shape "
                f"{tuple(example.shape)} ({example.dtype}); use x[:1]"
            )
        training = [name or "the model" for name, m in model.named_modules() if m.training]
        if training:
            raise NotIncremental(f"{training[0]} is in training mode")
        try:
            tracer = _Tracer()
            graph = tracer.trace(model)
            self.graph_module = fx.GraphModule(tracer.root, graph, type(model).__name__)
        except Exception as err:  # noqa: BLE001 - any tracing failure means "not traceable"
            raise NotIncremental(
                f"the model cannot be traced ({type(err).__name__}: {err})"
            ) from err
        self.modules = dict(self.graph_module.named_modules())
        self.order = list(self.graph_module.graph.nodes)
        placeholders = [n for n in self.order if n.op == "placeholder"]
        if not placeholders:
            raise NotIncremental("the traced graph has no input")
        self.input = placeholders[0]
        self.kinds: dict[fx.Node, str] = {}
        self.constants: dict[fx.Node, Any] = {}
        self.shapes: dict[fx.Node, torch.Size] = {}
        self.macs: dict[fx.Node, float] = {}
        self._classify(example)
        for node in self.order:
            if is_in_place(node, self.modules) and node.args:
                first = node.args[0]
                if isinstance(first, fx.Node) and len(first.users) > 1:
                    raise NotIncremental(
                        f"{node.name} writes in place into a tensor that is also read elsewhere"
                    )

    # ------------------------------------------------------------------ classification
    def _classify(self, example: torch.Tensor) -> None:
        kinds, constants = self.kinds, self.constants
        for node in self.order:
            if node is self.input:
                kinds[node] = "input"
            elif node.op == "placeholder":
                if not node.args:
                    raise NotIncremental(f"the model's forward needs a second input ({node.name})")
                kinds[node] = "plain"
            elif node.op in ("get_attr", "output"):
                kinds[node] = "plain" if node.op == "get_attr" else "output"
            else:
                arg_kinds = {kinds[a] for a in node.all_input_nodes}
                first = node.args[0] if node.args else None
                data_first = isinstance(first, fx.Node) and kinds[first] in ("input", "data")
                if arg_kinds <= {"plain"}:
                    kinds[node] = "plain"
                elif data_first and _fixed_meta(node):
                    kinds[node] = "plain"
                elif data_first and _dynamic_meta(node):
                    kinds[node] = "meta"
                elif not arg_kinds & {"input", "data"}:
                    kinds[node] = "meta"
                else:
                    kinds[node] = "data"

        def record(node: fx.Node, value: Any) -> None:
            if isinstance(value, torch.Tensor):
                self.shapes[node] = value.shape
            if self.kinds[node] == "plain":
                constants[node] = value
            self._count_macs(node, value)

        with torch.no_grad():
            self.run_whole(example, record)

    def _count_macs(self, node: fx.Node, value: Any) -> None:
        if not isinstance(value, torch.Tensor):
            return
        weight = None
        if node.op == "call_module":
            m = self.modules[str(node.target)]
            if isinstance(m, (nn.Conv2d, nn.Linear)):
                weight = m.weight
        elif node.op == "call_function" and node.target is torch.nn.functional.conv2d:
            w = node.args[1] if len(node.args) > 1 else node.kwargs.get("weight")
            weight = self.constants.get(w) if isinstance(w, fx.Node) else None
        if isinstance(weight, torch.Tensor):
            per_output = weight[0].numel()
            self.macs[node] = float(per_output * value[0].numel())

    def run_whole(self, image: torch.Tensor, visit: Callable[[fx.Node, Any], None]) -> Any:
        """Run the traced graph on ``image`` node by node, calling ``visit(node, value)``."""
        env: dict[fx.Node, Any] = {}
        remaining = {n: len(n.users) for n in self.order}
        with torch.no_grad():
            for node in self.order:
                if node is self.input:
                    value: Any = image
                elif node.op == "placeholder":
                    value = node.args[0]
                elif node.op == "get_attr":
                    value = fetch_attr(self.graph_module, str(node.target))
                elif node.op == "output":
                    return fx.node.map_arg(node.args[0], env.__getitem__)
                else:
                    args = fx.node.map_arg(node.args, env.__getitem__)
                    kwargs = fx.node.map_arg(node.kwargs, env.__getitem__)
                    value = run_node(node, self.modules, args, kwargs)
                visit(node, value)
                env[node] = value
                for a in node.all_input_nodes:
                    remaining[a] -= 1
                    if remaining[a] == 0 and self.kinds.get(a) != "plain":
                        env.pop(a, None)
        raise NotIncremental("the traced graph has no output")  # pragma: no cover

    # ------------------------------------------------------------------ planning
    def plan(self, boxes: Boxes, limits: Limits | None = None) -> Plan:
        """Follow the input ``boxes`` (one per window position) through the graph.

        Args:
            boxes: where the input changes, per window position.
            limits: projective-field threshold and the switch to whole maps (default exact).

        Raises:
            TypeError: ``boxes`` or ``limits`` of the wrong type.
            ValueError: ``boxes`` are not on the input's map.
            NotIncremental: no operation on the input has a local rule.
        """
        if not isinstance(boxes, Boxes):
            raise TypeError(f"boxes must be Boxes, got {type(boxes).__name__}")
        if limits is not None and not isinstance(limits, Limits):
            raise TypeError(f"limits must be Limits or None, got {type(limits).__name__}")
        limits = limits or Limits()
        shape = self.shapes[self.input]
        if (boxes.map_height, boxes.map_width) != tuple(shape[-2:]):
            raise ValueError(
                f"boxes are on a {boxes.map_height}×{boxes.map_width} map, the input is "
                f"{shape[-2]}×{shape[-1]}"
            )
        patched: dict[fx.Node, Boxes] = {self.input: boxes}
        rules: dict[fx.Node, Rule] = {}
        frontier: list[fx.Node] = []
        for node in self.order:
            if self.kinds[node] not in ("data", "output"):
                continue
            sources = [a for a in node.all_input_nodes if a in patched]
            if not sources:
                continue
            rule = None
            if self.kinds[node] == "data" and node in self.shapes:
                rule = rule_for(node, self.modules, set(patched), self.shapes, self.constants)
            if rule is not None and all(s in patched for s in rule.sources):
                ins = [patched[s] for s in rule.sources]
                out = rule.boxes(ins, self.shapes[node], limits)
                patched[node] = out
                rules[node] = rule
            else:
                frontier.append(node)
        if not rules:
            raise NotIncremental("no operation on the input has a local rule")
        return assemble(self, patched, rules, frontier)


def _fixed_meta(node: fx.Node) -> bool:
    """Reads a property of a data tensor that does not depend on the batch."""
    if node.op == "call_function" and node.target is getattr:
        return str(node.args[1]) in _FIXED_ATTRS
    if node.op == "call_method" and node.target in ("dim", "ndimension"):
        return True
    if node.op == "call_method" and node.target == "size":
        dim = node.args[1] if len(node.args) > 1 else node.kwargs.get("dim")
        return isinstance(dim, int) and dim not in (0, -4)
    return False


def _dynamic_meta(node: fx.Node) -> bool:
    """Reads the shape of a data tensor (it depends on the batch size)."""
    if node.op == "call_function" and node.target is getattr:
        return str(node.args[1]) == "shape"
    return node.op == "call_method" and node.target in _META_METHODS
