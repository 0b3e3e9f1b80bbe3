"""Tests of draw_music.writer.model: DRAW on piano rolls (tiny config, fast)."""

import dataclasses
import math
import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras  # pylint: disable=g-import-not-at-top
import numpy as np
import pytest
import tensorflow as tf

from draw_music.writer import model as model_lib

TINY = model_lib.get_config("tiny")


def _batch(config, batch=4, seed=0, density=0.1):
  rng = np.random.default_rng(seed)
  return (rng.random((batch, config.chunk_steps, config.num_pitches)) < density).astype(
      np.float32)


def _eps(config, batch=4, seed=1):
  rng = np.random.default_rng(seed)
  return rng.normal(size=(batch, config.num_steps, config.latent_dim)).astype(np.float32)


def _model(config=TINY, seed=0):
  model = model_lib.DrawModel(config, seed=seed)
  model.build()
  return model


# --------------------------------------------------------------------------------- config


def test_registry_and_overrides():
  assert model_lib.get_config("baseline") == model_lib.DrawConfig()
  base = model_lib.get_config("baseline")
  assert (base.latent_dim, base.enc_units, base.num_steps, base.chunk_steps,
          base.batch_size, base.alpha) == (22, 167, 23, 104, 37, 0.25)
  assert TINY.latent_dim == 3 and TINY.chunk_steps == 16
  assert dataclasses.replace(TINY, latent_dim=5).latent_dim == 5
  with pytest.raises(ValueError, match="unknown config"):
    model_lib.get_config("huge")
  with pytest.raises(dataclasses.FrozenInstanceError):
    TINY.latent_dim = 4  # pytype: disable=not-writable


@pytest.mark.parametrize("field,value,message", [
    ("latent_dim", 0, "latent_dim must be a positive integer, got 0"),
    ("num_steps", 2.5, "num_steps must be a positive integer, got 2.5"),
    ("enc_units", True, "enc_units must be a positive integer, got True"),
    ("learning_rate", 0.0, "learning_rate must be a positive number"),
    ("beta_2", 1.0, r"beta_2 must be in \[0, 1\)"),
    ("alpha", 1.5, r"alpha must be in \[0, 1\]"),
    ("compute_dtype", "float16", "compute_dtype must be one of"),
])
def test_config_rejects_bad_values(field, value, message):
  with pytest.raises(ValueError, match=message):
    model_lib.DrawConfig(**{field: value})


def test_config_attention_grids_must_fit():
  with pytest.raises(ValueError, match=r"read_time \(20\) must not exceed chunk_steps \(16\)"):
    dataclasses.replace(TINY, attention=True, read_time=20)
  with pytest.raises(ValueError, match="write_pitch"):
    dataclasses.replace(TINY, attention=True, write_pitch=200)
  dataclasses.replace(TINY, read_time=20)  # without attention the grids are unused


# ---------------------------------------------------------------------------------- model


def test_output_shapes():
  model = _model()
  x = _batch(TINY)
  assert model(x).shape == (4, TINY.chunk_steps, TINY.num_pitches)
  out = model.forward(x)
  assert out["logits"].shape == (4, TINY.chunk_steps, TINY.num_pitches)
  for key in ("mu", "log_sigma", "eps", "z"):
    assert out[key].shape == (4, TINY.num_steps, TINY.latent_dim), key
  probs = model(x).numpy()
  assert probs.dtype == np.float32 and probs.min() >= 0 and probs.max() <= 1
  assert model(x.astype(bool)).shape == (4, TINY.chunk_steps, TINY.num_pitches)


def test_unknown_batch_size_under_tf_function():
  model = _model()
  spec = tf.TensorSpec([None, TINY.chunk_steps, TINY.num_pitches], tf.float32)
  fn = tf.function(lambda x: model(x), input_signature=[spec])
  for batch in (1, 3, 6):
    assert fn(_batch(TINY, batch)).shape == (batch, TINY.chunk_steps, TINY.num_pitches)
  grad_fn = tf.function(lambda x: model.losses_for(x)["loss"], input_signature=[spec])
  assert np.isfinite(grad_fn(_batch(TINY, 5)).numpy())


