"""A plain-numpy MLP trainer: the reference the training benchmark compares against.

Written the way a careful numpy user would: matrix products through ``@``
(OpenBLAS), elementwise work with numpy ufuncs, Adam with Keras' formulas, no
Python loop over samples. Supports what the benchmark's architectures need:
Dense (+ relu / sigmoid), batch normalization, identity residual blocks,
sigmoid + binary cross-entropy, softmax + cross-entropy, and MSE.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np


@dataclass
class Spec:
    """``kind`` is "dense" (units, act), "bn", "relu", or "residual" (children)."""

    kind: str
    units: int = 0
    act: str = "linear"
    children: list[Spec] = field(default_factory=list)


def _act(z: np.ndarray, act: str) -> np.ndarray:
    if act == "relu":
        return np.maximum(z, 0)
    if act == "sigmoid":
        return 1.0 / (1.0 + np.exp(-z))
    return z


def _act_grad(z: np.ndarray, y: np.ndarray, dy: np.ndarray, act: str) -> np.ndarray:
    if act == "relu":
        return dy * (z > 0)
    if act == "sigmoid":
        return dy * y * (1 - y)
    return dy


class NumpyNet:
    """Trains a layer list with Adam; ``loss`` is "bce" (sigmoid output), "cce" or "mse"."""

    def __init__(
        self, specs: list[Spec], in_dim: int, loss: str, seed: int = 0, dtype: type = np.float32
    ) -> None:
        self.rng = np.random.default_rng(seed)
        self.dtype = dtype
        self.loss = loss
        self.params: list[np.ndarray] = []
        self.layers = self._build(specs, in_dim)
        self.m = [np.zeros_like(p) for p in self.params]
        self.v = [np.zeros_like(p) for p in self.params]
        self.t = 0

    def _build(self, specs: list[Spec], width: int) -> list[tuple]:
        layers = []
        for s in specs:
            if s.kind == "dense":
                limit = np.sqrt(6.0 / (width + s.units))
                w = self.rng.uniform(-limit, limit, size=(width, s.units)).astype(self.dtype)
                b = np.zeros(s.units, dtype=self.dtype)
                self.params += [w, b]
                layers.append(("dense", len(self.params) - 2, s.act))
                width = s.units
            elif s.kind == "bn":
                self.params += [np.ones(width, self.dtype), np.zeros(width, self.dtype)]
                layers.append(("bn", len(self.params) - 2))
            elif s.kind == "relu":
                layers.append(("relu",))
            else:
                layers.append(("residual", self._build(s.children, width)))
        return layers

    def _forward(self, layers, h, cache):
        for layer in layers:
            kind = layer[0]
            if kind == "dense":
                w, b = self.params[layer[1]], self.params[layer[1] + 1]
                z = h @ w + b
                y = _act(z, layer[2])
                cache.append((h, z, y))
                h = y
            elif kind == "bn":
                g, beta = self.params[layer[1]], self.params[layer[1] + 1]
                mean = h.mean(0)
                xc = h - mean
                invstd = 1.0 / np.sqrt((xc * xc).mean(0) + 1e-3)
                xhat = xc * invstd
                cache.append((xhat, invstd))
                h = g * xhat + beta
            elif kind == "relu":
                cache.append(h)
                h = np.maximum(h, 0)
            else:
                inner = []
                out = self._forward(layer[1], h, inner)
                cache.append(inner)
                h = np.maximum(h + out, 0)
                cache.append(h)
        return h

    def _backward(self, layers, dy, cache, grads):
        for layer in reversed(layers):
            kind = layer[0]
            if kind == "dense":
                x, z, y = cache.pop()
                dz = _act_grad(z, y, dy, layer[2])
                grads[layer[1]] = x.T @ dz
                grads[layer[1] + 1] = dz.sum(0)
                dy = dz @ self.params[layer[1]].T
            elif kind == "bn":
                xhat, invstd = cache.pop()
                g = self.params[layer[1]]
                dbeta = dy.sum(0)
                dgamma = (dy * xhat).sum(0)
                grads[layer[1]], grads[layer[1] + 1] = dgamma, dbeta
                n = dy.shape[0]
                dy = g * invstd / n * (n * dy - dbeta - xhat * dgamma)
            elif kind == "relu":
                x = cache.pop()
                dy = dy * (x > 0)
            else:
                out = cache.pop()
                inner = cache.pop()
                dsum = dy * (out > 0)
                dy = dsum + self._backward(layer[1], dsum, inner, grads)
        return dy

    def step(self, x: np.ndarray, t: np.ndarray) -> float:
        cache: list = []
        out = self._forward(self.layers, x, cache)
        n = x.shape[0]
        if self.loss == "bce":
            p = 1.0 / (1.0 + np.exp(-out))
            loss = float(np.mean(np.logaddexp(0, out) - out * t))
            dout = (p - t) / out.size
            # The output Dense is linear here; the sigmoid is fused into the loss.
        elif self.loss == "cce":
            z = out - out.max(1, keepdims=True)
            e = np.exp(z)
            p = e / e.sum(1, keepdims=True)
            loss = float(-np.mean(np.log(p[np.arange(n), t])))
            dout = p
            dout[np.arange(n), t] -= 1
            dout /= n
        else:
            diff = out - t
            loss = float(np.mean(diff * diff))
            dout = 2 * diff / diff.size
        grads: list = [None] * len(self.params)
        self._backward(self.layers, dout.astype(self.dtype), cache, grads)
        self.t += 1
        lr, b1, b2, eps = 1e-3, 0.9, 0.999, 1e-7
        alpha = lr * np.sqrt(1 - b2**self.t) / (1 - b1**self.t)
        for p, g, m, v in zip(self.params, grads, self.m, self.v, strict=True):
            m += (g - m) * (1 - b1)
            v += (g * g - v) * (1 - b2)
            p -= alpha * m / (np.sqrt(v) + eps)
        return loss

    def fit_epoch(self, x: np.ndarray, t: np.ndarray, batch_size: int) -> float:
        perm = self.rng.permutation(x.shape[0])
        total = 0.0
        for start in range(0, x.shape[0], batch_size):
            idx = perm[start : start + batch_size]
            total += self.step(x[idx], t[idx]) * len(idx)
        return total / x.shape[0]
