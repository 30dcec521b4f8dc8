import hashlib

import pytest

from core.checksums import ChecksumMismatch, sha256_of, verify_sha256
from core.errors import UsageError


def test_sha256_of_matches_hashlib_across_chunks(tmp_path):
    data = bytes(range(256)) * 9000  # several chunks of the small size below
    path = tmp_path / "w.pt"
    path.write_bytes(data)
    assert sha256_of(path, chunk=4096) == hashlib.sha256(data).hexdigest()


def test_verify_accepts_the_pinned_file_and_names_everything_when_it_differs(tmp_path):
    path = tmp_path / "start.pt"
    path.write_bytes(b"stage 4 weights")
    good = hashlib.sha256(b"stage 4 weights").hexdigest()
    verify_sha256(path, good.upper(), "recognizer.weights")  # any case
    verify_sha256(path, None, "recognizer.weights")  # nothing pinned: nothing checked
    path.write_bytes(b"stage 5 weights")
    with pytest.raises(ChecksumMismatch) as err:
        verify_sha256(path, good, "recognizer.weights")
    msg = str(err.value)
    assert "recognizer.weights" in msg and str(path) in msg and good in msg
    assert hashlib.sha256(b"stage 5 weights").hexdigest() in msg
    assert isinstance(err.value, UsageError)
    assert isinstance(err.value, ValueError)  # the train commands' clean 'error:' exit
