"""Shared fixtures: tiny IMDB-style archives that the tests build themselves."""

import copy
import io
import os
import random
import tarfile
from pathlib import Path

import numpy as np
import pytest

POSITIVE_WORDS = ["great", "wonderful", "superb", "loved", "brilliant", "moving"]
NEGATIVE_WORDS = ["awful", "boring", "terrible", "waste", "worst", "dull"]
NEUTRAL_WORDS = [
    "the", "the", "the", "a", "a", "and", "of", "to", "is", "film", "movie",
    "plot", "actor", "it", "this", "that", "story", "scene", "was", "i",
]
SPLITS = ("train", "test")
# the cache .ci/run (or the developer) chose, before the tests isolate theirs
SHARED_CACHE = os.environ.get("IMDB_LAB_CACHE")
LABELS = ("neg", "pos")
# the notebooks the grader's tests grade: honest ones, broken ones and cheats
GRADER_NOTEBOOKS = Path(__file__).parent / "grader" / "notebooks"
BENCHMARKS = Path(__file__).resolve().parents[1] / "benchmarks"


def make_review(rng, label, length):
    """Return one review text whose words lean towards ``label`` ("pos" or "neg")."""
    signal = POSITIVE_WORDS if label == "pos" else NEGATIVE_WORDS
    words = [
        rng.choice(signal) if rng.random() < 0.25 else rng.choice(NEUTRAL_WORDS)
        for _ in range(length)
    ]
    # the punctuation and the <br /> tags of the real reviews, for the tokenizer
    return " ".join(words).capitalize() + ". It's <br /><br />" + rng.choice(["Yes!", "No?", "(sure)"])


def make_reviews(per_folder, seed=0, min_len=3, max_len=40):
    """Return {(split, label): [text, ...]} with ``per_folder`` reviews in each folder."""
    rng = random.Random(seed)
    return {
        (split, label): [make_review(rng, label, rng.randint(min_len, max_len)) for _ in range(per_folder)]
        for split in SPLITS
        for label in LABELS
    }


def review_name(split, label, i):
    """Return the archive member name of review ``i``, as the original archive names it."""
    rating = 8 if label == "pos" else 2
    return f"aclImdb/{split}/{label}/{i}_{rating}.txt"


def write_archive(path, reviews, extra=None):
    """Write ``reviews`` as an ``aclImdb_v1.tar.gz``-style archive at ``path``; return the path."""
    path = Path(path)
    with tarfile.open(path, "w:gz") as tar:
        def add(name, data):
            info = tarfile.TarInfo(name)
            info.size = len(data)
            info.mtime = 1_300_000_000
            tar.addfile(info, io.BytesIO(data))

        add("aclImdb/README", b"tiny test copy of the Large Movie Review Dataset\n")
        for (split, label), texts in sorted(reviews.items()):
            for i, text in enumerate(texts):
                add(review_name(split, label, i), text.encode("utf-8"))
        for name, data in (extra or {}).items():
            add(name, data)
    return path


def write_folder(root, reviews):
    """Write ``reviews`` as an extracted ``aclImdb/`` folder under ``root``; return that folder."""
    for (split, label), texts in reviews.items():
        folder = Path(root) / "aclImdb" / split / label
        folder.mkdir(parents=True, exist_ok=True)
        for i, text in enumerate(texts):
            (Path(root) / review_name(split, label, i)).write_bytes(text.encode("utf-8"))
    return Path(root) / "aclImdb"


def naive_multi_hot(sequences, num_words):
    """The textbook reference: a Python loop over reviews and words."""
    out = np.zeros((len(sequences), num_words))
    for i, sequence in enumerate(sequences):
        for word in sequence:
            out[i, word] = 1.0
    return out


def random_sequences(n, num_words, seed=0, max_len=30):
    """Return ``n`` random reviews (with repeated words and some empty ones) as an object array."""
    rng = np.random.default_rng(seed)
    out = np.empty(n, dtype=object)
    for i in range(n):
        out[i] = rng.integers(0, num_words, size=rng.integers(0, max_len)).tolist()
    out[3] = []
    out[5] = [7, 7, 7, 1, 7]
    return out


def random_word_reviews(n, seed, num_words=40, longest=60):
    """Return ``n`` random reviews over ``num_words`` words (some empty) and their random labels."""
    rng = np.random.default_rng(seed)
    return ([rng.integers(0, num_words, size=rng.integers(0, longest)).tolist() for _ in range(n)],
            rng.integers(0, 2, n))


