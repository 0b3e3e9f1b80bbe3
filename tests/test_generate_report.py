"""Generation command line and the trained model's report (t-test, scores, files)."""

import json
import shutil
import subprocess
import sys

import mido
import numpy as np
import pytest

from draw_music.corpora import midi_io
from draw_music.metric import features
from draw_music.metric import measure
from draw_music.writer import generate
from draw_music.writer import report
from draw_music.writer import train
from tests import helpers
from tests.conftest import REPO


def test_welch_t_test_by_hand():
  a = np.array([1.0, 2.0, 3.0, 4.0, 10.0])
  b = np.array([2.0, 2.5, 3.0])
  # Welch: t = (mean_a - mean_b) / sqrt(var_a / n_a + var_b / n_b), ddof = 1.
  # mean_a = 4, var_a = (9 + 4 + 1 + 0 + 36) / 4 = 12.5; mean_b = 2.5, var_b = 0.25.
  t = (4.0 - 2.5) / np.sqrt(12.5 / 5 + 0.25 / 3)
  out = report.welch_t_test(a, b)
  assert out["t"] == pytest.approx(t)
  assert 0 < out["p_value"] < 1


def test_score_against_corpus_is_the_measure():
  rng = np.random.default_rng(0)
  chunks = np.stack([helpers.random_roll(rng, 32, 0.5) for _ in range(40)])
  piece_index = np.repeat(np.arange(8), 5)
  rolls = np.stack([helpers.random_roll(rng, 32, 0.2, 60, 100) for _ in range(20)])
  rolls[0] = False
  out = report.score_against_corpus(rolls, chunks, piece_index, num_permutations=50)
  ref = measure.Reference.from_signatures(features.signatures(chunks))
  np.testing.assert_allclose(out["distances"], ref.distance(features.signatures(rolls)))
  np.testing.assert_allclose(out["corpus_distances"], ref.distance(features.signatures(chunks)))
  assert out["empty_pieces"] == 1
  assert out["generated"]["count"] == 20 and out["corpus"]["count"] == 40
  # High, sparse pieces against a mid-register corpus: a different style.
  assert out["set_level"]["verdict"] == "different"
  small = report.score_against_corpus(rolls[:5], chunks, piece_index, num_permutations=50)
  assert small["set_level"] is None and "at least 17" in small["set_level_note"]


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
  return helpers.train_tiny(tmp_path_factory.mktemp("run"))[0]


def test_generate_command_line(trained, tmp_path):
  out_dir = tmp_path / "gen"
  proc = subprocess.run([sys.executable, "-m", "draw_music.writer.generate", "--checkpoint",
                         str(trained), "--n", "4", "--alpha", "0.6", "--seed", "5",
                         "--out_dir", str(out_dir)], cwd=REPO, capture_output=True,
                        text=True, check=False)
  assert proc.returncode == 0, proc.stderr[-2000:]
  mids = sorted(out_dir.glob("*.mid"))
  assert [p.name for p in mids] == [f"piece_{i:03d}.mid" for i in range(4)]
  assert len(list(out_dir.glob("*.png"))) == 4
  listing = json.loads((out_dir / "pieces.json").read_text())
  assert listing["run"]["seed"] == 5 and listing["run"]["config"]["alpha"] == 0.6
  # The files hold what the model generates for that seed and threshold.
  model, _ = train.load_trained(trained)
  _, rolls = generate.generate_rolls(model, 4, 0.6, 5)
  assert listing["active_cells"] == [int(r.sum()) for r in rolls]
  for path, roll in zip(mids, rolls):
    assert len(mido.MidiFile(path).tracks) == 1
    if roll.any():
      np.testing.assert_array_equal(midi_io.read_midi(path)[:16], roll)


def test_generate_errors(tmp_path):
  proc = subprocess.run([sys.executable, "-m", "draw_music.writer.generate", "--checkpoint",
                         str(tmp_path / "none")], cwd=REPO, capture_output=True, text=True,
                        check=False)
  assert proc.returncode == 2 and "--checkpoint" in proc.stderr and "none" in proc.stderr
  assert generate.main(["--checkpoint", str(tmp_path), "--alpha", "2"]) == 2


def test_generate_falls_back_past_a_damaged_checkpoint(trained, tmp_path, capsys):
  run = tmp_path / "run"
  shutil.copytree(trained, run)
  weights = run / "weights/weights-3.data-00000-of-00001"
  weights.write_bytes(weights.read_bytes()[:40])  # truncated: the full checkpoint is used
  assert generate.main(["--checkpoint", str(run), "--n", "2", "--out_dir",
                        str(tmp_path / "gen")]) == 0
  err = capsys.readouterr().err
  assert "skipped checkpoint" in err and "weights-3" in err
  assert json.loads((tmp_path / "gen/pieces.json").read_text())["run"]["config"]["step"] == 3
  full = run / "checkpoints/ckpt-3.data-00000-of-00001"
  full.write_bytes(b"")
  assert generate.main(["--checkpoint", str(run), "--out_dir", str(tmp_path / "g2")]) == 2
  err = capsys.readouterr().err.strip().splitlines()
  assert err[-1].startswith("error: --checkpoint: no checkpoint of") and "can be read" in err[-1]
