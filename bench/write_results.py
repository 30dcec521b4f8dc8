"""Collect the outputs of ``bench/run_all.sh`` into ``bench/RESULTS.md``.

Everything from the ``# Earlier runs`` heading on in the existing file is kept below the new
run (move the run this one replaces under it by hand, with a line saying what it was).
"""

from __future__ import annotations

import sys
from pathlib import Path

EARLIER = "# Earlier runs"
SECTIONS = [
    ("accuracy.md", None),
    ("accuracy_plates.md", None),
    ("accuracy_docs.md", None),
    ("accuracy_eu.md", None),
    ("recognizer.txt", "Recognizer throughput (crops/s, batched vs one at a time)"),
    ("detector.txt", "Detector speed (seconds per image, default sizes)"),
    ("pipeline.txt", "Pipeline `--mode recognize` on plate crops"),
]


def main(out_dir: Path, target: Path, notes: Path | None = None) -> None:
    parts = []
    for name, title in SECTIONS:
        path = out_dir / name
        if not path.is_file():
            continue
        body = "\n".join(line for line in path.read_text(encoding="utf-8").splitlines()
                         if not line.startswith("wrote "))
        parts.append(f"## {title}\n\n{body.strip()}\n" if title else body.strip() + "\n")
    if notes is not None and notes.is_file():
        parts.append(notes.read_text(encoding="utf-8").strip() + "\n")
    old = target.read_text(encoding="utf-8") if target.is_file() else ""
    start = old.find(f"\n{EARLIER}")
    if start >= 0:
        parts.append(old[start + 1:].strip() + "\n")
    target.write_text("\n".join(parts), encoding="utf-8")


if __name__ == "__main__":
    main(Path(sys.argv[1]), Path(sys.argv[2]), Path(sys.argv[3]) if len(sys.argv) > 3 else None)