def varied_reviews(n, seed):
    """Reviews of 1 to 300 distinct words (of 1,000), so that batches hold different numbers of ids."""
    rng = np.random.default_rng(seed)
    return ([rng.choice(1000, size=rng.integers(1, 300), replace=False).tolist() for _ in range(n)],
            rng.integers(0, 2, n))


def epoch(feed):
    """Return the batches of one epoch as (x, y, the reviews' rows)."""
    size = feed.batch_size
    return [(*feed[i], feed._order[i * size:(i + 1) * size]) for i in range(len(feed))]


def flat(sequences, labels=None):
    """Return the FlatReviews of ``sequences`` (labels 0 unless given)."""
    from imdb_lab.data.reviews import FlatReviews

    return FlatReviews.from_sequences(sequences, labels if labels is not None else [0] * len(sequences))


# Gradescope's autograder specification (gradescope-autograders.readthedocs.io, "Autograder Specifications"):
# the keys results.json and each test may have, and the values they take
TOP_KEYS = {"score": (int, float), "execution_time": (int,), "output": (str,), "output_format": (str,),
            "test_output_format": (str,), "test_name_format": (str,), "visibility": (str,),
            "stdout_visibility": (str,), "extra_data": (dict,), "tests": (list,), "leaderboard": (list,)}
TEST_KEYS = {"score": (int, float), "max_score": (int, float), "status": (str,), "name": (str,),
             "name_format": (str,), "number": (str,), "output": (str,), "output_format": (str,), "tags": (list,),
             "visibility": (str,), "extra_data": (dict,)}
VISIBILITY = {"visible", "hidden", "after_due_date", "after_published"}


@pytest.fixture
def fake_system(tmp_path, monkeypatch):
    """A /proc and /sys/fs/cgroup of our own for imdb_lab.memory and imdb_lab.cgroups; return ``(proc, cgroup)``:
    write ``meminfo`` and cgroup files into them."""
    from imdb_lab import cgroups, memory

    proc, cgroup = tmp_path / "proc", tmp_path / "cgroup"
    (proc / "self").mkdir(parents=True)
    cgroup.mkdir()
    monkeypatch.setattr(memory, "_PROC", proc)
    monkeypatch.setattr(cgroups, "PROC", proc)
    monkeypatch.setattr(cgroups, "CGROUP_ROOT", cgroup)
    return proc, cgroup


def write(path, text):
    """Write ``text`` to ``path``, making its folders."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)


def accuracy_verdict(accuracy, target=0.85):
    """Return the accuracy exercise's verdict dict for a measured ``accuracy``, as the grader gives it."""
    from imdb_lab.check.accuracy_check import judge_measured_accuracy
    from imdb_lab.check.graded import Evidence
    from imdb_lab.grader.exercises import verdict

    return verdict("accuracy", judge_measured_accuracy(Evidence("passed", accuracy=accuracy, target=target)))


def make_row(notebook, status="passed", accuracy=0.9, seconds=1.0, sandboxed=True, exercises=None):
    """Return a grade row (``records.GradeResult``) as the grader gives it: the verdicts of a measured model when it
    was scored (every other exercise right), else every exercise not judged; ``exercises`` replaces them."""
    from imdb_lab.check.core import correct
    from imdb_lab.grader.exercises import EXERCISES, Rubric, not_judged, verdict
    from imdb_lab.grader.records import GradeResult

    rubric = Rubric()
    if exercises is None and accuracy is None:
        exercises = [rubric.award(not_judged(name, f"the grader had nothing to judge it on ({status})"))
                     for name in EXERCISES]
    elif exercises is None:
        exercises = [rubric.award(accuracy_verdict(accuracy) if name == "accuracy" else
                                  verdict(name, correct(f"{name} is right"))) for name in EXERCISES]
    return GradeResult(str(notebook), status, accuracy, seconds, sandboxed, exercises)


