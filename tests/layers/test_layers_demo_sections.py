"""The five "looking inside" demo sections run end to end in quick mode on real data."""

import pytest

SECTIONS = ["filters", "neighbors", "tsne", "activations", "patches"]


@pytest.mark.slow
def test_looking_inside_sections_run(tmp_path) -> None:
    from attribkit.demo import run_demo

    report = run_demo(tmp_path, quick=True, only=SECTIONS, show_progress=False)
    assert not report.failed
    by_key = {s.key: s for s in report.sections}
    assert set(SECTIONS) <= set(by_key)
    for key in SECTIONS:
        figures = by_key[key].figures
        assert figures, f"section {key} has no figure"
        for fig in figures:
            assert (tmp_path / fig.path).stat().st_size > 0
            assert len(fig.caption) > 40
