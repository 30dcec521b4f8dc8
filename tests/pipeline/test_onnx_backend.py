"""ONNX export and the ``onnxruntime`` backend: round trips on tiny untrained models,
``export.json``, ``pipeline run --backend onnxruntime`` against torch, and its errors."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import onnxruntime as ort
import pytest
import torch
import yaml
from rapidfuzz.distance import Levenshtein
from typer.testing import CliRunner

from core.checksums import sha256_of
from core.paths import DATA_DIR, MODELS_DIR
from detection.export import export_yolo_onnx
from detection.yolo import build_yolo_model, save_yolo_checkpoint
from pipeline.cli import app
from pipeline.ocr import OcrPipeline
from pipeline.onnx_backend import OnnxBackendError
from pipeline.presets import load_pipeline_config
from recognition.checkpoint import save_checkpoint
from recognition.export import export_recognizer_onnx
from recognition.models import create_model
from recognition.preprocess import PreprocessConfig
from recognition.tokenizer import Tokenizer
from tests.recognition.helpers import TINY_CHARSET, TINY_KWARGS

runner = CliRunner()


def _session(path: Path) -> ort.InferenceSession:
    return ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])


def _tiny_recognizer(arch: str) -> torch.nn.Module:
    torch.manual_seed(0)
    tok = Tokenizer(TINY_CHARSET)
    model = create_model(arch, tok.num_ctc_classes, tok.num_attn_classes, **TINY_KWARGS[arch])
    return model.eval()


@pytest.mark.parametrize("arch", ["crnn", "joint_ctc_transformer"])
def test_recognizer_round_trip_batch_and_width_are_dynamic(tmp_path, arch):
    model = _tiny_recognizer(arch)
    path = export_recognizer_onnx(model, tmp_path / "rec.onnx", height=32, width=128)
    session = _session(path)
    gen = torch.Generator().manual_seed(1)
    for batch, width, real in [(1, 128, [128]), (3, 128, [128, 64, 20]), (3, 256, [256, 9, 130])]:
        images = torch.randn(batch, 3, 32, width, generator=gen)
        widths = torch.tensor(real)
        with torch.no_grad():
            ref = model.encode(images, widths) if arch != "crnn" else model(images, widths)
        logits, mask = session.run(["ctc_logits", "mask"],
                                   {"images": images.numpy(), "widths": widths.numpy()})
        assert logits.shape == tuple(ref["ctc_logits"].shape)
        np.testing.assert_allclose(logits, ref["ctc_logits"].numpy(), rtol=0, atol=1e-4)
        np.testing.assert_array_equal(mask, ref["mask"].numpy())


def test_yolo_round_trip_batch_and_size_are_dynamic(tmp_path):
    torch.manual_seed(0)
    model = build_yolo_model("yolov8n.yaml", 1)
    before = {k: v.clone() for k, v in model.state_dict().items()}
    path = export_yolo_onnx(model, ["word"], tmp_path / "det.onnx", imgsz=64)
    assert all(torch.equal(v, before[k]) for k, v in model.state_dict().items())  # untouched
    session = _session(path)
    gen = torch.Generator().manual_seed(2)
    for shape in [(1, 3, 64, 64), (3, 3, 64, 64), (3, 3, 96, 128)]:
        x = torch.rand(*shape, generator=gen)
        with torch.no_grad():
            ref = model(x)[0].numpy()
        (out,) = session.run(None, {"images": x.numpy()})
        assert out.shape == ref.shape
        # class scores to 1e-4; boxes (pixels, up to 128) to 1e-4 of their size: the exporter
        # fuses convolutions with batch norms, which moves float32 rounding
        np.testing.assert_allclose(out[:, 4:], ref[:, 4:], rtol=0, atol=1e-4)
        np.testing.assert_allclose(out[:, :4], ref[:, :4], rtol=0,
                                   atol=1e-4 * np.abs(ref[:, :4]).max())


@pytest.fixture
def tiny_config(tmp_path) -> Path:
    """A pipeline config naming tiny untrained weights saved in this project's formats."""
    torch.manual_seed(0)
    det = save_yolo_checkpoint(build_yolo_model("yolov8n.yaml", 1), ["word"],
                               tmp_path / "det.pt")
    tok = Tokenizer(TINY_CHARSET)
    rec = save_checkpoint(tmp_path / "rec.pt", _tiny_recognizer("crnn"), "crnn",
                          TINY_KWARGS["crnn"], tok, PreprocessConfig(32, 128))
    cfg = {"name": "tiny", "detector": {"weights": str(det), "classes": ["word"], "imgsz": 64},
           "recognizer": {"arch": "crnn", "weights": str(rec), "height": 32, "width": 128,
                          "precision": "fp32"},
           "device": "cpu"}
    path = tmp_path / "tiny.yaml"
    path.write_text(yaml.safe_dump(cfg), encoding="utf-8")
    return path