def assert_gradescope_format(results):
    """Fail unless ``results`` follows Gradescope's results.json specification."""
    for keys, content in [(TOP_KEYS, results), *((TEST_KEYS, test) for test in results.get("tests", []))]:
        assert set(content) <= set(keys), set(content) - set(keys)
        for key, value in content.items():
            assert isinstance(value, keys[key]) and not isinstance(value, bool), (key, value)
        for key in ("visibility", "stdout_visibility"):
            assert content.get(key, "visible") in VISIBILITY
        assert content.get("status", "passed") in ("passed", "failed")
    assert "score" in results or all("score" in test for test in results["tests"])
    for entry in results.get("leaderboard", []):
        assert set(entry) <= {"name", "value", "order"} and isinstance(entry["name"], str)
        assert entry.get("order", "desc") in ("asc", "desc")


@pytest.fixture(scope="session")
def tiny_reviews():
    """Texts of a tiny data set: 6 reviews in each of the four folders."""
    return make_reviews(per_folder=6, seed=1)


@pytest.fixture(scope="session")
def tiny_archive(tmp_path_factory, tiny_reviews):
    """A tiny ``aclImdb_v1.tar.gz``-style archive (6 reviews per folder)."""
    return write_archive(tmp_path_factory.mktemp("tiny") / "aclImdb_v1.tar.gz", tiny_reviews)


@pytest.fixture(scope="session")
def small_archive(tmp_path_factory):
    """A small but learnable archive (200 reviews per folder) for training tests."""
    reviews = make_reviews(per_folder=200, seed=2, min_len=20, max_len=60)
    return write_archive(tmp_path_factory.mktemp("small") / "aclImdb_v1.tar.gz", reviews)


@pytest.fixture(scope="session")
def keras_npz(tmp_path_factory, tiny_archive):
    """The tiny archive written in Keras's own ``imdb.npz`` format (word ranks, unshuffled)."""
    from imdb_lab.data import archive

    encoded = archive.encode_dataset(*archive.find_dataset(tiny_archive))
    arrays = {}
    for split in archive.SPLITS:
        tokens, offsets = encoded.tokens[split], encoded.offsets[split]
        x = np.empty(len(offsets) - 1, dtype=object)
        for i in range(len(x)):
            x[i] = tokens[offsets[i]:offsets[i + 1]].tolist()
        arrays[f"x_{split}"] = x
        arrays[f"y_{split}"] = encoded.labels[split].astype(np.int64)
    path = tmp_path_factory.mktemp("keras") / "imdb.npz"
    np.savez(path, **arrays)
    return path


@pytest.fixture(autouse=True)
def isolated_cache(tmp_path, monkeypatch):
    """Keep every test's data cache, Keras folder and grader key in its own temporary folder."""
    monkeypatch.setenv("IMDB_LAB_CACHE", str(tmp_path / "imdb_lab_cache"))
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "keras_home"))
    monkeypatch.setenv("IMDB_LAB_STATE", str(tmp_path / "imdb_lab_state"))  # the grader's key, never the user's
    monkeypatch.delenv("IMDB_LAB_DATA", raising=False)


@pytest.fixture(scope="session")
def real_archive():
    """The real archive named by ``IMDB_LAB_DATA`` (set by .ci/run), or skip."""
    path = os.environ.get("IMDB_LAB_DATA")
    if not path:
        pytest.skip("IMDB_LAB_DATA is not set: point it at aclImdb_v1.tar.gz to run the real-data tests")
    if not Path(path).exists():
        pytest.skip(f"IMDB_LAB_DATA={path} does not exist")
    return Path(path)


@pytest.fixture
def real_data(real_archive, monkeypatch, tmp_path_factory):
    """Point IMDB_LAB_DATA at the real archive and share one data cache across tests, so it is built once."""
    cache = SHARED_CACHE or str(tmp_path_factory.getbasetemp() / "shared_imdb_lab_cache")
    monkeypatch.setenv("IMDB_LAB_DATA", str(real_archive))
    monkeypatch.setenv("IMDB_LAB_CACHE", cache)
    return real_archive