def test_eager_equals_graph():
  model = _model()
  x, eps = _batch(TINY), _eps(TINY)
  eager = model(x, eps=eps).numpy()
  graph = tf.function(lambda x, eps: model(x, eps=eps))(x, eps).numpy()
  np.testing.assert_allclose(eager, graph, rtol=1e-5, atol=1e-6)
  losses = tf.function(lambda x, eps: model.losses_for(x, eps))(x, eps)
  np.testing.assert_allclose(losses["loss"].numpy(), model.losses_for(x, eps)["loss"].numpy(),
                             rtol=1e-5)


def test_get_config_round_trip():
  config = dataclasses.replace(TINY, latent_dim=4, attention=True, read_time=4)
  model = model_lib.DrawModel(config, seed=7, name="my_draw")
  cfg = model.get_config()
  assert cfg["latent_dim"] == 4 and cfg["attention"] is True and cfg["seed"] == 7
  assert cfg["name"] == "my_draw"
  clone = model_lib.DrawModel.from_config(cfg)
  assert clone.config == config and clone.seed == 7 and clone.name == "my_draw"
  assert clone.get_config() == cfg


def test_save_and_load_give_same_outputs(tmp_path):
  model = model_lib.create_model(TINY, seed=0, jit_compile=False)
  x, eps = _batch(TINY), _eps(TINY)
  model.train_on_batch(x)
  path = str(tmp_path / "draw.keras")
  model.save(path)
  loaded = keras.models.load_model(path)
  assert isinstance(loaded, model_lib.DrawModel)
  assert loaded.config == TINY
  np.testing.assert_allclose(loaded(x, eps=eps).numpy(), model(x, eps=eps).numpy(), rtol=1e-6)
  np.testing.assert_array_equal(loaded.sample(2, seed=3).numpy(),
                                model.sample(2, seed=3).numpy())


# ----------------------------------------------------------------------- NumPy reference


def _sigmoid(v):
  return 1.0 / (1.0 + np.exp(-v))


def _np_lstm(gates, cell):
  i, f, g, o = np.split(gates, 4, axis=-1)
  cell = _sigmoid(f) * cell + _sigmoid(i) * np.tanh(g)
  return _sigmoid(o) * np.tanh(cell), cell


def _numpy_losses(model, x, eps):
  """The DESIGN.md section 5 loss, step by step in float64 NumPy."""
  cfg = model.config
  w = {v.path.split("/")[-1]: v.numpy().astype(np.float64) for v in model.weights}
  x = x.reshape(len(x), -1).astype(np.float64)
  batch = len(x)
  canvas = np.zeros_like(x)
  h_enc = c_enc = np.zeros((batch, cfg.enc_units))
  h_dec = c_dec = np.zeros((batch, cfg.dec_units))
  kl = np.zeros(batch)
  kl_steps = []
  for t in range(cfg.num_steps):
    xhat = x - _sigmoid(canvas)
    gates = (x @ w["enc_kernel_x"] + xhat @ w["enc_kernel_xhat"]
             + h_dec @ w["enc_kernel_hdec"] + h_enc @ w["enc_recurrent_kernel"] + w["enc_bias"])
    h_enc, c_enc = _np_lstm(gates, c_enc)
    stats = h_enc @ w["latent_kernel"] + w["latent_bias"]
    mu, log_sigma = stats[:, :cfg.latent_dim], stats[:, cfg.latent_dim:]
    z = mu + np.exp(log_sigma) * eps[:, t]
    step_kl = 0.5 * np.sum(mu**2 + np.exp(2 * log_sigma) - 2 * log_sigma - 1, axis=1)
    kl += step_kl
    kl_steps.append(step_kl.mean())
    gates = z @ w["dec_kernel"] + h_dec @ w["dec_recurrent_kernel"] + w["dec_bias"]
    h_dec, c_dec = _np_lstm(gates, c_dec)
    canvas = canvas + h_dec @ w["write_kernel"] + w["write_bias"]
  p = _sigmoid(canvas)
  bce = -(x * np.log(p) + (1 - x) * np.log(1 - p)).sum(axis=1)
  return dict(loss=(bce + kl).mean(), reconstruction=bce.mean(), kl=kl.mean(),
              kl_per_step=np.array(kl_steps))


