"""The HTTP service (``pipeline serve``) with fake stages: results, limits, batching."""

import io
import threading

import numpy as np
import pytest
from fastapi.testclient import TestClient
from PIL import Image
from typer.testing import CliRunner

from pipeline.cli import app as cli_app
from pipeline.ocr import OcrPipeline
from pipeline.results import Page
from pipeline.serve import ServeLimits, create_app
from pipeline.serve.app import upload_kind
from tests.pipeline.fakes import BlobDetector, GreyRecognizer, page

# The entry of `pipeline run`'s results JSON, whatever fields it grows.
ENTRY_KEYS = set(Page.failed("x", "y").export())


def png(img: np.ndarray) -> bytes:
    buf = io.BytesIO()
    Image.fromarray(img).save(buf, format="PNG")
    return buf.getvalue()


def pdf(*texts: str) -> bytes:
    """A PDF of one page per text (Pillow writes each image as a page)."""
    pages = [Image.fromarray(page([t], width=200, height=60)) for t in texts]
    buf = io.BytesIO()
    pages[0].save(buf, format="PDF", save_all=True, append_images=pages[1:], resolution=72)
    return buf.getvalue()


def fake_ocr() -> OcrPipeline:
    return OcrPipeline(BlobDetector(), GreyRecognizer())


@pytest.fixture
def client():
    app = create_app(fake_ocr(), config_name="fake", window_ms=0,
                     limits=ServeLimits(max_files=3, max_request_bytes=200_000,
                                        max_pages=4, max_pixels=500 * 400))
    with TestClient(app) as c:
        yield c


def post(client, *files):
    return client.post("/ocr", files=[("file", f) for f in files])


def test_health_names_preset_and_models(client):
    r = client.get("/health")
    assert r.status_code == 200
    body = r.json()
    assert body["status"] == "ok" and body["preset"] == "fake" and body["mode"] == "ocr"
    assert body["models"] == {"detector": "fake blob detector",
                              "recognizer": "fake grey recognizer"}
    assert body["limits"]["max_files"] == 3


def test_health_is_503_once_the_worker_has_stopped():
    app = create_app(fake_ocr())
    with TestClient(app) as c:
        assert c.get("/health").status_code == 200
        app.state.worker.stop()
        r = c.get("/health")
        assert r.status_code == 503 and r.json()["status"] == "worker not running"
        # a request starts it again
        r = c.post("/ocr", files=[("file", ("a.png", png(page(["a"])), "image/png"))])
        assert r.status_code == 200 and c.get("/health").status_code == 200


def test_one_image_gives_the_results_json_of_pipeline_run(client):
    img = page(["abc", "de"])
    r = post(client, ("page.png", png(img), "image/png"))
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["version"] == 1 and body["config"] == "fake" and body["mode"] == "ocr"
    assert body["models"]["detector"] == "fake blob detector"
    [entry] = body["images"]
    assert set(entry) == ENTRY_KEYS
    assert entry["file"] == "page.png" and entry["page"] is None and entry["error"] is None
    assert (entry["width"], entry["height"]) == (400, 300)
    assert entry["text"] == "a b c\nd e"
    word = entry["lines"][0]["words"][0]
    assert word["text"] == "a" and len(word["polygon"]) == 4
    assert word["bbox"] == [20.0, 20.0, 50.0, 34.0]
    assert entry == {**fake_ocr().run([img])[0].export(), "file": "page.png"}


def test_several_files_and_pdf_pages_in_upload_order(client):
    r = post(client, ("one.png", png(page(["ab"])), "image/png"),
             ("doc.pdf", pdf("cd", "ef"), "application/pdf"),
             ("two.jpg", _jpeg(page(["gh"])), "image/jpeg"))
    assert r.status_code == 200, r.text
    got = [(e["file"], e["page"], e["text"], e["error"]) for e in r.json()["images"]]
    assert got == [("one.png", None, "a b", None), ("doc.pdf", 1, "c d", None),
                   ("doc.pdf", 2, "e f", None), ("two.jpg", None, "g h", None)]


