"""Style separation: can the measures tell a corpus from other sets, piece by piece and as a set?

The paper's distance scores one chunk at a time; the set-level measures
(`set_measures`, through `evaluate.set_level_report`) judge a whole set. This protocol puts
both views side by side on sets whose answer is known:

  * `halves`: the corpus split into two halves of whole pieces (`set_measures.split_by_piece`);
    the first half is the reference (with its own calibration, from splits of that half
    only, as a user holding only that half would have), the second half the set judged.
    Same style: the verdict should be "same".
  * each other style (every folder of `others`), against the full corpus.
  * `random` and `sensible random`: Fig. 1's random rolls (`measure.random_rolls`,
    `measure.sensible_random_rolls`), `chunk_steps` long.
  * two degenerate "generators" built from the corpus, which a per-chunk measure cannot
    catch because every chunk they write is corpus-like:
      - `repeated chunk`: the corpus's most typical chunk (smallest Mahalanobis distance to
        the full corpus) written `num_samples` times;
      - `mean roll`: the mean of every corpus chunk (`[chunk_steps, 128]`, the share of
        chunks with each cell on), thresholded to its `k` largest cells, with `k` the
        corpus's mean number of active cells per chunk rounded (ties broken by cell order,
        time-major), so it is as dense as an average chunk; written `num_samples` times.
Every set except `halves` is judged against the full corpus, with one calibration of the
full corpus (`set_measures.calibrate`, `num_splits` splits).

Sizes. The reference is never sampled (all of its chunks). A set with more than
`num_samples` chunks is sampled to `num_samples` without replacement; a smaller one is used
whole, never resampled with replacement (duplicates would lower its diversity ratio).

The set-level verdict is the piece-level permutation test (`set_measures.compare_sets`): the
halves and each other style keep their piece index (their chunks are reassigned piece by
piece); random and degenerate sets are independent chunks.

Per set, the result holds the per-chunk distances to the reference with their summary
(`evaluate.summarize`: mean, median, share per Table II category, "like the corpus" being
D < 4.5) and the set-level report (`evaluate.set_level_report`). All draws come from one
`numpy.random.Generator` seeded with `seed`; the tests and calibrations use `seed` too.
No file I/O here: `experiments/style_separation.py` writes the results.
"""

from __future__ import annotations

import numpy as np

from draw_music.corpora import corpus as corpus_lib
from draw_music.metric import evaluate
from draw_music.metric import features as features_lib
from draw_music.metric import measure
from draw_music.metric import set_measures
from draw_music.paper import validation

HALVES = "halves"
RANDOM = validation.RANDOM
SENSIBLE_RANDOM = validation.SENSIBLE_RANDOM
REPEATED_CHUNK = "repeated chunk"
MEAN_ROLL = "mean roll"
# The kinds of set, for tables and figures: what the verdict is expected to be and why.
KIND_SAME_STYLE = "same style"
KIND_OTHER_STYLE = "other style"
KIND_RANDOM = "random"
KIND_DEGENERATE = "degenerate"


def typical_chunk_index(distances):
  """Index of the most typical chunk: the smallest distance (the first one on a tie).

  Args:
    distances: `[n]` Mahalanobis distances of the corpus's chunks to the corpus, n >= 1.
  """
  distances = np.asarray(distances, np.float64)
  if distances.ndim != 1 or distances.size == 0:
    raise ValueError(f"distances must have shape [n] with n >= 1, got {distances.shape}")
  return int(np.argmin(distances))


def mean_roll(chunks):
  """The corpus's mean chunk, thresholded to the corpus's mean density.

  `mean = chunks.mean(axis=0)` is the share of chunks with each cell on. The `k` cells with
  the largest share are on, with `k = round(mean number of active cells per chunk)`, so the
  roll has exactly the average chunk's number of active cells. Ties in the share are broken
  by cell order (time-major, then pitch), so the result is deterministic.

  Args:
    chunks: `[n, T, 128]` chunks (bool, or numeric: a cell is on where non-zero), n >= 1.

  Returns:
    `([T, 128] bool roll, info)` with info `{"active_cells": k, "corpus_mean_active_cells",
    "threshold"}`: the share of chunks of the last cell turned on.
  """
  chunks = np.asarray(chunks)
  if chunks.ndim != 3 or chunks.shape[0] == 0:
    raise ValueError(f"chunks must have shape [n, T, 128] with n >= 1, got {chunks.shape}")
  on = chunks != 0
  mean = on.mean(axis=0)
  target = float(on.sum(axis=(1, 2)).mean())
  k = int(round(target))
  flat = mean.reshape(-1)
  order = np.argsort(-flat, kind="stable")[:k]
  roll = np.zeros(flat.shape, bool)
  roll[order] = True
  return roll.reshape(mean.shape), {
      "active_cells": k, "corpus_mean_active_cells": target,
      "threshold": float(flat[order[-1]]) if k else 1.0}


