#!/usr/bin/env bash
# ultralytics and rapidocr depend on opencv-python, which shares the cv2 folder with
# opencv-python-headless: remove it and reinstall the headless files so one cv2 remains.
set -euo pipefail
PY=${1:-.venv/bin/python}
if $PY -m pip show opencv-python >/dev/null 2>&1; then
  $PY -m pip uninstall -q -y opencv-python
  version=$($PY -c 'import importlib.metadata as m; print(m.version("opencv-python-headless"))')
  $PY -m pip install -q --disable-pip-version-check --force-reinstall --no-deps \
    "opencv-python-headless==$version"
fi
