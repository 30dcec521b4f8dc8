#!/usr/bin/env bash
# Installs the benchmark peers, outside the project's runtime dependencies:
# Tesseract 5 (Debian, eng + rus + chi_sim) and RapidOCR (PyPI wheel carrying PP-OCRv4 ONNX models).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
  pkgs=(tesseract-ocr tesseract-ocr-eng tesseract-ocr-rus tesseract-ocr-chi-sim)
  missing=()
  for p in "${pkgs[@]}"; do dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p"); done
  if [ ${#missing[@]} -gt 0 ]; then
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  fi
fi
.venv/bin/python -m pip install -q --disable-pip-version-check "rapidocr-onnxruntime==1.4.4"
bash scripts/one_opencv.sh .venv/bin/python
