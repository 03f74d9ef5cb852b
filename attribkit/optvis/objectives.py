"""Objectives: per-image scores to maximize, composable with ``+ - * /`` and negation.

An :class:`Objective` reads an :class:`ObjectiveContext` (the image, what the model saw, the
captured activations and, if needed, the model's output) and returns one score per image, shape
``(N,)``. Each objective declares the layers it reads (``.layers``, dotted names from
``model.named_modules()``) and whether it reads the final output (``.needs_output``), so that the
loop hooks only those layers and stops the forward pass as early as it can.

Regularizers (:mod:`attribkit.optvis.penalties`: ``l1``, ``l2``, ``total_variation``,
``blur_penalty``) return *positive penalties*; subtract them: ``class_logit(5) - 1e-3 * l2()``.

Batching: :func:`channel`, :func:`neuron` and :func:`class_logit` accept a list with one index
per image, so ``channel("_blocks.4", range(16))`` visualizes 16 channels in one batch.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import torch

__all__ = [
    # the building blocks
    "Objective",
    "ObjectiveContext",
    "as_objective",
    "from_lucent",
    # what to maximize
    "channel",
    "neuron",
    "class_logit",
    "class_logprob",
    "deepdream",
    "diversity",
    "check_layer_name",
]


@dataclass
class ObjectiveContext:
    """What an objective may read at one step.

    Attributes:
        image: the parameterized images, ``N×C×H×W`` in ``[0, 1]`` (before transforms).
        input: what the model saw (after transforms).
        acts: captured layer outputs keyed by dotted name.
        output: the model's output when some objective needs it, else ``None``.
    """

    image: torch.Tensor
    input: torch.Tensor
    acts: dict[str, torch.Tensor] = field(default_factory=dict)
    output: torch.Tensor | None = None

    def act(self, layer: str) -> torch.Tensor:
        """The activation of ``layer``, with a clear error when it was not captured."""
        if layer not in self.acts:
            raise KeyError(
                f"layer {layer!r} was not captured (captured: {sorted(self.acts)}); "
                "declare it in the objective's layers"
            )
        return self.acts[layer]


ScoreFn = Callable[[ObjectiveContext], torch.Tensor]


def _merge_layers(*groups: Iterable[str]) -> tuple[str, ...]:
    out: list[str] = []
    for g in groups:
        for name in g:
            if name not in out:
                out.append(name)
    return tuple(out)


def _is_scalar(x: object) -> bool:
    return isinstance(x, (int, float)) and not isinstance(x, bool)


class Objective:
    """A per-image score to maximize.

    Args:
        fn: ``fn(ctx) -> Tensor`` of shape ``(N,)`` (a 0-d tensor is broadcast to the batch).
        layers: dotted names of the layers ``fn`` reads through ``ctx.acts``.
        needs_output: ``True`` if ``fn`` reads ``ctx.output``.
        name: a short description, used in ``repr`` and captions.

    Examples:
        >>> import torch
        >>> mean_px = Objective(lambda ctx: ctx.image.mean((1, 2, 3)), name="brightness")
        >>> obj = 2 * mean_px - 1
        >>> ctx = ObjectiveContext(image=torch.ones(2, 3, 4, 4), input=torch.ones(2, 3, 4, 4))
        >>> obj(ctx)
        tensor([1., 1.])
    """

    def __init__(
        self,
        fn: ScoreFn,
        layers: Sequence[str] = (),
        needs_output: bool = False,
        name: str = "",
    ) -> None:
        if not callable(fn):
            raise TypeError(f"fn must be callable, got {type(fn).__name__}")
        if isinstance(layers, str):
            layers = (layers,)
        for layer in layers:
            if not isinstance(layer, str):
                raise TypeError(
                    f"objective layers are dotted names (str), got {type(layer).__name__}; "
                    "use attribkit.layers.layer_name(model, module)"
                )
        self.fn = fn
        self.layers: tuple[str, ...] = _merge_layers(layers)
        self.needs_output = bool(needs_output)
        self.name = name or getattr(fn, "__name__", "objective")

    def __call__(self, ctx: ObjectiveContext) -> torch.Tensor:
        """Return the per-image score, shape ``(N,)``."""
        value = self.fn(ctx)
        n = ctx.image.shape[0]
        if not isinstance(value, torch.Tensor):
            value = torch.as_tensor(value, dtype=ctx.image.dtype, device=ctx.image.device)
        if value.ndim == 0:
            value = value.expand(n)
        if value.shape != (n,):
            raise ValueError(
                f"objective {self.name!r} returned shape {tuple(value.shape)}; "
                f"it must return one score per image, shape ({n},)"
            )
        return value

    def __repr__(self) -> str:
        return f"Objective({self.name})"

    # -- algebra -------------------------------------------------------------------------
    def _combine(self, other: object, op: Callable[[Any, Any], Any], sym: str) -> Objective:
        if isinstance(other, Objective):
            a, b = self, other
            return Objective(
                lambda ctx: op(a(ctx), b(ctx)),
                _merge_layers(a.layers, b.layers),
                a.needs_output or b.needs_output,
                f"({a.name} {sym} {b.name})",
            )
        if _is_scalar(other):
            a, k = self, float(other)  # type: ignore[arg-type]
            return Objective(
                lambda ctx: op(a(ctx), k), a.layers, a.needs_output, f"({a.name} {sym} {k:g})"
            )
        return NotImplemented

    def __add__(self, other: object) -> Objective:
        return self._combine(other, lambda x, y: x + y, "+")

    def __radd__(self, other: object) -> Objective:
        if _is_scalar(other) and other == 0:  # sum([...]) starts from 0
            return self
        return self._combine(other, lambda x, y: y + x, "+")

    def __sub__(self, other: object) -> Objective:
        return self._combine(other, lambda x, y: x - y, "-")

    def __rsub__(self, other: object) -> Objective:
        return self._combine(other, lambda x, y: y - x, "-(rev)")

    def __mul__(self, other: object) -> Objective:
        return self._combine(other, lambda x, y: x * y, "*")

    def __rmul__(self, other: object) -> Objective:
        return self._combine(other, lambda x, y: y * x, "*")

    def __truediv__(self, other: object) -> Objective:
        if not _is_scalar(other):
            raise TypeError("objectives can only be divided by numbers")
        if other == 0:
            raise ZeroDivisionError("division of an objective by zero")
        return self._combine(other, lambda x, y: x / y, "/")

    def __neg__(self) -> Objective:
        a = self
        return Objective(lambda ctx: -a(ctx), a.layers, a.needs_output, f"-{a.name}")


def check_layer_name(layer: object) -> str:
    """Return ``layer`` if it is a non-empty dotted name, else raise (objectives take names)."""
    if not isinstance(layer, str) or not layer:
        raise TypeError(
            f"layer must be a dotted name such as '_blocks.4', got {layer!r}; "
            "use attribkit.layers.layer_name(model, module) for a module"
        )
    return layer


def _indices(index: int | Sequence[int] | torch.Tensor, what: str) -> list[int] | int:
    if isinstance(index, bool):
        raise TypeError(f"{what} must be an int or a list of ints, not a bool")
    if isinstance(index, int):
        if index < 0:
            raise ValueError(f"{what} must be >= 0, got {index}")
        return index
    if isinstance(index, torch.Tensor):
        index = index.flatten().tolist()
    values = list(index)  # type: ignore[arg-type]
    if not values or not all(isinstance(v, int) and not isinstance(v, bool) for v in values):
        raise TypeError(f"{what} must be an int or a non-empty list of ints, got {index!r}")
    if any(v < 0 for v in values):
        raise ValueError(f"{what} must be >= 0, got {values}")
    return values


def _pick(t: torch.Tensor, idx: list[int] | int, what: str, layer: str) -> torch.Tensor:
    """Select channel ``idx`` (one per image when a list) of ``t`` (``N×C×...``)."""
    n, c = t.shape[0], t.shape[1]
    top = idx if isinstance(idx, int) else max(idx)
    if top >= c:
        raise ValueError(f"{what} {top} is out of range: {layer} has {c} (valid 0..{c - 1})")
    if isinstance(idx, int):
        return t[:, idx]
    if len(idx) != n:
        raise ValueError(
            f"{len(idx)} {what}s were given for a batch of {n} images; give one per image "
            f"(make the parameterization with batch {len(idx)})"
        )
    ar = torch.arange(n, device=t.device)
    return t[ar, torch.as_tensor(idx, device=t.device)]


def channel(layer: str, c: int | Sequence[int]) -> Objective:
    """Mean activation of channel ``c`` of ``layer`` (a list gives one channel per image).

    Examples:
        >>> import torch
        >>> obj = channel("conv", 1)
        >>> a = torch.arange(8.0).view(1, 2, 2, 2)
        >>> obj(ObjectiveContext(torch.zeros(1, 3, 2, 2), torch.zeros(1, 3, 2, 2), {"conv": a}))
        tensor([5.5000])
    """
    layer, idx = check_layer_name(layer), _indices(c, "channel")

    def fn(ctx: ObjectiveContext) -> torch.Tensor:
        a = _pick(ctx.act(layer), idx, "channel", layer)
        return a.flatten(1).mean(1) if a.ndim > 1 else a

    return Objective(fn, (layer,), name=f"channel({layer}, {c})")


def neuron(
    layer: str, c: int | Sequence[int], x: int | None = None, y: int | None = None
) -> Objective:
    """Activation of channel ``c`` of ``layer`` at column ``x``, row ``y`` (default: centre).

    Examples:
        >>> import torch
        >>> a = torch.arange(8.0).view(1, 2, 2, 2)
        >>> ctx = ObjectiveContext(torch.zeros(1, 3, 2, 2), torch.zeros(1, 3, 2, 2), {"conv": a})
        >>> neuron("conv", 1, x=0, y=1)(ctx)
        tensor([6.])
    """
    layer, idx = check_layer_name(layer), _indices(c, "channel")

    def fn(ctx: ObjectiveContext) -> torch.Tensor:
        a = _pick(ctx.act(layer), idx, "channel", layer)
        if a.ndim != 3:
            raise ValueError(f"neuron needs a spatial layer (N×C×H×W); {layer} gave {a.ndim + 1}-D")
        h, w = a.shape[1:]
        yy = h // 2 if y is None else y
        xx = w // 2 if x is None else x
        if not (0 <= yy < h and 0 <= xx < w):
            raise ValueError(f"neuron position (x={xx}, y={yy}) is outside {layer}'s {h}×{w} map")
        return a[:, yy, xx]

    return Objective(fn, (layer,), name=f"neuron({layer}, {c}, x={x}, y={y})")


def _output(ctx: ObjectiveContext) -> torch.Tensor:
    if ctx.output is None:
        raise ValueError("this objective needs the model output, but none was computed")
    return ctx.output


def class_logit(c: int | Sequence[int]) -> Objective:
    """The model's output (pre-softmax score) for class ``c`` (a list: one class per image).

    Examples:
        >>> import torch
        >>> ctx = ObjectiveContext(torch.zeros(1, 3, 2, 2), torch.zeros(1, 3, 2, 2),
        ...                        output=torch.tensor([[0.5, 2.0]]))
        >>> class_logit(1)(ctx)
        tensor([2.])
    """
    idx = _indices(c, "class")
    return Objective(
        lambda ctx: _pick(_output(ctx), idx, "class", "the model output"),
        (),
        True,
        f"class_logit({c})",
    )


def class_logprob(c: int | Sequence[int]) -> Objective:
    """Log-softmax probability of class ``c`` (pushes the other classes down too).

    Examples:
        >>> import torch
        >>> ctx = ObjectiveContext(torch.zeros(1, 3, 2, 2), torch.zeros(1, 3, 2, 2),
        ...                        output=torch.zeros(1, 4))
        >>> class_logprob(0)(ctx).exp()
        tensor([0.2500])
    """
    idx = _indices(c, "class")
    return Objective(
        lambda ctx: _pick(torch.log_softmax(_output(ctx), dim=1), idx, "class", "the model output"),
        (),
        True,
        f"class_logprob({c})",
    )


def deepdream(layer: str, reduce: str = "sum") -> Objective:
    """DeepDream's objective: ``½‖a‖²`` of ``layer``, whose gradient at the layer is ``a`` itself.

    Args:
        layer: dotted layer name.
        reduce: ``"sum"`` (``½ Σ a²``, the original) or ``"mean"`` (``mean(a²)``, scale-free).

    Examples:
        >>> import torch
        >>> a = torch.full((1, 2, 2, 2), 2.0)
        >>> deepdream("x")(ObjectiveContext(torch.zeros(1, 3, 2, 2), torch.zeros(1, 3, 2, 2),
        ...                                 {"x": a}))
        tensor([16.])
    """
    layer = check_layer_name(layer)
    if reduce not in ("sum", "mean"):
        raise ValueError(f"reduce must be 'sum' or 'mean', got {reduce!r}")

    def fn(ctx: ObjectiveContext) -> torch.Tensor:
        a = ctx.act(layer).flatten(1)
        return 0.5 * a.pow(2).sum(1) if reduce == "sum" else a.pow(2).mean(1)

    return Objective(fn, (layer,), name=f"deepdream({layer})")


def diversity(layer: str) -> Objective:
    """Diversity across the batch (Olah 2017): minus the mean cosine similarity between each
    image's Gram matrix at ``layer`` and the others'. Maximize it with the main objective.

    Examples:
        >>> import torch
        >>> a = torch.eye(2).view(2, 2, 1, 1)  # two images with orthogonal features
        >>> z = torch.zeros(2, 3, 1, 1)
        >>> diversity("x")(ObjectiveContext(z, z, {"x": a}))
        tensor([-0., -0.])
    """
    layer = check_layer_name(layer)

    def fn(ctx: ObjectiveContext) -> torch.Tensor:
        a = ctx.act(layer)
        n = a.shape[0]
        if n < 2:
            return a.new_zeros(n)
        flat = a.flatten(2)
        gram = torch.bmm(flat, flat.transpose(1, 2)).flatten(1)
        gram = torch.nn.functional.normalize(gram, dim=1)
        sim = gram @ gram.T
        off = sim.sum(1) - sim.diagonal()
        return -off / (n - 1)

    return Objective(fn, (layer,), name=f"diversity({layer})")


def from_lucent(obj: Any, layers: Sequence[str] = (), *, needs_output: bool = False) -> Objective:
    """Wrap a Lucent objective (a loss to *minimize*) as an attribkit objective.

    Lucent objectives call ``T(name)`` with Lucent's underscore names (``"_blocks_4"``); the
    wrapper answers from the activations captured for ``layers`` (given as dotted names), with
    ``"input"`` mapped to what the model saw and ``"labels"`` to the model's output. Lucent
    objectives return one number for the batch, so each image gets ``-value / N``.

    Args:
        obj: a ``lucent.optvis.objectives.Objective`` or any callable ``obj(T) -> Tensor``.
        layers: the dotted names of the layers the Lucent objective reads.
        needs_output: ``True`` if it reads ``"labels"``.

    Returns:
        The objective (maximizing it minimizes Lucent's loss).
    """
    if not callable(obj):
        raise TypeError(f"a Lucent objective must be callable, got {type(obj).__name__}")
    names = tuple(check_layer_name(n) for n in ([layers] if isinstance(layers, str) else layers))
    by_lucent = {n.replace(".", "_"): n for n in names}

    def fn(ctx: ObjectiveContext) -> torch.Tensor:
        def T(name: str) -> torch.Tensor:  # noqa: N802 - Lucent's name for the hook function
            if name == "input":
                return ctx.input
            if name == "labels":
                return _output(ctx)
            key = by_lucent.get(name, name)
            if key not in ctx.acts:
                raise KeyError(
                    f"the Lucent objective read layer {name!r}, which was not captured; "
                    f"pass its dotted name in from_lucent(obj, layers=[...]) (given: {names})"
                )
            return ctx.acts[key]

        value = obj(T)
        n = ctx.image.shape[0]
        return (-value / n).expand(n)

    return Objective(fn, names, needs_output, name=f"lucent({getattr(obj, 'name', obj)})")


def as_objective(obj: object) -> Objective:
    """Return ``obj`` as an :class:`Objective` (objectives pass through; anything else raises).

    Raises:
        TypeError: ``obj`` is not an Objective; the message says how to wrap it.
    """
    if isinstance(obj, Objective):
        return obj
    if callable(obj):
        raise TypeError(
            f"{type(obj).__name__} is not an attribkit Objective: wrap a function of the context "
            "with Objective(fn, layers=...), or a Lucent objective with "
            "from_lucent(obj, layers=...)"
        )
    raise TypeError(f"objective must be an Objective, got {type(obj).__name__}")
