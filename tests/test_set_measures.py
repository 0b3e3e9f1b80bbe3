"""Tests of draw_music.metric.set_measures against independent computations and synthetic
corpora."""

import itertools
import math

import numpy as np
import pytest
import scipy.linalg
from scipy import spatial
from scipy import stats

from draw_music.metric import set_measures


def _standardised(ref, *others):
  """Reference standardisation written out: ddof = 1 std, scale 1 for constant features."""
  mean = ref.mean(axis=0)
  std = ref.std(axis=0, ddof=1)
  std[std == 0] = 1.0
  return [(a - mean) / std for a in (ref,) + others]


def _frechet_sqrtm(ref, other):
  """Fréchet distance with scipy.linalg.sqrtm of the non-symmetric product."""
  x, y = _standardised(ref, other)
  s1, s2 = np.cov(x, rowvar=False), np.cov(y, rowvar=False)
  diff = x.mean(axis=0) - y.mean(axis=0)
  return diff @ diff + np.trace(s1 + s2 - 2.0 * scipy.linalg.sqrtm(s1 @ s2).real)


def _correlated(rng, n, shift=0.0):
  """`[n, 4]` lopsided, correlated signatures with features on different scales."""
  mix = np.array([[1.0, 0.3, 0.0, 0.2], [0.0, 2.0, 0.5, 0.0], [0.0, 0.0, 0.1, 0.05],
                  [0.0, 0.0, 0.0, 30.0]])
  return rng.gamma(2.0, size=(n, 4)) @ mix + np.array([0.5, -3.0, 0.2, 100.0]) + shift


def _naive_mmd2(x, y, sigma):
  k = lambda a, b: math.exp(-np.sum((a - b) ** 2) / (2 * sigma ** 2))
  n, m = len(x), len(y)
  xx = sum(k(x[i], x[j]) for i in range(n) for j in range(n) if i != j) / (n * (n - 1))
  yy = sum(k(y[i], y[j]) for i in range(m) for j in range(m) if i != j) / (m * (m - 1))
  xy = sum(k(x[i], y[j]) for i in range(n) for j in range(m)) / (n * m)
  return xx + yy - 2 * xy


def _piece_corpus(rng, num_pieces=40, chunks_per_piece=30, shift=0.0):
  """Synthetic chunked corpus: chunks of a piece scatter around the piece's own centre.

  Returns `[num_pieces * chunks_per_piece, 5]` signatures and the `[n]` piece index.
  """
  centres = rng.normal(scale=0.7, size=(num_pieces, 5)) + shift
  piece_index = np.repeat(np.arange(num_pieces), chunks_per_piece)
  sigs = centres[piece_index] + rng.gamma(3.0, size=(len(piece_index), 5)) * 0.5
  return sigs, piece_index


NAMES5 = tuple(f"f{i}" for i in range(5))


# Fréchet distance.

def test_frechet_matches_sqrtm_formula():
  rng = np.random.default_rng(0)
  ref, other = _correlated(rng, 300), _correlated(rng, 200, shift=0.3)
  expected = _frechet_sqrtm(ref, other)
  assert set_measures.frechet_distance(ref, other) == pytest.approx(expected, rel=1e-9)


def test_frechet_one_dimension_closed_form():
  ref = np.array([[0.0], [1.0], [1.0], [5.0]])
  other = np.array([[2.0], [3.0], [7.0]])
  scale = ref.std(ddof=1)
  expected = ((ref.mean() - other.mean()) ** 2
              + (ref.std(ddof=1) - other.std(ddof=1)) ** 2) / scale ** 2
  assert set_measures.frechet_distance(ref, other) == pytest.approx(expected, rel=1e-12)


def test_frechet_of_identical_sets_is_zero():
  rng = np.random.default_rng(1)
  ref = _correlated(rng, 100)
  assert set_measures.frechet_distance(ref, ref.copy()) == pytest.approx(0.0, abs=1e-9)


def test_frechet_mean_shift_in_reference_units():
  # Shifting one feature by 2 reference standard deviations adds 2^2 = 4.
  rng = np.random.default_rng(2)
  ref = _correlated(rng, 100)
  other = ref.copy()
  other[:, 1] += 2.0 * ref[:, 1].std(ddof=1)
  assert set_measures.frechet_distance(ref, other) == pytest.approx(4.0, rel=1e-9)


def test_frechet_constant_reference_feature_has_scale_one():
  ref = np.full((4, 1), 5.0)
  other = np.array([[4.0], [6.0], [4.0], [6.0]])
  # Means equal; S1 = 0, S2 = var(ddof=1) = 4/3; the cross term is 0.
  assert set_measures.frechet_distance(ref, other) == pytest.approx(4.0 / 3.0, rel=1e-12)


