"""The latent prior at generation: a Gaussian fitted to the encoder's posterior, and the
temperature that scales its noise."""

import dataclasses
import json
import pathlib
import shutil

import numpy as np
import pytest

from draw_music.writer import fit_prior
from draw_music.writer import generate
from draw_music.writer import latent
from draw_music.writer import model as model_lib
from draw_music.writer import postprocess
from draw_music.writer import train
from tests import helpers


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
  return helpers.train_tiny(tmp_path_factory.mktemp("run"))


def _size(model):
  return model.config.num_steps * model.config.latent_dim


def test_identity_prior_samples_what_the_standard_normal_does(trained):
  model, _ = train.load_trained(trained[0])
  standard = model.sample(6, seed=3).numpy()
  size = _size(model)
  model.set_latent_prior(latent.LatentPrior(np.zeros(size, np.float32),
                                            np.eye(size, dtype=np.float32)))
  np.testing.assert_allclose(model.sample(6, seed=3).numpy(), standard, atol=1e-6)


def test_a_lopsided_prior_moves_and_scales_the_same_noise(trained):
  model, _ = train.load_trained(trained[0])
  cfg = model.config
  size = _size(model)
  noise = latent.prior_latents(model, 5, 7).reshape(5, size)  # N(0, I): no prior set
  rng = np.random.default_rng(1)
  mean = rng.normal(0, 3, size).astype(np.float32)
  # Lower triangular, positive diagonal, one large off-diagonal entry (step 0 into step 1).
  chol = np.tril(rng.normal(0, 0.1, (size, size))).astype(np.float32)
  np.fill_diagonal(chol, np.linspace(0.2, 2.0, size))
  chol[cfg.latent_dim, 0] = 1.5
  model.set_latent_prior(latent.LatentPrior(mean, chol))
  z = latent.prior_latents(model, 5, 7)
  expected = mean[None] + np.einsum("ij,nj->ni", chol.astype(np.float64), noise)
  np.testing.assert_allclose(z.reshape(5, size), expected, rtol=1e-5, atol=1e-5)
  # Both sampling paths decode the same z.
  np.testing.assert_allclose(latent.decode_last(model, z),
                             model.sample(5, seed=7).numpy()[:, -1], atol=1e-5)
  model.set_latent_prior(None)
  np.testing.assert_allclose(latent.prior_latents(model, 5, 7).reshape(5, size), noise)


def test_fit_is_the_mean_and_ridged_covariance_of_posterior_samples(trained):
  model, _ = train.load_trained(trained[0])
  chunks = trained[1]
  samples = latent.posterior_samples(model, chunks, passes=3, seed=4, batch_size=5)
  assert samples.shape == (3 * len(chunks), _size(model))
  # Posterior draws, not means: every pass differs.
  assert not np.allclose(samples[:len(chunks)], samples[len(chunks):2 * len(chunks)])
  prior = latent.fit_prior(model, chunks, passes=3, seed=4, ridge=0.5)
  z = samples.astype(np.float64)
  centred = z - z.mean(0)
  cov = centred.T @ centred / (len(z) - 1)
  cov += np.eye(len(cov)) * 0.5 * np.trace(cov) / len(cov)
  np.testing.assert_allclose(prior.mean, z.mean(0), rtol=1e-5, atol=1e-6)
  np.testing.assert_allclose(prior.chol.astype(np.float64) @ prior.chol.T, cov,
                             rtol=1e-4, atol=1e-6)
  assert np.allclose(prior.chol, np.tril(prior.chol))


def test_prior_file_round_trips_and_bad_files_are_named(trained, tmp_path):
  model, _ = train.load_trained(trained[0])
  prior = latent.fit_prior(model, trained[1], passes=2, seed=0)
  prior.save(tmp_path / "p.npz")
  back = latent.LatentPrior.load(tmp_path / "p.npz")
  np.testing.assert_array_equal(back.mean, prior.mean)
  np.testing.assert_array_equal(back.chol, prior.chol)
  (tmp_path / "bad.npz").write_bytes(b"not a file of arrays")
  with pytest.raises(ValueError, match="bad.npz"):
    latent.LatentPrior.load(tmp_path / "bad.npz")
  np.savez(tmp_path / "shape.npz", mean=np.zeros(4), chol=np.eye(3))
  with pytest.raises(ValueError, match="shape.npz"):
    latent.LatentPrior.load(tmp_path / "shape.npz")
  with pytest.raises(ValueError, match="num_steps x latent_dim"):
    model.set_latent_prior(latent.LatentPrior(np.zeros(5, np.float32),
                                              np.eye(5, dtype=np.float32)))


