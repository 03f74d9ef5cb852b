"""Saving and loading style networks: safetensors + JSON, foreign/corrupted files refused."""

from __future__ import annotations

import json
import pickle
from pathlib import Path

import pytest
import torch
from helpers.tiny import one_thread  # noqa: F401 (a fixture, used through pytestmark)

from attribkit.style import MultiStyleNet, TransformerNet, load_style_model, save_style_model
from attribkit.style.checkpoint import read_style_metadata

pytestmark = pytest.mark.usefixtures("one_thread")


def _net() -> MultiStyleNet:
    with torch.random.fork_rng():
        torch.manual_seed(1)
        net = MultiStyleNet(2, width=4, n_residual=1, style_names=["a", "b"])
        for p in net.parameters():
            p.data.add_(torch.randn_like(p) * 0.1)
    return net


def test_smoke_roundtrip(tmp_path: Path) -> None:
    net = _net()
    st = save_style_model(net, tmp_path / "m", training={"steps": 3, "path": tmp_path})
    assert st.name == "m.safetensors" and (tmp_path / "m.json").is_file()
    loaded = load_style_model(tmp_path / "m.safetensors")
    assert isinstance(loaded, MultiStyleNet) and not loaded.training
    assert loaded.style_names == ["a", "b"]
    for (k, v), (k2, v2) in zip(net.state_dict().items(), loaded.state_dict().items()):
        assert k == k2 and torch.equal(v, v2)
    meta = read_style_metadata(tmp_path / "m")
    assert meta["training"]["steps"] == 3 and isinstance(meta["training"]["path"], str)


def test_transformer_roundtrip(tmp_path: Path) -> None:
    net = TransformerNet(width=4, n_residual=2)
    save_style_model(net, tmp_path / "t")
    loaded = load_style_model(tmp_path / "t.json")
    x = torch.rand(1, 3, 8, 8)
    with torch.no_grad():
        torch.testing.assert_close(loaded(x), net.eval()(x))


def test_extra_tensors(tmp_path: Path) -> None:
    save_style_model(
        _net(),
        tmp_path / "c",
        extra_tensors={"optim.0.step": torch.tensor(5.0)},
        extra={"state": {"step": 5}},
    )
    _, extra, meta = load_style_model(tmp_path / "c", return_extra=True)
    assert float(extra["optim.0.step"]) == 5.0 and meta["state"]["step"] == 5


def test_exception_corrupted(tmp_path: Path) -> None:
    save_style_model(_net(), tmp_path / "m")
    st = tmp_path / "m.safetensors"
    data = bytearray(st.read_bytes())
    data[-3] ^= 0xFF  # flip bits inside a tensor's data
    st.write_bytes(bytes(data))
    with pytest.raises(ValueError, match="SHA-256"):
        load_style_model(tmp_path / "m")


def test_exception_foreign_pickle_never_executed(tmp_path: Path) -> None:
    marker = tmp_path / "executed"

    class Evil:
        def __reduce__(self) -> tuple[object, tuple[str]]:
            return (marker.write_text, ("pwned",))

    save_style_model(_net(), tmp_path / "m")
    # a pickle (e.g. a torch.save file) put where the tensors belong, hash updated to match
    (tmp_path / "m.safetensors").write_bytes(pickle.dumps({"model.x": Evil()}))
    meta = json.loads((tmp_path / "m.json").read_text())
    import hashlib

    meta["sha256"] = hashlib.sha256((tmp_path / "m.safetensors").read_bytes()).hexdigest()
    (tmp_path / "m.json").write_text(json.dumps(meta))
    with pytest.raises(ValueError, match="is not the tensor file of an attribkit style model"):
        load_style_model(tmp_path / "m")
    assert not marker.exists()


def test_exception_foreign_json(tmp_path: Path) -> None:
    save_style_model(_net(), tmp_path / "m")
    j = tmp_path / "m.json"
    meta = json.loads(j.read_text())
    j.write_text(json.dumps({**meta, "format": "something-else"}))
    with pytest.raises(ValueError, match="not an attribkit fast-style"):
        load_style_model(tmp_path / "m")
    j.write_text("{not json")
    with pytest.raises(ValueError, match="not valid JSON"):
        load_style_model(tmp_path / "m")
    j.write_text(json.dumps({**meta, "arch": {**meta["arch"], "class": "os.system"}}))
    with pytest.raises(ValueError, match="unknown architecture"):
        load_style_model(tmp_path / "m")


def test_exception_mismatched_tensors(tmp_path: Path) -> None:
    save_style_model(_net(), tmp_path / "m")
    save_style_model(MultiStyleNet(2, width=8, n_residual=1), tmp_path / "w")
    # tensors of a wider network under the narrow network's description
    meta = json.loads((tmp_path / "m.json").read_text())
    meta["sha256"] = json.loads((tmp_path / "w.json").read_text())["sha256"]
    (tmp_path / "m.json").write_text(json.dumps(meta))
    (tmp_path / "w.safetensors").replace(tmp_path / "m.safetensors")
    with pytest.raises(ValueError, match="has shape"):
        load_style_model(tmp_path / "m")


def test_exception_missing(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError):
        load_style_model(tmp_path / "nothing")
    with pytest.raises(TypeError, match="TransformerNet or MultiStyleNet"):
        save_style_model(torch.nn.Linear(2, 2), tmp_path / "x")


def test_exception_huge_architecture_refused_before_any_tensor(tmp_path: Path) -> None:
    save_style_model(_net(), tmp_path / "m")
    j = tmp_path / "m.json"
    meta = json.loads(j.read_text())
    # a sidecar asking for billions of parameters: within the field limits it is built on the
    # meta device and compared with the tensor file's header; beyond them it is refused at once
    j.write_text(json.dumps({**meta, "arch": {**meta["arch"], "width": 1024, "n_residual": 64}}))
    with pytest.raises(ValueError, match="does not hold the MultiStyleNet"):
        load_style_model(tmp_path / "m")
    j.write_text(json.dumps({**meta, "arch": {**meta["arch"], "n_styles": 4096}}))
    with pytest.raises(ValueError, match="2 style names for 4096 styles"):
        load_style_model(tmp_path / "m")
    j.write_text(json.dumps({**meta, "arch": {**meta["arch"], "n_residual": 10**6}}))
    with pytest.raises(ValueError, match=r"bad architecture field n_residual=1000000"):
        load_style_model(tmp_path / "m")
    j.write_text(json.dumps({**meta, "arch": {**meta["arch"], "width": True}}))
    with pytest.raises(ValueError, match="bad architecture field width"):
        load_style_model(tmp_path / "m")


def test_exception_not_a_safetensors_file_says_which_and_what(tmp_path: Path) -> None:
    save_style_model(_net(), tmp_path / "m")
    st = tmp_path / "m.safetensors"
    st.write_bytes(b"\xff" * 64)
    with pytest.raises(ValueError, match=r"m\.safetensors is not the tensor file of an attribkit"):
        load_style_model(tmp_path / "m")
    st.write_bytes(b"")
    with pytest.raises(ValueError, match="holds only 0 bytes"):
        load_style_model(tmp_path / "m")


def test_exception_extra_metadata_cannot_replace_the_format(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="format's own keys"):
        save_style_model(_net(), tmp_path / "m", extra={"format": "x"})
    assert not any(tmp_path.iterdir())