@pytest.mark.parametrize("case", ["constant", "duplicated", "few_rows"])
def test_frechet_singular_input_is_real_and_finite(case):
  rng = np.random.default_rng(3)
  ref, other = _correlated(rng, 60), _correlated(rng, 50, shift=0.2)
  if case == "constant":
    ref[:, 2] = 1.5
    other[:, 2] = 1.5
  elif case == "duplicated":
    ref[:, 3] = ref[:, 0]
    other[:, 3] = other[:, 0]
  else:
    ref, other = ref[:3], other[:2]  # fewer signatures than features
  value = set_measures.frechet_distance(ref, other)
  assert isinstance(value, float)
  assert np.isfinite(value) and value >= 0.0
  assert set_measures.frechet_distance(ref, ref) == pytest.approx(0.0, abs=1e-7)


def test_frechet_does_not_modify_inputs():
  rng = np.random.default_rng(4)
  ref, other = _correlated(rng, 30), _correlated(rng, 20)
  ref_copy, other_copy = ref.copy(), other.copy()
  set_measures.frechet_distance(ref, other)
  set_measures.compare_sets(ref, other, ("a", "b", "c", "d"), num_permutations=20)
  np.testing.assert_array_equal(ref, ref_copy)
  np.testing.assert_array_equal(other, other_copy)


# MMD.

def test_mmd_matches_naive_double_loop():
  rng = np.random.default_rng(5)
  ref, other = _correlated(rng, 4), _correlated(rng, 6, shift=0.5)
  x, y = _standardised(ref, other)
  # 10 pooled points: 45 pairs, an odd count, so the median is one pair's distance.
  sigma = np.median(spatial.distance.pdist(np.concatenate([x, y])))
  assert set_measures.mmd(ref, other) == pytest.approx(_naive_mmd2(x, y, sigma), rel=1e-10)
  assert set_measures.mmd(ref, other, bandwidth=0.7) == pytest.approx(
      _naive_mmd2(x, y, 0.7), rel=1e-10)


def test_mmd_permutation_statistic_equals_mmd():
  rng = np.random.default_rng(6)
  ref, other = _correlated(rng, 40), _correlated(rng, 30)
  mmd2, _ = set_measures.mmd_permutation_test(ref, other, num_permutations=10)
  assert mmd2 == pytest.approx(set_measures.mmd(ref, other), rel=1e-12)


def test_permutation_p_value_matches_exhaustive_enumeration():
  rng = np.random.default_rng(7)
  ref, other = rng.normal(size=(3, 2)), rng.normal(size=(4, 2)) + 0.8
  x, y = _standardised(ref, other)
  pooled = np.concatenate([x, y])
  sigma = np.median(spatial.distance.pdist(pooled))  # 21 pairs: one pair's distance
  observed = _naive_mmd2(x, y, sigma)
  labellings = [np.isin(np.arange(7), c) for c in itertools.combinations(range(7), 3)]
  values = np.array([_naive_mmd2(pooled[a], pooled[~a], sigma) for a in labellings])
  exact = np.mean(values >= observed - 1e-12)  # over all 35 labellings, the observed one too
  _, p_value = set_measures.mmd_permutation_test(ref, other, num_permutations=4000, seed=1)
  assert p_value == pytest.approx(exact, abs=0.03)


def test_permutation_test_detects_a_shift():
  rng = np.random.default_rng(8)
  ref = rng.normal(size=(200, 3))
  shifted = rng.normal(size=(150, 3)) + np.array([0.5, 0.0, 0.0])
  _, p_value = set_measures.mmd_permutation_test(ref, shifted, 500, seed=0)
  assert p_value == pytest.approx(1 / 501)


def test_permutation_test_is_calibrated_on_same_distribution():
  # Under the null the p-value is about uniform: over 40 independent pairs of samples
  # (fixed seeds) few fall below 0.05 and the mean is near 1/2.
  p_values = []
  for seed in range(40):
    rng = np.random.default_rng(100 + seed)
    p_values.append(set_measures.mmd_permutation_test(
        rng.normal(size=(60, 3)), rng.normal(size=(50, 3)), 200, seed=seed)[1])
  p_values = np.array(p_values)
  assert np.mean(p_values < 0.05) <= 0.15
  assert 0.35 < p_values.mean() < 0.65


def test_permutation_test_is_reproducible():
  rng = np.random.default_rng(9)
  ref, other = rng.normal(size=(100, 3)), rng.normal(size=(90, 3)) + 0.1
  first = set_measures.mmd_permutation_test(ref, other, 300, seed=4)
  assert set_measures.mmd_permutation_test(ref, other, 300, seed=4) == first
  p_values = {set_measures.mmd_permutation_test(ref, other, 300, seed=s)[1] for s in range(4)}
  assert len(p_values) > 1


