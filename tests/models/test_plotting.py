"""Tests of imdb_lab.models.plotting.plot_history (Agg backend, no pyplot state)."""

import matplotlib
import pytest

matplotlib.use("Agg")

from imdb_lab.models.evaluation import accuracy_key  # noqa: E402
from imdb_lab.models.plotting import plot_history  # noqa: E402

LOGS = {"loss": [0.6, 0.4, 0.3], "accuracy": [0.7, 0.8, 0.9],
        "val_loss": [0.5, 0.45, 0.47], "val_accuracy": [0.75, 0.8, 0.79]}


class FakeHistory:
    history = LOGS


@pytest.mark.parametrize("history", [LOGS, FakeHistory()])
def test_plot_history_draws_training_and_validation_curves(history, tmp_path):
    import matplotlib.pyplot as plt

    rc_before = dict(matplotlib.rcParams)
    figures_before = plt.get_fignums()
    figure = plot_history(history)
    loss_ax, acc_ax = figure.axes
    for ax, name in ((loss_ax, "loss"), (acc_ax, "accuracy")):
        lines = ax.get_lines()
        assert [list(line.get_ydata()) for line in lines] == [LOGS[name], LOGS[f"val_{name}"]]
        assert list(lines[0].get_xdata()) == [1, 2, 3]
        assert ax.get_xlabel() == "Epoch" and ax.get_ylabel()
        assert [text.get_text() for text in ax.get_legend().get_texts()] == [f"training {name}", f"validation {name}"]
    assert figure.get_suptitle()
    figure.savefig(tmp_path / "curves.png")
    assert (tmp_path / "curves.png").stat().st_size > 0
    # no global state: no pyplot figure left open, no style change
    assert plt.get_fignums() == figures_before
    assert dict(matplotlib.rcParams) == rc_before


def test_history_without_validation_has_one_curve_per_panel():
    figure = plot_history({"loss": [0.5], "accuracy": [0.7]})
    assert [len(ax.get_lines()) for ax in figure.axes] == [1, 1]


def test_plot_history_rejects_wrong_input():
    with pytest.raises(TypeError, match="history must be a keras History or its .history dict, got list"):
        plot_history([0.1, 0.2])
    with pytest.raises(ValueError, match="accuracy"):
        plot_history({"loss": [0.5]})


@pytest.mark.parametrize("name", ["accuracy", "acc", "binary_accuracy", "categorical_accuracy",
                                  "sparse_categorical_accuracy"])
def test_plot_history_takes_any_accuracy_metric_name(name):
    logs = {"loss": [0.5, 0.4], name: [0.8, 0.85], "val_loss": [0.45, 0.42], f"val_{name}": [0.82, 0.84]}
    figure = plot_history(logs)
    accuracy_panel = figure.axes[1]
    assert [list(line.get_ydata()) for line in accuracy_panel.get_lines()] == [[0.8, 0.85], [0.82, 0.84]]
    assert accuracy_key(logs) == name


def test_a_history_without_any_accuracy_says_how_to_get_one():
    with pytest.raises(ValueError, match=r"the history has no accuracy: compile the model with metrics=\['accuracy'\] "
                                         r"\(it holds \['loss', 'val_loss'\]\)"):
        plot_history({"loss": [0.5], "val_loss": [0.4]})