def test_models_export_writes_checked_files_and_manifest(tmp_path, tiny_config):
    out = tmp_path / "onnx"
    result = runner.invoke(app, ["models", "export", "--config", str(tiny_config),
                                 "--format", "onnx", "--out", str(out)])
    assert result.exit_code == 0, result.output
    manifest = json.loads((out / "export.json").read_text())
    assert manifest["format"] == "ocr-pipeline-onnx/1" and manifest["preset"] == "tiny"
    det, rec = manifest["files"]["detector.onnx"], manifest["files"]["recognizer.onnx"]
    assert det["role"] == "detector" and rec["role"] == "recognizer"
    assert det["classes"] == ["word"] and rec["charset"] == TINY_CHARSET
    assert det["weights_sha256"] == sha256_of(tmp_path / "det.pt")
    assert rec["weights_sha256"] == sha256_of(tmp_path / "rec.pt")
    assert det["inputs"] == [{"name": "images", "shape": ["batch", 3, "height", "width"],
                              "dtype": "float"}]
    assert [i["name"] for i in rec["inputs"]] == ["images", "widths"]
    assert rec["inputs"][0]["shape"] == ["batch", 3, 32, "width"]
    assert [o["name"] for o in rec["outputs"]] == ["ctc_logits", "mask"]
    assert det["opset"] == rec["opset"] == manifest["opset"]
    assert rec["check"]["max_abs_diff"]["ctc_logits"] < 1e-4 and rec["check"]["mask_equal"]
    assert det["check"]["max_abs_diff"]["scores"] < 1e-4
    for name in manifest["files"]:
        _session(out / name)  # loads

    # the folder serves the onnxruntime backend as onnx_dir, and reads as torch does
    crops = [np.full((20, 60, 3), v, np.uint8) for v in (0, 128, 255)]
    cfg = load_pipeline_config(None, tiny_config)
    ours = OcrPipeline.from_config(
        cfg.model_copy(update={"backend": "onnxruntime", "onnx_dir": out}), mode="recognize")
    theirs = OcrPipeline.from_config(cfg, mode="recognize")
    assert "onnxruntime" in ours.models["recognizer"]
    assert ([r.text for r in ours.recognizer.predict(crops)]
            == [r.text for r in theirs.recognizer.predict(crops)])


def test_onnx_dir_missing_file_is_a_usage_error(tmp_path):
    empty = tmp_path / "empty"
    empty.mkdir()
    result = runner.invoke(app, ["run", str(DATA_DIR / "samples" / "plates"), "--preset",
                                 "plates", "--backend", "onnxruntime", "--set",
                                 f"onnx_dir={empty}", "--out", str(tmp_path / "r.json")])
    assert result.exit_code == 2, result.output
    assert "detector.onnx not found" in result.output
    assert "pipeline models export" in result.output


def test_onnx_dir_from_other_weights_is_refused(tmp_path, tiny_config):
    out = tmp_path / "onnx"
    assert runner.invoke(app, ["models", "export", "--config", str(tiny_config),
                               "--out", str(out)]).exit_code == 0
    cfg = load_pipeline_config("plates", None, ["backend=onnxruntime", f"onnx_dir={out}"])
    with pytest.raises(OnnxBackendError, match="exported from weights with SHA-256"):
        OcrPipeline.from_config(cfg, mode="recognize")


