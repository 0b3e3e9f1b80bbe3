"""The piece-level permutation test, the piece-level verdict and the relative view
(draw_music/metric/set_measures.py), against direct computations and exhaustive enumeration."""

import itertools

import numpy as np
import pytest

from draw_music.metric import set_measures


def _corpus(rng, num_pieces, chunks_per_piece, shift=0.0, f=3):
  """Piece-structured signatures: each piece its own offset, chunks scattered around it."""
  sizes = rng.integers(2, chunks_per_piece + 1, num_pieces)
  index = np.repeat(np.arange(num_pieces), sizes)
  centres = rng.normal(size=(num_pieces, f)) + shift
  return centres[index] + 0.5 * rng.gamma(2.0, size=(index.size, f)), index


def _pooled(ref, other):
  """Both sets standardised by the pooled sample's mean and std (ddof = 1)."""
  pooled = np.concatenate([ref, other])
  mean, std = pooled.mean(axis=0), pooled.std(axis=0, ddof=1)
  return (ref - mean) / std, (other - mean) / std


def _frechet(a, b):
  return set_measures.gaussian_frechet(a.mean(axis=0), np.cov(a, rowvar=False),
                                       b.mean(axis=0), np.cov(b, rowvar=False))


def test_observed_values_equal_direct_measures():
  rng = np.random.default_rng(0)
  ref, ri = _corpus(rng, 6, 5)
  other, oi = _corpus(rng, 5, 5, shift=0.5)
  r = set_measures.piece_permutation_test(ref, other, ri, oi, 50, seed=1, bandwidth=1.7)
  a, b = _pooled(ref, other)
  assert r["frechet"] == pytest.approx(_frechet(a, b), rel=1e-7)
  assert r["mmd"] == pytest.approx(_mmd_fixed(a, b, 1.7), rel=1e-9)
  assert (r["num_pieces_ref"], r["num_pieces_other"], r["unit"]) == (6, 5, "chunk")
  # The default bandwidth is the median heuristic on the pooled standardised sample.
  d2 = ((np.concatenate([a, b])[:, None] - np.concatenate([a, b])[None]) ** 2).sum(-1)
  iu = np.triu_indices(len(d2), 1)
  default = set_measures.piece_permutation_test(ref, other, ri, oi, 10, seed=1)
  assert default["mmd_bandwidth"] == pytest.approx(np.sqrt(np.median(d2[iu])), rel=1e-6)


def test_piece_unit_is_the_chunk_test_on_piece_means():
  rng = np.random.default_rng(1)
  ref, ri = _corpus(rng, 7, 6)
  other, oi = _corpus(rng, 6, 6, shift=0.3)
  # Standardised by the pooled chunks' scale, then each piece replaced by its mean.
  z_ref, z_other = _pooled(ref, other)
  means = lambda z, i: np.stack([z[i == k].mean(axis=0) for k in np.unique(i)])
  by_piece = set_measures.piece_permutation_test(ref, other, ri, oi, 200, seed=2,
                                                 unit="piece")
  assert by_piece["frechet"] == pytest.approx(_frechet(means(z_ref, ri), means(z_other, oi)),
                                              rel=1e-6)
  assert by_piece["num_pieces_ref"] == 7 and by_piece["unit"] == "piece"


def test_p_value_matches_exhaustive_enumeration():
  # 3 + 3 pieces: C(6, 3) = 20 equally likely reassignments.
  rng = np.random.default_rng(2)
  ref, ri = _corpus(rng, 3, 4)
  other, oi = _corpus(rng, 3, 4, shift=0.7)
  a0, b0 = _pooled(ref, other)  # fixed before permuting
  pooled = np.concatenate([a0, b0])
  ids = np.concatenate([ri, oi + 3])
  observed = _mmd_fixed(a0, b0, 1.3)
  count = 0
  for first in itertools.combinations(range(6), 3):
    mask = np.isin(ids, first)
    value = _mmd_fixed(pooled[mask], pooled[~mask], 1.3)
    count += value >= observed - 1e-12
  exact = count / 20
  r = set_measures.piece_permutation_test(ref, other, ri, oi, 4000, seed=3, bandwidth=1.3,
                                          statistics=("mmd",))
  assert r["mmd"] == pytest.approx(observed)
  assert r["mmd_p_value"] == pytest.approx(exact, abs=0.03)


def _mmd_fixed(a, b, sigma):
  """Unbiased MMD^2 of already standardised sets, written out with numpy."""
  def k(x, y):
    return np.exp(-((x[:, None] - y[None]) ** 2).sum(-1) / (2 * sigma ** 2))
  n, m = len(a), len(b)
  kaa, kbb = k(a, a), k(b, b)
  return ((kaa.sum() - np.trace(kaa)) / (n * (n - 1)) + (kbb.sum() - np.trace(kbb))
          / (m * (m - 1)) - 2 * k(a, b).mean())