def test_loss_equals_numpy_reference():
  model = _model()
  x, eps = _batch(TINY, seed=3), _eps(TINY, seed=4)
  expected = _numpy_losses(model, x, eps)
  for fast in (True, False):
    got = model.losses_for(x, eps, fast=fast)
    for key in ("loss", "reconstruction", "kl", "kl_per_step"):
      np.testing.assert_allclose(got[key].numpy(), expected[key], rtol=2e-5, atol=1e-4,
                                 err_msg=f"{key} fast={fast}")


def test_kl_closed_form_with_minus_one_per_dimension():
  mu = np.array([[1.0, 0.0, 2.0], [0.0, 0.0, 0.0]], np.float32)
  log_sigma = np.array([[0.0, math.log(2.0), -1.0], [0.0, 0.0, 0.0]], np.float32)
  expected_0 = 0.5 * ((1 + 1 - 0 - 1) + (0 + 4 - 2 * math.log(2.0) - 1)
                      + (4 + math.exp(-2.0) + 2 - 1))
  got = model_lib.kl_divergence(mu, log_sigma).numpy()
  np.testing.assert_allclose(got, [expected_0, 0.0], rtol=1e-6, atol=1e-7)
  # The prior itself is at distance 0 whatever the latent size (a "-1 per step" bug fails).
  assert model_lib.kl_divergence(np.zeros((1, 22)), np.zeros((1, 22))).numpy()[0] == 0.0


def test_model_kl_per_step_is_closed_form_of_its_posteriors():
  model = _model()
  x, eps = _batch(TINY), _eps(TINY)
  out = model.forward(x, eps)
  mu, log_sigma = out["mu"].numpy().astype(np.float64), out["log_sigma"].numpy()
  closed = 0.5 * (mu**2 + np.exp(2 * log_sigma) - 2 * log_sigma - 1).sum(-1).mean(0)
  np.testing.assert_allclose(model.losses_for(x, eps)["kl_per_step"].numpy(), closed,
                             rtol=1e-5, atol=1e-6)


def test_hand_written_backward_equals_autodiff():
  model = _model()
  x, eps = _batch(TINY, seed=5), _eps(TINY, seed=6)
  grads = {}
  for fast in (True, False):
    with tf.GradientTape() as tape:
      loss = model.losses_for(x, eps, fast=fast)["loss"]
    grads[fast] = tape.gradient(loss, model.trainable_weights)
  for weight, fast, slow in zip(model.trainable_weights, grads[True], grads[False]):
    np.testing.assert_allclose(fast.numpy(), slow.numpy(), rtol=1e-4,
                               atol=1e-5 * max(1.0, np.abs(slow.numpy()).max()),
                               err_msg=weight.path)


def test_bfloat16_matmuls_stay_close_to_float32():
  x, eps = _batch(TINY), _eps(TINY)
  model = _model()
  bf16 = _model(dataclasses.replace(TINY, compute_dtype="bfloat16"))
  bf16.set_weights(model.get_weights())
  loss32 = model.losses_for(x, eps)["loss"].numpy()
  with tf.GradientTape() as tape:
    loss16 = bf16.losses_for(x, eps)["loss"]
  grads = tape.gradient(loss16, bf16.trainable_weights)
  assert abs(loss16.numpy() - loss32) / loss32 < 1e-2
  assert all(g.dtype == tf.float32 and np.isfinite(g.numpy()).all() for g in grads)


def test_bfloat16_gradients_follow_the_float32_ones():
  """Every weight's bfloat16 gradient (fast path) points where the float32 autodiff one does."""
  x, eps = _batch(TINY, seed=8), _eps(TINY, seed=9)
  model = _model()
  bf16 = _model(dataclasses.replace(TINY, compute_dtype="bfloat16"))
  bf16.set_weights(model.get_weights())
  grads = {}
  for name, m, fast in (("float32", model, False), ("bfloat16", bf16, True)):
    with tf.GradientTape() as tape:
      loss = m.losses_for(x, eps, fast=fast)["loss"]
    grads[name] = [g.numpy().ravel() for g in tape.gradient(loss, m.trainable_weights)]
  for weight, g32, g16 in zip(model.trainable_weights, grads["float32"], grads["bfloat16"]):
    cosine = g32 @ g16 / (np.linalg.norm(g32) * np.linalg.norm(g16))
    assert cosine > 0.999, weight.path
    np.testing.assert_allclose(np.linalg.norm(g16), np.linalg.norm(g32), rtol=2e-2,
                               err_msg=weight.path)


