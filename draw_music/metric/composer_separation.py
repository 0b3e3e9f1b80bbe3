"""Composer separation: does the set-level measure tell composers apart, and only them?

Given several corpora (one folder of MIDI files per composer or style), every corpus is cut
into chunks (`corpus.corpus_chunks`, each file one piece) and signed
(`features.signatures`, `extended` by default). Then:

  * pairs: every unordered pair (A, B), A (the earlier in the given order) as reference,
    judged by `set_measures.compare_sets` with both piece indices, so the verdict is the
    piece-level permutation test (whole pieces reassigned; MMD by default) plus the
    diversity rule with its uncalibrated range. Recorded: verdict, both p-values, the
    Fréchet distance, the features that differ most (two-sample KS), and mgeval's relative
    view (`set_measures.relative_view`).
  * halvings: each corpus against itself, split into two random halves of whole pieces
    (`random_halves`: a uniformly drawn half of the pieces, which is exactly the null the
    permutation test assumes), judged the same way. Expected "same"; a halving comes out
    "different" with probability about `alpha`.
  * false alarms (optional, `num_false_alarm_halvings` > 0): the rate of p < alpha over
    many halvings of each corpus, for both statistics.
  * feature separation: per candidate feature, the Welch t statistic between each pair of
    corpora's per-piece means (pieces are the independent units), and its median over the
    pairs; the table behind the choice of `extended` (`features_extended`, "Selection").

All draws come from one `numpy.random.Generator` seeded with `seed`; no file I/O here
(`experiments/composer_separation.py` reads and writes).
"""

from __future__ import annotations

import itertools

import numpy as np
from scipy import stats

from draw_music.corpora import corpus as corpus_lib
from draw_music.metric import features as features_lib
from draw_music.metric import set_measures

DEFAULT_FEATURE_SET = "extended"
DEFAULT_NUM_PERMUTATIONS = 1000
_TOP_FEATURES = 3
# |t| recorded when both corpora are constant in a feature, at different values.
CONSTANT_APART_T = 1e6


