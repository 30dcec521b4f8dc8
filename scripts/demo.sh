#!/usr/bin/env bash
# The main job on the shipped samples with the shipped weights: pages with the documents
# preset, car photos with the plates preset. Prints the text; writes results JSON files.
set -euo pipefail
cd "$(dirname "$0")/.."
.venv/bin/pipeline run data/samples/documents --preset documents --out results.json --show
.venv/bin/pipeline run data/samples/plates --preset plates --out results_plates.json --show
