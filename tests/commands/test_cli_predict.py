"""End-to-end tests of ``imdb-lab predict`` with a tiny model trained on small_archive."""

import os
import re
import subprocess
import sys

import numpy as np
import pytest

NUM_WORDS = 100
POSITIVE = "A great, wonderful and brilliant film: I loved it."
NEGATIVE = "An awful, boring waste of time; the worst and dullest plot."


@pytest.fixture(scope="module")
def trained(small_archive, tmp_path_factory):
    """(path of a model saved by save_trained_model, the model, its word index), trained in a few seconds."""
    import keras

    import imdb_lab
    from imdb_lab.models.dense import build_model
    from imdb_lab.models.saving import save_trained_model

    folder = tmp_path_factory.mktemp("predict_model")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("IMDB_LAB_CACHE", str(folder / "cache"))
        (x_train, y_train), _ = imdb_lab.load_data(num_words=NUM_WORDS, source=small_archive)
        word_index = imdb_lab.get_word_index(source=small_archive)
    keras.utils.set_random_seed(0)
    model = build_model(NUM_WORDS, hidden_units=(8,), dropout=0.0, learning_rate=0.01)
    model.fit(imdb_lab.multi_hot_encode(x_train, NUM_WORDS), y_train, epochs=5, batch_size=64, verbose=0)
    path = folder / "model.keras"
    save_trained_model(model, path, num_words=NUM_WORDS, word_index=word_index)
    return path, model, word_index


def reference_line(trained, text):
    """Expected output line, from a multi-hot vector built by hand (start_char 1, oov 2, index_from 3)."""
    _, model, word_index = trained
    if not text.strip():
        return "empty -"
    x = np.zeros((1, NUM_WORDS), dtype="float32")
    x[0, 1] = 1
    for word in re.sub(r"[^\w']", " ", text.lower()).split():
        if word in word_index:
            i = word_index[word] + 3
            x[0, i if i < NUM_WORDS else 2] = 1
    probability = float(model.predict(x, verbose=0)[0, 0])
    return f"{'positive' if probability > 0.5 else 'negative'} {probability:.2f}"


def run_predict(*args, stdin=None):
    """Run ``python -m imdb_lab predict ARGS``; return the CompletedProcess (bytes stdin allowed)."""
    return subprocess.run(
        [sys.executable, "-m", "imdb_lab", "predict", *map(str, args)],
        input=stdin, capture_output=True, env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2"}, timeout=300,
    )


@pytest.mark.slow
def test_predict_texts_and_file_in_input_order(trained, tmp_path):
    path = trained[0]
    reviews = tmp_path / "reviews.txt"
    # U+0085 (NEL) inside a review must not split it; CRLF endings and a blank line are allowed
    lines = ["Great\u0085 wonderful, loved it", "", "boring and awful\r", "the plot", "   "]
    reviews.write_text("\n".join(lines) + "\n", encoding="utf-8", newline="")
    result = run_predict("--model", path, POSITIVE, NEGATIVE, "", "--file", reviews)
    assert result.returncode == 0, result.stderr.decode()
    out = result.stdout.decode().splitlines()
    texts = [POSITIVE, NEGATIVE, "", *(line.rstrip("\r") for line in lines)]
    assert out == [reference_line(trained, text) for text in texts]
    assert out[0].startswith("positive ") and out[1].startswith("negative ")
    assert out[2] == out[4] == out[7] == "empty -"
    stderr = result.stderr.decode()
    assert "Traceback" not in stderr
    for number in (3, 5, 8):
        assert f"review {number} is empty" in stderr


@pytest.mark.slow
def test_predict_reads_standard_input(trained):
    result = run_predict("--model", trained[0], "--file", "-", stdin=f"{POSITIVE}\n{NEGATIVE}".encode())
    assert result.returncode == 0, result.stderr.decode()
    assert result.stdout.decode().splitlines() == [reference_line(trained, POSITIVE),
                                                   reference_line(trained, NEGATIVE)]


def one_line_error(result):
    """Assert exit code 2 and a single ``imdb-lab predict: error:`` line; return that line."""
    stderr = result.stderr.decode()
    assert result.returncode == 2, stderr
    assert "Traceback" not in stderr
    lines = [line for line in stderr.splitlines() if line.startswith("imdb-lab predict:")]
    assert len(lines) == 1 and lines[0].startswith("imdb-lab predict: error: "), stderr
    assert result.stdout == b""
    return lines[0]


@pytest.mark.slow
def test_predict_rejects_a_file_that_is_not_utf8(tmp_path):
    reviews = tmp_path / "latin1.txt"
    reviews.write_bytes("a r\u00e9sum\u00e9 of the plot\n".encode("latin-1"))
    line = one_line_error(run_predict("--model", tmp_path / "unused.keras", "--file", reviews))
    assert "is not UTF-8 text" in line


@pytest.mark.slow
def test_predict_rejects_a_file_that_is_not_a_model(tmp_path):
    bogus = tmp_path / "model.keras"
    bogus.write_text("not a model")
    assert "not saved by `imdb-lab train`" in one_line_error(run_predict("--model", bogus, "great"))


@pytest.mark.slow
def test_predict_rejects_a_model_of_an_unknown_kind(trained, tmp_path):
    from imdb_lab.models.saving import save_trained_model

    path = tmp_path / "ngram.keras"
    save_trained_model(trained[1], path, num_words=NUM_WORDS, word_index=trained[2],
                       features={"kind": "hashed-trigrams"})
    assert "unsupported model kind 'hashed-trigrams'" in one_line_error(run_predict("--model", path, "great"))


@pytest.mark.slow
@pytest.mark.parametrize("args, message", [
    (["--model", "missing.keras", "great"], "no such model file: missing.keras"),
    (["--model", "missing.keras", "--file", "missing.txt"], "no such file: missing.txt"),
    (["--model", "missing.keras"], "give at least one review TEXT"),
])
def test_predict_usage_errors(args, message, tmp_path):
    assert message in one_line_error(run_predict(*args))


@pytest.mark.slow
def test_predict_needs_model_and_rejects_unknown_flags():
    for args in (["great"], ["--model", "m.keras", "--threshold", "0.7", "great"]):
        result = run_predict(*args)
        assert result.returncode == 2 and b"Traceback" not in result.stderr
