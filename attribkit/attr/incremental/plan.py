"""A plan for one model and one set of window positions: where every activation changes, how
each is computed, what to cache, and the batched evaluation of occluded copies.

:func:`assemble` finishes the plan that :meth:`IncrementalModel.plan
<attribkit.attr.incremental.engine.IncrementalModel.plan>` starts: it folds batch norm and
in-place activations (:func:`~attribkit.attr.incremental.rules.fuse`), lets a convolution pad
its own input where a symmetric zero padding feeds only it, decides which unoccluded
activations to keep, and when each value can be freed.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import torch
from torch import fx, nn
from torch.fx.node import map_aggregate

from attribkit.attr.incremental.geometry import Boxes
from attribkit.attr.incremental.patch import Patch, flat_cache
from attribkit.attr.incremental.rules import ConvRule, Rule, ShiftRule, fuse

if TYPE_CHECKING:
    from attribkit.attr.incremental.engine import IncrementalModel

__all__ = ["NotIncremental", "Plan", "Reference", "assemble", "fetch_attr", "run_node"]


class NotIncremental(RuntimeError):
    """The model (or this call) cannot run incrementally; the message says why.

    Examples:
        >>> str(NotIncremental("the model cannot be traced"))
        'the model cannot be traced'
    """


def run_node(node: fx.Node, modules: dict[str, nn.Module], args: Any, kwargs: Any) -> Any:
    if node.op == "call_module":
        return modules[str(node.target)](*args, **kwargs)
    if node.op == "call_function":
        return node.target(*args, **kwargs)  # type: ignore[operator]
    self_obj, *rest = args
    return getattr(self_obj, str(node.target))(*rest, **kwargs)


def fetch_attr(root: nn.Module, target: str) -> Any:
    value: Any = root
    for part in target.split("."):
        value = getattr(value, part)
    return value


@dataclass
class Reference:
    """The unoccluded image's output and the activations a plan reads
    (:meth:`Plan.reference`; see :class:`IncrementalModel` for an example)."""

    output: torch.Tensor
    caches: dict[fx.Node, torch.Tensor]

    @property
    def nbytes(self) -> int:
        """Bytes held by the cached activations."""
        return sum(t.numel() * t.element_size() for t in self.caches.values())


@dataclass
class Plan:
    """Where each node's activation changes, for every window position, and how to compute it
    (:meth:`IncrementalModel.plan`; see :class:`IncrementalModel` for an example).

    Attributes:
        boxes: per node computed incrementally, its boxes.
        rules: the local rule of each such node.
        cached: the nodes whose unoccluded activation is read (kept by :meth:`reference`).
        frontier: the nodes that run whole on patched tensors because no rule applies.
    """

    model: IncrementalModel
    boxes: dict[fx.Node, Boxes]
    rules: dict[fx.Node, Rule]
    cached: set[fx.Node]
    frontier: list[fx.Node]
    #: nodes never computed (a padding absorbed by the convolution that reads it)
    skip: set[fx.Node] = field(default_factory=set)
    _release: dict[fx.Node, list[fx.Node]] = field(default_factory=dict)

    def reference(self, image: torch.Tensor, expected: torch.Tensor | None = None) -> Reference:
        """Run the unoccluded ``1×C×H×W`` image; keep the activations this plan reads.

        Args:
            image: the image.
            expected: the model's own output on it; the traced graph must reproduce it.

        Raises:
            NotIncremental: the traced graph's output differs from ``expected``.
        """
        caches: dict[fx.Node, torch.Tensor] = {}

        def keep(node: fx.Node, value: Any) -> None:
            if node in self.cached:
                caches[node] = flat_cache(value)

        output = self.model.run_whole(image, keep)
        if expected is not None:
            expected = expected.detach()
            if not isinstance(output, torch.Tensor) or output.shape != expected.shape:
                raise NotIncremental("the traced graph returns a different shape")
            scale = float(expected.abs().max()) if expected.numel() else 0.0
            if not torch.allclose(output, expected, rtol=1e-4, atol=1e-5 * scale + 1e-12):
                raise NotIncremental("the traced graph does not reproduce the model's output")
        return Reference(output, caches)

    def evaluate(self, ref: Reference, box: torch.Tensor, positions: torch.Tensor | slice) -> Any:
        """The model's output on occluded copies of the reference image.

        Args:
            ref: the reference run of the image.
            box: ``B×C×h×w`` input values inside the input boxes of those positions.
            positions: which window positions (an index tensor or a slice of ``B``).
        """
        env: dict[fx.Node, Any] = dict(self.model.constants)
        taken: dict[int, Boxes] = {}  # nodes share Boxes objects (pointwise rules)
        for node in self.model.order:
            if self._step(node, env, ref, box, positions, taken):
                return env[node]
        raise NotIncremental("the traced graph has no output")  # pragma: no cover

    def _step(
        self,
        node: fx.Node,
        env: dict[fx.Node, Any],
        ref: Reference,
        box: torch.Tensor,
        positions: torch.Tensor | slice,
        taken: dict[int, Boxes],
    ) -> bool:
        """Run one node into ``env``; ``True`` at the output node (its value is in ``env``)."""
        m = self.model
        kind = m.kinds[node]
        if kind == "plain":
            return False
        cache = ref.caches
        if kind == "input":
            b = self._take(node, positions, taken, box.device)
            env[node] = Patch(box, b.top, b.left, b.map_size, cache.get(node))
        elif node.op == "output":
            env[node] = map_aggregate(fx.node.map_arg(node.args[0], env.__getitem__), _whole)
            return True
        elif node in self.skip:
            return False
        else:
            rule = self.rules.get(node)
            source = getattr(rule, "reads_from", None)
            if source is not None:
                rest = fx.node.map_arg(node.args[1:], env.__getitem__)
                args = (env[source], *rest)
            else:
                args = fx.node.map_arg(node.args, env.__getitem__)
            kwargs = fx.node.map_arg(node.kwargs, env.__getitem__)
            if rule is not None:
                b = self._take(node, positions, taken, box.device)
                value = rule.apply(args, kwargs, b)  # type: ignore[arg-type]
                env[node] = Patch(value, b.top, b.left, b.map_size, cache.get(node))
            elif kind == "meta":
                env[node] = run_node(node, m.modules, args, kwargs)
            else:
                args, kwargs = map_aggregate((args, kwargs), _whole)
                env[node] = run_node(node, m.modules, args, kwargs)
        for gone in self._release.get(node, ()):
            env.pop(gone, None)
        return False

    def _take(
        self,
        node: fx.Node,
        positions: torch.Tensor | slice,
        taken: dict[int, Boxes],
        device: torch.device,
    ) -> Boxes:
        boxes = self.boxes[node]
        key = id(boxes)
        if key not in taken:
            taken[key] = boxes.take(positions).to(device)
        return taken[key]

    def batch_bytes(self, batch: int) -> int:
        """Peak bytes of the activations one batch of ``batch`` occluded copies keeps alive at
        once (boxes where the plan is incremental, whole maps after the frontier), following
        the graph's order and freeing each value after its last reader."""
        m = self.model
        live = peak = 0
        sizes: dict[fx.Node, int] = {}
        for node in m.order:
            shape = m.shapes.get(node)
            if m.kinds[node] in ("data", "input") and shape is not None and len(shape) > 0:
                boxes = self.boxes.get(node)
                numel = shape[1:].numel()
                if boxes is not None and len(shape) == 4:
                    numel = shape[1] * boxes.height * boxes.width
                sizes[node] = numel * batch * 4
                live += sizes[node]
                peak = max(peak, live)
            for gone in self._release.get(node, ()):
                live -= sizes.pop(gone, 0)
        return peak

    @property
    def work_fraction(self) -> float:
        """Multiply-accumulates of convolutions and linear layers under this plan, as a
        fraction of the whole forward pass's (per occluded copy)."""
        total = part = 0.0
        for node, macs in self.model.macs.items():
            total += macs
            b = self.boxes.get(node)
            part += macs * (b.area_fraction if b is not None else 1.0)
        return part / total if total else 1.0


