"""The paper's objective measure: Mahalanobis distance of a piece to a corpus (DESIGN.md 4).

`D(x) = sqrt((x - mu)^T S^+ (x - mu))`, with `mu` and `S` the mean and covariance of the
reference set's signatures.

Singular covariance. `S` is singular when a feature is constant over the reference (or when
features are linearly dependent). We use a symmetric pseudo-inverse computed on the
correlation matrix: with `s` the features' standard deviations, `S^+ = diag(1/s) R^+
diag(1/s)`, where `R = diag(1/s) S diag(1/s)` and `R^+` is its Moore-Penrose pseudo-inverse
from an eigendecomposition that drops eigenvalues below `rcond * largest`. Constant features
get zero rows and columns. Directions in which the reference never varies contribute nothing
to the distance; the reference reports which features are constant, so a user knows a
deviation in them goes unseen. The distance is never NaN nor negative (round-off below zero
is clipped to 0).

Why the correlation matrix: the signature mixes rates divided by 127 (standard deviations
around 0.01) with durations in steps (around 20), so the raw covariance's eigenvalues span
many decades for units alone; a cut-off relative to its largest eigenvalue would drop real,
well-determined directions just because their features are small numbers, and the distance
would change when a feature's unit changes. On the correlation matrix the cut-off only sees
genuine (near-)dependence, and the distance is invariant to each feature's scale. When `S` is
regular this is exactly `S^-1`; for a difference `x - mu` in the span of the reference's
deviations it equals the plain `S^+` distance too (the two differ only in how they discard a
component outside that span).

Each feature's share of `D^2`: `D^2 = sum_i d_i (S^+ d)_i` with `d = x - mu`, so feature
`i`'s share is `d_i (S^+ d)_i / D^2`. Shares sum to 1; one can be negative when correlated
features offset each other. A piece at the mean has all shares 0.

Table II categories: [0, 4.5) like the corpus, [4.5, 7) coherent, [7, 10) sensible random,
[10, inf) random or worse.
"""

from __future__ import annotations

import dataclasses
import json

import numpy as np

from draw_music.metric import features as features_lib

CATEGORY_BOUNDS = (4.5, 7.0, 10.0)
CATEGORY_NAMES = ("like the corpus", "coherent", "sensible random", "random or worse")
DEFAULT_RCOND = 1e-10


def categorize(distances):
  """Table II category index (0..3) of each distance: `[n]` int."""
  return np.searchsorted(np.asarray(CATEGORY_BOUNDS), np.asarray(distances, np.float64),
                         side="right")


def category_names(distances):
  """Table II category name of each distance."""
  return [CATEGORY_NAMES[i] for i in np.atleast_1d(categorize(distances))]


def _symmetric_pinv(cov, constant, rcond):
  """Scale-invariant symmetric pseudo-inverse of a covariance, and its rank.

  Args:
    cov: `[F, F]` symmetric positive semi-definite covariance.
    constant: `[F]` bool, features treated as constant (their rows and columns are 0).
    rcond: eigenvalues of the correlation matrix below `rcond * largest` are dropped.

  Returns:
    `([F, F] pseudo-inverse, rank)`.
  """
  scale = np.zeros(cov.shape[0])
  scale[~constant] = 1.0 / np.sqrt(np.diag(cov)[~constant])
  corr = cov * np.outer(scale, scale)
  w, v = np.linalg.eigh(corr)
  keep = w > rcond * max(w.max(), 0.0) if w.size else w > 0
  inv_w = np.zeros_like(w)
  inv_w[keep] = 1.0 / w[keep]
  pinv = (v * inv_w) @ v.T * np.outer(scale, scale)
  return (pinv + pinv.T) / 2, int(keep.sum())