def _jpeg(img: np.ndarray) -> bytes:
    buf = io.BytesIO()
    Image.fromarray(img).save(buf, format="JPEG", quality=95)
    return buf.getvalue()


def test_corrupt_image_is_an_error_entry_beside_good_ones(client):
    r = post(client, ("bad.png", b"\x89PNG\r\n\x1a\nnot really", "image/png"),
             ("empty.jpg", b"", "image/jpeg"),
             ("good.png", png(page(["a"])), "image/png"))
    assert r.status_code == 200, r.text
    bad, empty, good = r.json()["images"]
    assert bad["file"] == "bad.png" and "corrupt" in bad["error"] and bad["lines"] == []
    assert "empty file" in empty["error"]
    assert good["error"] is None and good["text"] == "a"


@pytest.mark.parametrize(("name", "ctype", "kind"), [
    ("a.PNG", "application/octet-stream", "image"), ("scan", "image/tiff", "image"),
    ("doc", "application/pdf", "pdf"), ("doc.pdf", "image/png", "pdf"),
    ("notes.txt", "text/plain", None), ("blob", "application/octet-stream", None),
    ("", None, None)])
def test_upload_kind_by_extension_then_content_type(name, ctype, kind):
    assert upload_kind(name, ctype) == kind


def test_pdf_without_extension_is_read_by_its_content_type(client):
    r = post(client, ("scanned", pdf("ab"), "application/pdf"))
    assert r.status_code == 200, r.text
    [entry] = r.json()["images"]
    assert (entry["file"], entry["page"], entry["text"]) == ("scanned", 1, "a b")


def test_non_image_type_is_415_with_message(client):
    r = post(client, ("good.png", png(page(["a"])), "image/png"),
             ("notes.txt", b"hello", "text/plain"))
    assert r.status_code == 415
    assert "notes.txt: not an image or a PDF" in r.json()["detail"]


def test_too_many_files_is_413(client):
    files = [(f"p{i}.png", png(page(["a"])), "image/png") for i in range(4)]
    r = post(client, *files)
    assert r.status_code == 413
    assert "too many files: more than 3" in r.json()["detail"]


def test_too_many_pages_is_413(client):
    r = post(client, ("doc.pdf", pdf("a", "b", "c"), "application/pdf"),
             ("more.pdf", pdf("d", "e"), "application/pdf"))
    assert r.status_code == 413
    assert "too many pages: more than 4" in r.json()["detail"]


def test_request_over_the_byte_limit_is_413(client):
    noise = np.random.default_rng(0).integers(0, 255, (300, 400, 3), dtype=np.uint8)
    big = png(noise)
    assert len(big) > 200_000
    r = post(client, ("noise.png", big, "image/png"))
    assert r.status_code == 413
    assert "request too large" in r.json()["detail"]


def test_body_over_the_limit_without_a_length_is_413(client):
    """A chunked body (no Content-Length) is counted as it is read."""
    noise = np.random.default_rng(0).integers(0, 255, (300, 400, 3), dtype=np.uint8)
    boundary = "xyz123"
    body = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; "
            f"filename=\"n.png\"\r\nContent-Type: image/png\r\n\r\n").encode()
    body += png(noise) + f"\r\n--{boundary}--\r\n".encode()

    def chunks():
        for i in range(0, len(body), 4096):
            yield body[i:i + 4096]

    r = client.post("/ocr", content=chunks(),
                    headers={"content-type": f"multipart/form-data; boundary={boundary}"})
    assert r.status_code == 413


def test_image_over_the_pixel_limit_is_413(client):
    r = post(client, ("wide.png", png(np.full((401, 500, 3), 255, np.uint8)), "image/png"))
    assert r.status_code == 413
    assert "wide.png: image too large: 500x401" in r.json()["detail"]


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"data": {"other": "x"}, "files": [("other", ("a.png", b"x", "image/png"))]},
     "no file"),
    ({"json": {"file": "a.png"}}, "multipart/form-data"),
    ({"data": {"file": "just text"}, "files": [("x", ("a.png", b"x", "image/png"))]},
     "must hold file uploads"),
])
def test_bad_form_is_422_with_message(client, kwargs, message):
    r = client.post("/ocr", **kwargs)
    assert r.status_code == 422
    assert message in r.json()["detail"]