def _sample(array, num_samples, rng):
  """At most `num_samples` row indices of `array`, without replacement, in drawn order."""
  if len(array) <= num_samples:
    return np.arange(len(array))
  return rng.choice(len(array), size=num_samples, replace=False)


def _chunk_sigs(rolls, chunk_steps, feature_set, name):
  """`([k, F] signatures, [k] piece index)` of the chunks of `rolls`."""
  chunks, index = corpus_lib.corpus_chunks(rolls, chunk_steps)
  if len(chunks) == 0:
    raise ValueError(f"set {name!r} has no non-empty chunk of {chunk_steps} steps")
  return features_lib.signatures(chunks, feature_set), index


def style_separation(corpus_rolls, others, corpus_name="corpus",
                     chunk_steps=corpus_lib.DEFAULT_CHUNK_STEPS, num_samples=500,
                     random_p=0.012, num_splits=evaluate.DEFAULT_NUM_SPLITS,
                     num_permutations=evaluate.DEFAULT_NUM_PERMUTATIONS,
                     calibration_permutations=evaluate.DEFAULT_CALIBRATION_PERMUTATIONS,
                     seed=0, feature_set=features_lib.DEFAULT_FEATURE_SET, progress=None):
  """Per-chunk distances and set-level verdicts of known sets against a corpus.

  Args:
    corpus_rolls: sequence of `[time_i, 128]` rolls, one per piece of the corpus (at least
      four pieces: the halves are split again for their calibration).
    others: dict `name -> sequence of [time_i, 128] rolls`, other styles.
    corpus_name: label of the corpus (for the record only).
    chunk_steps: chunk length in steps.
    num_samples: most chunks judged per set (module docstring, "Sizes").
    random_p: cell probability of the random sets.
    num_splits: calibration splits of each reference.
    num_permutations: permutations of each set's MMD test.
    calibration_permutations: permutations of each calibration split's test (recorded).
    seed: seed of every draw, split and permutation.
    feature_set: 'rizo17' or 'paper15'.
    progress: optional callable taking one message string per stage.

  Returns:
    dict with
      `sets`: `name -> {"kind", "reference" ("half" or "corpus"), "available_chunks",
        "num_chunks", "distances" ([m] float64), "per_piece" (`evaluate.summarize`),
        "set_level" (`evaluate.set_level_report`)}`, in the order halves, the others in
        the order given, random, sensible random, repeated chunk, mean roll;
      `reference`: `{"corpus", "num_pieces", "num_chunks", "constant_features", "rank",
        "calibration"}` of the full corpus, and `"half"`: the same for the halves'
        reference half (`num_pieces`, `num_chunks`, `pieces`, `calibration`), plus
        `"judged_half"`: pieces and chunks of the other half;
      `degenerate`: `{"repeated chunk": {"chunk", "piece", "distance"}, "mean roll":
        {mean_roll's info, "distance"}}`.

  Raises:
    ValueError: the corpus has fewer than four pieces with chunks, fewer chunks than
      features, or another set has no chunk of `chunk_steps` steps.
  """
  if int(num_samples) != num_samples or num_samples < 2:
    raise ValueError(f"num_samples must be an integer >= 2, got {num_samples}")
  say = progress or (lambda message: None)
  names = features_lib.feature_names(feature_set)
  rng = np.random.default_rng(seed)

  chunks, piece_index = corpus_lib.corpus_chunks(corpus_rolls, chunk_steps)
  num_pieces = int(np.unique(piece_index).size)
  if num_pieces < 4:
    raise ValueError(f"the corpus has {num_pieces} pieces with a non-empty chunk of "
                     f"{chunk_steps} steps; the halves and their calibration need at least 4")
  sigs = features_lib.signatures(chunks, feature_set)
  if len(sigs) < len(names):
    raise ValueError(f"the corpus gives {len(sigs)} chunks of {chunk_steps} steps, fewer "
                     f"than the {len(names)} features")
  reference = measure.Reference.from_signatures(sigs, names)
  corpus_distances = reference.distance(sigs)

  say(f"calibrating the corpus on {num_splits} piece-level splits")
  calibration = set_measures.calibrate(sigs, piece_index, num_splits, seed,
                                       calibration_permutations)

  # Halves: the first as reference, with the calibration that half alone gives.
  say("halves: splitting the corpus by whole pieces, calibrating the reference half")
  in_first = set_measures.split_by_piece(piece_index, rng)
  half_sigs, half_index = sigs[in_first], piece_index[in_first]
  if np.unique(half_index).size < 2:
    raise ValueError("the reference half holds a single piece (one piece has about half the "
                     "corpus's chunks); its calibration needs at least two")
  if len(half_sigs) < len(names):
    raise ValueError(f"the reference half has {len(half_sigs)} chunks, fewer than the "
                     f"{len(names)} features")
  half_reference = measure.Reference.from_signatures(half_sigs, names)
  half_calibration = set_measures.calibrate(half_sigs, half_index, num_splits, seed,
                                            calibration_permutations)

  # (name, kind, signatures, piece index or None: independent chunks)
  sets = [(HALVES, KIND_SAME_STYLE, sigs[~in_first], piece_index[~in_first])]
  for name, rolls in others.items():
    sets.append((name, KIND_OTHER_STYLE, *_chunk_sigs(rolls, chunk_steps, feature_set, name)))
  sets.append((RANDOM, KIND_RANDOM, features_lib.signatures(
      measure.random_rolls(num_samples, chunk_steps, random_p, rng), feature_set), None))
  sets.append((SENSIBLE_RANDOM, KIND_RANDOM, features_lib.signatures(
      measure.sensible_random_rolls(num_samples, chunk_steps, random_p, rng=rng),
      feature_set), None))
  typical = typical_chunk_index(corpus_distances)
  sets.append((REPEATED_CHUNK, KIND_DEGENERATE, np.repeat(sigs[typical][None], num_samples,
                                                          axis=0), None))
  roll, roll_info = mean_roll(chunks)
  roll_sig = features_lib.signatures(roll[None], feature_set)
  sets.append((MEAN_ROLL, KIND_DEGENERATE, np.repeat(roll_sig, num_samples, axis=0), None))

  out = {}
  for name, kind, set_sigs, set_index in sets:
    say(f"{name}: per-chunk distances and set-level measures")
    halves = name == HALVES
    drawn = _sample(set_sigs, num_samples, rng)
    judged = set_sigs[drawn]
    ref = half_reference if halves else reference
    distances = ref.distance(judged)
    report = evaluate.set_level_report(
        half_sigs if halves else sigs, half_index if halves else piece_index, judged, names,
        seed=seed, calibration=half_calibration if halves else calibration,
        num_permutations=num_permutations,
        other_piece_index=None if set_index is None else set_index[drawn])
    out[name] = {"kind": kind, "reference": "half" if halves else "corpus",
                 "available_chunks": int(len(set_sigs)), "num_chunks": int(len(judged)),
                 "distances": distances, "per_piece": evaluate.summarize(distances),
                 "set_level": report}

  def calibration_record(cal):
    return {"num_splits": cal.num_splits, "num_pieces": cal.num_pieces, **cal.summary()}

  return {
      "sets": out,
      "reference": {
          "corpus": corpus_name, "num_pieces": num_pieces, "num_chunks": int(len(sigs)),
          "constant_features": list(reference.constant_features), "rank": reference.rank,
          "calibration": calibration_record(calibration),
          "half": {"num_pieces": int(np.unique(half_index).size),
                   "num_chunks": int(len(half_sigs)),
                   "pieces": sorted(int(i) for i in np.unique(half_index)),
                   "constant_features": list(half_reference.constant_features),
                   "calibration": calibration_record(half_calibration)},
          "judged_half": {"num_pieces": int(np.unique(piece_index[~in_first]).size),
                          "num_chunks": int((~in_first).sum())},
      },
      "degenerate": {
          REPEATED_CHUNK: {"chunk": typical, "piece": int(piece_index[typical]),
                           "distance": float(corpus_distances[typical])},
          MEAN_ROLL: {**roll_info, "distance": float(reference.distance(roll_sig)[0])},
      },
  }


