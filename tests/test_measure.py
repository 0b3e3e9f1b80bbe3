"""Tests of the Mahalanobis measure (draw_music/metric/measure.py, DESIGN.md section 4)."""

import json
import math

import numpy as np
import pytest
import scipy.linalg
from scipy.spatial import distance as scipy_distance

from draw_music.metric import features
from draw_music.metric import measure

NAMES = features.feature_names("rizo17")
# Per-feature scales from 1e-2 to 1e2, like the signature's mix of /127 rates and step counts.
SCALES = np.logspace(-2, 2, 17)


def well_conditioned_signatures(n=400, seed=0):
  """`[n, 17]` correlated signatures with lopsided scales and offsets."""
  rng = np.random.default_rng(seed)
  # Correlation eigenvalues in [0.3, 2] along a fixed random basis: correlated, but
  # well-conditioned once each feature is put on its own scale.
  basis = np.linalg.qr(np.random.default_rng(100).normal(size=(17, 17)))[0]
  mixing = np.sqrt(np.linspace(0.3, 2.0, 17))[:, None] * basis.T
  return (rng.normal(size=(n, 17)) @ mixing) * SCALES + rng.uniform(-5, 5, size=17)


def singular_signatures(n=300, seed=1):
  """Feature 4 constant, feature 9 = 2 * feature 1 - 0.5 * feature 3: rank 15."""
  sig = well_conditioned_signatures(n, seed)
  sig[:, 4] = 0.25
  sig[:, 9] = 2.0 * sig[:, 1] - 0.5 * sig[:, 3]
  return sig


def test_distance_matches_scipy_on_a_regular_covariance():
  sig = well_conditioned_signatures()
  ref = measure.Reference.from_signatures(sig)
  assert ref.rank == 17
  assert ref.constant_features == ()
  assert ref.feature_names == NAMES
  assert ref.num_samples == 400
  np.testing.assert_allclose(ref.mean, sig.mean(axis=0), rtol=1e-12)
  np.testing.assert_allclose(ref.cov, np.cov(sig, rowvar=False), rtol=1e-12)
  vi = np.linalg.inv(np.cov(sig, rowvar=False))
  mean = sig.mean(axis=0)
  points = well_conditioned_signatures(25, seed=10) * 1.5  # some near, some far
  expected = [scipy_distance.mahalanobis(u, mean, vi) for u in points]
  np.testing.assert_allclose(ref.distance(points), expected, rtol=1e-7)
  np.testing.assert_allclose(ref.squared_distance(points), np.square(expected), rtol=1e-7)


def test_distance_is_invariant_to_rescaling_a_feature():
  sig = well_conditioned_signatures()
  points = well_conditioned_signatures(10, seed=11)
  scale = np.ones(17)
  scale[[0, 12]] = [1e3, 1e-2]
  before = measure.Reference.from_signatures(sig).distance(points)
  after = measure.Reference.from_signatures(sig * scale).distance(points * scale)
  np.testing.assert_allclose(after, before, rtol=1e-7)


def test_feature_units_do_not_drop_real_directions():
  # Scales from 1e-4 to 1e4: the raw covariance's eigenvalues span ~1e17, but its
  # correlation matrix is well-conditioned, so nothing may be dropped (rank 17) and the
  # distance must match the plain inverse. A cut-off taken on the raw covariance's
  # eigenvalues would drop about half the directions here.
  scales = np.logspace(-4, 4, 17) / SCALES
  sig = well_conditioned_signatures() * scales
  points = well_conditioned_signatures(10, seed=11) * scales
  ref = measure.Reference.from_signatures(sig)
  assert ref.rank == 17
  vi = np.linalg.inv(np.cov(sig, rowvar=False))
  expected = [scipy_distance.mahalanobis(u, sig.mean(axis=0), vi) for u in points]
  np.testing.assert_allclose(ref.distance(points), expected, rtol=1e-5)


