import pytest

from attribkit.cli import main


def test_saliency_command_writes_png(tmp_path, capsys):
    rc = main(["saliency", "chelsea", "--size", "96", "--out", str(tmp_path), "--no-progress"])
    assert rc == 0
    assert (tmp_path / "saliency-chelsea.png").stat().st_size > 0
    assert "wrote" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["gradcam", "coffee", "--target", "9999"], "out of range"),
        (["guided", "no-such-image"], "neither an image file"),
        (["occlusion", "--size", "0"], "positive"),
        (["saliency", "--target", "unicorn"], "no ImageNet class"),
        (["saliency", "--model", "vgg77"], "unknown model"),
        (["saliency", "--device", "cuda:7"], "cuda"),
        (["demo", "--only", "nonsense"], "unknown section"),
    ],
)
def test_bad_arguments_exit_2_without_traceback(tmp_path, capsys, argv, message):
    rc = main([*argv, "--out", str(tmp_path)])
    err = capsys.readouterr().err
    assert rc == 2
    assert message in err and "Traceback" not in err


def test_help_lists_examples(capsys):
    with pytest.raises(SystemExit) as exc:
        main(["occlusion", "--help"])
    assert exc.value.code == 0
    assert "examples:" in capsys.readouterr().out


def test_demo_failure_in_one_section_keeps_the_rest(tmp_path, monkeypatch, capsys):
    import attribkit.demo as demo

    def broken(ctx, section):
        raise RuntimeError("simulated failure")

    real = demo.available_sections

    def patched():
        sections = [s for s in real() if s[0] == "saliency"]
        return [("broken", "Broken section", broken), *sections]

    monkeypatch.setattr(demo, "available_sections", patched)
    rc = main(["demo", "--quick", "--out", str(tmp_path), "--no-progress"])
    html = (tmp_path / "index.html").read_text()
    assert rc == 1
    assert "simulated failure" in html
    assert "saliency-chelsea.png" in html and (tmp_path / "saliency-chelsea.png").exists()
    assert "section broken failed" in capsys.readouterr().err
