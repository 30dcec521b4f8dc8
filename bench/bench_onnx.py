"""torch against ONNX Runtime on the same models, same run, same threads: speed and agreement.

For each set, the preset's models run three ways: torch as the preset runs it (``precision:
auto``: bfloat16 on CPUs with native bf16, else float32), torch in float32, and the
``onnxruntime`` backend (float32, ``pipeline.onnx_backend``). Reported: items per second
(one warm-up pass first, then the best of ``--repeats`` timed passes), the largest
difference of the networks' outputs against torch float32 (recognizers: CTC logits on the
real columns; the detector: class scores of the raw predictions, boxes in letterboxed
pixels), and the share of items whose text is the same as torch's.

Sets: ``data/samples`` (both presets, whole pipeline), and in ``../shared/data`` (read in
place): ``cn_plate_crops_lprnet`` and ``openalpr_us_plate_crops`` (plates recognizer),
``printed_lines`` (documents recognizer), ``openalpr_eu`` (plates, whole pipeline). This
compares backends, not accuracy: every file of each set is used (``--part all``), since
no output is scored against ground truth or chosen from.

    .venv/bin/python bench/bench_onnx.py --out bench/out/onnx.json
"""

from __future__ import annotations

import argparse
import json
import platform
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))

from realdata import SHARED_DATA, load_set  # noqa: E402

from core.paths import DATA_DIR  # noqa: E402
from detection.yolo import letterbox  # noqa: E402
from pipeline.images import find_images, load_image  # noqa: E402
from pipeline.ocr import OcrPipeline  # noqa: E402
from recognition.preprocess import normalize, prepare_image  # noqa: E402

BACKENDS = {"torch": [], "torch_fp32": ["recognizer.precision=fp32"],
            "onnxruntime": ["backend=onnxruntime"]}


def best_time(fn: Callable[[], object], repeats: int) -> tuple[float, object]:
    """Best wall time of ``repeats`` calls after one warm-up call, and the last result."""
    result = fn()
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        result = fn()
        best = min(best, time.perf_counter() - start)
    return best, result


def agreement(texts: Sequence[str], reference: Sequence[str]) -> float:
    """Percent of items whose text equals the reference's."""
    same = sum(a == b for a, b in zip(texts, reference, strict=True))
    return 100.0 * same / max(1, len(reference))


@torch.inference_mode()
def logits_diff(torch_rec, ort_rec, crops: Sequence[np.ndarray], batch: int = 32) -> float:
    """Max abs difference of CTC logits on real columns, the same preprocessed batches."""
    prep = torch_rec.preprocess
    worst = 0.0
    for start in range(0, len(crops), batch):
        prepared = [prepare_image(c, prep) for c in crops[start:start + batch]]
        images = normalize(np.stack([p[0] for p in prepared]))
        widths = torch.tensor([p[1] for p in prepared])
        model = torch_rec.model
        ref = model.encode(images, widths) if getattr(model, "has_decoder", False) \
            else model(images, widths)
        out = ort_rec.model(images, widths)
        mask = ref["mask"]
        diff = (out["ctc_logits"].float() - ref["ctc_logits"].float()).abs()[mask]
        worst = max(worst, float(diff.max()))
    return worst


@torch.inference_mode()
def detector_diff(torch_det, ort_det, images: Sequence[np.ndarray]) -> dict[str, float]:
    """Max abs difference of the raw YOLO predictions (scores, boxes) at the detector's size."""
    tdet = getattr(torch_det, "detector", torch_det)  # inside a CleanScanRouter
    odet = getattr(ort_det, "detector", ort_det)
    worst = {"scores": 0.0, "boxes_px": 0.0}
    for image in images:
        padded, _, _ = letterbox(image, tdet.imgsz)
        x = torch.from_numpy(padded[None]).permute(0, 3, 1, 2).float() / 255.0
        ref = tdet.model(x)
        ref = ref[0] if isinstance(ref, tuple | list) else ref
        out = odet.model(x)
        worst["scores"] = max(worst["scores"], float((out[:, 4:] - ref[:, 4:]).abs().max()))
        worst["boxes_px"] = max(worst["boxes_px"], float((out[:, :4] - ref[:, :4]).abs().max()))
    return worst


