"""The demo report and the docs site in a real browser (Debian's Chromium, driven by Playwright).

The site and the report are built by ``.ci/run`` and passed in with ``ATTRIBKIT_SITE_DIR`` and
``ATTRIBKIT_REPORT_DIR``; without them the test builds the site and a small report itself.
On CI a missing Chromium is a failure, elsewhere the test is skipped.
"""

from __future__ import annotations

import functools
import http.server
import os
import shutil
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
ARTIFACTS = ROOT / "artifacts"

if CHROMIUM is None:
    if os.environ.get("CI"):
        pytest.fail("Chromium is missing on CI: .ci/run should install it", pytrace=False)
    pytest.skip("Chromium is not installed (apt-get install chromium)", allow_module_level=True)
sync_api = pytest.importorskip("playwright.sync_api")


@pytest.fixture(scope="module")
def site_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    given = os.environ.get("ATTRIBKIT_SITE_DIR")
    if given:
        return Path(given)
    out = tmp_path_factory.mktemp("site")
    subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(out)],
        cwd=ROOT, check=True, capture_output=True,
    )
    return out


@pytest.fixture(scope="module")
def report_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    given = os.environ.get("ATTRIBKIT_REPORT_DIR")
    if given:
        return Path(given)
    from attribkit.cli import main

    out = tmp_path_factory.mktemp("report")
    assert main(["demo", "--quick", "--only", "saliency", "--out", str(out), "--no-progress"]) == 0
    return out


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    with sync_api.sync_playwright() as pw:
        b = pw.chromium.launch(
            executable_path=CHROMIUM,
            args=[
                "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                "--disable-background-networking", "--disable-component-update", "--disable-sync",
            ],
        )
        yield b
        b.close()


class _Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args: object) -> None:
        pass


def _serve(folder: Path) -> tuple[http.server.ThreadingHTTPServer, str]:
    handler = functools.partial(_Quiet, directory=str(folder))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, f"http://127.0.0.1:{server.server_address[1]}"


def _check_page(browser: object, url: str) -> tuple[list[str], int, object]:
    """Open ``url``; return console errors, the number of images checked, and the page."""
    page = browser.new_page(viewport={"width": 1280, "height": 900})  # type: ignore[attr-defined]
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.on("requestfailed", lambda r: errors.append(f"failed: {r.url}"))
    response = page.goto(url, wait_until="load")
    assert response is not None and response.ok, f"{url} answered {response and response.status}"
    page.wait_for_load_state("networkidle")
    images = page.eval_on_selector_all(
        "img", "els => els.map(e => [e.currentSrc || e.src, e.complete, e.naturalWidth])"
    )
    for src, complete, width in images:
        assert complete and width > 0, f"image {src} on {url} did not decode"
    return errors, len(images), page


def test_report_loads_with_every_picture(browser, report_dir):
    server, base = _serve(report_dir)
    try:
        errors, n_images, page = _check_page(browser, f"{base}/index.html")
        assert n_images > 0
        assert errors == []
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / "report-first-screen.png"))
        assert (ARTIFACTS / "report-first-screen.png").stat().st_size > 0
    finally:
        server.shutdown()


def test_site_navigation_reaches_every_technique_page(browser, site_dir):
    import yaml

    nav = yaml.safe_load((ROOT / "mkdocs.yml").read_text())["nav"]
    techniques = next(item["Techniques"] for item in nav if "Techniques" in item)
    pages = [next(iter(entry.values())) for entry in techniques]
    server, base = _serve(site_dir)
    try:
        errors, _, page = _check_page(browser, f"{base}/")
        assert errors == []
        hrefs = set(page.eval_on_selector_all("nav a[href]", "els => els.map(e => e.href)"))
        for md in pages:
            slug = md.removesuffix(".md")
            target = f"{base}/{slug}/"
            assert target in hrefs, f"the navigation does not link {target}"
            page_errors, _, _ = _check_page(browser, target)
            assert page_errors == [], f"{target}: {page_errors}"
    finally:
        server.shutdown()