def test_training_lowers_the_loss_on_a_fixed_batch():
  model = model_lib.create_model(TINY, seed=0, jit_compile=False, learning_rate=1e-2)
  x, eps = _batch(TINY, batch=TINY.batch_size), _eps(TINY, batch=TINY.batch_size)
  before = model.losses_for(x, eps)["loss"].numpy()
  for _ in range(5):
    logs = model.train_on_batch(x, return_dict=True)
  assert set(logs) >= {"loss", "reconstruction", "kl"}
  after = model.losses_for(x, eps)["loss"].numpy()
  assert after < before
  assert np.isfinite(model.evaluate(x, verbose=0, return_dict=True)["loss"])


def test_fit_on_a_dataset():
  model = model_lib.create_model(TINY, seed=0, jit_compile=False)
  data = tf.data.Dataset.from_tensor_slices(_batch(TINY, batch=8)).batch(4)
  history = model.fit(data, epochs=1, verbose=0, shuffle=False)
  assert np.isfinite(history.history["loss"][0])


def test_fresh_noise_at_every_step_and_every_call():
  model = _model()
  x = np.repeat(_batch(TINY, batch=1), 2, axis=0)  # the same chunk twice
  out = model.forward(x)
  eps, z = out["eps"].numpy(), out["z"].numpy()
  for t in range(1, TINY.num_steps):
    assert not np.allclose(eps[:, t], eps[:, 0])
    assert not np.allclose(z[:, t], z[:, 0])
  assert not np.allclose(eps[0], eps[1])  # and per example
  assert not np.allclose(model.forward(x)["eps"].numpy(), eps)  # and per call
  compiled = tf.function(lambda x: model.forward(x)["eps"])
  assert not np.allclose(compiled(x).numpy(), compiled(x).numpy())  # also when compiled


def test_seeded_models_draw_the_same_noise():
  x = _batch(TINY)
  first = _model(seed=11).forward(x)["eps"].numpy()
  second = _model(seed=11).forward(x)["eps"].numpy()
  np.testing.assert_array_equal(first, second)


# ----------------------------------------------------------------------------- generation


def test_sample_shapes_range_and_determinism():
  model = _model()
  pieces = model.sample(3, seed=5)
  assert pieces.shape == (3, TINY.num_steps, TINY.chunk_steps, TINY.num_pitches)
  assert pieces.dtype == tf.float32
  values = pieces.numpy()
  assert values.min() >= 0 and values.max() <= 1
  np.testing.assert_array_equal(values, model.sample(3, seed=5).numpy())
  assert not np.allclose(values, model.sample(3, seed=6).numpy())
  assert model.sample(1).shape[0] == 1
  with pytest.raises(ValueError, match="n must be a positive integer, got 0"):
    model.sample(0)


def test_sample_canvases_follow_the_decoder():
  """Each step's canvas is sigmoid of the running sum of the decoder's writes."""
  model = _model()
  seed = 9
  z = tf.random.stateless_normal([TINY.num_steps, 2, TINY.latent_dim],
                                 tf.constant([seed, 0], tf.int64),
                                 alg="philox").numpy().astype(np.float64)
  w = {v.path.split("/")[-1]: v.numpy().astype(np.float64) for v in model.weights}
  h = c = np.zeros((2, TINY.dec_units))
  canvas = np.zeros((2, TINY.num_cells))
  expected = []
  for t in range(TINY.num_steps):
    h, c = _np_lstm(z[t] @ w["dec_kernel"] + h @ w["dec_recurrent_kernel"] + w["dec_bias"], c)
    canvas = canvas + h @ w["write_kernel"] + w["write_bias"]
    expected.append(_sigmoid(canvas).reshape(2, TINY.chunk_steps, TINY.num_pitches))
  np.testing.assert_allclose(model.sample(2, seed=seed).numpy(), np.stack(expected, 1),
                             rtol=1e-4, atol=1e-5)


