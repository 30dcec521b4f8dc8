"""Read one pinned commit of a git repository without checking it out.

Works on a working clone and on a bare repository alike: the tree is listed once with
``git ls-tree -r -z`` and blobs are streamed through one ``git cat-file --batch`` process.
"""

from __future__ import annotations

import fnmatch
import logging
import shutil
import subprocess
from pathlib import Path, PurePosixPath

from dataprep.errors import DataError

log = logging.getLogger(__name__)


class MissingBlob(DataError):
    """The commit names a file whose content is absent (a partial or filtered clone)."""


def _git(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess:
    if shutil.which("git") is None:
        raise DataError("git", "the git command is not installed")
    return subprocess.run(["git", *args], cwd=cwd, capture_output=True)


class GitSource:
    """The files of ``commit`` in the repository at ``path``.

    Args:
        path: a clone (with or without work tree) or a bare git directory.
        commit: the full commit id the catalogue pins.

    Raises:
        DataError: ``path`` is not a git repository, or ``commit`` is not in it.
    """

    def __init__(self, path: str | Path, commit: str):
        self.path = Path(path)
        self.commit = commit
        if not self.path.exists():
            raise DataError(str(self.path), "source folder not found")
        probe = _git("-C", str(self.path), "rev-parse", "--git-dir")
        if probe.returncode != 0:
            raise DataError(str(self.path), "not a git repository (clone or bare directory)")
        found = _git("-C", str(self.path), "cat-file", "-e", f"{commit}^{{commit}}")
        if found.returncode != 0:
            raise DataError(str(self.path), f"pinned commit {commit} is not in this repository "
                            "(fetch it, or clone the repository again)")
        self._tree: dict[str, str] | None = None
        self._batch: subprocess.Popen | None = None

    # -- listing ----------------------------------------------------------------------------
    @property
    def tree(self) -> dict[str, str]:
        """Every file of the commit: repository path -> blob id."""
        if self._tree is None:
            out = _git("-C", str(self.path), "ls-tree", "-r", "-z", "--full-tree", self.commit)
            if out.returncode != 0:
                raise DataError(str(self.path), f"cannot list commit {self.commit}: "
                                f"{out.stderr.decode(errors='replace').strip()}")
            tree = {}
            for entry in out.stdout.split(b"\0"):
                if not entry:
                    continue
                meta, _, name = entry.partition(b"\t")
                mode, kind, sha = meta.decode().split()
                if kind == "blob":
                    tree[name.decode("utf-8", errors="surrogateescape")] = sha
            self._tree = tree
        return self._tree

    def exists(self, path: str) -> bool:
        return path in self.tree

    def files(self, under: str = "", pattern: str = "*") -> list[str]:
        """Sorted files below folder ``under`` whose name matches the glob ``pattern``."""
        prefix = under.rstrip("/") + "/" if under else ""
        return sorted(p for p in self.tree
                      if p.startswith(prefix) and fnmatch.fnmatch(PurePosixPath(p).name, pattern))

    # -- reading ----------------------------------------------------------------------------
    def read(self, path: str) -> bytes:
        """The bytes of ``path`` at the pinned commit.

        Raises:
            DataError: the file is not in the commit.
            MissingBlob: its blob is absent from a partial clone.
        """
        sha = self.tree.get(path)
        if sha is None:
            raise DataError(path, f"file not found at commit {self.commit[:12]}")
        batch = self._batch_process()
        assert batch.stdin is not None and batch.stdout is not None
        batch.stdin.write(sha.encode() + b"\n")
        batch.stdin.flush()
        header = batch.stdout.readline().decode().split()
        if len(header) < 3 or header[1] != "blob":
            raise MissingBlob(path, f"blob {sha[:12]} is missing from {self.path} (a partial "
                              "or filtered clone?); fetch the full repository, or pass "
                              "--allow-partial to skip and count such images")
        data = batch.stdout.read(int(header[2]))
        batch.stdout.read(1)  # the newline after each object
        return data

    def read_text(self, path: str, fallback: str | None = None) -> str:
        """``read`` decoded as UTF-8 (a BOM is dropped; UTF-16 with BOM is recognised); a
        file that is not UTF-8 is decoded as ``fallback`` (e.g. ``cp1252``) when one is
        given, else refused."""
        data = self.read(path)
        if data[:2] in (b"\xff\xfe", b"\xfe\xff"):
            return data.decode("utf-16")
        try:
            return data.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            if fallback is not None:
                try:
                    return data.decode(fallback)
                except UnicodeDecodeError:
                    pass
            raise DataError(path, f"not UTF-8 text ({exc})") from exc

    def _batch_process(self) -> subprocess.Popen:
        if self._batch is None or self._batch.poll() is not None:
            self._batch = subprocess.Popen(
                ["git", "-C", str(self.path), "cat-file", "--batch"],
                stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
        return self._batch

    def close(self) -> None:
        if self._batch is not None:
            if self._batch.stdin:
                self._batch.stdin.close()
            self._batch.wait(timeout=10)
            if self._batch.stdout:
                self._batch.stdout.close()
            self._batch = None

    def __enter__(self) -> GitSource:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def clone_pinned(repo: str, commit: str, dest: Path) -> Path:
    """Clone ``https://github.com/<repo>`` (bare) into ``dest`` and make sure ``commit`` is in it.

    Needs internet access; a clone already at ``dest`` is reused. The files are then read
    through git, so nothing is checked out.

    Returns:
        ``dest``.

    Raises:
        DataError: the clone or the fetch of the pinned commit failed.
    """
    url = f"https://github.com/{repo}.git"
    if not (dest / "HEAD").is_file():
        dest.parent.mkdir(parents=True, exist_ok=True)
        log.info("cloning %s into %s", url, dest)
        done = _git("clone", "--bare", "--quiet", url, str(dest))
        if done.returncode != 0:
            raise DataError(url, "git clone failed: "
                            f"{done.stderr.decode(errors='replace').strip()} (no internet? "
                            "clone it elsewhere and pass --source)")
    if _git("-C", str(dest), "cat-file", "-e", f"{commit}^{{commit}}").returncode != 0:
        done = _git("-C", str(dest), "fetch", "--quiet", "origin", commit)
        if done.returncode != 0:
            raise DataError(url, f"pinned commit {commit} could not be fetched: "
                            f"{done.stderr.decode(errors='replace').strip()}")
    return dest
