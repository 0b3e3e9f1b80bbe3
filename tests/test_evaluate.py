"""The evaluation command line: distances against an independent scipy computation, errors."""

import json
import subprocess
import sys

import numpy as np
import pytest
from scipy.spatial import distance as scipy_distance

from draw_music.metric import evaluate
from draw_music.metric import features
from draw_music.metric import measure
from tests import helpers

CHUNK = 32


@pytest.fixture
def reference_dir(tmp_path):
  rng = np.random.default_rng(7)
  # Lopsided: dense low pieces, sparse high pieces, one long and several short.
  rolls = [helpers.random_roll(rng, 200, 0.6, 30, 60) for _ in range(4)]
  rolls += [helpers.random_roll(rng, 100, 0.2, 55, 100) for _ in range(4)]
  rolls += [helpers.random_roll(rng, 600, 0.35, 20, 110)]
  return helpers.write_corpus(tmp_path / "ref", rolls), rolls


def run_json(capsys, argv):
  assert evaluate.main(argv + ["--json"]) == 0
  return json.loads(capsys.readouterr().out)


def test_distances_match_scipy(reference_dir, tmp_path, capsys):
  folder, ref_rolls = reference_dir
  rng = np.random.default_rng(1)
  piece = helpers.random_roll(rng, 3 * CHUNK + 5, 0.5, 40, 80)  # 3 chunks + a partial one
  pieces = helpers.write_corpus(tmp_path / "pieces", [piece])
  out = run_json(capsys, ["--reference", str(folder), "--pieces", str(pieces),
                          "--chunk_steps", str(CHUNK)])

  # Independent computation: chunks by slicing, covariance and inverse by numpy, scipy.
  ref_chunks = [r[i:i + CHUNK] for r in ref_rolls for i in range(0, len(r) - CHUNK + 1, CHUNK)]
  ref_chunks = np.stack([c for c in ref_chunks if c.any()])
  ref_sig = features.signatures(ref_chunks)
  vi = np.linalg.pinv(np.cov(ref_sig, rowvar=False), hermitian=True)
  mu = ref_sig.mean(axis=0)
  piece_sig = features.signatures(np.stack([piece[i:i + CHUNK] for i in (0, 32, 64)]))
  expected = [scipy_distance.mahalanobis(s, mu, vi) for s in piece_sig]

  assert out["reference"]["num_chunks"] == len(ref_chunks)
  (result,) = out["pieces"]
  np.testing.assert_allclose(result["chunk_distances"], expected, rtol=1e-6)
  assert result["distance"] == pytest.approx(np.mean(expected), rel=1e-6)
  assert result["num_chunks"] == 3
  assert result["category"] == measure.CATEGORY_NAMES[int(measure.categorize(np.mean(expected)))]
  assert len(result["top_features"]) == 3
  assert out["summary"]["count"] == 1


def test_short_piece_scored_whole_and_corrupt_piece_skipped(reference_dir, tmp_path, capsys):
  folder, _ = reference_dir
  pieces = helpers.write_corpus(tmp_path / "pieces", [helpers.random_roll(
      np.random.default_rng(2), 20, 0.5)])
  (pieces / "broken.mid").write_bytes(b"MThd\x00\x00\x00\x06\x00\x01")
  out = run_json(capsys, ["--reference", str(folder), "--pieces", str(pieces),
                          "--chunk_steps", str(CHUNK)])
  assert [p["whole"] for p in out["pieces"]] == [True]
  assert len(out["skipped"]) == 1 and out["skipped"][0]["file"].endswith("broken.mid")


def test_readable_report(reference_dir, tmp_path, capsys):
  folder, rolls = reference_dir
  piece = tmp_path / "one.mid"
  helpers.write_corpus(tmp_path / "p", [rolls[0]])
  (tmp_path / "p" / "piece_00.mid").rename(piece)
  assert evaluate.main(["--reference", str(folder), "--pieces", str(piece),
                        "--chunk_steps", str(CHUNK)]) == 0
  report = capsys.readouterr().out
  assert "one.mid" in report and "1 pieces: distance" in report
  assert any(name in report for name in features.FEATURE_NAMES)


@pytest.mark.parametrize("case,message", [
    ("missing", "does not exist"),
    ("empty", "no readable MIDI file"),
    ("too_few", "fewer than the 17 features"),
])
def test_bad_reference(tmp_path, capsys, case, message):
  rng = np.random.default_rng(3)
  folder = tmp_path / "ref"
  if case == "empty":
    folder.mkdir()
    (folder / "junk.mid").write_bytes(rng.bytes(100))
  elif case == "too_few":
    helpers.write_corpus(folder, [helpers.random_roll(rng, 5 * CHUNK, 0.5)])
  piece = helpers.write_corpus(tmp_path / "p", [helpers.random_roll(rng, 64, 0.5)])
  assert evaluate.main(["--reference", str(folder), "--pieces", str(piece),
                        "--chunk_steps", str(CHUNK)]) == 2
  err = capsys.readouterr().err
  assert message in err and "--reference" in err


def test_missing_pieces_and_bad_chunk_steps(reference_dir, tmp_path, capsys):
  folder, _ = reference_dir
  assert evaluate.main(["--reference", str(folder), "--pieces",
                        str(tmp_path / "nope.mid"), "--chunk_steps", str(CHUNK)]) == 2
  assert "nope.mid" in capsys.readouterr().err
  assert evaluate.main(["--reference", str(folder), "--pieces", str(folder),
                        "--chunk_steps", "0"]) == 2
  assert "--chunk_steps" in capsys.readouterr().err


def test_command_line_exit_status(tmp_path):
  pieces = helpers.write_corpus(tmp_path / "p", [helpers.random_roll(
      np.random.default_rng(4), 64, 0.5)])
  proc = subprocess.run([sys.executable, "-m", "draw_music.metric.evaluate", "--reference",
                         str(tmp_path / "missing"), "--pieces", str(pieces)],
                        capture_output=True, text=True, check=False)
  assert proc.returncode == 2
  assert "missing" in proc.stderr
