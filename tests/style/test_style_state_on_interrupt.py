"""The caller's world after an exception and after Ctrl-C, for the feed-forward style entry
points: the AdaIN network (called directly and through ``stylize``) and both trainers
(``train_style`` and ``train_arbitrary``). Hooks, modes, parameters, ``requires_grad``,
``.grad``, buffers (BatchNorm statistics), the inputs and the global generators are unchanged."""

from __future__ import annotations

import pytest
import torch
from helpers.adain_nets import tiny_adain_net, tiny_train_kwargs
from helpers.tiny import images, one_thread, tiny_training  # noqa: F401 (fixture)

from attribkit.style import stylize, train_arbitrary, train_style
from attribkit.testing import snapshot_world

pytestmark = pytest.mark.usefixtures("one_thread")


class _Stop(Exception):
    """Raised by a callback or hook to end a call half-way."""


def _raise(exc: type[BaseException]) -> object:
    def hook(*_: object) -> None:
        raise exc("stopped half-way")

    return hook


@pytest.mark.parametrize("exc", [_Stop, KeyboardInterrupt])
@pytest.mark.parametrize("via", ["forward", "stylize"])
def test_adain_net_after_an_interruption(exc: type[BaseException], via: str) -> None:
    net = tiny_adain_net()
    x, s = images(2, 16, seed=1), images(1, 16, seed=2)
    handle = net.decoder.register_forward_hook(_raise(exc))  # type: ignore[arg-type]
    try:
        world = snapshot_world(net, x, s)
        with pytest.raises(exc):
            if via == "forward":
                net(x, s)
            else:
                stylize(net, x, style=s)
        world.assert_unchanged()
    finally:
        handle.remove()


def test_adain_net_after_a_refused_style() -> None:
    net = tiny_adain_net()
    x = images(2, 16, seed=1)
    world = snapshot_world(net, x)
    with pytest.raises(ValueError):
        net(x, torch.full((1, 3, 16, 16), float("nan")))
    world.assert_unchanged()


@pytest.mark.parametrize("exc", [_Stop, KeyboardInterrupt])
def test_train_arbitrary_after_an_interruption(exc: type[BaseException]) -> None:
    kw = tiny_train_kwargs(steps=6, recon_steps=2, callbacks=[_stop_at(3, exc)])
    content, styles = [images(1, 32, seed=i) for i in range(2)], [images(1, 32, seed=9)]
    world = snapshot_world(kw["backbone"], *content, *styles)  # type: ignore[arg-type]
    with pytest.raises(exc):
        train_arbitrary(content, styles, **kw)  # type: ignore[arg-type]
    world.assert_unchanged()


@pytest.mark.parametrize("exc", [_Stop, KeyboardInterrupt])
def test_train_style_after_an_interruption(exc: type[BaseException]) -> None:
    kw = tiny_training(steps=6, callbacks=[_stop_at(3, exc)])
    styles = {"a": images(1, 24, seed=3), "b": images(1, 24, seed=4)}
    content = [images(1, 32, seed=5), images(1, 32, seed=6)]
    world = snapshot_world(kw["backbone"], *styles.values(), *content)  # type: ignore[arg-type]
    with pytest.raises(exc):
        train_style(styles, content, **kw)  # type: ignore[arg-type]
    world.assert_unchanged()


def _stop_at(step: int, exc: type[BaseException]) -> object:
    def callback(at: int, _: dict[str, float]) -> None:
        if at >= step:
            raise exc(f"stopped at step {at}")

    return callback