def test_concurrent_clients_are_batched_and_get_their_own_answers():
    ocr = fake_ocr()
    app = create_app(ocr, window_ms=2000, max_batch=8)
    texts = ["ab", "cd", "ef", "gh", "ij", "kl", "ba", "dc"]
    answers: dict[int, dict] = {}
    barrier = threading.Barrier(len(texts))

    def client_call(n: int, c: TestClient) -> None:
        barrier.wait()
        r = c.post("/ocr", files=[("file", (f"c{n}.png", png(page([texts[n]])),
                                            "image/png"))])
        answers[n] = r.json()

    with TestClient(app) as c:
        threads = [threading.Thread(target=client_call, args=(n, c)) for n in range(8)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(60)
    for n, text in enumerate(texts):
        [entry] = answers[n]["images"]
        assert entry["file"] == f"c{n}.png"
        assert entry["text"] == " ".join(text)
    worker = app.state.worker
    assert sum(worker.batch_sizes) == 8
    assert worker.pages == 8 and worker.batches == len(worker.batch_sizes) < 8
    assert max(worker.batch_sizes) > 1  # the window gathered several clients
    assert max(ocr.detector.calls) > 1  # and the detector saw them together


def test_window_zero_reads_each_request_alone():
    ocr = fake_ocr()
    app = create_app(ocr, window_ms=0, max_batch=8)
    barrier = threading.Barrier(6)
    status = []

    def client_call(c: TestClient) -> None:
        barrier.wait()
        status.append(c.post("/ocr", files=[("file", ("a.png", png(page(["a"])),
                                                      "image/png"))]).status_code)

    with TestClient(app) as c:
        threads = [threading.Thread(target=client_call, args=(c,)) for _ in range(6)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(60)
        r = c.post("/ocr", files=[("file", (f"{n}.png", png(page(["b"])), "image/png"))
                                  for n in range(3)])
    assert status == [200] * 6 and r.status_code == 200
    assert list(app.state.worker.jobs_per_batch) == [1] * 7
    assert list(app.state.worker.batch_sizes) == [1] * 6 + [3]  # one request's files together


def test_large_request_is_read_max_batch_pages_at_a_time():
    ocr = fake_ocr()
    app = create_app(ocr, window_ms=0, max_batch=2)
    with TestClient(app) as c:
        r = c.post("/ocr", files=[("file", (f"{n}.png", png(page(["c"])), "image/png"))
                                  for n in range(5)])
    assert [e["text"] for e in r.json()["images"]] == ["c"] * 5
    assert list(app.state.worker.batch_sizes) == [2, 2, 1]
    assert ocr.detector.calls == [2, 2, 1]


def test_uploads_are_removed_after_the_request(client, tmp_path, monkeypatch):
    monkeypatch.setattr("tempfile.tempdir", str(tmp_path))
    r = post(client, ("a.png", png(page(["a"])), "image/png"),
             ("doc.pdf", pdf("b"), "application/pdf"))
    assert r.status_code == 200
    assert list(tmp_path.iterdir()) == []


def test_page_is_served(client):
    r = client.get("/")
    assert r.status_code == 200 and "text/html" in r.headers["content-type"]
    assert 'src="/static/app.js"' in r.text
    assert "fetch(\"/ocr\"" in client.get("/static/app.js").text
    assert "/ocr" in client.get("/openapi.json").json()["paths"]
    assert client.get("/docs").status_code == 404  # its scripts would come from a CDN
    for name in ("index.html", "app.js", "style.css"):  # nothing loaded from elsewhere
        text = client.get("/" if name == "index.html" else f"/static/{name}").text
        assert "http:" not in text and "https:" not in text and "//cdn" not in text


def test_serve_cli_rejects_bad_options():
    runner = CliRunner()
    r = runner.invoke(cli_app, ["serve", "--batch-window-ms", "-1"])
    assert r.exit_code == 2 and "--batch-window-ms" in r.output
    r = runner.invoke(cli_app, ["serve", "--preset", "no-such-preset"])
    assert r.exit_code == 2 and "no-such-preset" in r.output


class PickyDetector(BlobDetector):
    """Fails on any batch holding an image 123 pixels wide."""

    def predict(self, images):
        if any(img.shape[1] == 123 for img in images):
            raise RuntimeError("cannot detect on this image")
        return super().predict(images)


def test_an_image_that_fails_a_stage_does_not_spoil_other_clients_in_its_batch():
    ocr = OcrPipeline(PickyDetector(), GreyRecognizer())
    app = create_app(ocr, window_ms=5000, max_batch=2)
    answers: dict[str, dict] = {}
    barrier = threading.Barrier(2)

    def client_call(c: TestClient, name: str, img: np.ndarray) -> None:
        barrier.wait()
        answers[name] = c.post("/ocr", files=[("file", (name, png(img), "image/png"))]).json()

    with TestClient(app) as c:
        threads = [threading.Thread(target=client_call, args=(c, "odd.png", page(["a"], 123))),
                   threading.Thread(target=client_call, args=(c, "fine.png", page(["b"])))]
        for t in threads:
            t.start()
        for t in threads:
            t.join(60)
    assert list(app.state.worker.batch_sizes) == [2]  # read together
    [odd] = answers["odd.png"]["images"]
    [fine] = answers["fine.png"]["images"]
    assert odd["error"] == "detection failed: see log" and odd["lines"] == []
    assert fine["error"] is None and fine["text"] == "b"


def test_internal_error_is_500_with_message_and_the_worker_goes_on(monkeypatch):
    ocr = fake_ocr()
    app = create_app(ocr, window_ms=0)
    original = ocr.process_batch
    monkeypatch.setattr(ocr, "process_batch", lambda items: 1 / 0)
    files = [("file", ("a.png", png(page(["a"])), "image/png"))]
    with TestClient(app, raise_server_exceptions=False) as c:
        r = c.post("/ocr", files=files)
        assert r.status_code == 500
        assert r.json()["detail"] == "internal error: ZeroDivisionError: division by zero"
        monkeypatch.setattr(ocr, "process_batch", original)
        r = c.post("/ocr", files=files)
        assert r.status_code == 200 and r.json()["images"][0]["text"] == "a"


def test_serve_cli_builds_the_app_from_its_options(monkeypatch):
    monkeypatch.setattr("detection.factory.build_detector",
                        lambda cfg, device="auto": BlobDetector(cfg.classes[0]))
    monkeypatch.setattr("recognition.factory.build_recognizer",
                        lambda cfg, device="auto": GreyRecognizer())
    # Its log would go to CliRunner's stream, closed once the command returns.
    monkeypatch.setattr("core.logs.setup_logging", lambda *a, **kw: None)
    served = {}
    monkeypatch.setattr("uvicorn.run", lambda app, **kw: served.update(app=app, **kw))
    r = CliRunner().invoke(cli_app, ["serve", "--preset", "plates", "--port", "8123",
                                     "--batch-window-ms", "0", "--max-files", "2",
                                     "--max-pixels", "1000000"])
    assert r.exit_code == 0, r.output
    assert (served["host"], served["port"]) == ("127.0.0.1", 8123)
    with TestClient(served["app"]) as c:
        health = c.get("/health").json()
        assert health["preset"] == "plates" and health["batching"]["window_ms"] == 0
        assert health["limits"]["max_files"] == 2 and health["limits"]["max_pixels"] == 1_000_000
        r = c.post("/ocr", files=[("file", ("p.png", png(page(["ab"])), "image/png"))])
    assert r.json()["config"] == "plates", r.json()
    assert r.json()["images"][0]["text"] == "ab"  # the plates layout joins a plate's parts
