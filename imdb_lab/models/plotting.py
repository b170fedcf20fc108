"""Learning curves of a training run."""

from imdb_lab.errors import LabTypeError, LabValueError
from imdb_lab.models.evaluation import accuracy_key, accuracy_log_names

__all__ = ["plot_history"]


def plot_history(history, title="Training and validation"):
    """Return a matplotlib Figure with loss and accuracy per epoch, training vs validation."""
    logs = getattr(history, "history", history)
    if not isinstance(logs, dict):
        raise LabTypeError(f"history must be a keras History or its .history dict, got {type(history).__name__}")
    model = getattr(history, "model", None)  # a keras History knows its model: its metrics' own names
    accuracy = accuracy_key(logs, accuracy_log_names(model) if model is not None else ())
    if "loss" not in logs or accuracy is None:
        missing = " and ".join(name for name, ok in (("loss", "loss" in logs), ("accuracy", accuracy)) if not ok)
        raise LabValueError(
            f"the history has no {missing}: compile the model with metrics=['accuracy'] "
            f"(it holds {sorted(logs)})"
        )
    # a bare Figure (no pyplot): no global state, and Jupyter shows it once when it is returned; Matplotlib is
    # imported here, when a figure is drawn, not when the package is
    from matplotlib.figure import Figure

    figure = Figure(figsize=(10, 4), layout="constrained")
    axes = figure.subplots(1, 2)
    for ax, (name, label) in zip(axes, (("loss", "Loss"), (accuracy, "Accuracy")), strict=True):
        epochs = range(1, len(logs[name]) + 1)
        ax.plot(epochs, logs[name], "o-", label=f"training {label.lower()}")
        if f"val_{name}" in logs:
            ax.plot(range(1, len(logs[f"val_{name}"]) + 1), logs[f"val_{name}"], "s--",
                    label=f"validation {label.lower()}")
        ax.set_xlabel("Epoch")
        ax.set_ylabel(label)
        ax.set_title(label)
        ax.legend()
    figure.suptitle(title)
    return figure
