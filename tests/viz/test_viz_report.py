import torch

from attribkit.viz import Report, label, make_grid, normalize_each


def test_grid_and_label_shapes():
    g = make_grid(torch.rand(5, 1, 4, 4), nrow=5, padding=0)
    assert g.shape == (3, 4, 20)
    mixed = make_grid([torch.rand(3, 4, 4), torch.rand(1, 3, 8, 6)], size=4, padding=0)
    assert mixed.shape == (3, 4, 8)
    assert label(torch.rand(3, 10, 20), "hi").shape == (3, 24, 20)
    n = normalize_each(torch.tensor([[[[1.0, 3.0]]], [[[5.0, 5.0]]]]))
    assert torch.equal(n[0].flatten(), torch.tensor([0.0, 1.0]))


def test_report_keeps_going_after_a_failing_section(tmp_path):
    rep = Report(tmp_path, "t")
    with rep.section("a", "A") as s:
        s.add_figure(torch.rand(3, 4, 4), "first <b>")
    with rep.section("b", "B"):
        raise ValueError("broken on purpose")
    with rep.section("c", "C") as s:
        s.add_note("still here")
    html = rep.write().read_text()
    assert [s.key for s in rep.failed] == ["b"]
    assert "broken on purpose" in html and "still here" in html
    assert "first &lt;b&gt;" in html and (tmp_path / "a-1.png").exists()