def test_permutation_test_rejects_bad_count():
  ref = np.zeros((5, 2))
  with pytest.raises(ValueError, match="positive integer"):
    set_measures.mmd_permutation_test(ref, ref + 1, num_permutations=0)


def test_median_bandwidth_of_identical_points_falls_back():
  d2 = set_measures._squared_distances(np.array([[0.0], [0.0], [0.0], [2.0]]))
  # Median of 6 pairs (0, 0, 0, 2, 2, 2) is the mean of 0 and 2 squared: sqrt(2).
  assert set_measures.median_bandwidth(d2) == pytest.approx(math.sqrt(2.0))
  d2 = set_measures._squared_distances(np.array([[0.0], [0.0], [0.0], [0.0], [3.0]]))
  assert set_measures.median_bandwidth(d2) == pytest.approx(3.0)  # mean non-zero distance
  assert set_measures.median_bandwidth(np.zeros((3, 3))) == 1.0


# KS tests.

def test_ks_tests_match_scipy():
  rng = np.random.default_rng(10)
  ref, other = _correlated(rng, 80), _correlated(rng, 60, shift=0.1)
  names = ("a", "b", "c", "d")
  result = set_measures.ks_tests(ref, other, names)
  assert [r["feature"] for r in result] == list(names)
  for j, r in enumerate(result):
    expected = stats.ks_2samp(ref[:, j], other[:, j])
    assert r["statistic"] == pytest.approx(expected.statistic)
    assert r["p_value"] == pytest.approx(expected.pvalue)


def test_ks_tests_check_feature_names():
  with pytest.raises(ValueError, match="3 feature names for 4 features"):
    set_measures.ks_tests(np.zeros((5, 4)), np.zeros((5, 4)), ("a", "b", "c"))


# Diversity.

def test_diversity_hand_computed():
  # 1-D: ref pairs 1, 3, 2 (mean 2); other pairs 0, 6, 6 (mean 4).
  ref = np.array([[0.0], [1.0], [3.0]])
  assert set_measures.diversity_ratio(ref, np.array([[0.0], [0.0], [6.0]])) == pytest.approx(2.0)
  # 2-D, where the per-feature scale matters: stds 1/sqrt(3) and 10/sqrt(3), so the ref is
  # (0, 0), (sqrt3, 0), (0, sqrt3) and the other (0, 0), (0, sqrt3).
  ref = np.array([[0.0, 0.0], [1.0, 0.0], [0.0, 10.0]])
  other = np.array([[0.0, 0.0], [0.0, 10.0]])
  expected = math.sqrt(3) / ((2 * math.sqrt(3) + math.sqrt(6)) / 3)
  assert set_measures.diversity_ratio(ref, other) == pytest.approx(expected)


def test_diversity_of_identical_pieces_is_zero_and_scales():
  rng = np.random.default_rng(11)
  ref = _correlated(rng, 50)
  assert set_measures.diversity_ratio(ref, np.repeat(ref[7:8], 30, axis=0)) == 0.0
  assert set_measures.diversity_ratio(ref, 2.0 * ref) == pytest.approx(2.0)
  assert set_measures.diversity_ratio(ref, ref) == pytest.approx(1.0)


def test_diversity_of_constant_reference_raises():
  with pytest.raises(ValueError, match="undefined"):
    set_measures.diversity_ratio(np.ones((4, 2)), np.zeros((4, 2)))


# Calibration.

def test_split_by_piece_keeps_pieces_whole_and_balances_chunks():
  rng = np.random.default_rng(12)
  piece_index = np.repeat(np.arange(12), rng.integers(1, 40, size=12))
  mask = set_measures.split_by_piece(piece_index, np.random.default_rng(0))
  first, second = set(piece_index[mask]), set(piece_index[~mask])
  assert first and second and not first & second
  assert first | second == set(range(12))
  assert abs(mask.sum() - (~mask).sum()) <= 40


def test_calibrate_splits_by_whole_pieces():
  sigs, piece_index = _piece_corpus(np.random.default_rng(13), num_pieces=20)
  cal = set_measures.calibrate(sigs, piece_index, num_splits=5, seed=3, num_permutations=50)
  assert cal.frechet.shape == cal.mmd.shape == cal.p_value.shape == (5,)
  assert cal.diversity_ratio.shape == (10,)
  assert cal.splits.shape == (5, len(sigs)) and cal.num_pieces == 20
  for mask in cal.splits:
    assert not set(piece_index[mask]) & set(piece_index[~mask])
  # Same seed, same calibration; the recorded values are those of the recorded splits.
  again = set_measures.calibrate(sigs, piece_index, num_splits=5, seed=3, num_permutations=50)
  np.testing.assert_array_equal(cal.frechet, again.frechet)
  mask = cal.splits[2]
  assert cal.frechet[2] == pytest.approx(set_measures.frechet_distance(sigs[mask],
                                                                       sigs[~mask]))
  assert set(cal.summary()["frechet"]) == {"mean", "std", "min", "p95", "max"}