def bench_recognizer(name: str, preset: str, crops: list[np.ndarray], repeats: int
                     ) -> dict[str, object]:
    """One recognizer set: crops/s, logits diff and text agreement per backend."""
    recs = {b: OcrPipeline.from_preset(preset, overrides=o, mode="recognize").recognizer
            for b, o in BACKENDS.items()}
    row: dict[str, object] = {"set": name, "preset": preset, "items": len(crops),
                              "unit": "crops/s"}
    texts = {}
    for backend, rec in recs.items():
        seconds, reads = best_time(lambda r=rec: r.predict(crops), repeats)
        texts[backend] = [r.text for r in reads]
        row[f"{backend}_per_s"] = len(crops) / seconds
    row["max_abs_diff"] = {"ctc_logits": logits_diff(recs["torch_fp32"], recs["onnxruntime"],
                                                     crops)}
    row["agree_fp32_pct"] = agreement(texts["onnxruntime"], texts["torch_fp32"])
    row["agree_torch_pct"] = agreement(texts["onnxruntime"], texts["torch"])
    return row


def bench_pipeline(name: str, preset: str, paths: list[Path], repeats: int
                   ) -> dict[str, object]:
    """One whole-pipeline set: images/s, detector output diff and text agreement."""
    ocrs = {b: OcrPipeline.from_preset(preset, overrides=o) for b, o in BACKENDS.items()}
    images = [load_image(p) for p in paths]
    row: dict[str, object] = {"set": name, "preset": preset, "items": len(images),
                              "unit": "images/s"}
    texts = {}
    for backend, ocr in ocrs.items():
        seconds, pages = best_time(lambda o=ocr: o.run(images), repeats)
        texts[backend] = [p.text for p in pages]
        row[f"{backend}_per_s"] = len(images) / seconds
    row["max_abs_diff"] = detector_diff(ocrs["torch_fp32"].detector,
                                        ocrs["onnxruntime"].detector, images)
    row["agree_fp32_pct"] = agreement(texts["onnxruntime"], texts["torch_fp32"])
    row["agree_torch_pct"] = agreement(texts["onnxruntime"], texts["torch"])
    return row


def markdown(rows: list[dict[str, object]]) -> str:
    """The results as a markdown table."""
    lines = ["| set (preset) | items | torch | torch fp32 | onnxruntime | max abs diff vs "
             "torch fp32 | same text as torch fp32 / as torch |",
             "|---|---|---|---|---|---|---|"]
    for r in rows:
        diffs = ", ".join(f"{k} {v:.1e}" for k, v in r["max_abs_diff"].items())
        lines.append(
            f"| {r['set']} ({r['preset']}) | {r['items']} | {r['torch_per_s']:.1f} | "
            f"{r['torch_fp32_per_s']:.1f} | {r['onnxruntime_per_s']:.1f} {r['unit']} | {diffs} "
            f"| {r['agree_fp32_pct']:.1f} % / {r['agree_torch_pct']:.1f} % |")
    return "\n".join(lines)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", type=Path, default=Path("bench/out/onnx.json"))
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--repeats", type=int, default=1, help="timed passes after a warm-up")
    ap.add_argument("--part", default="all", help="part of the shared sets (realdata.py)")
    ap.add_argument("--shared", type=Path, default=SHARED_DATA)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)  # onnxruntime sessions take torch's thread count

    rows = []
    for preset in ("documents", "plates"):
        paths = find_images([DATA_DIR / "samples" / preset])[0]
        rows.append(bench_pipeline(f"data/samples/{preset}", preset, paths, args.repeats))
        print(markdown(rows[-1:]).splitlines()[-1], flush=True)
    for name, preset in (("cn_plate_crops_lprnet", "plates"),
                         ("openalpr_us_plate_crops", "plates"),
                         ("printed_lines", "documents")):
        crops = [load_image(s.path) for s in load_set(name, args.part, args.shared)]
        rows.append(bench_recognizer(name, preset, crops, args.repeats))
        print(markdown(rows[-1:]).splitlines()[-1], flush=True)
    paths = [s.path for s in load_set("openalpr_eu", args.part, args.shared)]
    rows.append(bench_pipeline("openalpr_eu", "plates", paths, args.repeats))
    print(markdown(rows[-1:]).splitlines()[-1], flush=True)

    table = markdown(rows)
    print(table)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps({"threads": args.threads, "part": args.part,
                                    "cpu": platform.processor() or platform.machine(),
                                    "torch": torch.__version__, "rows": rows}, indent=2))
    print(f"-> {args.out}")


if __name__ == "__main__":
    main()
