"""Decision boundary of a model over 2-D inputs, predicted natively in one call."""

from __future__ import annotations

from typing import Any

import numpy as np

from .._format import num, percent
from . import _common as c


def decision_boundary(model: Any, X: Any, y: Any, ax: Any = None, resolution: int = 200) -> Any:
    """The model's prediction over the plane of 2-D inputs, with the data on top.

    The grid of ``resolution`` x ``resolution`` points is predicted natively in
    one ``model.predict`` call. A one-unit output is shown as P(class 1) with the
    0.5 contour (the boundary); several outputs as the arg-max class. The seed's
    vanishing-gradient network predicts about the same everywhere: no boundary.

    Args:
        model: a trained ``Sequential`` with two inputs.
        X: inputs ``(n, 2)``.
        y: labels ``(n,)`` or one-hot ``(n, classes)``.
        ax: axes to draw on (a new figure when None).
        resolution: grid points per axis (at least 2).

    Returns:
        The matplotlib Figure.
    """
    from matplotlib.colors import ListedColormap

    X = np.asarray(X, dtype=np.float64)
    if X.ndim != 2 or X.shape[1] != 2:
        raise ValueError(f"decision_boundary needs 2-D inputs of shape (n, 2), received {X.shape}")
    labels = np.asarray(y)
    labels = labels.argmax(axis=1) if labels.ndim == 2 and labels.shape[1] > 1 else labels.ravel()
    if labels.shape[0] != X.shape[0]:
        raise ValueError(
            f"y must have {X.shape[0]} labels (one per row of X), received {labels.shape[0]}"
        )
    if (
        isinstance(resolution, bool)
        or not isinstance(resolution, (int, np.integer))
        or resolution < 2
    ):
        raise ValueError(f"resolution must be an int >= 2, received {resolution!r}")
    lo, hi = X.min(axis=0), X.max(axis=0)
    pad = 0.1 * np.maximum(hi - lo, 1e-6)
    gx, gy = np.meshgrid(
        np.linspace(lo[0] - pad[0], hi[0] + pad[0], resolution),
        np.linspace(lo[1] - pad[1], hi[1] + pad[1], resolution),
    )
    grid = np.column_stack([gx.ravel(), gy.ravel()])
    out = np.asarray(model.predict(grid, batch_size=grid.shape[0], verbose=0), dtype=np.float64)
    fig, ax = c.figure_and_axes(ax, figsize=(6.0, 5.0))
    classes = np.unique(labels).astype(int)
    if out.shape[1] == 1:
        prob = out.reshape(gx.shape)
        fill = ax.contourf(
            gx, gy, prob, levels=np.linspace(0.0, 1.0, 11), cmap="RdBu_r", alpha=0.75
        )
        fig.colorbar(fill, ax=ax).set_label("predicted P(class 1)")
        if prob.min() < 0.5 < prob.max():
            ax.contour(gx, gy, prob, levels=[0.5], colors="black", linewidths=1.5)
        else:
            span = f"[{num(prob.min(), 3, trim=False)}, {num(prob.max(), 3, trim=False)}]"
            c.text_box(ax, ["no boundary:", f"P(class 1) in {span}"])
        predicted = (np.asarray(model.predict(X, batch_size=X.shape[0], verbose=0)) > 0.5).ravel()
        point_colors = {0: "#0072B2", 1: "#D55E00"}
    else:
        n = out.shape[1]
        ax.contourf(
            gx,
            gy,
            out.argmax(axis=1).reshape(gx.shape),
            levels=np.arange(n + 1) - 0.5,
            cmap=ListedColormap([c.color(k) for k in range(n)]),
            alpha=0.35,
        )
        predicted = np.asarray(model.predict(X, batch_size=X.shape[0], verbose=0)).argmax(axis=1)
        point_colors = {k: c.color(k) for k in range(max(n, classes.max() + 1))}
    for k in classes:
        mask = labels == k
        ax.scatter(
            X[mask, 0],
            X[mask, 1],
            s=22,
            color=point_colors.get(k, c.color(k)),
            edgecolors="black",
            linewidths=0.5,
            label=f"class {k}",
        )
    accuracy = float(np.mean(predicted.astype(int) == labels.astype(int)))
    ax.set_xlabel("input feature x₁")
    ax.set_ylabel("input feature x₂")
    ax.set_title(f"Decision boundary (accuracy {percent(accuracy)} on these points)")
    ax.legend(fontsize=8, loc="best")
    fig.tight_layout()
    return fig
