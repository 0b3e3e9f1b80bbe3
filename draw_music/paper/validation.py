"""The metric's validation (the paper's Fig. 1): distances of several sets to one corpus.

Protocol (DESIGN.md section 6, the paper's Fig. 1 caption):
- The corpus is cut into non-overlapping chunks of `chunk_steps` (300) steps, silent ones
  dropped. `num_reference` (100) of them, drawn without replacement, give the reference
  mean and covariance.
- The corpus's own samples are drawn from the corpus's OTHER chunks (held out from the
  reference), so the corpus is not scored on the chunks that define it.
- Each other style gives `num_samples` (1000) chunks of the same length; so do the
  corpus's held-out chunks. A set with fewer chunks than that is sampled with replacement,
  and the result says so (`with_replacement`, `available_chunks`).
- Random: `num_samples` rolls of `chunk_steps` x 128 cells, each on with p = 0.012 (about
  460 active cells); sensible random: the same expected number of active cells, pitches
  20..100 only.
All draws come from one `numpy.random.Generator` seeded with `seed`.
"""

from __future__ import annotations

import numpy as np

from draw_music.corpora import corpus as corpus_lib
from draw_music.metric import features as features_lib
from draw_music.metric import measure

RANDOM = "random"
SENSIBLE_RANDOM = "sensible random"


def sample_rows(array, n, rng):
  """`n` rows of `array`, without replacement when it has enough, else with.

  Returns:
    `(rows, with_replacement)`.
  """
  if len(array) == 0:
    raise ValueError("cannot sample from an empty set")
  with_replacement = len(array) < n
  index = rng.choice(len(array), size=n, replace=with_replacement)
  return array[index], with_replacement


def metric_validation(corpus_rolls, others, corpus_name="corpus", num_reference=100,
                      chunk_steps=300, num_samples=1000, random_p=0.012, seed=0,
                      feature_set=features_lib.DEFAULT_FEATURE_SET):
  """Distances to a corpus reference of the corpus itself, other styles, and random sets.

  Args:
    corpus_rolls: sequence of `[time_i, 128]` rolls, the reference corpus.
    others: dict `name -> sequence of [time_i, 128] rolls`, other styles.
    corpus_name: label of the corpus set.
    num_reference: chunks in the reference.
    chunk_steps: chunk length in steps.
    num_samples: chunks scored per set.
    random_p: cell probability of the random set.
    seed: seed of every draw.
    feature_set: 'rizo17' or 'paper15'.

  Returns:
    dict with `distances` (`name -> [num_samples]` float64, in the order corpus, others,
    sensible random, random), `sets` (`name -> {available_chunks, with_replacement}`) and
    `reference` (`num_chunks`, `constant_features`, `rank`).

  Raises:
    ValueError: the corpus has too few chunks for the reference and a held-out sample, or
      another set has no chunk of `chunk_steps` steps.
  """
  rng = np.random.default_rng(seed)
  chunks, _ = corpus_lib.corpus_chunks(corpus_rolls, chunk_steps)
  if len(chunks) <= num_reference:
    raise ValueError(f"the corpus gives {len(chunks)} chunks of {chunk_steps} steps; the "
                     f"reference needs {num_reference} and at least one more is needed to "
                     "score the corpus on held-out chunks")
  order = rng.permutation(len(chunks))
  reference = measure.reference_from_rolls(chunks[order[:num_reference]], feature_set)
  held_out = chunks[order[num_reference:]]

  sets = {corpus_name: held_out}
  for name, rolls in others.items():
    other_chunks, _ = corpus_lib.corpus_chunks(rolls, chunk_steps)
    if len(other_chunks) == 0:
      raise ValueError(f"set {name!r} has no non-empty chunk of {chunk_steps} steps")
    sets[name] = other_chunks

  distances, info = {}, {}
  for name, set_chunks in sets.items():
    sample, replaced = sample_rows(set_chunks, num_samples, rng)
    distances[name] = reference.distance(features_lib.signatures(sample, feature_set))
    info[name] = {"available_chunks": int(len(set_chunks)), "with_replacement": replaced}
  generated = {
      SENSIBLE_RANDOM: measure.sensible_random_rolls(num_samples, chunk_steps, random_p,
                                                     rng=rng),
      RANDOM: measure.random_rolls(num_samples, chunk_steps, random_p, rng),
  }
  for name, rolls in generated.items():
    distances[name] = reference.distance(features_lib.signatures(rolls, feature_set))
    info[name] = {"available_chunks": None, "with_replacement": False,
                  "mean_active_cells": float(rolls.sum(axis=(1, 2)).mean())}
  return {
      "distances": distances,
      "sets": info,
      "reference": {"num_chunks": reference.num_samples,
                    "constant_features": list(reference.constant_features),
                    "rank": reference.rank},
  }
