"""The paper's decision tree over the search's architectures (section IV, Table II).

Each architecture of the search gets the Table II category of its mean distance (the mean
over its generated pieces): [0, 4.5) like the corpus, [4.5, 7) coherent, [7, 10) sensible
random, [10, inf) random or worse. A `sklearn.tree.DecisionTreeClassifier` with the
paper's limits (depth at most 3, at least 10 architectures in a node to split it) learns
the category from the four Table I parameters (`search.PARAMETERS`: chunk size, latent
size, DRAW steps, LSTM units). The paper reads from its tree: above 300 units only
`#z > 550` gives coherent pieces; below 300 units `#z < 65` is better; `T <= 35`.

Rows without a mean distance (trials that failed) are left out. With fewer architectures
than `min_samples_split` the tree could not make a single split, so `fit_category_tree`
raises `TooFewArchitectures` instead of returning a one-leaf tree.

The fitted tree is saved with pickle (`save_tree`, `load_tree`), so a notebook can draw it
without fitting anything; reading it back needs the same scikit-learn version
(`tree_summary` records it).
"""

from __future__ import annotations

import dataclasses
import math
import pathlib
import pickle

import numpy as np
import sklearn
from sklearn import tree as sk_tree

from draw_music.metric import measure
from draw_music.paper import search

FEATURES = search.PARAMETERS
MAX_DEPTH = 3
MIN_SAMPLES_SPLIT = 10


class TooFewArchitectures(ValueError):
  """Fewer scored architectures than a split needs."""


@dataclasses.dataclass(frozen=True)
class CategoryTree:
  """A fitted tree and what it was fitted on.

  Attributes:
    classifier: the fitted `DecisionTreeClassifier`.
    params: `[n, 4]` int64 parameters (`FEATURES` order).
    categories: `[n]` int Table II category index of each architecture.
    trials: `[n]` int trial number of each architecture.
    class_names: category name of each of `classifier.classes_`.
    seed: the classifier's `random_state`.
  """
  classifier: sk_tree.DecisionTreeClassifier
  params: np.ndarray
  categories: np.ndarray
  trials: np.ndarray
  class_names: tuple
  seed: int


def table_from_rows(rows):
  """The scored architectures of results rows (`search.read_results`).

  Returns:
    `(params [n, 4] int64, mean_distances [n] float64, trials [n] int64, num_unscored)`:
    rows whose mean distance is missing or NaN are left out and counted.
  """
  kept = [r for r in rows if r.get("mean_distance") is not None
          and math.isfinite(r["mean_distance"])]
  params = np.array([[r[f] for f in FEATURES] for r in kept], np.int64).reshape(-1,
                                                                                len(FEATURES))
  means = np.array([r["mean_distance"] for r in kept], np.float64)
  trials = np.array([r["trial"] for r in kept], np.int64)
  return params, means, trials, len(rows) - len(kept)


def class_counts(categories):
  """Architectures per Table II category: dict name -> count (all four names)."""
  cats = np.asarray(categories)
  return {name: int(np.sum(cats == i)) for i, name in enumerate(measure.CATEGORY_NAMES)}


def fit_category_tree(params, mean_distances, trials=None, seed=0, max_depth=MAX_DEPTH,
                      min_samples_split=MIN_SAMPLES_SPLIT):
  """Fits the paper's tree: Table II category of the mean distance from the parameters.

  Args:
    params: `[n, 4]` ints, `FEATURES` order.
    mean_distances: `[n]` finite mean distances.
    trials: `[n]` trial numbers (default `0..n-1`).
    seed: `random_state` of the classifier (it breaks ties between equally good splits).
    max_depth: the tree's largest depth (3 in the paper).
    min_samples_split: fewest architectures in a node to split it (10 in the paper).

  Returns:
    A `CategoryTree`.

  Raises:
    TooFewArchitectures: fewer than `min_samples_split` architectures.
    ValueError: shapes that do not match, or a NaN distance.
  """
  params = np.asarray(params, np.int64)
  means = np.asarray(mean_distances, np.float64)
  if params.ndim != 2 or params.shape[1] != len(FEATURES) or means.shape != (len(params),):
    raise ValueError(f"params must be [n, {len(FEATURES)}] and mean_distances [n], got "
                     f"{params.shape} and {means.shape}")
  if not np.all(np.isfinite(means)):
    raise ValueError("mean_distances must be finite (leave unscored architectures out)")
  if len(params) < min_samples_split:
    raise TooFewArchitectures(
        f"{len(params)} scored architectures: the tree needs at least min_samples_split = "
        f"{min_samples_split} to make a single split (the paper had 136); run more trials")
  trials = np.arange(len(params)) if trials is None else np.asarray(trials, np.int64)
  categories = measure.categorize(means)
  classifier = sk_tree.DecisionTreeClassifier(
      max_depth=max_depth, min_samples_split=min_samples_split, random_state=seed)
  classifier.fit(params, categories)
  class_names = tuple(measure.CATEGORY_NAMES[int(c)] for c in classifier.classes_)
  return CategoryTree(classifier, params, categories, trials, class_names, seed)


def rules_text(result):
  """The tree's rules as text (`sklearn.tree.export_text`)."""
  return sk_tree.export_text(result.classifier, feature_names=list(FEATURES),
                             class_names=list(result.class_names))


def tree_summary(result):
  """JSON-ready facts of a fitted tree.

  Returns:
    dict: `num_architectures`, `class_counts` (all four categories), `class_names` (those
    present), `feature_importances` (name -> Gini importance), `training_accuracy`,
    `depth`, `num_leaves`, `root_split` (`{"feature", "threshold"}` or None), `max_depth`,
    `min_samples_split`, `seed`, `sklearn_version`.
  """
  clf = result.classifier
  nodes = clf.tree_
  root = None
  if nodes.node_count > 1:
    root = {"feature": FEATURES[int(nodes.feature[0])], "threshold": float(nodes.threshold[0])}
  return {
      "num_architectures": int(len(result.params)),
      "class_counts": class_counts(result.categories),
      "class_names": list(result.class_names),
      "feature_importances": {f: float(v) for f, v in zip(FEATURES,
                                                          clf.feature_importances_)},
      "training_accuracy": float(clf.score(result.params, result.categories)),
      "depth": int(clf.get_depth()),
      "num_leaves": int(clf.get_n_leaves()),
      "root_split": root,
      "max_depth": clf.max_depth,
      "min_samples_split": clf.min_samples_split,
      "seed": result.seed,
      "sklearn_version": sklearn.__version__,
  }


def category_rows(result):
  """One dict per architecture: trial, the four parameters, category, predicted category."""
  predicted = result.classifier.predict(result.params)
  return [{"trial": int(t), **{f: int(v) for f, v in zip(FEATURES, p)},
           "category": measure.CATEGORY_NAMES[int(c)],
           "predicted": measure.CATEGORY_NAMES[int(q)]}
          for t, p, c, q in zip(result.trials, result.params, result.categories, predicted)]


def save_tree(result, path):
  """Pickles a `CategoryTree`; returns the path."""
  path = pathlib.Path(path)
  path.parent.mkdir(parents=True, exist_ok=True)
  with open(path, "wb") as f:
    pickle.dump(result, f)
  return path


class _Unpickler(pickle.Unpickler):
  """Reads trees pickled when this module was `draw_music.tree` (before the subpackages)."""

  def find_class(self, module, name):
    return super().find_class(__name__ if module == "draw_music.tree" else module, name)


def load_tree(path):
  """A `CategoryTree` written by `save_tree` (needs the same scikit-learn version)."""
  with open(path, "rb") as f:
    return _Unpickler(f).load()
