"""Learning curves of a training run."""

__all__ = ["plot_history"]

_PANELS = (("loss", "Loss"), ("accuracy", "Accuracy"))


def plot_history(history, title="Training and validation"):
    """Return a matplotlib Figure with loss and accuracy per epoch, training vs validation."""
    logs = getattr(history, "history", history)
    if not isinstance(logs, dict):
        raise TypeError(f"history must be a keras History or its .history dict, got {type(history).__name__}")
    missing = [name for name, _ in _PANELS if name not in logs]
    if missing:
        raise ValueError(
            f"the history has no {', '.join(missing)}: compile the model with metrics=['accuracy'] "
            f"(it holds {sorted(logs)})"
        )
    # a bare Figure (no pyplot): no global state, and Jupyter shows it once when it is returned
    from matplotlib.figure import Figure

    figure = Figure(figsize=(10, 4), layout="constrained")
    axes = figure.subplots(1, 2)
    for ax, (name, label) in zip(axes, _PANELS):
        epochs = range(1, len(logs[name]) + 1)
        ax.plot(epochs, logs[name], "o-", label=f"training {label.lower()}")
        if f"val_{name}" in logs:
            ax.plot(range(1, len(logs[f"val_{name}"]) + 1), logs[f"val_{name}"], "s--", label=f"validation {label.lower()}")
        ax.set_xlabel("Epoch")
        ax.set_ylabel(label)
        ax.set_title(label)
        ax.legend()
    figure.suptitle(title)
    return figure