def _whole(value: Any) -> Any:
    return value.full() if isinstance(value, Patch) else value


def _absorb_pads(plan: Plan) -> dict[fx.Node, list[fx.Node]]:
    """Let each convolution whose input is a symmetric zero padding read by nothing else pad
    by itself (saves a copy of every whole map); returns the new reads ``{conv: [source]}``."""
    extra: dict[fx.Node, list[fx.Node]] = {}
    for node, rule in list(plan.rules.items()):
        if not isinstance(rule, ShiftRule) or rule.value != 0.0 or len(node.users) != 1:
            continue
        left, right, top, bottom = rule.pad
        conv_node = next(iter(node.users))
        conv = plan.rules.get(conv_node)
        if left != right or top != bottom or not isinstance(conv, ConvRule):
            continue
        if conv.op.padding != (0, 0) or not conv_node.args or conv_node.args[0] is not node:
            continue
        source = rule.sources[0]
        plan.rules[conv_node] = conv.padded(source, (top, left))
        del plan.rules[node]
        plan.skip.add(node)
        extra[conv_node] = [source]
    return extra


def assemble(
    model: IncrementalModel,
    boxes: dict[fx.Node, Boxes],
    rules: dict[fx.Node, Rule],
    frontier: list[fx.Node],
) -> Plan:
    """Finish a plan from each node's boxes and rule and the nodes that run whole.

    Examples:
        >>> import torch
        >>> from torch import nn
        >>> from attribkit.attr.incremental import IncrementalModel, WindowGrid
        >>> net = nn.Sequential(nn.ZeroPad2d(1), nn.Conv2d(3, 2, 3), nn.ReLU()).eval()
        >>> plan = IncrementalModel(net, torch.rand(1, 3, 8, 8)).plan(
        ...     WindowGrid((3, 8, 8), (3, 2, 2), (3, 2, 2)).boxes())
        >>> [n.name for n in plan.skip]  # the convolution pads its input itself
        ['_0']
    """
    plan = Plan(model, boxes, fuse(rules, model.order), set(), frontier)
    extra = _absorb_pads(plan)
    for node, rule in plan.rules.items():
        ins = [boxes[s] for s in rule.sources]
        plan.cached.update(
            s for s, read in zip(rule.sources, rule.reads_cache(ins, boxes[node])) if read
        )
    for node in frontier:
        plan.cached.update(s for s in node.all_input_nodes if s in boxes and not boxes[s].full)
    plan._release = _release_points(model, extra)
    return plan


def _release_points(
    model: IncrementalModel, extra: dict[fx.Node, list[fx.Node]]
) -> dict[fx.Node, list[fx.Node]]:
    position = {n: i for i, n in enumerate(model.order)}
    last: dict[fx.Node, fx.Node] = {}
    for node in model.order:
        for a in node.all_input_nodes + extra.get(node, []):
            if model.kinds[a] != "plain" and (a not in last or position[node] > position[last[a]]):
                last[a] = node
    release: dict[fx.Node, list[fx.Node]] = {}
    for value, user in last.items():
        release.setdefault(user, []).append(value)
    return release
