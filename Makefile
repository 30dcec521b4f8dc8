# Two entry points, both self-contained on a fresh machine:
#   make demo  - set up, then OCR the shipped sample images (results.json, results_plates.json)
#   make test  - set up, then run the test suite
.PHONY: setup demo test lint samples

setup:
	bash scripts/setup.sh

demo: setup
	bash scripts/demo.sh

test: setup
	.venv/bin/python -m pytest -q

lint: setup
	.venv/bin/ruff check .
