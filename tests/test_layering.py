"""The package layering: core <- detection, recognition, synth <- pipeline.

Every import statement is read, including those inside functions (lazy imports), so a
cycle cannot come back through a deferred import.
"""

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("core", "detection", "recognition", "synth", "dataprep", "pipeline")
# What each package may import of the project's own packages (itself always allowed).
ALLOWED = {
    "core": set(),
    "detection": {"core"},
    "recognition": {"core"},
    "synth": {"core", "recognition"},  # the charset the generators draw from
    "dataprep": {"core"},
    "pipeline": {"core", "detection", "recognition", "synth", "dataprep"},
}


def project_imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names = [node.module]
        else:
            continue
        found |= {n.split(".")[0] for n in names if n.split(".")[0] in PACKAGES}
    return found


@pytest.mark.parametrize("package", PACKAGES)
def test_package_imports_only_lower_layers(package):
    bad = {}
    files = sorted((ROOT / package).rglob("*.py"))
    assert files, f"{package}/ has no modules"
    for path in files:
        wrong = project_imports(path) - ALLOWED[package] - {package}
        if wrong:
            bad[str(path.relative_to(ROOT))] = sorted(wrong)
    assert not bad, f"{package} imports layers above it: {bad}"


def test_the_checker_sees_lazy_imports(tmp_path):
    module = tmp_path / "m.py"
    module.write_text("def f():\n    from pipeline.ocr import OcrPipeline\n    import core.paths\n")
    assert project_imports(module) == {"pipeline", "core"}