def summary_rows(result):
  """One flat dict per set (the CSV the experiment writes), in the result's set order.

  Columns: set, kind, reference, available_chunks, num_chunks, distance_mean,
  distance_median, share_like_corpus, frechet, frechet_bound, mmd, p_value,
  diversity_ratio, diversity_low, diversity_high, verdict, top_ks_feature,
  top_ks_statistic, reason.
  """
  rows = []
  for name, s in result["sets"].items():
    level, per_piece = s["set_level"], s["per_piece"]
    top = max(level["ks"], key=lambda r: r["statistic"])
    rows.append({
        "set": name, "kind": s["kind"], "reference": s["reference"],
        "available_chunks": s["available_chunks"], "num_chunks": s["num_chunks"],
        "distance_mean": per_piece["mean"], "distance_median": per_piece["median"],
        "share_like_corpus": per_piece["fraction_per_category"][measure.CATEGORY_NAMES[0]],
        "frechet": level["frechet"], "frechet_bound": level["thresholds"]["frechet_bound"],
        "mmd": level["mmd"], "p_value": level["p_value"],
        "diversity_ratio": level["diversity_ratio"],
        "diversity_low": level["thresholds"]["diversity_low"],
        "diversity_high": level["thresholds"]["diversity_high"],
        "verdict": level["verdict"], "top_ks_feature": top["feature"],
        "top_ks_statistic": top["statistic"], "reason": level["reason"],
    })
  return rows
