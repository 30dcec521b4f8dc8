"""Collect the outputs of ``bench/run_all.sh`` into ``bench/RESULTS.md``."""

from __future__ import annotations

import sys
from pathlib import Path

SECTIONS = [
    ("accuracy.md", None),
    ("recognizer.txt", "Recognizer throughput (crops/s, batched vs one at a time)"),
    ("detector.txt", "Detector speed (seconds per image, default sizes)"),
    ("pipeline.txt", "Pipeline `--mode recognize` on plate crops"),
]


def main(out_dir: Path, target: Path) -> None:
    parts = []
    for name, title in SECTIONS:
        path = out_dir / name
        if not path.is_file():
            continue
        body = "\n".join(line for line in path.read_text(encoding="utf-8").splitlines()
                         if not line.startswith("wrote "))
        parts.append(f"## {title}\n\n{body.strip()}\n" if title else body.strip() + "\n")
    target.write_text("\n".join(parts), encoding="utf-8")


if __name__ == "__main__":
    main(Path(sys.argv[1]), Path(sys.argv[2]))
