"""Every design section 4 of the notebook offers runs the student path to its end, on tiny data.

The notebook's own code cells run, from the model cell to the explanations,
with the model cell (and, for one-hot labels, the training cell and the test
feed) as a learner of that design writes them. No cell may raise, and
``check.model()`` must call the design correct.
"""

import json
from pathlib import Path

import numpy as np
import pytest

from imdb_lab.student import SOLUTIONS_NAME

ROOT = Path(__file__).resolve().parents[1]
NUM_WORDS = 30
WORDS = ["the", "film", "plot", "great", "wonderful", "loved", "awful", "boring", "worst", "and", "a", "it"]

DESIGNS = {
    "sigmoid": None,  # the solutions notebook's own model
    "logit": """model = keras.Sequential([keras.Input(shape=(num_words,)),
                          keras.layers.Dense(16, activation="relu"), keras.layers.Dropout(0.5),
                          keras.layers.Dense(1)])
model.compile(optimizer="adam", loss=keras.losses.BinaryCrossentropy(from_logits=True),
              metrics=[keras.metrics.BinaryAccuracy(threshold=0.0)])""",
    "softmax, sparse labels": """model = keras.Sequential([keras.Input(shape=(num_words,)),
                          keras.layers.Dense(16, activation="relu"), keras.layers.Dropout(0.5),
                          keras.layers.Dense(2, activation="softmax")])
model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])""",
    "softmax, one-hot labels": """model = keras.Sequential([keras.Input(shape=(num_words,)),
                          keras.layers.Dense(16, activation="relu"), keras.layers.Dropout(0.5),
                          keras.layers.Dense(2, activation="softmax")])
model.compile(optimizer="adam", loss="categorical_crossentropy", metrics=["accuracy"])""",
}

# what a learner of the one-hot design changes: the labels that fit and the test feed are given
ONE_HOT_LABELS = {
    "model.fit(x_train_hot, y_train,": "model.fit(x_train_hot, keras.utils.to_categorical(y_train),",
    "MultiHotSequence(x_test, y_test,": "MultiHotSequence(x_test, keras.utils.to_categorical(y_test),",
}


def cells_by_id():
    """Return {cell id: code} of the solutions notebook's code cells, in order, with the solutions in place."""
    cells = json.loads((ROOT / SOLUTIONS_NAME).read_text(encoding="utf-8"))["cells"]
    return {cell["id"]: "".join(cell["source"]) for cell in cells if cell["cell_type"] == "code"}


def tiny_lab():
    """Return the notebook's variables before section 4, for a tiny, learnable data set."""
    from imdb_lab.data.reviews import object_array
    from imdb_lab.features.multi_hot import multi_hot_encode

    rng = np.random.default_rng(0)
    word_index = {word: rank for rank, word in enumerate(WORDS, start=1)}
    positive, negative = [word_index[w] + 3 for w in WORDS[3:6]], [word_index[w] + 3 for w in WORDS[6:9]]
    neutral = [word_index[w] + 3 for w in WORDS[:3] + WORDS[9:]]

    def reviews(n):
        labels = np.arange(n) % 2
        out = [[1] + rng.choice(neutral, 6).tolist() + rng.choice(positive if label else negative, 2).tolist()
               for label in labels]
        return object_array(out), labels

    (x_train, y_train), (x_test, y_test) = reviews(400), reviews(200)
    return {"num_words": NUM_WORDS, "word_index": word_index, "x_train": x_train, "y_train": y_train,
            "x_test": x_test, "y_test": y_test,
            "x_train_hot": multi_hot_encode(x_train, NUM_WORDS, dtype="uint8")}


@pytest.mark.slow
@pytest.mark.parametrize("design", list(DESIGNS))
def test_each_design_runs_the_student_path_to_the_end(design, capsys):
    code = cells_by_id()
    ids = list(code)
    namespace = {"__name__": "__main__"}
    for cell in ids[:ids.index("s02") + 1]:  # up to the backend, Keras and the lab's names (Colab's install: none)
        exec(code[cell], namespace)
    namespace.update(tiny_lab())
    one_hot_cells = []
    path = ids[ids.index("s22"):ids.index("explain-code") + 1]
    for cell in path:
        source = code[cell]
        if "# NBVAL_CHECK_OUTPUT" in source:
            continue  # the 85 % target is the real data's, not this tiny set's
        if cell == "s22" and DESIGNS[design]:
            source = DESIGNS[design] + "\nmodel.summary()"
        if design == "softmax, one-hot labels":
            for labels, one_hot in ONE_HOT_LABELS.items():
                if labels in source:
                    source = source.replace(labels, one_hot)
                    one_hot_cells.append(cell)
        capsys.readouterr()
        exec(source, namespace)  # a cell that raises fails the test, naming the design
        out = capsys.readouterr().out
        if source.startswith("check.model()"):
            assert out.startswith("Correct:"), (design, out)
        if source.startswith("check.accuracy()"):
            assert "Correct:" in out or "below the target" in out, (design, out)
        if cell == "s39":
            assert "most positive:" in out, (design, out)
    if design == "softmax, one-hot labels":
        assert len(one_hot_cells) == len(ONE_HOT_LABELS), one_hot_cells  # the training and the test feed's cells
    assert 0 <= namespace["test_accuracy"] <= 1  # a number (a 400-review set learns little in 20 steps)