def benchmark_module(name):
    """Return ``benchmarks/<name>.py`` as a module (the benchmarks are scripts, not a package)."""
    import importlib.util
    import sys

    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.spec_from_file_location(name, BENCHMARKS / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # so that a benchmark importing another one finds it
    spec.loader.exec_module(module)
    return module


# set (by .ci/run) where the memory tests must run under a real memory cgroup: then a machine that cannot make one
# fails them instead of skipping them, or of falling back to sampling the resident set
REQUIRE_CGROUP = "IMDB_LAB_REQUIRE_CGROUP"


def cgroup_unavailable():
    """Return why no memory cgroup can be made here, or None; fail the test if ``$IMDB_LAB_REQUIRE_CGROUP`` is set."""
    reason = benchmark_module("memory_cgroup").unavailable_reason()
    if reason and os.environ.get(REQUIRE_CGROUP):
        pytest.fail(f"{REQUIRE_CGROUP} is set, but no memory cgroup can be made here: {reason}")
    return reason


@pytest.fixture
def memory_cgroup():
    """Return a maker of memory cgroups with a given limit (``benchmarks/memory_cgroup.py``), or skip where the
    machine gives none; every cgroup made is removed after the test, whatever is left in it killed."""
    module = benchmark_module("memory_cgroup")
    reason = cgroup_unavailable()
    if reason:
        pytest.skip(f"no memory cgroup can be made here: {reason}")
    made = []

    def make(limit):
        made.append(module.MemoryCgroup(int(limit)))
        return made[-1]

    yield make
    for cgroup in made:
        cgroup.close()


@pytest.fixture
def prepared_data(tiny_archive, monkeypatch, tmp_path):
    """The grader's data for the tiny archive, prepared in a folder of its own (the scorer not checked)."""
    from imdb_lab.grader.trusted_data import prepare_grading_data

    monkeypatch.setenv("IMDB_LAB_DATA", str(tiny_archive))
    (tmp_path / "grader").mkdir()
    return prepare_grading_data(tmp_path / "grader", check_scorer=False)


def pytest_collection_modifyitems(config, items):
    """Skip the solutions notebook (nbval) when no local copy of the data is there to run it on."""
    from imdb_lab.data import sources

    try:
        if sources.resolve_source() is not None:
            return
    except FileNotFoundError:
        return  # IMDB_LAB_DATA names a missing file: let the notebook fail and say so
    skip = pytest.mark.skip(
        reason="no local IMDB data: set IMDB_LAB_DATA=/path/to/aclImdb_v1.tar.gz to re-run the solutions notebook"
    )
    for item in items:
        if item.path.suffix == ".ipynb":
            item.add_marker(skip)


# the learner's notebook read back against the solutions notebook (tests/test_student.py, tests/test_notebooks.py)
def solution_regions(solutions):
    """Return ``[(todo_lines, region_lines), ...]`` of every region the learner's notebook stubs, in order."""
    from imdb_lab import student

    out = []
    for index, cell in enumerate(solutions.cells):
        if cell.cell_type != "code" or student.is_solution_only(cell):
            continue
        lines = student._source(cell).split("\n")
        for region in student.find_regions(student._source(cell), index):
            out.append((region.todo, lines[region.start:region.stop + 1]))
    return out


def fill_in_solutions(learners, solutions):
    """Return a copy of the ``learners`` notebook with each TODO stub replaced by its solution region.

    The regions come from the ``solutions`` notebook, in order; a stub whose
    TODO does not match its region's (an out-of-date learner's notebook)
    raises ValueError.
    """
    from imdb_lab import student

    regions = solution_regions(solutions)
    filled = copy.deepcopy(learners)
    used = 0
    for index, cell in enumerate(filled.cells):
        if cell.cell_type != "code":
            continue
        lines = student._source(cell).split("\n")
        out = []
        for line in lines:
            match = student._STUB_RAISE.match(line)
            if not match or not match["message"].lstrip("'\"").startswith("TODO:"):
                out.append(line)
                continue
            if used == len(regions):
                raise ValueError(f"cell {index}: more TODO stubs than the solutions notebook has regions: "
                                    "regenerate the learner's notebook with `imdb-lab make-student`")
            todo, region_lines = regions[used]
            stub = student.Region(0, 0, match["indent"], todo).stub_lines()
            comments = len(stub) - 1
            if out[max(0, len(out) - comments):] + [line] != stub:
                raise ValueError(f"cell {index}: the stub {line.strip()!r} does not match solution region "
                                    f"{used + 1} ({student.todo_message(todo)!r}): regenerate the learner's notebook "
                                    "with `imdb-lab make-student`")
            del out[len(out) - comments:]
            out.extend(region_lines)
            used += 1
        cell.source = "\n".join(out)
    if used != len(regions):
        raise ValueError(f"the learner's notebook has {used} TODO stubs but the solutions have {len(regions)} "
                            "regions: regenerate it with `imdb-lab make-student`")
    return filled
