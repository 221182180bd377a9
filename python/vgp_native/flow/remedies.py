"""Remedies: what a finding may advise, checked against what the network already has.

Each ``Remedy`` names the change it advises and, as ``changes``, the knobs it
turns and which way (``("learning_rate", -1)``: lower it). A finding offers
remedies through ``Network.offer``, which drops those the network already has
(he_normal to a he_normal network, batch normalization to a batch-normalized
one); ``resolve`` then drops, from the less severe of two findings, any remedy
that turns a knob the other way from one a more severe finding advises, so no
report advises opposite changes. The facts come from the recorded rows and
structure (``Network.of``), never from the model object.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from .. import activations, initializers
from ._text import num
from .history import RowInfo
from .theory import mean_field, sigma_w2_for

__all__ = ["Network", "Remedy", "offer", "render", "resolve"]

_HE = {"HeNormal", "HeUniform"}
#: |chi1 - 1| within this counts as at the edge of chaos (the critical initialization).
CRITICAL_CHI1_TOL = 0.05


@dataclass(frozen=True)
class Remedy:
    """One piece of advice: its words and the knobs it turns (``(knob, +1 or -1)``)."""

    key: str
    text: str
    changes: tuple[tuple[str, int], ...] = ()


@dataclass(frozen=True)
class Network:
    """What the network already has, as far as the remedies need to know.

    Attributes:
        activations: the hidden rows' activations.
        width: the first hidden row's units (for examples).
        hidden: hidden kernel layers.
        he: every hidden kernel is He-initialized.
        critical: the hidden rows share one activation and a weight variance at
            the edge of chaos for it (mean field, ``|chi1 - 1| <= 0.05``).
        sigma_w2: the hidden rows' ``sigma_w^2`` when they share one, else None.
        bias_mean: the most negative initial bias mean of a hidden row (0 when all
            start at zero or unknown).
        batchnorm, residual: the network has such layers.
        clipped: the optimizer clips gradients (clipnorm or clipvalue).
        learning_rate: the optimizer's learning rate (NaN when unknown).
    """

    activations: tuple[str, ...]
    width: int
    hidden: int
    he: bool
    critical: bool
    sigma_w2: float | None
    bias_mean: float
    batchnorm: bool
    residual: bool
    clipped: bool
    learning_rate: float

    @classmethod
    def of(
        cls, rows: list[RowInfo], structure: dict[str, bool], optimizer: dict[str, Any]
    ) -> Network:
        hidden = rows[:-1] if len(rows) > 1 else rows
        acts = tuple(r.activation for r in hidden)
        inits = [r.kernel_initializer for r in hidden]
        he = bool(inits) and all(i is not None and i.get("class_name") in _HE for i in inits)
        w2: list[float] = []
        for r in hidden[1:] or hidden:
            try:
                w2.append(sigma_w2_for(r.kernel_initializer, r.fan_in, r.fan_out))
            except (TypeError, ValueError, KeyError):
                w2 = []
                break
        sigma_w2 = w2[0] if w2 and all(math.isclose(v, w2[0], rel_tol=1e-6) for v in w2) else None
        critical = False
        if sigma_w2 is not None and len(set(acts)) == 1 and acts[0] in activations.REGISTRY:
            if activations.REGISTRY[acts[0]].elementwise:
                chi1 = mean_field(acts[0], sigma_w2)["chi1"]
                critical = abs(chi1 - 1.0) <= CRITICAL_CHI1_TOL
        bias_mean = 0.0
        for r in hidden:
            if r.bias_initializer is None:
                continue
            try:
                mean = float(initializers.get(r.bias_initializer).moments((r.fan_out,))[0])
            except (TypeError, ValueError, AttributeError):
                continue
            bias_mean = min(bias_mean, mean)
        return cls(
            activations=acts,
            width=hidden[0].fan_out if hidden else 1,
            hidden=len(hidden),
            he=he,
            critical=critical,
            sigma_w2=sigma_w2,
            bias_mean=bias_mean,
            batchnorm=bool(structure.get("batchnorm")),
            residual=bool(structure.get("residual")),
            clipped=bool(optimizer.get("clipnorm") or optimizer.get("clipvalue")),
            learning_rate=float(optimizer.get("learning_rate", math.nan)),
        )

    # -- the catalog: each returns the remedy, or None when the network already has it --
    def relu_he(self) -> Remedy | None:
        if (
            all(
                activations.REGISTRY.get(a) and activations.REGISTRY[a].family == "relu"
                for a in self.activations
            )
            and self.he
        ):
            return None
        if all(a == "relu" for a in self.activations):
            return Remedy("he", "he_normal initialization (He et al. 2015)", (("init_scale", 1),))
        return Remedy(
            "relu_he",
            f"a relu activation with he_normal initialization (e.g. Dense({self.width}, "
            "activation='relu', kernel_initializer='he_normal'))",
            (("activation", 0),),
        )

    def critical_init(self, direction: int) -> Remedy | None:
        """The initialization at the edge of chaos for the activation (``direction``: +1 larger
        weights are needed, -1 smaller)."""
        if self.critical or len(set(self.activations)) != 1:
            return None
        facts = activations.REGISTRY.get(self.activations[0])
        if facts is None or facts.critical_init is None:
            return None
        size = "larger" if direction > 0 else "smaller"
        return Remedy(
            "critical_init",
            f"{size} initial weights at the edge of chaos for {facts.name}: {facts.critical_init}",
            (("init_scale", direction),),
        )

    def batchnorm_layers(self) -> Remedy | None:
        if self.batchnorm:
            return None
        return Remedy(
            "batchnorm",
            "batch normalization before the activation (Dense -> BatchNormalization -> "
            "Activation; Ioffe & Szegedy 2015)",
            (("batchnorm", 1),),
        )

    def residual_blocks(self) -> Remedy | None:
        if self.residual:
            return None
        return Remedy(
            "residual", "residual blocks (layers.Residual; He et al. 2016)", (("skip", 1),)
        )

    def fewer_layers(self, trainable: float | None = None) -> Remedy | None:
        if self.hidden <= 2:
            return None
        bound = f" (mean field: about {num(trainable)} trainable)" if trainable else ""
        return Remedy("fewer_layers", f"fewer layers{bound}", (("depth", -1),))

    def leaky(self) -> Remedy | None:
        if all(a in ("leaky_relu", "elu", "selu") for a in self.activations):
            return None
        return Remedy(
            "leaky",
            "leaky_relu or elu, whose off units still pass a gradient",
            (("activation", 0),),
        )

    def zero_bias(self) -> Remedy | None:
        if self.bias_mean >= 0.0:
            return None
        return Remedy(
            "zero_bias", "biases that start at zero (bias_initializer='zeros')", (("bias", 1),)
        )

    def smaller_lr(self) -> Remedy:
        lr = self.learning_rate
        example = f" (e.g. {num(lr / 10)} instead of {num(lr)})" if math.isfinite(lr) else ""
        return Remedy("smaller_lr", f"a smaller learning rate{example}", (("learning_rate", -1),))

    def larger_lr(self) -> Remedy:
        return Remedy("larger_lr", "a larger learning rate", (("learning_rate", 1),))

    def clipping(self) -> Remedy | None:
        if self.clipped:
            return None
        return Remedy("clip", "gradient clipping (e.g. Adam(clipnorm=1.0))", (("clip", 1),))

    def bn_momentum(self) -> Remedy:
        return Remedy(
            "bn_momentum",
            "a lower batch-norm momentum (e.g. BatchNormalization(momentum=0.9)), so that "
            "the moving statistics keep up with the weights",
            (("bn_momentum", -1),),
        )


def offer(*remedies: Remedy | None) -> list[Remedy]:
    """The remedies that apply (those the network does not already have)."""
    return [r for r in remedies if r is not None]


def resolve(groups: list[list[Remedy]]) -> list[list[Remedy]]:
    """Drop from each group (most severe finding first) the remedies opposing an earlier one."""
    claimed: dict[str, int] = {}
    out = []
    for group in groups:
        kept = [r for r in group if not any(d and claimed.get(k, d) != d for k, d in r.changes)]
        for r in kept:
            for k, d in r.changes:
                if d:
                    claimed.setdefault(k, d)
        out.append(kept)
    return out


def render(remedies: list[Remedy], fallback: str) -> str:
    """``"a, b, or c."``; ``fallback`` when nothing is left to advise."""
    texts = [r.text for r in remedies]
    if not texts:
        return fallback
    if len(texts) == 1:
        return texts[0] + "."
    return ", ".join(texts[:-1]) + ", or " + texts[-1] + "."
