"""The page of ``pipeline serve`` in a real browser: Debian's chromium driven by Playwright.

uvicorn serves the app with fake stages on a free port; the test chooses a generated page
image in the page's file input and finds its text listed and its word boxes drawn. A missing
chromium fails the test (the set-up installs it), it is never skipped.
"""

import socket
import threading
from pathlib import Path

import pytest
import uvicorn
from PIL import Image
from playwright.sync_api import expect, sync_playwright

from pipeline.ocr import OcrPipeline
from pipeline.serve import create_app
from tests.pipeline.fakes import BlobDetector, GreyRecognizer, page

CHROMIUM = Path("/usr/bin/chromium")


@pytest.fixture
def server_url():
    app = create_app(OcrPipeline(BlobDetector(), GreyRecognizer()), config_name="fake")
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    for _ in range(200):
        if server.started:
            break
        thread.join(0.05)
    assert server.started, "uvicorn did not start"
    yield f"http://127.0.0.1:{port}/"
    server.should_exit = True
    thread.join(10)
    sock.close()


@pytest.fixture
def browser_page():
    if not CHROMIUM.exists():
        pytest.fail(f"{CHROMIUM} is missing: the browser test needs Debian's chromium "
                    "(apt-get install chromium; scripts/setup.sh installs it)")
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=["--no-sandbox"])
        try:
            yield browser.new_page()
        finally:
            browser.close()


def red_pixels(canvas, box: tuple[int, int, int, int] | None = None) -> int:
    """How many red pixels (outlines and words are drawn red) a canvas holds in
    ``(x, y, w, h)``, by default all of it."""
    return canvas.evaluate("""(c, box) => {
        const [x, y, w, h] = box || [0, 0, c.width, c.height];
        const d = c.getContext('2d').getImageData(x, y, w, h).data;
        let red = 0;
        for (let i = 0; i < d.length; i += 4) {
            if (d[i] > 150 && d[i + 1] < 120 && d[i + 2] < 120) red++;
        }
        return red;
    }""", box)


def test_page_uploads_an_image_and_shows_its_words(server_url, browser_page, tmp_path):
    image = tmp_path / "sample page.png"
    Image.fromarray(page(["abc", "de"])).save(image)
    bad = tmp_path / "broken.jpg"
    bad.write_bytes(b"\xff\xd8\xffnot a jpeg")
    doc = tmp_path / "doc.pdf"
    Image.fromarray(page(["fg"], width=200, height=60)).save(doc, resolution=72)
    tab = browser_page
    tab.goto(server_url)
    expect(tab.locator("#models")).to_contain_text("fake blob detector")
    tab.set_input_files("#files", [str(image), str(bad), str(doc)])
    results = tab.locator(".result")
    expect(results).to_have_count(3)
    expect(results.nth(0).locator("h2")).to_have_text("sample page.png")
    expect(results.nth(0).locator(".text")).to_have_text("a b c\nd e")
    expect(results.nth(1).locator(".error")).to_contain_text("corrupt")
    expect(results.nth(2).locator("h2")).to_have_text("doc.pdf (page 1)")
    expect(results.nth(2).locator(".text")).to_have_text("f g")
    expect(tab.locator("#status")).to_contain_text("3 page(s)")
    assert red_pixels(results.nth(2).locator("canvas")) > 50  # its words, on a white page
    canvas = results.nth(0).locator("canvas")
    assert canvas.evaluate("c => [c.width, c.height]") == [400, 300]
    assert red_pixels(canvas) > 200  # five word outlines and their texts
    assert red_pixels(canvas, (21, 2, 14, 16)) > 5  # the text "a" above its box
    # The image itself is drawn under them: a word box's inside is its grey level.
    assert canvas.evaluate("c => Array.from(c.getContext('2d')"
                           ".getImageData(35, 27, 1, 1).data.slice(0, 3))") == [0, 0, 0]


def test_page_shows_a_refused_request(server_url, browser_page, tmp_path):
    notes = tmp_path / "notes.txt"
    notes.write_text("not an image")
    tab = browser_page
    tab.goto(server_url)
    tab.set_input_files("#files", str(notes))
    expect(tab.locator("#status")).to_contain_text("error 415")
    expect(tab.locator("#status")).to_contain_text("notes.txt: not an image or a PDF")
