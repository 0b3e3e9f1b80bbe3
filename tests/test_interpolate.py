"""Latents: encode / decode against the model, slerp by hand, and the interpolate command."""

import json

import numpy as np
import pytest

from draw_music.corpora import midi_io
from draw_music.writer import interpolate
from draw_music.writer import latent
from draw_music.writer import train
from tests import helpers


def test_slerp_and_lerp_by_hand():
  a, b = np.array([1.0, 0.0]), np.array([0.0, 2.0])
  # Halfway: direction at 45 degrees, norm (1 + 2) / 2.
  np.testing.assert_allclose(latent.slerp(a, b, 0.5), 1.5 * np.array([1, 1]) / np.sqrt(2))
  np.testing.assert_allclose(latent.slerp(a, b, 0.0), a)
  np.testing.assert_allclose(latent.slerp(a, b, 1.0), b, atol=1e-12)
  # Opposite vectors: no great circle, a straight line.
  np.testing.assert_allclose(latent.slerp(a, -3 * a, 0.25), (0.75 - 0.75) * a)
  z_from = np.array([[1.0, 0.0], [0.0, 0.0]])
  z_to = np.array([[0.0, 2.0], [4.0, -2.0]])
  path = latent.interpolate(z_from, z_to, 3, "lerp")
  np.testing.assert_allclose(path, [z_from, [[0.5, 1.0], [2.0, -1.0]], z_to])
  path = latent.interpolate(z_from, z_to, 3, "slerp")
  # Step 1 has a zero end: a straight line there.
  np.testing.assert_allclose(path[1], [1.5 * np.array([1, 1]) / np.sqrt(2), [2.0, -1.0]],
                             rtol=1e-6)
  with pytest.raises(ValueError, match="method"):
    latent.interpolate(z_from, z_to, 3, "cubic")
  with pytest.raises(ValueError, match="num"):
    latent.interpolate(z_from, z_to, 1)


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
  return helpers.train_tiny(tmp_path_factory.mktemp("run"))


def test_decode_and_encode_match_the_model(trained):
  model, _ = train.load_trained(trained[0])
  z = latent.prior_latents(model, 5, 11)
  np.testing.assert_allclose(latent.decode_last(model, z),
                             model.sample(5, seed=11).numpy()[:, -1], atol=1e-6)
  chunks = trained[1]
  zero = np.zeros((len(chunks), model.config.num_steps, model.config.latent_dim), np.float32)
  np.testing.assert_allclose(latent.decode_last(model, latent.encode(model, chunks)),
                             model(chunks, eps=zero).numpy(), atol=1e-5)


def test_ends_reconstruct_their_inputs_as_the_model_does(trained, tmp_path):
  out_dir, chunks = trained
  model, _ = train.load_trained(out_dir)
  # Two pieces of one chunk each (a longer one: its first non-silent chunk is used).
  midi_io.write_midi(chunks[2], tmp_path / "a.mid")
  midi_io.write_midi(np.concatenate([np.zeros((16, 128), bool), chunks[7], chunks[1]]),
                     tmp_path / "b.mid")
  out = tmp_path / "out"
  assert interpolate.main(["--checkpoint", str(out_dir), "--from", str(tmp_path / "a.mid"),
                           "--to", str(tmp_path / "b.mid"), "--steps", "5", "--alpha", "0.4",
                           "--out_dir", str(out)]) == 0
  info = json.loads((out / "interpolation.json").read_text())
  np.testing.assert_allclose(info["t"], [0, 0.25, 0.5, 0.75, 1])
  assert sorted(p.name for p in out.glob("*.mid")) == [f"interp_{i:03d}.mid" for i in range(5)]
  assert (out / "interpolation.png").stat().st_size > 0 and (out / "index.html").exists()
  # Each end scores as the model's own zero-noise reconstruction of its input does, and
  # its loss is the model's reconstruction loss of that chunk.
  zero = np.zeros((len(chunks), model.config.num_steps, model.config.latent_dim), np.float32)
  recon = model(chunks, eps=zero).numpy()
  losses = [float(model.losses_for(chunks[i:i + 1], eps=zero[:1])["reconstruction"])
            for i in range(len(chunks))]
  for end, k in (("from", 2), ("to", 7)):
    expect = interpolate.reconstruction_scores(chunks[k], recon[k], 0.4)
    assert info["end_reconstruction"][end]["f1"] == pytest.approx(expect["f1"], abs=1e-6)
    assert info["end_reconstruction"][end]["bce"] == pytest.approx(losses[k], rel=1e-4)
    assert min(losses) <= info["end_reconstruction"][end]["bce"] <= max(losses)
  path = interpolate.interpolate_chunks(model, chunks[2], chunks[7], 5, alpha=0.4)
  for i in (0, 4):
    np.testing.assert_array_equal(midi_io.read_midi(out / f"interp_{i:03d}.mid")[:16],
                                  path["rolls"][i]) if path["rolls"][i].any() else None


def test_interpolate_errors(trained, tmp_path, capsys):
  out_dir, _ = trained
  assert interpolate.main(["--checkpoint", str(out_dir), "--from", "x.mid"]) == 2
  assert "--to" in capsys.readouterr().err
  assert interpolate.main(["--checkpoint", str(out_dir), "--from", str(tmp_path / "no.mid"),
                           "--to", str(tmp_path / "no.mid")]) == 2
  assert "no.mid" in capsys.readouterr().err
  assert interpolate.main(["--checkpoint", str(out_dir), "--corpus", str(tmp_path),
                           "--chunks", "1"]) == 2
  assert "--chunks" in capsys.readouterr().err
  assert interpolate.main(["--checkpoint", str(out_dir), "--from", "a", "--to", "b",
                           "--steps", "1"]) == 2
