"""Every technique has a CLI command; each runs on tiny settings and writes a PNG."""

import pytest

from attribkit.cli import COMMANDS, build_parser, main

EXPECTED = {
    "demo", "saliency", "occlusion", "guided", "gradcam", "grabcut", "filters", "activations",
    "patches", "neighbors", "tsne", "classvis", "dream", "fool", "invert", "texture",
    "efros-leung", "style", "stylize", "train-style",
}

SMOKE = {
    "occlusion": ["chelsea", "--size", "64", "--window", "32", "--stride", "32"],
    "guided": ["chelsea", "--size", "64", "--layer", "_blocks.4"],
    "gradcam": ["coffee", "--size", "64"],
    "grabcut": ["chelsea", "--size", "96"],
    "filters": ["--layer", "_blocks.1._expand_conv"],
    "activations": ["chelsea", "--size", "64", "--layer", "_blocks.1"],
    "patches": ["--layer", "_blocks.1", "--k", "2", "--crops", "1", "--rows", "2"],
    "classvis": ["--target", "948", "--steps", "2", "--size", "64"],
    "dream": ["chelsea", "--size", "64", "--steps", "1", "--octaves", "1", "--layer", "_blocks.2"],
    "fool": ["chelsea", "--size", "64", "--steps", "2", "--target", "948"],
    "invert": ["chelsea", "--size", "48", "--steps", "2", "--layers", "_blocks.1"],
    "texture": ["gravel", "--size", "32", "--steps", "2", "--source-size", "32"],
    "efros-leung": ["gravel", "--size", "12", "--source-size", "16", "--window", "5"],
    "style": ["chelsea", "--size", "48", "--steps", "2"],
    "stylize": ["chelsea", "--size", "64", "--style", "scream"],
}


def test_one_command_per_technique():
    assert {c.name for c in COMMANDS} == EXPECTED
    parser = build_parser()
    for name in EXPECTED:
        sub = parser._subparsers._group_actions[0].choices[name]  # type: ignore[union-attr]
        assert "examples:" in (sub.epilog or "")


@pytest.mark.slow
@pytest.mark.parametrize("command", sorted(SMOKE))
def test_command_writes_png(command, tmp_path, capsys):
    rc = main([command, *SMOKE[command], "--out", str(tmp_path)]
              + ([] if command in ("stylize", "efros-leung") else ["--no-progress"]))
    out = capsys.readouterr()
    assert rc == 0, out.err
    pngs = list(tmp_path.glob("*.png"))
    assert pngs and all(p.stat().st_size > 0 for p in pngs)
    assert "wrote" in out.out
