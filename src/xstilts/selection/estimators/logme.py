"""LogME (You et al., "LogME: Practical Assessment of Pre-trained Models for Transfer Learning", ICML 2021): how
well features predict labels, as the evidence of a Bayesian linear model, maximised over its two precisions.

For features ``F`` (n x D) and one target column ``y`` (n), the model is ``y = F w + noise`` with prior
``w ~ N(0, I / alpha)`` and noise ``N(0, I / beta)``. Its evidence (Bishop, PRML eq. 3.86) is

    log p(y | alpha, beta) = n/2 log beta + D/2 log alpha - n/2 log 2 pi - beta/2 |F m - y|^2 - alpha/2 m'm
                             - 1/2 log det A,     A = alpha I + beta F'F,  m = beta A^-1 F'y.

MacKay's fixed point maximises it: with gamma = sum_i beta s_i / (alpha + beta s_i) over the eigenvalues s_i of
F'F, alpha <- gamma / m'm and beta <- (n - gamma) / |F m - y|^2, until both stop moving. One SVD of F makes
every iteration O(min(n, D)). LogME is the maximum divided by n, averaged over the label columns (one-vs-rest:
a column per class, 1 where the row has it). Plain numpy: no torch.
"""

from __future__ import annotations

import math

import numpy as np

_TINY = 1e-12


class _Spectrum:
    """What the evidence needs of ``F`` and ``y``, from one SVD: the singular values, ``y`` in the left
    singular basis, and the part of ``|y|^2`` outside F's column space."""

    def __init__(self, features: np.ndarray, target: np.ndarray):
        features = np.asarray(features, dtype=np.float64)
        target = np.asarray(target, dtype=np.float64)
        self.n, self.dim = features.shape
        left, self.singular, _ = np.linalg.svd(features, full_matrices=False)
        self.eigen = self.singular ** 2
        self.projected = left.T @ target
        self.outside = max(float(target @ target - self.projected @ self.projected), 0.0)

    def posterior(self, alpha: float, beta: float) -> tuple[float, float, float]:
        """(m'm, |F m - y|^2, gamma) at the posterior mean m."""
        coefficients = beta * self.singular * self.projected / (alpha + beta * self.eigen)
        mean_norm = float(coefficients @ coefficients)
        residual = float(np.sum((self.singular * coefficients - self.projected) ** 2)) + self.outside
        gamma = float(np.sum(beta * self.eigen / (alpha + beta * self.eigen)))
        return mean_norm, residual, gamma

    def evidence(self, alpha: float, beta: float) -> float:
        mean_norm, residual, _ = self.posterior(alpha, beta)
        # det A: alpha + beta s_i on F's singular directions, alpha on the D - rank others
        log_det = float(np.sum(np.log(alpha + beta * self.eigen))) + (self.dim - len(self.eigen)) * math.log(alpha)
        return (self.n / 2 * math.log(beta) + self.dim / 2 * math.log(alpha) - self.n / 2 * math.log(2 * math.pi)
                - beta / 2 * residual - alpha / 2 * mean_norm - log_det / 2)


def evidence(features: np.ndarray, target: np.ndarray, alpha: float, beta: float) -> float:
    """log p(target | features, alpha, beta) of the Bayesian linear model (not divided by n)."""
    return _Spectrum(features, target).evidence(alpha, beta)


def maximise_evidence(features: np.ndarray, target: np.ndarray, iterations: int = 100,
                      tolerance: float = 1e-5) -> tuple[float, float, float]:
    """(alpha, beta, log evidence) at MacKay's fixed point."""
    spectrum = _Spectrum(features, target)
    alpha, beta = 1.0, 1.0
    for _ in range(iterations):
        mean_norm, residual, gamma = spectrum.posterior(alpha, beta)
        # The guards keep a column that F fits exactly (residual 0) or cannot see at all (m = 0) finite.
        new_alpha = gamma / max(mean_norm, _TINY)
        new_beta = max(spectrum.n - gamma, _TINY) / max(residual, _TINY)
        moved = abs(new_alpha / alpha - 1) + abs(new_beta / beta - 1)
        alpha, beta = new_alpha, new_beta
        if moved < tolerance:
            break
    return alpha, beta, spectrum.evidence(alpha, beta)


def logme(features: np.ndarray, labels: np.ndarray) -> float:
    """The LogME score: the maximised log evidence per row, averaged over the columns of ``labels`` (n x K,
    one 0/1 column per class or role). A column that is constant in this sample says nothing about the features
    and is left out; with none left the score is NaN."""
    features = np.asarray(features, dtype=np.float64)
    labels = np.asarray(labels, dtype=np.float64)
    if labels.ndim == 1:
        labels = labels[:, None]
    if features.shape[0] != labels.shape[0]:
        raise ValueError(f"{features.shape[0]} feature rows for {labels.shape[0]} label rows")
    scores = [maximise_evidence(features, column)[2] / features.shape[0]
              for column in labels.T if np.ptp(column) > 0]
    return float(np.mean(scores)) if scores else float("nan")


def one_hot(classes: np.ndarray, count: int) -> np.ndarray:
    """Rows of ``classes`` (ints in [0, count)) as 0/1 columns."""
    out = np.zeros((len(classes), count))
    out[np.arange(len(classes)), np.asarray(classes, dtype=int)] = 1.0
    return out