def test_singular_covariance_uses_symmetric_pseudo_inverse():
  sig = singular_signatures()
  ref = measure.Reference.from_signatures(sig)
  assert ref.constant_features == (NAMES[4],)
  assert ref.rank == 15  # one constant feature, one linear combination
  mean = sig.mean(axis=0)
  vi = scipy.linalg.pinvh(np.cov(sig, rowvar=False))
  # Test points obey the reference's linear dependency, as signatures with a structural
  # dependency all do; the constant feature moves freely (both pseudo-inverses ignore it).
  rng = np.random.default_rng(12)
  points = well_conditioned_signatures(30, seed=13) * rng.uniform(0.5, 3, size=(30, 1))
  points[:, 9] = 2.0 * points[:, 1] - 0.5 * points[:, 3]
  expected = [scipy_distance.mahalanobis(u, mean, vi) for u in points]
  got = ref.distance(points)
  np.testing.assert_allclose(got, expected, rtol=1e-6)
  assert np.all(np.isfinite(got))
  assert np.all(got >= 0)
  np.testing.assert_allclose(ref.precision, ref.precision.T, rtol=0, atol=1e-12 * np.abs(
      ref.precision).max())


def test_constant_feature_deviation_is_unseen():
  # The documented blind spot: a move along a feature the reference never varies in.
  ref = measure.Reference.from_signatures(singular_signatures())
  point = ref.mean.copy()
  point[4] += 10.0
  assert ref.distance(point[None])[0] == pytest.approx(0.0, abs=1e-6)


def test_distance_at_the_mean_is_zero_not_nan():
  for sig in (well_conditioned_signatures(), singular_signatures()):
    ref = measure.Reference.from_signatures(sig)
    d = ref.distance(np.stack([ref.mean, ref.mean]))
    assert np.all(np.isfinite(d)) and np.all(d >= 0)
    np.testing.assert_allclose(d, 0.0, atol=1e-6)
    np.testing.assert_array_equal(ref.contributions(ref.mean[None]), np.zeros((1, 17)))


def test_all_constant_reference():
  sig = np.tile(np.linspace(0, 1, 17), (20, 1))
  ref = measure.Reference.from_signatures(sig)
  assert ref.constant_features == NAMES
  assert ref.rank == 0
  d = ref.distance(np.full((3, 17), 7.0))
  np.testing.assert_array_equal(d, np.zeros(3))


def test_contributions_are_shares_of_squared_distance():
  sig = well_conditioned_signatures()
  ref = measure.Reference.from_signatures(sig)
  points = well_conditioned_signatures(20, seed=14)
  shares = ref.contributions(points)
  assert shares.shape == (20, 17)
  np.testing.assert_allclose(shares.sum(axis=1), 1.0, rtol=1e-9)
  precision = np.linalg.inv(np.cov(sig, rowvar=False))
  d = points - sig.mean(axis=0)
  for row, di in zip(shares, d):
    terms = [di[i] * sum(precision[i, j] * di[j] for j in range(17)) for i in range(17)]
    total = sum(terms)
    np.testing.assert_allclose(row, [t / total for t in terms], rtol=1e-6, atol=1e-9)


def test_top_features():
  rng = np.random.default_rng(15)
  sig = rng.normal(size=(5000, 17)) * SCALES  # independent features
  ref = measure.Reference.from_signatures(sig)
  std = np.sqrt(np.diag(ref.cov))
  point = ref.mean.copy()
  point[12] += 10 * std[12]  # share about 100 / 110
  point[3] -= 3 * std[3]  # about 9 / 110
  point[7] += 1 * std[7]  # about 1 / 110
  assert ref.top_features(point[None], k=3) == [[NAMES[12], NAMES[3], NAMES[7]]]
  assert ref.top_features(np.stack([point, point]), k=1) == [[NAMES[12]], [NAMES[12]]]
  share = ref.contributions(point[None])[0]
  assert share[12] == pytest.approx(100 / 110, abs=0.02)


@pytest.mark.parametrize("distance,index,name", [
    (0.0, 0, "like the corpus"),
    (4.4999, 0, "like the corpus"),
    (4.5, 1, "coherent"),
    (6.9999, 1, "coherent"),
    (7.0, 2, "sensible random"),
    (9.9999, 2, "sensible random"),
    (10.0, 3, "random or worse"),
    (1e9, 3, "random or worse"),
])
def test_categories_at_the_bounds(distance, index, name):
  assert measure.categorize([distance])[0] == index
  assert measure.category_names(distance) == [name]


def test_categorize_a_batch():
  np.testing.assert_array_equal(measure.categorize([3.0, 4.5, 8.0, 12.0, 4.4999]),
                                [0, 1, 2, 3, 0])


def test_fewer_signatures_than_features_is_an_error():
  sig = well_conditioned_signatures(16)
  with pytest.raises(ValueError, match="16 signatures, fewer than its 17 features"):
    measure.Reference.from_signatures(sig)
  measure.Reference.from_signatures(well_conditioned_signatures(17))  # 17 is enough