def random_halves(piece_index, rng):
  """A uniformly random half of the pieces: `[n]` bool mask of its chunks.

  `floor(P / 2)` of the P distinct pieces, drawn without replacement, all equally likely
  (unlike `set_measures.split_by_piece`, which balances chunk counts). This is the
  permutation test's null, so the halves' p-values are uniform.

  Args:
    piece_index: `[n]` piece of each chunk; at least two distinct pieces.
    rng: a `numpy.random.Generator`.
  """
  pieces = np.unique(np.asarray(piece_index))
  if pieces.size < 2:
    raise ValueError(f"need at least two distinct pieces to halve, got {pieces.size}")
  first = rng.permutation(pieces)[:pieces.size // 2]
  return np.isin(piece_index, first)


def piece_means(sigs, piece_index):
  """`[P, F]` mean signature of each piece (pieces in sorted id order)."""
  _, inverse = np.unique(piece_index, return_inverse=True)
  inverse = inverse.reshape(-1)
  counts = np.bincount(inverse)
  sums = np.zeros((counts.size, sigs.shape[1]))
  np.add.at(sums, inverse, sigs)
  return sums / counts[:, None]


def feature_separation(sets, feature_names):
  """Per feature, how far apart the corpora's pieces are, pair by pair.

  Args:
    sets: dict `name -> (sigs [n, F], piece_index [n])`, at least two corpora, each with
      at least two pieces.
    feature_names: the F names.

  Returns:
    A list of F dicts `{"feature", "median_abs_t", "abs_t": {"A|B": |t|}}`, sorted by
    decreasing `median_abs_t`. `|t|` is the Welch t statistic between the two corpora's
    per-piece means of the feature; 0 where both are the same constant, `CONSTANT_APART_T`
    where both are constant but different (t is infinite; JSON has no infinity).
  """
  means = {name: piece_means(*sets[name]) for name in sets}
  pairs = list(itertools.combinations(sets, 2))
  rows = []
  for j, feature in enumerate(feature_names):
    ts = {}
    for a, b in pairs:
      x, y = means[a][:, j], means[b][:, j]
      if x.std() == 0 and y.std() == 0:
        t = 0.0 if x[0] == y[0] else CONSTANT_APART_T
      else:
        t = stats.ttest_ind(x, y, equal_var=False).statistic
      ts[f"{a}|{b}"] = float(abs(t))
    rows.append({"feature": feature, "median_abs_t": float(np.median(list(ts.values()))),
                 "abs_t": ts})
  return sorted(rows, key=lambda r: -r["median_abs_t"])


def _judge(ref, ref_index, other, other_index, names, num_permutations, seed, alpha):
  result = set_measures.compare_sets(ref, other, names, None, num_permutations, seed,
                                     alpha=alpha, ref_piece_index=ref_index,
                                     other_piece_index=other_index)
  top = sorted(result["ks"], key=lambda r: -r["statistic"])[:_TOP_FEATURES]
  relative = set_measures.relative_view(ref, other, names, seed=seed)
  return {
      "verdict": result["verdict"], "reason": result["reason"],
      "p_value": result["p_value"], "mmd_p_value": result["mmd_p_value"],
      "frechet_p_value": result["frechet_p_value"], "frechet": result["frechet"],
      "mmd": result["mmd"], "diversity_ratio": result["diversity_ratio"],
      "num_pieces": [result["piece_test"]["num_pieces_ref"],
                     result["piece_test"]["num_pieces_other"]],
      "num_chunks": [result["num_ref"], result["num_other"]],
      "top_features": [{"feature": r["feature"], "ks": r["statistic"]} for r in top],
      "ks": result["ks"], "relative": relative,
  }


def false_alarm_rate(sigs, piece_index, num_halvings, num_permutations, rng, alpha=0.05):
  """p-values of the piece-level test over `num_halvings` random halvings of one corpus.

  The test is the one the verdicts use between corpora (piece means, `unit="piece"`).

  Returns:
    dict with `num_halvings`, `num_permutations`, `frechet_p` and `mmd_p` (lists), and
    `frechet_rate`, `mmd_rate`: the share of halvings with p < alpha.
  """
  out = {"frechet_p": [], "mmd_p": []}
  for _ in range(int(num_halvings)):
    mask = random_halves(piece_index, rng)
    r = set_measures.piece_permutation_test(sigs[mask], sigs[~mask], piece_index[mask],
                                            piece_index[~mask], num_permutations,
                                            seed=int(rng.integers(2 ** 31)), unit="piece")
    out["frechet_p"].append(r["frechet_p_value"])
    out["mmd_p"].append(r["mmd_p_value"])
  return {"num_halvings": int(num_halvings), "num_permutations": int(num_permutations),
          **out,
          "frechet_rate": float(np.mean(np.array(out["frechet_p"]) < alpha)),
          "mmd_rate": float(np.mean(np.array(out["mmd_p"]) < alpha))}


def composer_separation(corpora, chunk_steps=corpus_lib.DEFAULT_CHUNK_STEPS,
                        feature_set=DEFAULT_FEATURE_SET,
                        num_permutations=DEFAULT_NUM_PERMUTATIONS, seed=0,
                        alpha=set_measures.DEFAULT_ALPHA, num_false_alarm_halvings=0,
                        false_alarm_permutations=200, progress=None):
  """Pairs, halvings, false alarms and feature separation of several corpora.

  Args:
    corpora: dict `name -> sequence of [time_i, 128] rolls`, at least two corpora, each
      with at least four pieces giving a non-empty chunk.
    chunk_steps: chunk length in steps.
    feature_set: signature features of the tests.
    num_permutations: permutations of each pair's and halving's test.
    seed: seed of every halving and permutation.
    alpha: significance level of the verdicts.
    num_false_alarm_halvings: halvings per corpus for the false-alarm rate (0: skipped).
    false_alarm_permutations: permutations of each of those halvings' tests.
    progress: optional callable taking one message per stage.

  Returns:
    dict with `corpora` (`name -> {"num_pieces", "num_chunks"}`), `feature_names`,
    `pairs` (list of `{"a", "b", **judgement}`), `halvings` (`name -> judgement` with
    `pieces_first`), `false_alarms` (`name -> false_alarm_rate(...)`, empty when
    skipped), `feature_separation` (on the `candidates` set).

  Raises:
    ValueError: fewer than two corpora, or a corpus with fewer than four pieces.
  """
  say = progress or (lambda message: None)
  if len(corpora) < 2:
    raise ValueError(f"need at least two corpora, got {len(corpora)}")
  names = features_lib.feature_names(feature_set)
  rng = np.random.default_rng(seed)
  sets, candidate_sets, info = {}, {}, {}
  for name, rolls in corpora.items():
    chunks, index = corpus_lib.corpus_chunks(rolls, chunk_steps)
    num_pieces = int(np.unique(index).size)
    if num_pieces < 4:
      raise ValueError(f"corpus {name!r} has {num_pieces} pieces with a non-empty chunk of "
                       f"{chunk_steps} steps; halving it needs at least 4")
    say(f"{name}: {num_pieces} pieces, {len(chunks)} chunks")
    candidates = features_lib.signatures(chunks, "candidates")
    candidate_sets[name] = (candidates, index)
    if feature_set == "candidates":
      sets[name] = (candidates, index)
    elif feature_set == "extended":
      cols = [features_lib.CANDIDATE_NAMES.index(n) for n in names]
      sets[name] = (candidates[:, cols], index)
    else:
      sets[name] = (features_lib.signatures(chunks, feature_set), index)
    info[name] = {"num_pieces": num_pieces, "num_chunks": int(len(chunks))}

  pairs = []
  for a, b in itertools.combinations(corpora, 2):
    say(f"pair {a} vs {b}")
    (x, xi), (y, yi) = sets[a], sets[b]
    pairs.append({"a": a, "b": b, **_judge(x, xi, y, yi, names, num_permutations, seed,
                                           alpha)})
  halvings = {}
  for name, (x, xi) in sets.items():
    say(f"halving {name}")
    mask = random_halves(xi, rng)
    judgement = _judge(x[mask], xi[mask], x[~mask], xi[~mask], names, num_permutations,
                       seed, alpha)
    halvings[name] = {**judgement,
                      "pieces_first": sorted(int(i) for i in np.unique(xi[mask]))}
  false_alarms = {}
  if num_false_alarm_halvings:
    for name, (x, xi) in sets.items():
      say(f"false alarms: {num_false_alarm_halvings} halvings of {name}")
      false_alarms[name] = false_alarm_rate(x, xi, num_false_alarm_halvings,
                                            false_alarm_permutations, rng, alpha)
  return {"corpora": info, "feature_names": list(names), "pairs": pairs,
          "halvings": halvings, "false_alarms": false_alarms,
          "feature_separation": feature_separation(candidate_sets,
                                                   features_lib.CANDIDATE_NAMES)}


def summary_rows(result):
  """One flat dict per pair and per halving (the CSV the experiment writes).

  Columns: a, b (the same corpus twice for a halving), kind ("pair" or "halving"),
  verdict, p_value, mmd_p_value, frechet_p_value, frechet, diversity_ratio, pieces_a,
  pieces_b, chunks_a, chunks_b, top_features (";"-joined), reason.
  """
  rows = []
  items = [("pair", p["a"], p["b"], p) for p in result["pairs"]]
  items += [("halving", name, name, h) for name, h in result["halvings"].items()]
  for kind, a, b, r in items:
    rows.append({
        "a": a, "b": b, "kind": kind, "verdict": r["verdict"], "p_value": r["p_value"],
        "mmd_p_value": r["mmd_p_value"], "frechet_p_value": r["frechet_p_value"],
        "frechet": r["frechet"], "diversity_ratio": r["diversity_ratio"],
        "pieces_a": r["num_pieces"][0], "pieces_b": r["num_pieces"][1],
        "chunks_a": r["num_chunks"][0], "chunks_b": r["num_chunks"][1],
        "top_features": ";".join(t["feature"] for t in r["top_features"]),
        "reason": r["reason"],
    })
  return rows


def verdict_matrix(result):
  """`(names, p [k, k], verdicts [k][k])`: pairs off the diagonal (symmetric), halvings on
  it; the p-value is the one the verdict read."""
  names = list(result["corpora"])
  k = len(names)
  p = np.full((k, k), np.nan)
  verdicts = [[""] * k for _ in range(k)]
  for pair in result["pairs"]:
    i, j = names.index(pair["a"]), names.index(pair["b"])
    p[i, j] = p[j, i] = pair["p_value"]
    verdicts[i][j] = verdicts[j][i] = pair["verdict"]
  for name, h in result["halvings"].items():
    i = names.index(name)
    p[i, i] = h["p_value"]
    verdicts[i][i] = h["verdict"]
  return names, p, verdicts
