"""NTO submission entry point: ``python run.py TEST_IMAGES_PATH SAVE_PATH``.

Runs the bundled OCR pipeline (``src/``) with the bundled config and weights on every image
in TEST_IMAGES_PATH and writes one predictions JSON to SAVE_PATH.
"""

import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE / "src"))

from pipeline.submission.predict import main  # noqa: E402

if __name__ == "__main__":
    sys.exit(main(sys.argv[1:], HERE / "config.yaml"))