def test_bad_backend_exits_2(tmp_path):
    result = runner.invoke(app, ["run", str(DATA_DIR / "samples" / "plates"),
                                 "--backend", "tensorrt", "--out", str(tmp_path / "r.json")])
    assert result.exit_code == 2
    assert "--backend" in result.output


def _texts(results: Path) -> list[str]:
    return [e["text"] for e in json.loads(results.read_text())["images"]]


@pytest.mark.parametrize("preset", ["plates", "documents"])
def test_onnxruntime_reads_the_samples_as_torch(tmp_path, preset):
    # torch in float32: 'precision: auto' runs bfloat16 on CPUs that have it, which moves a
    # few characters on its own; onnxruntime runs float32
    samples = str(DATA_DIR / "samples" / preset)
    texts = {}
    for backend in ("torch", "onnxruntime"):
        out = tmp_path / f"{backend}.json"
        result = runner.invoke(app, ["run", samples, "--preset", preset, "--backend", backend,
                                     "--set", "recognizer.precision=fp32",
                                     "--set", "second_reader.recognizer.precision=fp32",
                                     "--device", "cpu",
                                     "--out", str(out)])
        assert result.exit_code in (0, 1), result.output  # annotations.json is not an image
        texts[backend] = _texts(out)
        models = json.loads(out.read_text())["models"]
        assert ("onnxruntime" in models["recognizer"]) == (backend == "onnxruntime")
    assert any(t.strip() for t in texts["torch"])
    assert len(texts["onnxruntime"]) == len(texts["torch"])
    # the two runtimes' float32 kernels round differently (and differently per CPU): a word
    # the reader is torn on may flip ("налиии" / "наличии" on an AMD EPYC), nothing more
    edits = sum(Levenshtein.distance(a, b)
                for a, b in zip(texts["onnxruntime"], texts["torch"], strict=True))
    assert edits <= 0.002 * sum(len(t) for t in texts["torch"]) + 1


def test_models_list_names_every_shipped_file():
    result = runner.invoke(app, ["models", "list", "--json"])
    assert result.exit_code == 0, result.output
    rows = {r["file"]: r for r in json.loads(result.output)}
    assert set(rows) == {f"data/models/{p.name}" for p in MODELS_DIR.glob("*.pt")}
    plates = rows["data/models/plates_recognizer.pt"]
    assert (plates["preset"], plates["role"], plates["architecture"]) == (
        "plates", "recognizer", "crnn")
    assert plates["sha256"] == sha256_of(MODELS_DIR / "plates_recognizer.pt")
    assert plates["summary"] == "CRNN plate reader"
    assert rows["data/models/documents_detector.pt"]["role"] == "detector"
    assert rows["data/models/documents_crnn.pt"]["preset"] == "-"
    # the documents preset's second reader; receipts switch it off
    assert rows["data/models/handwriting_recognizer.pt"]["preset"] == "documents"
    assert rows["data/models/documents_recognizer.pt"]["preset"] == "documents,receipts"
    table = runner.invoke(app, ["models", "list"]).output.splitlines()
    assert table[0].split()[:4] == ["file", "preset", "role", "architecture"]
    assert len(table) == 1 + len(rows)


def test_joint_reader_with_its_decoder_is_refused(tmp_path):
    arch = "joint_ctc_transformer"  # the shipped documents reader has no decoder to refuse
    joint = save_checkpoint(tmp_path / "joint.pt", _tiny_recognizer(arch), arch,
                            TINY_KWARGS[arch], Tokenizer(TINY_CHARSET),
                            PreprocessConfig(32, 128, None))
    cfg = load_pipeline_config("documents", None, [
        "backend=onnxruntime", "recognizer.merge=closest", f"recognizer.arch={arch}",
        f"recognizer.weights={joint}", "second_reader.enabled=false"])
    with pytest.raises(OnnxBackendError, match="CTC head only"):
        OcrPipeline.from_config(cfg, mode="recognize")