def test_binarize_hand_fixture():
  canvas = np.array([
      [[2.0, 3.0, 2.0], [4.0, 10.0, 2.5]],    # (v - 2) / 8: 0, .125, 0 / .25, 1, .0625
      [[0.5, 0.5, 0.5], [0.5, 0.5, 0.5]],     # constant: all zeros
      [[-1.0, 0.0, 1.0], [0.0, 0.0, -1.0]],   # (v + 1) / 2: 0, .5, 1 / .5, .5, 0
  ])
  before = canvas.copy()
  got = model_lib.binarize(canvas, 0.2)
  assert got.dtype == bool and got.shape == canvas.shape
  np.testing.assert_array_equal(got, [
      [[False, False, False], [True, True, False]],
      [[False] * 3, [False] * 3],
      [[False, True, True], [True, True, False]],
  ])
  # Strictly greater: .25 and .5 sit on the threshold and stay off.
  np.testing.assert_array_equal(model_lib.binarize(canvas[0], 0.25),
                                [[False, False, False], [False, True, False]])
  np.testing.assert_array_equal(model_lib.binarize(canvas[2], 0.5),
                                [[False, False, True], [False, False, False]])
  np.testing.assert_array_equal(canvas, before)  # the input is not modified
  assert not model_lib.binarize(canvas, 0.0)[1].any()
  assert model_lib.binarize(tf.constant(canvas), 0.2).shape == canvas.shape
  with pytest.raises(ValueError, match="alpha"):
    model_lib.binarize(canvas, 1.5)


def test_binarize_on_samples():
  model = _model()
  pieces = model.sample(2, seed=0).numpy()
  rolls = model_lib.binarize(pieces, TINY.alpha)
  assert rolls.shape == pieces.shape and rolls.dtype == bool
  assert rolls.reshape(-1, TINY.num_cells).any(axis=1).all()  # each max cell is on


# ------------------------------------------------------------------------------ attention


def test_filterbank_rows_sum_to_one():
  centers = tf.constant([0.0, 50.0, 103.0, 400.0])
  bank = model_lib.filterbank(centers, tf.constant([0.0, 1.0, -1.0, 0.5]),
                              tf.constant([0.0, 1.0, 2.0, -2.0]), 7, 104).numpy()
  assert bank.shape == (4, 7, 104)
  np.testing.assert_allclose(bank[:3].sum(-1), 1.0, rtol=1e-5)
  assert np.isfinite(bank).all()  # a grid far outside the image is guarded, not NaN
  # Filter means are spaced by delta around the centre.
  one = model_lib.filterbank(tf.constant([10.0]), tf.constant([math.log(3.0)]),
                             tf.constant([math.log(1e-3)]), 3, 30).numpy()[0]
  np.testing.assert_array_equal(one.argmax(-1), [7, 10, 13])


def test_full_patch_reads_back_what_was_written():
  time_size, pitch_size = 6, 9
  rng = np.random.default_rng(0)
  patch = tf.constant(rng.random((2, time_size, pitch_size)).astype(np.float32))

  def bank(size):
    center = tf.fill([2], (size - 1) / 2.0)
    return model_lib.filterbank(center, tf.zeros([2]), tf.fill([2], math.log(1e-2)), size,
                                size)

  f_time, f_pitch = bank(time_size), bank(pitch_size)
  np.testing.assert_allclose(f_time.numpy()[0], np.eye(time_size), atol=1e-6)
  gamma = tf.constant([1.0, 2.0])
  image = model_lib.write_patch(patch, f_time, f_pitch, gamma)
  np.testing.assert_allclose(image.numpy() * [[[1.0]], [[2.0]]], patch.numpy(), atol=1e-5)
  read = model_lib.read_patch(image, f_time, f_pitch, gamma)
  np.testing.assert_allclose(read.numpy(), patch.numpy(), atol=1e-5)


def test_tiny_attention_model_trains_one_step():
  config = dataclasses.replace(TINY, attention=True, read_time=4, read_pitch=6,
                               write_time=5, write_pitch=8)
  model = model_lib.create_model(config, seed=0, jit_compile=False)
  x = _batch(config)
  assert model(x).shape == (4, config.chunk_steps, config.num_pitches)
  model.build()
  before = [w.numpy().copy() for w in model.trainable_weights]
  logs = model.train_on_batch(x, return_dict=True)
  assert np.isfinite(logs["loss"])
  changed = [not np.array_equal(b, w.numpy()) for b, w in zip(before, model.trainable_weights)]
  assert all(changed)
  assert model.sample(2, seed=1).shape == (2, config.num_steps, config.chunk_steps,
                                           config.num_pitches)
