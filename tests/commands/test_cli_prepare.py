"""End-to-end tests of ``imdb-lab prepare``."""

import os
import re
import subprocess
import sys
from pathlib import Path

import numpy as np

from conftest import write_folder
from imdb_lab.data.archive import MAX_REVIEW_BYTES


def run_prepare(*args, env=None):
    """Run ``python -m imdb_lab prepare ARGS`` with the test's environment; return the CompletedProcess."""
    return subprocess.run([sys.executable, "-m", "imdb_lab", "prepare", *map(str, args)],
                          capture_output=True, text=True, env=env or dict(os.environ), timeout=300)


def printed_cache(stdout):
    """Return (path, MB) from prepare's output line."""
    match = re.fullmatch(r"data cache: (.+) \((\d+\.\d) MB\)\n", stdout)
    assert match, f"unexpected output: {stdout!r}"
    return Path(match.group(1)), float(match.group(2))


def test_prepare_builds_the_cache_and_prints_its_path_and_size(tiny_archive):
    result = run_prepare("--source", tiny_archive)
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr
    path, megabytes = printed_cache(result.stdout)
    # the cache lands in IMDB_LAB_CACHE (set by the isolated_cache fixture) and is a complete npz
    assert path.parent == Path(os.environ["IMDB_LAB_CACHE"])
    assert megabytes == round(path.stat().st_size / 1e6, 1)
    with np.load(path) as cache:
        assert len(cache.files) > 0
    # a second run finds the same cache and leaves it as it was
    mtime = path.stat().st_mtime_ns
    again = run_prepare("--source", tiny_archive)
    assert again.returncode == 0 and printed_cache(again.stdout)[0] == path
    assert path.stat().st_mtime_ns == mtime


def test_prepare_defaults_to_imdb_lab_data(tiny_archive):
    result = run_prepare(env={**os.environ, "IMDB_LAB_DATA": str(tiny_archive)})
    assert result.returncode == 0, result.stderr
    assert printed_cache(result.stdout)[0] == printed_cache(run_prepare("--source", tiny_archive).stdout)[0]


def test_prepare_missing_source_is_a_one_line_error(tmp_path):
    result = run_prepare("--source", tmp_path / "missing.tar.gz")
    assert result.returncode == 2
    assert result.stderr == f"imdb-lab prepare: error: no such file or folder: {tmp_path / 'missing.tar.gz'}\n"


def test_prepare_unreadable_source_is_a_one_line_error(tmp_path):
    bogus = tmp_path / "aclImdb_v1.tar.gz"
    bogus.write_bytes(b"this is not a tar archive")
    result = run_prepare("--source", bogus)
    assert result.returncode == 2
    assert result.stderr.startswith("imdb-lab prepare: error: ")
    assert "Traceback" not in result.stderr and len(result.stderr.strip().splitlines()) == 1


def test_prepare_on_a_folder_with_an_oversized_file_is_a_one_line_error(tmp_path, tiny_reviews):
    folder = write_folder(tmp_path, tiny_reviews)
    (folder / "train" / "pos" / "77_8.txt").write_bytes(b"x" * (MAX_REVIEW_BYTES + 1))
    result = run_prepare("--source", folder)
    assert result.returncode == 2 and "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert re.fullmatch(r"imdb-lab prepare: error: .*77_8\.txt in .* more than any review .*", lines[-1]), lines
    assert not any(line.startswith(("Traceback", "ValueError")) for line in lines)


def test_prepare_rejects_unknown_flags():
    result = run_prepare("--fast")
    assert result.returncode == 2
    assert "unrecognized arguments: --fast" in result.stderr


def test_prepare_with_an_unwritable_cache_folder_says_so_and_fails(tmp_path, tiny_archive):
    blocker = tmp_path / "a_file"
    blocker.write_text("a file where the cache folder should be")
    result = run_prepare("--source", tiny_archive, env={**os.environ, "IMDB_LAB_CACHE": str(blocker / "cache")})
    assert result.returncode == 2
    lines = [line for line in result.stderr.splitlines() if line.startswith("imdb-lab prepare:")]
    assert lines == [f"imdb-lab prepare: error: cannot write the IMDB data cache in {blocker / 'cache'} "
                     "(Not a directory): set IMDB_LAB_CACHE to a writable folder with ~100 MB free"], result.stderr
    assert result.stdout == ""
