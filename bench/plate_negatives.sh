#!/usr/bin/env bash
# Photos with no licence plate, for the false-plate count of bench/bench_plate_recall.py:
# street signs, shop fronts, posters, screenshots and text lines from the example and test
# pictures of two public OCR repositories (read, not copied into this project).
#   bash bench/plate_negatives.sh runs/plate_negatives
# Needs their mirrors (the `fetch` tool): JaidedAI/EasyOCR and RapidAI/RapidOCR under
# /work/.mirror (or MIRRORS=...). Images reserved for held-out evaluation are dropped.
set -euo pipefail
out=${1:?usage: plate_negatives.sh OUT_DIR}
mirrors=${MIRRORS:-/work/.mirror}
mkdir -p "$out"
out=$(cd "$out" && pwd)
take() {  # repo folder prefix
  local repo="$mirrors/$1/repo"
  git -C "$repo" ls-tree -r --name-only HEAD "$2" | grep -iE '\.(jpe?g|png)$' | while read -r f; do
    git -C "$repo" show "HEAD:$f" > "$out/$3_$(basename "$f")"
  done
}
take JaidedAI+EasyOCR examples easyocr
take RapidAI+RapidOCR python/tests/test_files rapidocr
here=$(cd "$(dirname "$0")/.." && pwd)
cd "$here" && .venv/bin/python - "$out" <<'PY'
import sys
from pathlib import Path

from dataprep.reserved import ReservedFilter

folder = Path(sys.argv[1])
reserved = ReservedFilter()
drop = [p for p in sorted(folder.iterdir()) if reserved(p)]
for p in drop:
    p.unlink()
print(f"{folder}: {sum(1 for _ in folder.iterdir())} images, {len(drop)} reserved dropped")
PY
