"""Test-wide set-up: keep every cache, ultralytics' settings included, inside a temp dir."""

from __future__ import annotations

import os
import tempfile

# Before anything imports ultralytics: its settings and fonts go to a throwaway dir, and it
# must never try the network.
_CACHE = tempfile.mkdtemp(prefix="ocr-pipeline-tests-")
os.environ.setdefault("OCR_PIPELINE_CACHE", _CACHE)
os.environ["YOLO_OFFLINE"] = "1"
os.environ.setdefault("YOLO_CONFIG_DIR", os.path.join(_CACHE, "ultralytics"))
