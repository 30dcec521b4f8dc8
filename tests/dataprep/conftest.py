"""Tiny fixture repositories made with ``git init``, and a catalogue pointing at them."""

from __future__ import annotations

import hashlib
import io
import subprocess
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

GIT_ENV = {"GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@example.org",
           "GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@example.org",
           "GIT_CONFIG_GLOBAL": "/dev/null", "GIT_CONFIG_NOSYSTEM": "1", "HOME": "/tmp"}


def git(repo: Path, *args: str) -> str:
    env = {**GIT_ENV, "PATH": "/usr/bin:/bin:/usr/local/bin"}
    done = subprocess.run(["git", "-C", str(repo), *args], capture_output=True, text=True,
                          env=env, check=True)
    return done.stdout.strip()


def png_bytes(seed: int, size: tuple[int, int] = (48, 20)) -> bytes:
    """A small PNG whose pixels differ by seed (distinct SHA-256 and difference hash)."""
    rng = np.random.default_rng(seed)
    arr = rng.integers(0, 255, (size[1], size[0], 3), dtype=np.uint8)
    buf = io.BytesIO()
    Image.fromarray(arr).save(buf, format="PNG")
    return buf.getvalue()


def commit_files(repo: Path, files: dict[str, bytes | str], message: str) -> str:
    for name, data in files.items():
        path = repo / name
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(data, str):
            path.write_text(data, encoding="utf-8")
        else:
            path.write_bytes(data)
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", message)
    return git(repo, "rev-parse", "HEAD")


WORDS = ["alpha", "beta", "gamma", "delta", "epsilon", "zeta", "eta", "theta", "iota", "kappa",
         "lambda", "mu"]


@dataclass
class Fixture:
    repo: Path
    commit: str
    catalogue: Path
    images: dict[str, bytes]

    def write_entry(self, name: str, body: str, commit: str | None = None) -> Path:
        path = self.catalogue / f"{name}.yaml"
        path.write_text(f"name: {name}\ntitle: fixture\nrepo: example/{name}\n"
                        f"commit: {commit or self.commit}\nlicence: none stated\n{body}",
                        encoding="utf-8")
        return path


CROPS_ENTRY = """kind: handwritten_words
images: 12
converter: table_crops
options:
  tables:
    - {labels: words/labels.txt, images: words/img}
"""

ALTO = """<?xml version="1.0" encoding="UTF-8"?>
<alto xmlns="http://www.loc.gov/standards/alto/ns-v4#">
 <Description><sourceImageInformation><fileName>{image}</fileName></sourceImageInformation>
 </Description>
 <Layout><Page WIDTH="48" HEIGHT="20"><PrintSpace><TextBlock>
  <TextLine ID="l1"><Shape><Polygon POINTS="1 1 40 1 40 9 1 9"/></Shape>
   <String CONTENT="Ceci est"/></TextLine>
  <TextLine ID="l2" HPOS="2" VPOS="10" WIDTH="30" HEIGHT="8">
   <String CONTENT="mon"/><SP/><String CONTENT="testament"/></TextLine>
 </TextBlock></PrintSpace></Page></Layout>
</alto>
"""

PAGES_ENTRY = """kind: handwritten_pages
images: 4
converter: alto_lines
options:
  under: pages
  group: "(hand\\\\d)"
"""


@pytest.fixture
def fixture_repo(tmp_path: Path) -> Fixture:
    """A repository with 12 word crops + labels.txt and 4 ALTO pages of two hands."""
    repo = tmp_path / "src"
    repo.mkdir()
    git(repo, "init", "-q", "-b", "main")
    images = {f"words/img/{i}.png": png_bytes(i) for i in range(len(WORDS))}
    labels = "".join(f"{i}.png\t{w}\n" for i, w in enumerate(WORDS))
    files: dict[str, bytes | str] = {**images, "words/labels.txt": labels}
    for hand in (1, 2):
        for page in (1, 2):
            stem = f"pages/hand{hand}_p{page}"
            files[f"{stem}.jpg"] = png_bytes(100 + 10 * hand + page)
            files[f"{stem}.xml"] = ALTO.format(image=f"hand{hand}_p{page}.jpg")
    commit = commit_files(repo, files, "fixture data")
    catalogue = tmp_path / "catalogue"
    catalogue.mkdir()
    fx = Fixture(repo, commit, catalogue, images)
    fx.write_entry("words", CROPS_ENTRY)
    fx.write_entry("pages", PAGES_ENTRY)
    return fx


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()
