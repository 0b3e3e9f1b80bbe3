"""`python -m draw_music.metric.evaluate --set_level`: equal to set_measures called directly,
errors."""

import json
import subprocess
import sys

import numpy as np
import pytest

from draw_music.corpora import corpus as corpus_lib
from draw_music.corpora import midi_io
from draw_music.metric import evaluate
from draw_music.metric import features
from draw_music.metric import set_measures
from tests import helpers

CHUNK = 32
FLAGS = ["--chunk_steps", str(CHUNK), "--seed", "3", "--num_permutations", "200",
         "--num_splits", "4"]


def _style_pieces(rng, num_pieces, chunks_per_piece, density, low, high):
  """Pieces of one style: each piece draws its own density and range around the style's."""
  return [helpers.random_roll(rng, CHUNK * chunks_per_piece,
                              density * rng.uniform(0.7, 1.3),
                              low + int(rng.integers(0, 6)), high - int(rng.integers(0, 6)))
          for _ in range(num_pieces)]


@pytest.fixture(scope="module")
def folders(tmp_path_factory):
  """A reference of 10 lopsided pieces (60 chunks), same-style and far pieces, short ones."""
  root = tmp_path_factory.mktemp("set_level")
  rng = np.random.default_rng(11)
  ref = _style_pieces(rng, 6, 4, 0.4, 30, 80) + _style_pieces(rng, 4, 9, 0.4, 30, 80)
  same = _style_pieces(rng, 4, 8, 0.4, 30, 80)
  same.append(helpers.random_roll(rng, CHUNK - 5, 0.4, 30, 80))  # shorter than a chunk
  far = _style_pieces(rng, 3, 10, 0.08, 90, 120)
  few = _style_pieces(rng, 2, 2, 0.4, 30, 80)  # 4 chunks
  return {"ref": helpers.write_corpus(root / "ref", ref),
          "same": helpers.write_corpus(root / "same", same),
          "far": helpers.write_corpus(root / "far", far),
          "few": helpers.write_corpus(root / "few", few),
          "one_piece": helpers.write_corpus(root / "one_piece",
                                            _style_pieces(rng, 1, 20, 0.4, 30, 80))}


def _run_json(capsys, reference, pieces, extra=()):
  assert evaluate.main(["--reference", str(reference), "--pieces", str(pieces), "--set_level",
                        "--json", *FLAGS, *extra]) == 0
  return json.loads(capsys.readouterr().out)


def _direct(reference, pieces, seed=3, num_splits=4, num_permutations=200):
  """The set-level measures computed straight from set_measures, without evaluate."""
  ref = corpus_lib.load_corpus(reference, use_cache=False)
  chunks, piece_index = corpus_lib.corpus_chunks(ref.rolls, CHUNK)
  ref_sigs = features.signatures(chunks)
  rolls = [midi_io.read_midi(p) for p in corpus_lib.find_midi_files(pieces)]
  piece_chunks = [corpus_lib.chunk_roll(r, CHUNK) for r in rolls]
  other = features.signatures(np.concatenate([c for c in piece_chunks if len(c)]))
  other_index = np.concatenate([np.full(len(c), i) for i, c in enumerate(piece_chunks)
                                if len(c)])
  cal = set_measures.calibrate(ref_sigs, piece_index, num_splits, seed, 200)
  result = set_measures.compare_sets(ref_sigs, other, features.FEATURE_NAMES, cal,
                                     num_permutations, seed, ref_piece_index=piece_index,
                                     other_piece_index=other_index)
  return result, cal


def test_json_equals_set_measures_called_directly(folders, capsys):
  out = _run_json(capsys, folders["ref"], folders["same"])
  level = out["set_level"]
  assert {"frechet", "mmd", "p_value", "diversity_ratio", "verdict", "reason", "ks",
          "thresholds", "calibration", "num_other"} <= set(level)
  expected, cal = _direct(folders["ref"], folders["same"])
  for key in ("frechet", "mmd", "p_value", "diversity_ratio"):
    assert level[key] == pytest.approx(expected[key], rel=1e-9), key
  assert level["verdict"] == expected["verdict"] and level["reason"] == expected["reason"]
  assert level["thresholds"] == pytest.approx(expected["thresholds"])
  assert [k["feature"] for k in level["ks"]] == list(features.FEATURE_NAMES)
  np.testing.assert_allclose([k["statistic"] for k in level["ks"]],
                             [k["statistic"] for k in expected["ks"]])
  assert level["calibration"]["frechet"]["max"] == pytest.approx(cal.frechet.max())
  assert level["calibration"]["num_pieces"] == 10 and level["calibration"]["num_splits"] == 4
  # 4 pieces of 8 chunks; the piece shorter than a chunk is left out of the set.
  assert level["num_other"] == 32 and level["num_pieces"] == 4
  assert [f.endswith("piece_04.mid") for f in level["left_out"]] == [True]
  # The per-piece output is still there, the short piece scored whole.
  assert len(out["pieces"]) == 5 and out["summary"]["count"] == 5
  assert [p["whole"] for p in out["pieces"]] == [False] * 4 + [True]


def test_verdicts_same_style_and_far_style(folders, capsys):
  same = _run_json(capsys, folders["ref"], folders["same"])["set_level"]
  assert same["verdict"] == "same", same["reason"]
  far = _run_json(capsys, folders["ref"], folders["far"])["set_level"]
  assert far["verdict"] == "different", far["reason"]
  assert far["frechet"] > far["thresholds"]["frechet_bound"]