def test_calibrate_rejects_a_single_piece():
  with pytest.raises(ValueError, match="two distinct pieces"):
    set_measures.calibrate(np.random.default_rng(0).normal(size=(10, 3)), np.zeros(10, int))


# compare_sets.

@pytest.fixture(scope="module")
def corpus():
  """A synthetic chunked corpus, its calibration and a second corpus of the same style."""
  rng = np.random.default_rng(14)
  sigs, piece_index = _piece_corpus(rng)
  cal = set_measures.calibrate(sigs, piece_index, num_splits=10, seed=0, num_permutations=100)
  same_style, _ = _piece_corpus(rng)
  return sigs, piece_index, cal, same_style


def test_compare_same_style_is_same(corpus):
  sigs, _, cal, same_style = corpus
  result = set_measures.compare_sets(sigs, same_style, NAMES5, cal, num_permutations=200)
  assert result["verdict"] == "same", result["reason"]
  assert {"frechet", "mmd", "p_value", "diversity_ratio", "verdict", "reason", "ks",
          "thresholds", "calibrated"} <= set(result)
  assert len(result["ks"]) == 5


def test_piece_level_halves_need_calibration(corpus):
  # Chunks of a piece are correlated: the test alone rejects two halves of one corpus.
  sigs, piece_index, cal, _ = corpus
  mask = set_measures.split_by_piece(piece_index, np.random.default_rng(99))
  half, other_half = sigs[mask], sigs[~mask]
  uncalibrated = set_measures.compare_sets(half, other_half, NAMES5, num_permutations=200)
  assert uncalibrated["p_value"] < 0.05 and uncalibrated["verdict"] == "different"
  calibrated = set_measures.compare_sets(half, other_half, NAMES5, cal, num_permutations=200)
  assert calibrated["verdict"] == "same", calibrated["reason"]


def test_compare_shifted_style_is_different(corpus):
  sigs, _, cal, _ = corpus
  shifted, _ = _piece_corpus(np.random.default_rng(15), shift=np.array([1.5, 0, 0, -1.0, 0]))
  result = set_measures.compare_sets(sigs, shifted, NAMES5, cal, num_permutations=200)
  assert result["verdict"] == "different"
  assert result["frechet"] > result["thresholds"]["frechet_bound"]
  assert max(result["ks"], key=lambda r: r["statistic"])["feature"] in ("f0", "f3")


def test_compare_repeated_piece_is_different_by_diversity(corpus):
  sigs, _, cal, _ = corpus
  # The chunk nearest the corpus mean, written 100 times.
  typical = sigs[np.argmin(np.linalg.norm((sigs - sigs.mean(0)) / sigs.std(0), axis=1))]
  result = set_measures.compare_sets(sigs, np.repeat(typical[None], 100, axis=0), NAMES5, cal,
                                     num_permutations=200)
  assert result["verdict"] == "different"
  assert result["diversity_ratio"] == 0.0
  assert "repeats itself" in result["reason"]


def test_compare_without_calibration_uses_fixed_diversity_range():
  rng = np.random.default_rng(16)
  ref, other = rng.normal(size=(100, 3)), rng.normal(size=(100, 3))
  result = set_measures.compare_sets(ref, other, ("a", "b", "c"), num_permutations=200)
  assert result["verdict"] == "same" and not result["calibrated"]
  assert result["thresholds"]["frechet_bound"] is None
  assert (result["thresholds"]["diversity_low"],
          result["thresholds"]["diversity_high"]) == set_measures.UNCALIBRATED_DIVERSITY_RANGE
  wide = set_measures.compare_sets(ref, 3.0 * other, ("a", "b", "c"), num_permutations=200)
  assert wide["verdict"] == "different" and "more spread" in wide["reason"]


@pytest.mark.parametrize("ref, other, match", [
    (np.zeros((5, 3)), np.zeros((5, 4)), "ref_sigs has 3 features but other_sigs has 4"),
    (np.zeros(5), np.zeros((5, 1)), r"ref_sigs must have shape \[n, F\]"),
    (np.zeros((5, 3)), np.zeros((1, 3)), "other_sigs needs at least 2"),
    (np.full((5, 3), np.nan), np.zeros((5, 3)), "ref_sigs contains NaN"),
])
def test_bad_inputs_are_named(ref, other, match):
  with pytest.raises(ValueError, match=match):
    set_measures.frechet_distance(ref, other)