def _train_fitted(out_dir, chunks, steps=3):
  config = dataclasses.replace(model_lib.get_config("tiny"), prior="fitted")
  train.train(config, chunks, np.arange(len(chunks)) % 4, out_dir,
              train.TrainConfig(max_steps=steps, verbose=False, seed=2))
  return out_dir


def test_a_fitted_run_keeps_its_prior_and_generation_samples_from_it(trained, tmp_path):
  chunks = trained[1]
  run = _train_fitted(tmp_path / "run", chunks)
  path = run / "latent_prior/step-3.npz"
  assert path.exists()
  model, step = train.load_trained(run)
  assert step == 3 and model.config.prior == "fitted"
  # The kept prior is the fit of the final weights to the training chunks (seed = run seed).
  plain, _ = train.load_trained(run, with_prior=False)
  assert plain.latent_prior is None
  fit = latent.fit_prior(plain, chunks, passes=train.LATENT_PRIOR_PASSES, seed=2)
  np.testing.assert_allclose(model.latent_prior.mean, fit.mean, atol=1e-6)
  np.testing.assert_allclose(model.latent_prior.chol, fit.chol, atol=1e-6)
  # generate samples from it by default, and from N(0, I) with --prior standard.
  for prior, expected in ((None, model), ("standard", plain)):
    out = tmp_path / f"gen_{prior}"
    argv = ["--checkpoint", str(run), "--n", "3", "--seed", "4", "--no-audio",
            "--out_dir", str(out)] + (["--prior", prior] if prior else [])
    assert generate.main(argv) == 0
    _, rolls = generate.generate_rolls(expected, 3, expected.config.alpha, 4)
    listing = json.loads((out / "pieces.json").read_text())
    assert listing["active_cells"] == [int(r.sum()) for r in rolls]
  # A prior-free draw differs from the fitted one (same seed).
  assert not np.allclose(model.sample(3, seed=4).numpy(), plain.sample(3, seed=4).numpy())


def test_missing_prior_is_named_and_fit_prior_writes_it(trained, tmp_path, capsys):
  chunks = trained[1]
  run = _train_fitted(tmp_path / "run", chunks)
  (run / "latent_prior/step-3.npz").unlink()
  with pytest.raises(ValueError, match="fit_prior"):
    train.load_trained(run)
  assert generate.main(["--checkpoint", str(run), "--n", "2", "--no-audio",
                        "--out_dir", str(tmp_path / "g")]) == 2
  err = capsys.readouterr().err
  assert "--checkpoint" in err and "step-3.npz" in err
  # fit_prior on a folder trained with N(0, I): the prior for its weights, and the config.
  plain_run = pathlib.Path(trained[0])
  copy = tmp_path / "copy"
  shutil.copytree(plain_run, copy)
  corpus = helpers.write_corpus(tmp_path / "corpus", list(chunks))
  assert fit_prior.main(["--checkpoint", str(copy), "--corpus", str(corpus)]) == 0
  model, step = train.load_trained(copy)
  assert model.config.prior == "fitted" and model.latent_prior is not None
  assert (copy / f"latent_prior/step-{step}.npz").exists()
  assert fit_prior.main(["--checkpoint", str(tmp_path / "none")]) == 2
  assert fit_prior.main(["--checkpoint", str(copy), "--corpus", str(tmp_path / "none")]) == 2


def test_fitted_prior_and_checkpoint_selection_exclude_each_other():
  with pytest.raises(ValueError, match="one or the other"):
    dataclasses.replace(model_lib.get_config("tiny"), prior="fitted", holdout=0.2,
                        select_every=2)
  with pytest.raises(ValueError, match="prior must be one of"):
    dataclasses.replace(model_lib.get_config("tiny"), prior="wide")


