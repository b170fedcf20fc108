"""Tests of ``imdb-lab explain``: plain and coloured output, --json, empty and unknown texts, bad models and input."""

import json
import os
import subprocess
import sys

import numpy as np
import pytest

from imdb_lab.cli import main
from imdb_lab.commands.explain import format_explanation, use_colour
from imdb_lab.models.explaining import explain

WORD_INDEX = {"the": 1, "great": 2, "awful": 3, "plot": 4, "rare": 20}
NUM_WORDS = 10


def word_model():
    """Return a compiled model of NUM_WORDS inputs: "great" (index 5) positive, "awful" (6) negative."""
    import keras

    model = keras.Sequential([keras.Input((NUM_WORDS,)), keras.layers.Dense(1, activation="sigmoid")])
    model.compile(optimizer="sgd", loss="binary_crossentropy")
    model.fit(np.zeros((2, NUM_WORDS), dtype="float32"), np.array([0, 1]), epochs=1, verbose=0)  # one step
    kernel = np.zeros((NUM_WORDS, 1), dtype="float32")
    kernel[5], kernel[6] = 3.0, -3.0
    model.set_weights([kernel, np.zeros(1, dtype="float32")])
    return model


@pytest.fixture(scope="module")
def model_file(tmp_path_factory):
    from imdb_lab.models.saving import save_trained_model

    return save_trained_model(word_model(), tmp_path_factory.mktemp("explain") / "model.keras",
                              num_words=NUM_WORDS, word_index=WORD_INDEX)


def run(arguments, capsys):
    """Return ``(exit code, stdout lines, stderr)`` of ``imdb-lab explain ARGUMENTS``."""
    try:
        code = main(["explain", *map(str, arguments)])
    except SystemExit as exit_:
        code = exit_.code
    out, err = capsys.readouterr()
    return code, out.splitlines(), err


def test_plain_output_is_the_prediction_then_each_word_with_its_contribution(model_file, capsys):
    code, lines, _ = run(["--model", model_file, "The great plot!", "awful, AWFUL plot"], capsys)
    assert code == 0
    great = 1 / (1 + np.exp(-3.0)) - 0.5  # the plot alone: a logit of 0
    assert lines[0] == f"positive 0.95: [+0.00 The] [{great:+.2f} great] [+0.00 plot]!"
    assert lines[1].startswith("negative 0.05: [-0.45 awful], [-0.45 AWFUL] [+0.00 plot]")
    assert "\033[" not in "".join(lines)  # not a terminal: no colour


def test_words_the_model_does_not_see_are_marked(model_file, capsys):
    code, lines, _ = run(["--model", model_file, "great rare zzyzx"], capsys)
    assert code == 0 and lines[0].endswith("[+0.45 great] [oov rare] [? zzyzx]")


def test_a_text_of_unknown_words_only(model_file, capsys):
    code, lines, _ = run(["--model", model_file, "zzyzx qwerty"], capsys)
    assert code == 0 and lines == ["negative 0.50: [? zzyzx] [? qwerty]"]


def test_an_empty_text_gets_the_empty_mark_and_a_note(model_file, capsys):
    code, lines, err = run(["--model", model_file, "   ", "great"], capsys)
    assert code == 0 and lines[0] == "empty -" and lines[1].startswith("positive")
    assert "review 1 is empty" in err


def test_colour_on_demand_and_on_a_terminal_without_no_color(model_file, capsys, monkeypatch):
    code, lines, _ = run(["--model", model_file, "--color", "always", "great awful zzyzx"], capsys)
    assert code == 0
    assert "\033[1;38;5;25m[+0.45 great]\033[0m" in lines[0]  # blue: towards positive
    assert "\033[1;38;5;166m[-0.45 awful]\033[0m" in lines[0]  # orange: towards negative
    assert "\033[2m[? zzyzx]\033[0m" in lines[0]

    class Terminal:
        def isatty(self):
            return True

    monkeypatch.delenv("NO_COLOR", raising=False)
    assert use_colour("auto", Terminal()) and not use_colour("auto", object()) and not use_colour("never", Terminal())
    monkeypatch.setenv("NO_COLOR", "1")
    assert not use_colour("auto", Terminal()) and use_colour("always", object())