def test_false_alarm_rate_on_halvings_is_near_alpha():
  rng = np.random.default_rng(4)
  sigs, index = _corpus(rng, 24, 8)
  p = {"frechet": [], "mmd": []}
  for s in range(60):
    first = rng.permutation(24)[:12]
    mask = np.isin(index, first)
    r = set_measures.piece_permutation_test(sigs[mask], sigs[~mask], index[mask],
                                            index[~mask], 99, seed=s)
    p["frechet"].append(r["frechet_p_value"])
    p["mmd"].append(r["mmd_p_value"])
  for name, values in p.items():
    values = np.array(values)
    assert np.mean(values < 0.05) <= 0.15, name
    assert 0.3 < values.mean() < 0.7, name


def test_shifted_set_is_rejected_and_p_value_floor():
  rng = np.random.default_rng(5)
  ref, ri = _corpus(rng, 12, 6)
  other, oi = _corpus(rng, 12, 6, shift=4.0)
  r = set_measures.piece_permutation_test(ref, other, ri, oi, 199, seed=0)
  assert r["frechet_p_value"] == pytest.approx(1 / 200)
  assert r["mmd_p_value"] == pytest.approx(1 / 200)


def test_bad_arguments():
  ref = np.zeros((4, 2)) + np.arange(4)[:, None]
  with pytest.raises(ValueError, match="ref_piece_index must have shape"):
    set_measures.piece_permutation_test(ref, ref, np.arange(3))
  with pytest.raises(ValueError, match="statistics"):
    set_measures.piece_permutation_test(ref, ref, statistics=("ks",))
  with pytest.raises(ValueError, match="unit"):
    set_measures.piece_permutation_test(ref, ref, unit="bar")
  with pytest.raises(ValueError, match="num_permutations"):
    set_measures.piece_permutation_test(ref, ref, num_permutations=0)


def test_compare_sets_piece_verdicts():
  rng = np.random.default_rng(6)
  sigs, index = _corpus(rng, 20, 8)
  names = ("a", "b", "c")
  mask = np.isin(index, rng.permutation(20)[:10])
  same = set_measures.compare_sets(sigs[mask], sigs[~mask], names, num_permutations=200,
                                   ref_piece_index=index[mask],
                                   other_piece_index=index[~mask])
  assert same["verdict"] == "same", same["reason"]
  assert same["test"] == "piece" and same["piece_test"]["unit"] == "piece"
  assert same["p_value"] == same["mmd_p_value"] and same["bound_view"] is None
  far, fi = _corpus(rng, 10, 8, shift=3.0)
  diff = set_measures.compare_sets(sigs, far, names, num_permutations=200,
                                   ref_piece_index=index, other_piece_index=fi,
                                   statistic="frechet")
  assert diff["verdict"] == "different" and "frechet test rejects" in diff["reason"]
  assert diff["p_value"] == diff["frechet_p_value"]
  # Generated chunks (no piece index): compared chunk by chunk; a repeated chunk is caught.
  repeated = np.repeat(sigs[:1], 100, axis=0)
  rep = set_measures.compare_sets(sigs, repeated, names, num_permutations=200,
                                  ref_piece_index=index)
  assert rep["piece_test"]["unit"] == "chunk" and rep["verdict"] == "different"
  # Without a piece index, the chunk-level rule as before.
  old = set_measures.compare_sets(sigs, far, names, num_permutations=50)
  assert old["test"] == "chunk" and "piece_test" not in old


def test_relative_view_pure_shift_and_same_grid():
  # ref 0, 1 (intra distance 1); other 5, 6 (intra 1); inter 4, 5, 5, 6: disjoint from 1.
  ref = np.array([[0.0, 2.0], [1.0, 2.0]])
  other = np.array([[5.0, 2.0], [6.0, 2.0]])
  rows = set_measures.relative_view(ref, other, ("x", "const"), bins=100)
  x, const = rows
  assert x["overlap_ref"] < 0.05 and x["kl_ref"] > 5
  assert x["intra_ref_mean"] == 1.0 and x["inter_mean"] == 5.0
  assert const["overlap_ref"] == pytest.approx(1.0) and const["kl_ref"] == pytest.approx(0)
  # A set against a copy of itself overlaps almost fully.
  rng = np.random.default_rng(7)
  a = rng.normal(size=(200, 2))
  rows = set_measures.relative_view(a, a.copy(), ("u", "v"))
  assert all(r["overlap_ref"] > 0.9 and r["kl_ref"] < 0.05 for r in rows)
  # A shifted copy: low overlap on the shifted feature only.
  shifted = a + np.array([4.0, 0.0])
  u, v = set_measures.relative_view(a, shifted, ("u", "v"))
  assert u["overlap_ref"] < 0.2 < 0.9 < v["overlap_ref"]
