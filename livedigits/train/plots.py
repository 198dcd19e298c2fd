"""The PNG plots of training and evaluation: learning curves (``livedigits train``) and the confusion
matrix (``livedigits evaluate --plot``). matplotlib, the [plot] extra, is imported only when one is drawn.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np


def _pyplot():
    """matplotlib's pyplot on the file-only backend (no window, no display needed)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def plot_history(history: dict, path: Path, title: str = "") -> None:
    """Accuracy and loss, train and validation, side by side (as the seed article plots them)."""
    plt = _pyplot()
    fig, axes = plt.subplots(1, 2, figsize=(10, 4))
    for ax, key in zip(axes, ("accuracy", "loss")):
        ax.plot(history.get(key, []), label=f"train {key}")
        ax.plot(history.get(f"val_{key}", []), label=f"validation {key}")
        if key == "accuracy":
            for name in sorted(k for k in history if k.startswith("val_") and k.endswith("_accuracy") and k != "val_accuracy"):
                ax.plot(history[name], label=name[4:-9].replace("_", " "), linestyle="--")
        ax.set_xlabel("epoch")
        ax.set_ylabel(key)
        ax.legend()
        ax.grid(alpha=0.3)
    fig.suptitle(title)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def plot_confusion(confusion: list, path: Path, title: str = "") -> None:
    """The confusion matrix (rows: true digit, columns: predicted, "not" for the 11th class), counts
    written in each cell, shaded on a log scale so the few errors show beside the many right ones."""
    plt = _pyplot()
    matrix = np.asarray(confusion)
    fig, ax = plt.subplots(figsize=(7, 6))
    ax.imshow(np.log1p(matrix), cmap="Blues")
    for (i, j), v in np.ndenumerate(matrix):
        if v:
            ax.text(j, i, str(v), ha="center", va="center", fontsize=7, color="black" if i != j else "white")
    ax.set_xticks(range(matrix.shape[1]), [str(i) for i in range(10)] + (["not"] if matrix.shape[1] == 11 else []))
    ax.set_yticks(range(10))
    ax.set_xlabel("predicted")
    ax.set_ylabel("true")
    ax.set_title(title)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
