"""A multinomial logistic regression over standardised features, fit by Newton's method.

Small and inspectable on purpose: one weight per (feature, class) that can be read off the JSON
file, probabilities from a softmax, an L2 penalty that keeps them calibrated on a few hundred
labelled images. Newton's method converges to the unique optimum of this convex loss, so a
re-fit on the same data gives the same parameters on any machine (to rounding), which is what
lets a test check the committed file against its training script.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np


@dataclass
class SoftmaxModel:
    classes: list[str]
    features: list[str]
    mean: np.ndarray  # (D,) feature means of the training set
    scale: np.ndarray  # (D,) feature standard deviations (1 where constant)
    coef: np.ndarray  # (D, K) weights on standardised features
    intercept: np.ndarray  # (K,)
    meta: dict

    def logits(self, x: np.ndarray) -> np.ndarray:
        z = (np.atleast_2d(x) - self.mean) / self.scale
        return z @ self.coef + self.intercept

    def predict_proba(self, x: np.ndarray) -> np.ndarray:
        return _softmax(self.logits(x))

    def to_json(self) -> dict:
        r = lambda a: [round(float(v), 8) for v in np.ravel(a)]  # noqa: E731
        return {"classes": self.classes, "features": self.features, "mean": r(self.mean), "scale": r(self.scale),
                "coef": [r(row) for row in self.coef], "intercept": r(self.intercept), "meta": self.meta}

    def save(self, path: Path) -> None:
        Path(path).write_text(json.dumps(self.to_json(), indent=1) + "\n")

    @classmethod
    def load(cls, path: Path) -> SoftmaxModel:
        d = json.loads(Path(path).read_text())
        coef = np.asarray(d["coef"], dtype=np.float64)
        if coef.shape != (len(d["features"]), len(d["classes"])):
            raise ValueError(f"{path}: coef shape {coef.shape} does not match features x classes")
        return cls(classes=list(d["classes"]), features=list(d["features"]), mean=np.asarray(d["mean"]),
                   scale=np.asarray(d["scale"]), coef=coef, intercept=np.asarray(d["intercept"]), meta=d["meta"])


def _softmax(logits: np.ndarray) -> np.ndarray:
    e = np.exp(logits - logits.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


def class_weights(y: np.ndarray, n_classes: int, power: float) -> np.ndarray:
    """Per-sample weights (n / n_class) ** power, normalised to mean 1: 0 = none, 1 = fully balanced."""
    counts = np.bincount(y, minlength=n_classes).astype(np.float64)
    per_class = np.where(counts > 0, (len(y) / np.maximum(counts, 1)) ** power, 0.0)
    w = per_class[y]
    return w / w.mean()


def fit_softmax(x: np.ndarray, y: np.ndarray, classes: list[str], features: list[str], *, l2: float = 1.0,
                balance: float = 0.5, min_scale: np.ndarray | float = 1e-12, max_iter: int = 50,
                tol: float = 1e-10) -> SoftmaxModel:
    """Minimise the class-weighted summed cross-entropy + ``l2`` / 2 * |W|^2 (intercepts all but unpenalised).

    ``min_scale`` floors each feature's standardising scale: a rare count (a caption word seen in
    three training items) would otherwise be blown up to a huge standardised value when present
    and, with few examples against it, earn a weight that overrides everything else.
    """
    n, d = x.shape
    k = len(classes)
    mean = x.mean(axis=0)
    scale = np.maximum(x.std(axis=0), min_scale)
    scale = np.where(scale > 1e-12, scale, 1.0)
    z = np.hstack([(x - mean) / scale, np.ones((n, 1))])
    w_s = class_weights(y, k, balance)
    onehot = np.eye(k)[y]
    theta = np.zeros((d + 1, k))
    penalty = np.full(d + 1, l2)
    penalty[-1] = 1e-4  # barely any pull on the intercepts, just enough to make the optimum unique

    def loss(t: np.ndarray) -> float:
        logp = np.log(_softmax(z @ t) + 1e-300)
        return float(-(w_s * (onehot * logp).sum(axis=1)).sum() + 0.5 * (penalty[:, None] * t * t).sum())

    current = loss(theta)
    for _ in range(max_iter):
        p = _softmax(z @ theta)
        grad = z.T @ ((p - onehot) * w_s[:, None]) + penalty[:, None] * theta
        # Hessian blocks H[a,b] = sum_i w_i (p_ia (d_ab - p_ib)) z_i z_i^T, laid out class-major
        hess = np.zeros((k * (d + 1), k * (d + 1)))
        for a in range(k):
            for b in range(a, k):
                coeff = w_s * p[:, a] * ((a == b) - p[:, b])
                block = (z * coeff[:, None]).T @ z
                hess[a * (d + 1):(a + 1) * (d + 1), b * (d + 1):(b + 1) * (d + 1)] = block
                hess[b * (d + 1):(b + 1) * (d + 1), a * (d + 1):(a + 1) * (d + 1)] = block.T
        hess += np.diag(np.tile(penalty, k))
        step = np.linalg.solve(hess, grad.T.reshape(-1)).reshape(k, d + 1).T
        shrink = 1.0
        while (trial := loss(theta - shrink * step)) > current and shrink > 1e-4:
            shrink /= 2  # damped Newton: never accept a step that raises the loss
        theta, current = theta - shrink * step, trial
        if np.abs(shrink * step).max() < tol:
            break
    return SoftmaxModel(classes=list(classes), features=list(features), mean=mean, scale=scale,
                        coef=theta[:-1], intercept=theta[-1], meta={"l2": l2, "balance": balance, "n": int(n)})


@dataclass
class Projection:
    """Standardise then project onto the top principal axes of the training embeddings: the
    ~1,600 pooled detector channels are too many for a few hundred labelled images."""

    mean: np.ndarray  # (E,)
    scale: np.ndarray  # (E,)
    axes: np.ndarray  # (E, k)

    def __call__(self, e: np.ndarray) -> np.ndarray:
        return ((np.atleast_2d(e) - self.mean) / self.scale) @ self.axes

    def save(self, path: Path) -> None:
        with Path(path).open("wb") as fh:
            np.savez_compressed(fh, mean=self.mean.astype(np.float32), scale=self.scale.astype(np.float32),
                                axes=self.axes.astype(np.float32))

    @classmethod
    def load(cls, path: Path) -> Projection:
        with np.load(path) as z:
            return cls(mean=z["mean"].astype(np.float64), scale=z["scale"].astype(np.float64),
                       axes=z["axes"].astype(np.float64))


def fit_projection(e: np.ndarray, k: int) -> Projection:
    """PCA by SVD; each axis's sign is fixed (largest loading positive) so a re-fit gives the same file."""
    mean, scale = e.mean(axis=0), e.std(axis=0) + 1e-6
    _, _, vt = np.linalg.svd((e - mean) / scale, full_matrices=False)
    axes = vt[:k].T
    axes = axes * np.sign(axes[np.abs(axes).argmax(axis=0), np.arange(axes.shape[1])])
    return Projection(mean=mean, scale=scale, axes=axes)
