"""The limits of the verdicts and findings, each with its basis.

See ``verdicts`` for how they are applied.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass
from typing import Any

from .._validation import check_float, check_int

__all__ = ["DepthContext", "Thresholds", "dead_limit"]


@dataclass(frozen=True)
class Thresholds:
    """Documented, configurable limits of the verdicts and findings.

    Attributes:
        vanishing: a first/last kernel-gradient or signal ratio below this is
            vanishing (1e-3: the first layer learns a thousand times slower than
            the last; the seed document's 0.1^3).
        exploding: a ratio above this is exploding (the mirror, 1e3).
        exploding_grad_norm: a kernel-gradient L2 norm above this is exploding
            whatever the ratios (the loss is a batch mean, so healthy norms are
            O(1) or less; 1e6).
        exploding_update: an update ratio ``||dW|| / ||W||`` above this, in
            training, is exploding: one step as large as the weights (1.0).
        trainable_depth: plain networks train up to about this many depth scales
            ``xi`` (6, Schoenholz et al. 2017); the depth criterion at
            initialization (module docstring).
        depth_agreement: e-folds the measured signal must move, over the hidden
            stack, in the direction mean-field theory predicts before the
            theory's depth verdict is named (1: a factor e).
        saturated: fraction of a sigmoid/tanh layer's outputs within 1e-2 of the
            bounds at or above which it is saturated (0.9).
        dead: the largest fraction of relu units a healthy layer has off for a
            whole batch (0.5, the mean-field limit of fully correlated inputs).
        dead_sigmas: binomial standard deviations above ``dead`` at which a layer
            is dead (3; see ``dead_limit``).
        window: the training verdict looks at this many last training records (10).
        persistence: share of those records a condition must be present in to
            be the training verdict (0.5: at least half).
        large_update: an update ratio at or above this is "far above" the 1e-3 of
            healthy training (0.1): with a divergence, the learning rate's doing.
        batchnorm_gap: inference-mode accuracy this far below training-mode
            accuracy on the same data (0.10: ten points) names a batch-norm
            train/inference disagreement.
        frozen_update: update ratio per step below which a layer's weights count
            as frozen (1e-5: a thousand steps change them by less than 1 %).
        plateau_epochs: the loss plateaus when it changes by less than
            ``plateau_tol`` over the last ``plateau_epochs`` epochs (10) and its
            trend over them is within their noise.
        plateau_tol: see ``plateau_epochs``; relative to the chance-level loss
            (1e-2: for binary cross-entropy 0.007 nats).
        chance_tol: a loss within this fraction of the chance-level loss (the
            loss of predicting the label frequencies, ln 2 for balanced binary
            labels) counts as "at chance" (0.05).
        degradation_margin: ``compare_depths`` reports degradation when the deeper
            network's final loss exceeds the shallower one's by more than this
            fraction (0.1) of the chance-level loss.
    """

    vanishing: float = 1e-3
    exploding: float = 1e3
    exploding_grad_norm: float = 1e6
    exploding_update: float = 1.0
    trainable_depth: float = 6.0
    depth_agreement: float = 1.0
    saturated: float = 0.9
    dead: float = 0.5
    dead_sigmas: float = 3.0
    window: int = 10
    persistence: float = 0.5
    large_update: float = 0.1
    batchnorm_gap: float = 0.10
    frozen_update: float = 1e-5
    plateau_epochs: int = 10
    plateau_tol: float = 1e-2
    chance_tol: float = 0.05
    degradation_margin: float = 0.1

    def __post_init__(self) -> None:
        for f in dataclasses.fields(self):
            value = getattr(self, f.name)
            if f.name in ("plateau_epochs", "window"):
                check_int(value, f.name, minimum=1)
            elif f.name in ("saturated", "dead", "persistence", "batchnorm_gap"):
                check_float(value, f.name, minimum=0.0, maximum=1.0, min_inclusive=False)
            elif f.name in ("dead_sigmas", "depth_agreement"):
                check_float(value, f.name, minimum=0.0)
            else:
                check_float(value, f.name, minimum=0.0, min_inclusive=False)
        if self.vanishing >= self.exploding:
            raise ValueError(
                f"vanishing ({self.vanishing}) must be below exploding ({self.exploding})"
            )

    @classmethod
    def of(cls, thresholds: Thresholds | None = None, **overrides: Any) -> Thresholds:
        """``thresholds`` (default ``Thresholds()``) with keyword overrides.

        Raises:
            TypeError: an override names no threshold.
        """
        base = thresholds if thresholds is not None else cls()
        if not isinstance(base, cls):
            raise TypeError(f"thresholds must be a Thresholds, received {base!r}")
        names = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(overrides) - names)
        if unknown:
            raise TypeError(
                f"unknown threshold(s) {', '.join(unknown)}; known: {', '.join(sorted(names))}"
            )
        return dataclasses.replace(base, **overrides) if overrides else base


def dead_limit(width: int, thresholds: Thresholds) -> float:
    """The off fraction above which a relu layer of ``width`` units is dead.

    ``dead + dead_sigmas * sqrt(dead (1 - dead) / width)``: 1.0 at width 10
    (every unit), 0.77 at 32, 0.69 at 64, 0.59 at 256 with the defaults.
    """
    p = thresholds.dead
    return p + thresholds.dead_sigmas * math.sqrt(p * (1.0 - p) / max(int(width), 1))


@dataclass(frozen=True)
class DepthContext:
    """What the depth criterion needs to know of the network (see the module docstring).

    Attributes:
        applies: the network has no batch normalization, so its signal at
            initialization follows a mean-field map (plain stacks, Schoenholz et
            al. 2017; residual streams, Yang & Schoenholz 2017) and the criterion
            applies. Batch normalization rescales every layer by its batch's
            statistics, a different map (Yang et al. 2019); there the band alone
            judges.
        chi1: mean-field chi1 at the network's initialization, or None where the
            theory does not apply (then the measured factor decides).
        depth_scale: mean-field ``xi = 1 / |ln chi1|`` (inf at chi1 = 1), or None.
    """

    applies: bool
    chi1: float | None = None
    depth_scale: float | None = None

    @classmethod
    def of(
        cls, structure: dict[str, bool], theory: dict[str, Any] | None, rows: Any = ()
    ) -> DepthContext:
        """From the model's structure, its mean-field comparison and its rows (a row
        whose kernel a normalizing layer follows counts as normalization too)."""
        applies = not (structure.get("batchnorm") or any(r.normalized for r in rows))
        if theory is None:
            return cls(applies)
        return cls(applies, float(theory["chi1"]), float(theory["depth_scale"]))