def test_readable_report_names_top_features(folders, capsys):
  level = _run_json(capsys, folders["ref"], folders["far"])["set_level"]
  assert evaluate.main(["--reference", str(folders["ref"]), "--pieces", str(folders["far"]),
                        "--set_level", *FLAGS]) == 0
  report = capsys.readouterr().out
  per_piece, set_part = report.split("set level:")
  assert "piece_00.mid" in per_piece and "pieces: distance" in per_piece
  assert "verdict: DIFFERENT" in set_part and "Fréchet distance" in set_part
  ranked = sorted(level["ks"], key=lambda r: -r["statistic"])
  listed = set_part.split("features that differ most")[1]
  for r in ranked[:5]:
    assert r["feature"] in listed
  assert ranked[-1]["feature"] not in listed


def test_without_flag_no_set_level(folders, capsys):
  assert evaluate.main(["--reference", str(folders["ref"]), "--pieces", str(folders["same"]),
                        "--chunk_steps", str(CHUNK), "--json"]) == 0
  assert "set_level" not in json.loads(capsys.readouterr().out)


def test_too_few_chunks_exits_2_and_says_how_many(folders):
  proc = subprocess.run(
      [sys.executable, "-m", "draw_music.metric.evaluate", "--reference", str(folders["ref"]),
       "--pieces", str(folders["few"]), "--set_level", *FLAGS],
      capture_output=True, text=True, check=False)
  assert proc.returncode == 2
  assert "--set_level needs at least 17 chunks" in proc.stderr
  assert "the pieces give 4" in proc.stderr
  assert not proc.stdout


def test_single_piece_reference_is_an_error(folders, capsys):
  assert evaluate.main(["--reference", str(folders["one_piece"]), "--pieces",
                        str(folders["same"]), "--set_level", *FLAGS]) == 2
  err = capsys.readouterr().err
  assert "--reference" in err and "two distinct pieces" in err


def test_set_level_report_reuses_calibration_and_checks_size():
  rng = np.random.default_rng(5)
  piece_index = np.repeat(np.arange(8), 12)
  ref = rng.normal(size=(8, 3))[piece_index] + rng.gamma(2.0, size=(96, 3))
  other = rng.normal(size=(40, 3)) + 2.0
  names = ("a", "b", "c")
  report = evaluate.set_level_report(ref, piece_index, other, names, seed=1, num_splits=3,
                                     num_permutations=100)
  cal = set_measures.calibrate(ref, piece_index, 3, 1, 200)
  direct = set_measures.compare_sets(ref, other, names, cal, 100, 1,
                                     ref_piece_index=piece_index)
  again = evaluate.set_level_report(ref, piece_index, other, names, seed=1, calibration=cal,
                                    num_permutations=100)
  for key in ("frechet", "mmd", "p_value", "diversity_ratio", "verdict"):
    assert report[key] == direct[key] == again[key]
  assert report["calibration"]["frechet"]["max"] == pytest.approx(cal.frechet.max())
  json.dumps(report)  # JSON-ready
  with pytest.raises(ValueError, match="at least 3 signatures"):
    evaluate.set_level_report(ref, piece_index, other[:2], names)


def test_extended_feature_set_and_piece_level_test(folders, capsys):
  out = _run_json(capsys, folders["ref"], folders["far"], ["--feature_set", "extended"])
  level = out["set_level"]
  assert [k["feature"] for k in level["ks"]] == list(features.feature_names("extended"))
  assert level["test"] == "piece" and level["piece_test"]["unit"] == "piece"
  # 10 reference files against the 3 far files, each file one piece.
  assert (level["piece_test"]["num_pieces_ref"], level["piece_test"]["num_pieces_other"]) \
      == (10, 3)
  assert level["verdict"] == "different" and level["p_value"] == level["mmd_p_value"]
  assert len(level["relative"]) == 25 and level["bound_view"] in ("same", "different")
  assert out["reference"]["feature_set"] == "extended"
  chunk = _run_json(capsys, folders["ref"], folders["far"],
                    ["--feature_set", "extended", "--set_level_test", "chunk"])["set_level"]
  assert chunk["test"] == "chunk" and "piece_test" not in chunk
  assert evaluate.main(["--reference", str(folders["ref"]), "--pieces", str(folders["far"]),
                        "--set_level", "--feature_set", "extended", *FLAGS]) == 0
  report = capsys.readouterr().out
  assert "piece-level permutation test (10 reference pieces vs 3 pieces" in report
  assert "relative view" in report


def test_set_level_judgement_equals_report_on_signatures():
  rng = np.random.default_rng(2)
  chunks = np.stack([helpers.random_roll(rng, CHUNK, 0.3) for _ in range(60)])
  index = np.repeat(np.arange(6), 10)
  gen = np.stack([helpers.random_roll(rng, CHUNK, 0.6, 60, 100) for _ in range(30)])
  got = evaluate.set_level_judgement(chunks, index, gen, "extended", seed=1,
                                     num_permutations=50, num_splits=2)
  names = features.feature_names("extended")
  direct = evaluate.set_level_report(features.signatures(chunks, "extended"), index,
                                     features.signatures(gen, "extended"), names, seed=1,
                                     num_permutations=50, num_splits=2)
  assert got["feature_set"] == "extended" and got["p_value"] == direct["p_value"]
  assert got["piece_test"]["unit"] == "chunk"  # generated: independent chunks
  assert got["verdict"] == direct["verdict"] == "different"