@dataclasses.dataclass(frozen=True)
class Reference:
  """Mean and covariance of a reference set of signatures, and distances to it.

  Attributes:
    mean: `[F]` mean signature.
    cov: `[F, F]` covariance (ddof = 1).
    precision: `[F, F]` symmetric pseudo-inverse of `cov` (computed on the correlation
      matrix, see the module docstring).
    feature_names: the F feature names.
    constant_features: names of features with zero variance in the reference.
    rank: rank kept by the pseudo-inverse (F when `cov` is regular).
    num_samples: number of reference signatures.
  """
  mean: np.ndarray
  cov: np.ndarray
  precision: np.ndarray
  feature_names: tuple
  constant_features: tuple
  rank: int
  num_samples: int

  @classmethod
  def from_signatures(cls, signatures, feature_names=None, rcond=DEFAULT_RCOND):
    """Builds the reference from `[n, F]` signatures (n >= F required)."""
    sig = np.asarray(signatures, np.float64)
    if sig.ndim != 2:
      raise ValueError(f"signatures must have shape [n, F], got {sig.shape}")
    n, f = sig.shape
    if feature_names is None:
      feature_names = next((v for v in features_lib.FEATURE_SETS.values() if len(v) == f),
                           tuple(f"feature_{i}" for i in range(f)))
    if len(feature_names) != f:
      raise ValueError(f"{len(feature_names)} feature names for {f} features")
    if n < f:
      raise ValueError(f"the reference has {n} signatures, fewer than its {f} features: "
                       "its covariance cannot be estimated; give it more chunks")
    if not np.all(np.isfinite(sig)):
      raise ValueError("reference signatures contain NaN or infinite values")
    mean = sig.mean(axis=0)
    cov = np.atleast_2d(np.cov(sig, rowvar=False))
    var = np.diag(cov)
    constant = var <= 1e-12 * np.maximum(1.0, mean ** 2)
    precision, rank = _symmetric_pinv(cov, constant, rcond)
    return cls(mean, cov, precision, tuple(feature_names),
               tuple(name for name, c in zip(feature_names, constant) if c), rank, n)

  def _check(self, signatures):
    sig = np.asarray(signatures, np.float64)
    if sig.ndim != 2 or sig.shape[1] != self.mean.shape[0]:
      raise ValueError(f"signatures must have shape [n, {self.mean.shape[0]}], got "
                       f"{sig.shape}")
    return sig

  def squared_distance(self, signatures):
    """`[n]` squared Mahalanobis distances of `[n, F]` signatures (>= 0)."""
    d = self._check(signatures) - self.mean
    return np.maximum(np.einsum("nf,fg,ng->n", d, self.precision, d), 0.0)

  def distance(self, signatures):
    """`[n]` Mahalanobis distances of `[n, F]` signatures to the reference."""
    return np.sqrt(self.squared_distance(signatures))

  def contributions(self, signatures):
    """`[n, F]` share of each feature in each piece's `D^2` (rows sum to 1, or are 0)."""
    d = self._check(signatures) - self.mean
    terms = d * (d @ self.precision)
    total = terms.sum(axis=1, keepdims=True)
    with np.errstate(invalid="ignore", divide="ignore"):
      return np.where(total > 0, terms / np.where(total > 0, total, 1.0), 0.0)

  def top_features(self, signatures, k=3):
    """Names of the `k` features with the largest share of each piece's `D^2`."""
    order = np.argsort(-self.contributions(signatures), axis=1)[:, :k]
    return [[self.feature_names[i] for i in row] for row in order]

  def to_json(self):
    """A JSON string that `Reference.from_json` reads back."""
    return json.dumps({"mean": self.mean.tolist(), "cov": self.cov.tolist(),
                       "precision": self.precision.tolist(),
                       "feature_names": list(self.feature_names),
                       "constant_features": list(self.constant_features),
                       "rank": self.rank, "num_samples": self.num_samples})

  @classmethod
  def from_json(cls, text):
    d = json.loads(text)
    return cls(np.array(d["mean"]), np.array(d["cov"]), np.array(d["precision"]),
               tuple(d["feature_names"]), tuple(d["constant_features"]), int(d["rank"]),
               int(d["num_samples"]))


def reference_from_rolls(rolls, feature_set=features_lib.DEFAULT_FEATURE_SET,
                         rcond=DEFAULT_RCOND):
  """A `Reference` from `[n, T, 128]` piano rolls (chunks of a corpus)."""
  return Reference.from_signatures(features_lib.signatures(rolls, feature_set),
                                   features_lib.feature_names(feature_set), rcond)


def random_rolls(n, length=300, p=0.012, rng=None):
  """Fig. 1's random pieces: `[n, length, 128]` bool, each cell on with probability `p`."""
  rng = np.random.default_rng(rng)
  return rng.random((n, length, features_lib.NUM_PITCHES)) < p


def sensible_random_rolls(n, length=300, p=0.012, low=20, high=100, rng=None):
  """Fig. 1's "sensible random" pieces: only pitches `low..high` (inclusive) can be on.

  The per-cell probability is raised to `p * 128 / (high - low + 1)`, so the expected number
  of active cells is the same as `random_rolls(n, length, p)` (about 460 for 300 steps).
  """
  if not 0 <= low <= high < features_lib.NUM_PITCHES:
    raise ValueError(f"need 0 <= low <= high <= 127, got low={low}, high={high}")
  rng = np.random.default_rng(rng)
  width = high - low + 1
  rolls = np.zeros((n, length, features_lib.NUM_PITCHES), bool)
  rolls[:, :, low:high + 1] = rng.random((n, length, width)) < p * features_lib.NUM_PITCHES / width
  return rolls
