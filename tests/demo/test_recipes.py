"""The recipes: the shared pieces the demo, the CLI and the examples call."""

from __future__ import annotations

import subprocess
import sys

import pytest
import torch

from attribkit.demo import SECTIONS, available_sections
from attribkit.embed import nearest_pixels
from attribkit.recipes import RECIPES, Pictures, recipe
from attribkit.recipes.neighbors import knn, label_agreement
from attribkit.recipes.occlusion import default_window
from attribkit.recipes.script import example_parser, save_small


def test_every_recipe_has_run_and_a_demo_section():
    modules = {m for _, _, m in SECTIONS}
    for name in RECIPES:
        assert callable(recipe(name).run)
        assert f"attribkit.recipes.{name}" in modules
    assert len(available_sections()) == len(SECTIONS)


def test_unknown_recipe_names_the_choices():
    with pytest.raises(ValueError, match="choose from filters"):
        recipe("nope")


def test_knn_matches_nearest_pixels():
    x = torch.rand(30, 3, 4, 4, generator=torch.Generator().manual_seed(0))
    ours = knn(x, 3)
    ref = nearest_pixels(x, torch.arange(30), 3)
    assert torch.equal(ours.indices, ref.indices)
    assert torch.allclose(ours.distances, ref.distances, atol=1e-5)


def test_knn_cosine_leaves_each_item_out():
    v = torch.tensor([[1.0, 0.0], [0.9, 0.1], [0.0, 1.0], [0.1, 0.9]])
    assert knn(v, 1, "cosine").indices.flatten().tolist() == [1, 0, 3, 2]
    with pytest.raises(ValueError, match="between 1 and 3"):
        knn(v, 4)
    with pytest.raises(ValueError, match="metric"):
        knn(v, 1, "manhattan")


def test_label_agreement_features_beat_pixels_on_a_known_case():
    y = torch.tensor([0, 0, 0, 1, 1, 1])
    feats = y.view(-1, 1).float() + 0.01 * torch.arange(6).view(-1, 1)
    feats = torch.cat([feats, 1 - feats], 1)
    pixels = torch.tensor([[0.0], [5.0], [10.0], [0.1], [5.1], [10.1]])  # pairs across labels
    a = label_agreement(feats, pixels, y, 1)
    assert float(a.features.mean()) == 1.0
    assert float(a.pixels.mean()) == 0.0
    assert torch.allclose(a.chance, torch.full((6,), 2 / 5))


def test_default_window_is_the_lecture_setting():
    assert default_window(224) == (16, 8)
    assert default_window(224, quick=True) == (32, 16)
    assert default_window(32) == (4, 2)


def test_pictures_save_and_example_helpers(tmp_path, capsys):
    pics = Pictures("intro")
    pics.add(torch.rand(3, 8, 8), "noise", "noise")
    pics.note("a figure")
    paths = pics.save(tmp_path)
    assert [p.name for p in paths] == ["noise.png"]
    assert "a figure" in capsys.readouterr().out
    assert save_small(torch.rand(1, 3, 20, 1200), tmp_path / "sub" / "wide.png").exists()
    args = example_parser("doc", "docs/img/x").parse_args(["--out", str(tmp_path)])
    assert (args.quick, args.out) == (False, str(tmp_path))


def test_cli_runs_as_a_module():
    proc = subprocess.run(
        [sys.executable, "-m", "attribkit.cli", "--help"], capture_output=True, text=True
    )
    assert proc.returncode == 0
    assert "stylize" in proc.stdout and "demo" in proc.stdout
