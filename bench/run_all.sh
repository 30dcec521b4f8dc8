#!/usr/bin/env bash
# All benchmarks in one run: accuracy + speed of this project vs Tesseract, RapidOCR and
# EasyOCR on the TEST parts of ../shared/data (bench/README.md: never make a choice on them;
# choose on `bench_accuracy.py --part tune`), recognizer crops/s (batched vs one at a time),
# detector s/image, and pipeline crops/s in --mode recognize. Writes bench/out/*.json and
# bench/RESULTS.md (keeping its "# Earlier runs" section). Run it on an otherwise idle
# machine: timings share the 2 cores.
set -euo pipefail
cd "$(dirname "$0")/.."
bash bench/setup_peers.sh
PY=.venv/bin/python
OUT=bench/out
mkdir -p "$OUT"
$PY bench/realdata.py --out runs/realdata >/dev/null
$PY bench/bench_accuracy.py --out "$OUT" --part test
$PY bench/bench_recognizer.py --out "$OUT/recognizer.json" \
  --weights-joint data/models/documents_recognizer.pt --merge ctc \
  --weights-crnn data/models/documents_crnn.pt \
  | tee "$OUT/recognizer.txt"
$PY bench/bench_detector.py --presets documents plates --out "$OUT/detector.json" \
  | tee "$OUT/detector.txt"
$PY bench/bench_pipeline.py --presets plates --pages data/samples/plates --crops ../shared/data/cn_plate_crops_lprnet/images \
  --out "$OUT/pipeline.json" | tee "$OUT/pipeline.txt"
$PY bench/write_results.py "$OUT" bench/RESULTS.md bench/notes.md
echo "wrote bench/RESULTS.md"