def test_bad_signature_shapes_and_values():
  ref = measure.Reference.from_signatures(well_conditioned_signatures())
  with pytest.raises(ValueError, match="shape"):
    ref.distance(np.zeros((3, 15)))
  with pytest.raises(ValueError, match="shape"):
    measure.Reference.from_signatures(np.zeros(40))
  bad = well_conditioned_signatures()
  bad[5, 2] = np.nan
  with pytest.raises(ValueError, match="NaN"):
    measure.Reference.from_signatures(bad)


def test_paper15_reference_gets_paper15_names():
  sig = well_conditioned_signatures()[:, :15]
  ref = measure.Reference.from_signatures(sig)
  assert ref.feature_names == features.feature_names("paper15")


def test_json_round_trip():
  ref = measure.Reference.from_signatures(singular_signatures())
  text = ref.to_json()
  json.loads(text)  # plain JSON
  back = measure.Reference.from_json(text)
  for field in ("mean", "cov", "precision"):
    np.testing.assert_array_equal(getattr(back, field), getattr(ref, field))
  assert back.feature_names == ref.feature_names
  assert back.constant_features == ref.constant_features
  assert (back.rank, back.num_samples) == (ref.rank, ref.num_samples)
  points = well_conditioned_signatures(5, seed=16)
  np.testing.assert_array_equal(back.distance(points), ref.distance(points))


def test_reference_from_rolls():
  rolls = measure.random_rolls(40, length=60, p=0.03, rng=17)
  ref = measure.reference_from_rolls(rolls)
  direct = measure.Reference.from_signatures(features.signatures(rolls))
  np.testing.assert_array_equal(ref.mean, direct.mean)
  np.testing.assert_array_equal(ref.precision, direct.precision)


# Fig. 1's random pieces: 300 x 128 cells at p = 0.012 -> 38400 * 0.012 = 460.8 expected
# active cells, binomial std sqrt(38400 * 0.012 * 0.988) = 21.3 per piece; over 200 pieces
# the mean's std is 21.3 / sqrt(200) = 1.51, so 5 of them is a 7.5-cell tolerance.
EXPECTED_CELLS = 300 * 128 * 0.012
MEAN_TOLERANCE = 5 * math.sqrt(300 * 128 * 0.012 * 0.988) / math.sqrt(200)


def test_random_rolls_active_cells():
  rolls = measure.random_rolls(200, rng=0)
  assert rolls.shape == (200, 300, 128) and rolls.dtype == bool
  assert abs(rolls.sum(axis=(1, 2)).mean() - EXPECTED_CELLS) < MEAN_TOLERANCE
  assert rolls[:, :, :20].any() and rolls[:, :, 101:].any()  # the full pitch range


def test_sensible_random_rolls_active_cells_and_pitch_range():
  rolls = measure.sensible_random_rolls(200, rng=0)
  assert rolls.shape == (200, 300, 128) and rolls.dtype == bool
  # p' = 0.012 * 128 / 81 on 300 * 81 cells: the same 460.8 expected; the binomial std
  # sqrt(24300 p' (1 - p')) = 21.2 is a little smaller than the random one's.
  assert abs(rolls.sum(axis=(1, 2)).mean() - EXPECTED_CELLS) < MEAN_TOLERANCE
  assert not rolls[:, :, :20].any()
  assert not rolls[:, :, 101:].any()
  used = rolls.any(axis=(0, 1))
  assert used[20] and used[100]  # both bounds are inclusive


def test_random_rolls_are_reproducible():
  np.testing.assert_array_equal(measure.random_rolls(3, rng=42), measure.random_rolls(3, rng=42))
  assert not np.array_equal(measure.random_rolls(3, rng=42), measure.random_rolls(3, rng=43))
  np.testing.assert_array_equal(measure.sensible_random_rolls(3, rng=42),
                                measure.sensible_random_rolls(3, rng=42))
  assert not np.array_equal(measure.sensible_random_rolls(3, rng=42),
                            measure.sensible_random_rolls(3, rng=43))


def test_sensible_random_rolls_rejects_bad_range():
  with pytest.raises(ValueError, match="low"):
    measure.sensible_random_rolls(1, low=100, high=20)
  with pytest.raises(ValueError, match="low"):
    measure.sensible_random_rolls(1, low=0, high=128)