def test_json_gives_every_word_for_tools(model_file, capsys):
    code, lines, _ = run(["--model", model_file, "--json", "great, zzyzx", ""], capsys)
    assert code == 0
    first, empty = map(json.loads, lines)
    assert first["probability"] == pytest.approx(1 / (1 + np.exp(-3.0)), abs=1e-6)
    assert [(w["word"], w["status"], w["start"], w["end"]) for w in first["words"]] == [
        ("great", "known", 0, 5), ("zzyzx", "unknown", 7, 12)]
    assert first["words"][1]["contribution"] is None
    assert empty == {"text": "", "probability": None, "words": []}


def test_format_explanation_keeps_the_text_around_the_words():
    text = "Great... (awful)"
    explanation = explain(word_model(), text, WORD_INDEX, NUM_WORDS)
    # alone, each word moves the logit by 3: P = 0.5 with both, 0.95 or 0.05 with one switched off
    assert format_explanation(explanation) == "[+0.45 Great]... ([-0.45 awful])"


def test_a_model_that_is_not_the_labs_is_a_one_line_error(model_file, tmp_path, capsys):
    import keras

    plain = tmp_path / "plain.keras"
    keras.Sequential([keras.Input((NUM_WORDS,)), keras.layers.Dense(1)]).save(plain)
    code, _, err = run(["--model", plain, "great"], capsys)
    assert code == 2 and err.strip().count("\n") == 0 and "has no imdb_lab.json" in err

    from imdb_lab.models.saving import save_trained_model

    ngrams = save_trained_model(word_model(), tmp_path / "ngrams.keras", num_words=NUM_WORDS, word_index=WORD_INDEX,
                                features={"kind": "ngrams", "num_words": NUM_WORDS, "ngrams": 2, "codes": [[]]})
    code, _, err = run(["--model", ngrams, "great"], capsys)
    assert code == 2 and "holds an n-gram model: explain shows the words of the lab's multi-hot models" in err


def test_an_untrained_model_is_a_one_line_error(tmp_path, capsys):
    from imdb_lab.models.dense import build_model
    from imdb_lab.models.saving import save_trained_model

    path = save_trained_model(build_model(NUM_WORDS, hidden_units=(2,)), tmp_path / "untrained.keras",
                              num_words=NUM_WORDS, word_index=WORD_INDEX)
    code, _, err = run(["--model", path, "great"], capsys)
    assert code == 2 and "saved before any training" in err and err.strip().count("\n") == 0


def test_a_huge_text_is_a_one_line_error(model_file, tmp_path, capsys):
    huge = tmp_path / "huge.txt"
    huge.write_text("great " * 2_000_000)  # 12 MB on one line
    code, _, err = run(["--model", model_file, "--file", huge], capsys)
    assert code == 2 and "more than a review" in err and err.strip().count("\n") == 0


@pytest.mark.slow
@pytest.mark.parametrize("source", ["file", "stdin"])
def test_non_utf8_input_is_a_one_line_error_in_a_real_process(model_file, tmp_path, source):
    data = b"great \xff\xfe film\n"
    path = tmp_path / "latin1.txt"
    path.write_bytes(data)
    name = str(path) if source == "file" else "-"
    result = subprocess.run([sys.executable, "-m", "imdb_lab", "explain", "--model", str(model_file), "--file", name],
                            input=data if source == "stdin" else b"", capture_output=True, timeout=300,
                            env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"})
    err = result.stderr.decode()
    assert result.returncode == 2 and "Traceback" not in err
    expected = "standard input" if source == "stdin" else str(path)
    assert f"imdb-lab explain: error: {expected} is not UTF-8 text (byte 0xff at offset 6)" in err