def test_temperature_scales_the_noise_of_either_prior(trained):
  model, _ = train.load_trained(trained[0])
  size = _size(model)
  noise = latent.prior_latents(model, 4, 9).reshape(4, size)  # temperature 1, N(0, I)
  model.config = dataclasses.replace(model.config, temperature=0.3)
  np.testing.assert_allclose(latent.prior_latents(model, 4, 9).reshape(4, size), 0.3 * noise,
                             rtol=1e-6, atol=1e-7)
  # A lopsided fitted prior: the mean stays, the spread around it shrinks by 0.3.
  rng = np.random.default_rng(5)
  mean = rng.normal(2, 1, size).astype(np.float32)
  chol = np.tril(rng.normal(0, 0.2, (size, size))).astype(np.float32)
  np.fill_diagonal(chol, np.linspace(0.1, 3.0, size))
  model.set_latent_prior(latent.LatentPrior(mean, chol))
  z = latent.prior_latents(model, 4, 9)
  expected = mean[None] + 0.3 * np.einsum("ij,nj->ni", chol.astype(np.float64), noise)
  np.testing.assert_allclose(z.reshape(4, size), expected, rtol=1e-5, atol=1e-5)
  # `sample` decodes the same tempered z (its traced function takes the temperature as an
  # input, so changing it needs no new trace), and temperature 1 is the prior again.
  np.testing.assert_allclose(latent.decode_last(model, z),
                             model.sample(4, seed=9).numpy()[:, -1], atol=1e-5)
  model.config = dataclasses.replace(model.config, temperature=1.0)
  untempered = mean[None] + np.einsum("ij,nj->ni", chol.astype(np.float64), noise)
  np.testing.assert_allclose(latent.prior_latents(model, 4, 9).reshape(4, size), untempered,
                             rtol=1e-5, atol=1e-5)
  np.testing.assert_allclose(latent.decode_last(model, latent.prior_latents(model, 4, 9)),
                             model.sample(4, seed=9).numpy()[:, -1], atol=1e-5)


def test_generate_takes_a_temperature_and_records_it(trained, tmp_path, capsys):
  run = trained[0]
  out = tmp_path / "g"
  assert generate.main(["--checkpoint", str(run), "--n", "3", "--seed", "4", "--no-audio",
                        "--temperature", "0.5", "--out_dir", str(out)]) == 0
  model, _ = train.load_trained(run)
  model.config = dataclasses.replace(model.config, temperature=0.5)
  _, rolls = generate.generate_rolls(model, 3, model.config.alpha, 4)
  listing = json.loads((out / "pieces.json").read_text())
  assert listing["active_cells"] == [int(r.sum()) for r in rolls]
  assert listing["run"]["config"]["temperature"] == 0.5
  for bad in ("0", "-1", "nan"):
    assert generate.main(["--checkpoint", str(run), "--n", "2", "--no-audio",
                          "--temperature", bad, "--out_dir", str(tmp_path / "b")]) == 2
    assert "--temperature must be a positive number" in capsys.readouterr().err


def test_temperature_is_checked_and_excludes_checkpoint_selection():
  tiny = model_lib.get_config("tiny")
  for bad in (0, -0.5, float("nan"), float("inf"), True, "0.7"):
    with pytest.raises(ValueError, match="temperature must be a positive number"):
      dataclasses.replace(tiny, temperature=bad)
  with pytest.raises(ValueError, match="one or the other"):
    dataclasses.replace(tiny, temperature=0.7, holdout=0.2, select_every=2)
  assert dataclasses.replace(tiny, temperature=1.0, holdout=0.2, select_every=2).holdout == 0.2
  assert model_lib.get_config("writer").temperature == 0.7
  assert model_lib.get_config("baseline").temperature == 1.0


def test_the_decoders_reference_draw_is_made_at_the_current_temperature(trained):
  model, _ = train.load_trained(trained[0])

  def by_hand():
    canvases = latent.decode_last(model, latent.prior_latents(
        model, generate.DENSITY_REFERENCE_DRAW, generate.DENSITY_REFERENCE_SEED))
    return postprocess.expected_cells(canvases)

  at_one = generate.model_reference(model)["expected_cells"].copy()
  np.testing.assert_allclose(at_one, by_hand(), rtol=1e-5)
  model.config = dataclasses.replace(model.config, temperature=0.2)
  cooled = generate.model_reference(model)["expected_cells"]
  np.testing.assert_allclose(cooled, by_hand(), rtol=1e-5)
  assert not np.allclose(cooled, at_one, rtol=1e-3)
  model.config = dataclasses.replace(model.config, temperature=1.0)
  np.testing.assert_allclose(generate.model_reference(model)["expected_cells"], at_one)
