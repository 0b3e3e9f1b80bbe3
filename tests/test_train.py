"""Training: resumption to the same weights (also after SIGKILL), NaN guard, config checks,
and the fused Adam optimizer (same updates and state as Keras's)."""

import dataclasses
import os
import re
import signal
import subprocess
import sys
import time

import keras
import numpy as np
import pytest
import tensorflow as tf

from draw_music.writer import model as model_lib
from draw_music.writer import optim
from draw_music.writer import train
from tests import helpers
from tests.conftest import REPO

CONFIG = model_lib.get_config("tiny")  # 16-step chunks, batch 4


@pytest.fixture(scope="module")
def data():
  rng = np.random.default_rng(0)
  rolls = [helpers.random_roll(rng, 16 * k, 0.4) for k in (3, 5, 2, 7, 4)]
  chunks = np.concatenate([r.reshape(-1, 16, 128) for r in rolls])
  piece_index = np.concatenate([np.full(len(r) // 16, i) for i, r in enumerate(rolls)])
  return chunks, piece_index


def weights_of(out_dir):
  model, step = train.load_trained(out_dir)
  return [w.numpy() for w in model.weights], step


def run(out_dir, data, **kwargs):
  kwargs = {"checkpoint_every": 4, "verbose": False, "seed": 3, **kwargs}
  return train.train(CONFIG, *data, out_dir, train.TrainConfig(**kwargs))


def test_resumed_run_ends_at_the_same_weights(tmp_path, data):
  unbroken = run(tmp_path / "a", data, max_steps=12)
  assert unbroken["step"] == 12 and unbroken["resumed_from"] is None
  first = run(tmp_path / "b", data, max_steps=8)
  second = run(tmp_path / "b", data, max_steps=12)
  assert first["step"] == 8 and second["resumed_from"] == 8 and second["step"] == 12
  (wa, sa), (wb, sb) = weights_of(tmp_path / "a"), weights_of(tmp_path / "b")
  assert sa == sb == 12
  for a, b in zip(wa, wb):
    np.testing.assert_array_equal(a, b)
  assert unbroken["last_loss"] == second["last_loss"]


def test_training_changes_weights_and_lowers_the_loss(tmp_path, data):
  out = run(tmp_path, data, epochs=6)
  assert out["stopped_by"] == "epochs"
  assert out["step"] == 6 * int(np.ceil(len(data[0]) / CONFIG.batch_size))
  events = list((tmp_path / "tensorboard").glob("events.out.tfevents.*"))
  assert events, "no TensorBoard file"
  losses = [v.tensor.float_val[0] if v.tensor.float_val else tf.make_ndarray(v.tensor)
            for e in tf.compat.v1.train.summary_iterator(str(events[0]))
            for v in e.summary.value if v.tag == "loss"]
  assert len(losses) >= 3
  assert np.mean(losses[-2:]) < losses[0]


def test_time_budget_stops_training(tmp_path, data):
  out = run(tmp_path, data, time_budget_s=0.5, max_steps=10**6)
  assert out["stopped_by"] == "time_budget"
  assert 0 < out["step"] < 10**6


def test_nan_guard_keeps_the_last_good_checkpoint(tmp_path, data):
  run(tmp_path, data, max_steps=8)
  poisoned = data[0].astype(np.float32)
  poisoned[:] = np.nan
  with pytest.raises(train.TrainingDiverged, match=r"step 9.*step 8"):
    train.train(CONFIG, poisoned, data[1], tmp_path,
                train.TrainConfig(max_steps=20, checkpoint_every=4, verbose=False, seed=3))
  assert weights_of(tmp_path)[1] == 8
  assert tf.train.latest_checkpoint(str(tmp_path / "checkpoints")).endswith("-8")


def test_another_config_in_the_same_folder_is_refused(tmp_path, data):
  run(tmp_path, data, max_steps=2)
  other = model_lib.DrawConfig(**{**CONFIG.__dict__, "latent_dim": 4})
  with pytest.raises(train.ConfigMismatch, match="another config"):
    train.train(other, *data, tmp_path, train.TrainConfig(max_steps=4, verbose=False,
                                                         seed=3))
  with pytest.raises(train.ConfigMismatch):
    run(tmp_path, data, max_steps=4, seed=4)


@pytest.mark.parametrize("kwargs,message", [
    ({}, "at least one of"),
    ({"max_steps": 0}, "max_steps must be a positive integer"),
    ({"max_steps": 1, "order": "random"}, "order must be one of"),
    ({"time_budget_s": -1.0}, "time_budget_s must be positive"),
])
def test_bad_train_config(kwargs, message):
  with pytest.raises(ValueError, match=message):
    train.TrainConfig(**kwargs)


# ------------------------------------------------------------------------ fused Adam


def _numpy_adam(weights, grads_per_step, lr, beta_1, beta_2, epsilon=1e-7):
  """Adam by hand in float64 (Keras's form: bias corrections folded into the step size)."""
  w = [np.array(x, np.float64) for x in weights]
  m = [np.zeros_like(x) for x in w]
  v = [np.zeros_like(x) for x in w]
  for t, grads in enumerate(grads_per_step, start=1):
    alpha = lr * np.sqrt(1 - beta_2**t) / (1 - beta_1**t)
    for i, g in enumerate(grads):
      m[i] += (g - m[i]) * (1 - beta_1)
      v[i] += (g * g - v[i]) * (1 - beta_2)
      w[i] -= alpha * m[i] / (np.sqrt(v[i]) + epsilon)
  return w, m, v


def test_fused_adam_equals_keras_adam_and_numpy():
  rng = np.random.default_rng(7)
  shapes = [(5, 3), (11,), (2, 3, 4)]  # lopsided: a transposed update cannot pass
  init = [rng.normal(size=s).astype(np.float32) for s in shapes]
  grads = [[(rng.normal(size=s) * 10.0 ** rng.integers(-3, 2, size=s)).astype(np.float32)
            for s in shapes] for _ in range(4)]
  runs = {}
  for cls in (keras.optimizers.Adam, optim.FusedAdam):
    weights = [keras.Variable(x) for x in init]
    optimizer = cls(3e-2, 0.8, 0.99)
    optimizer.build(weights)
    for step_grads in grads:
      optimizer.apply([tf.constant(g) for g in step_grads], weights)
    runs[cls] = ([w.numpy() for w in weights], [x.numpy() for x in optimizer._momentums],
                 [x.numpy() for x in optimizer._velocities], int(optimizer.iterations))
  expected = _numpy_adam(init, grads, 3e-2, 0.8, 0.99)
  keras_run, fused_run = runs[keras.optimizers.Adam], runs[optim.FusedAdam]
  assert keras_run[3] == fused_run[3] == 4
  for kind in range(3):  # weights, first moments, second moments
    for k, f, e in zip(keras_run[kind], fused_run[kind], expected[kind]):
      np.testing.assert_allclose(f, k, rtol=2e-6, atol=1e-7)  # float32 rounding
      np.testing.assert_allclose(f, e, rtol=1e-5, atol=1e-6)
  assert not np.allclose(fused_run[0][0], init[0])


def test_fused_adam_has_keras_adams_state_and_config():
  weights = [keras.Variable(np.ones((3, 2), np.float32))]
  fused, plain = optim.FusedAdam(1e-3), keras.optimizers.Adam(1e-3)
  for optimizer in (fused, plain):
    optimizer.build(weights)
  suffixes = lambda o: [v.path.split("/", 1)[1] for v in o.variables]  # after the name
  assert suffixes(fused) == suffixes(plain) and len(fused.variables) == 4  # step, rate, m, v
  clone = optim.FusedAdam.from_config(fused.get_config())
  assert isinstance(clone, optim.FusedAdam) and clone.get_config() == fused.get_config()
  assert isinstance(model_lib.create_model(CONFIG, seed=0).optimizer, optim.FusedAdam)


def test_checkpoint_of_keras_adam_resumes_with_fused_adam(tmp_path, data, monkeypatch):
  """A run checkpointed with keras.optimizers.Adam (before FusedAdam) resumes with it."""
  unbroken = run(tmp_path / "a", data, max_steps=12)
  with monkeypatch.context() as patch:
    patch.setattr(optim, "FusedAdam", keras.optimizers.Adam)
    run(tmp_path / "b", data, max_steps=8)
  resumed = run(tmp_path / "b", data, max_steps=12)
  assert resumed["resumed_from"] == 8 and resumed["step"] == 12
  (wa, _), (wb, _) = weights_of(tmp_path / "a"), weights_of(tmp_path / "b")
  # The same updates up to float32 rounding (Adam's steps are ~1e-3: lost moments or a
  # restarted step count would move weights far more than 1e-5).
  for a, b in zip(wa, wb):
    np.testing.assert_allclose(b, a, rtol=1e-4, atol=1e-5)
  assert resumed["last_loss"]["loss"] == pytest.approx(unbroken["last_loss"]["loss"],
                                                       rel=1e-5)


# ------------------------------------------------------------------- kill and resume


STEPS = 400  # enough that the kill lands mid-training even on a fast machine


def _command(corpus, out_dir, max_steps):
  return [sys.executable, "-m", "experiments.train_baseline", "--config=tiny",
          f"--corpus={corpus}", f"--out_dir={out_dir}", f"--max_steps={max_steps}",
          "--checkpoint_every=10", "--num_generate=3", "--num_permutations=20", "--seed=1"]


def test_sigkill_and_restart_ends_at_the_unbroken_weights(tmp_path):
  """The issue's check: kill -9 mid-training, rerun the same command, same final weights."""
  rng = np.random.default_rng(1)
  corpus = helpers.write_corpus(tmp_path / "corpus",
                                [helpers.random_roll(rng, 16 * 12, 0.4) for _ in range(6)])
  env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"}
  unbroken = subprocess.run(_command(corpus, tmp_path / "a", STEPS), cwd=REPO, env=env,
                            capture_output=True, text=True, check=False)
  assert unbroken.returncode == 0, unbroken.stderr[-3000:]

  killed_dir = tmp_path / "b"
  proc = subprocess.Popen(_command(corpus, killed_dir, STEPS), cwd=REPO, env=env,
                          stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
  deadline = time.monotonic() + 120
  while time.monotonic() < deadline:
    latest = tf.train.latest_checkpoint(str(killed_dir / "checkpoints"))
    if latest and int(latest.rsplit("-", 1)[1]) >= 20:
      break
    time.sleep(0.05)
  proc.send_signal(signal.SIGKILL)
  proc.wait()
  latest = tf.train.latest_checkpoint(str(killed_dir / "checkpoints"))
  killed_at = int(latest.rsplit("-", 1)[1])
  assert 20 <= killed_at < STEPS, f"killed too late to test anything (checkpoint {killed_at})"
  assert not (killed_dir / "report.json").exists()

  resumed = subprocess.run(_command(corpus, killed_dir, STEPS), cwd=REPO, env=env,
                           capture_output=True, text=True, check=False)
  assert resumed.returncode == 0, resumed.stderr[-3000:]
  # The run resumes from the newest checkpoint whose files read. A kill between writing a
  # checkpoint's files and TensorFlow's `checkpoint` state file leaves one newer than the
  # state file (`killed_at`) names: that one is the newest.
  found = re.search(r"resuming from \S+ \(step (\d+),", resumed.stdout)
  assert found, resumed.stdout[-2000:]
  assert killed_at <= int(found.group(1)) < STEPS
  (wa, sa), (wb, sb) = weights_of(tmp_path / "a"), weights_of(killed_dir)
  assert sa == sb == STEPS
  for a, b in zip(wa, wb):
    np.testing.assert_array_equal(a, b)
  for out in (tmp_path / "a", killed_dir):
    assert (out / "report.json").exists() and (out / "distance_histogram.png").exists()
    assert len(list((out / "generated").glob("*.mid"))) == 3
    assert len(list((out / "generated").glob("*.png"))) == 3


def truncate(path):
  data = path.read_bytes()
  path.write_bytes(data[:len(data) // 2])


def test_a_damaged_checkpoint_falls_back_to_the_newest_that_reads(tmp_path, data, capfd):
  unbroken = run(tmp_path / "a", data, max_steps=12)
  run(tmp_path / "b", data, max_steps=12)
  ckpts = tmp_path / "b" / "checkpoints"
  # Two full checkpoints kept (12 and 8), and the final weights alone.
  assert sorted(p.name for p in ckpts.glob("*.index")) == ["ckpt-12.index", "ckpt-8.index"]
  assert [p.name for p in (tmp_path / "b" / "weights").glob("*.index")] == ["weights-12.index"]
  full = (ckpts / "ckpt-12.data-00000-of-00001").stat().st_size
  weights = (tmp_path / "b" / "weights" / "weights-12.data-00000-of-00001").stat().st_size
  assert weights < 0.5 * full  # no Adam moments
  truncate(ckpts / "ckpt-12.data-00000-of-00001")
  truncate(tmp_path / "b" / "weights" / "weights-12.data-00000-of-00001")
  capfd.readouterr()
  # Generation's loader: both step-12 files are damaged, step 8 reads.
  model, step = train.load_trained(tmp_path / "b")
  err = capfd.readouterr().err
  assert step == 8
  assert "skipped checkpoint" in err and "weights-12" in err and "ckpt-12" in err
  assert "Read less bytes" in err
  # Resuming the same command: from step 8, to the unbroken run's weights.
  again = run(tmp_path / "b", data, max_steps=12)
  err = capfd.readouterr().err
  assert again["resumed_from"] == 8 and again["step"] == 12
  assert "ckpt-12" in again["skipped_checkpoints"][0] and "ckpt-12" in err
  assert (ckpts / "damaged" / "ckpt-12.data-00000-of-00001").exists()
  (wa, sa), (wb, sb) = weights_of(tmp_path / "a"), weights_of(tmp_path / "b")
  assert sa == sb == 12 and "skipped" not in capfd.readouterr().err
  for x, y in zip(wa, wb):
    np.testing.assert_array_equal(x, y)
  assert unbroken["last_loss"] == again["last_loss"]
  # Every checkpoint damaged: one clear error.
  for path in list(ckpts.glob("ckpt-*.data-*")) + list((tmp_path / "b" / "weights").glob("*.data-*")):
    truncate(path)
  with pytest.raises(train.NoReadableCheckpoint, match="no checkpoint of .* can be read"):
    run(tmp_path / "b", data, max_steps=12)
  with pytest.raises(train.NoReadableCheckpoint, match="no checkpoint of .* can be read"):
    train.load_trained(tmp_path / "b")


# ------------------------------------------------------------------- learning-rate half-life


def test_the_learning_rate_halves_every_half_life_and_is_constant_without_one():
  variable = keras.Variable(np.zeros(3, np.float32))
  halving = optim.for_config(model_lib.DrawConfig(learning_rate=2e-3, lr_half_life=10))
  constant = optim.for_config(model_lib.DrawConfig(learning_rate=2e-3))
  for opt in (halving, constant):
    opt.build([variable])
  for step, want in ((0, 2e-3), (10, 1e-3), (15, 2e-3 * 0.5 ** 1.5), (40, 1.25e-4)):
    halving.iterations.assign(step)
    constant.iterations.assign(step)
    assert float(halving.learning_rate) == pytest.approx(want, rel=1e-6)
    assert float(constant.learning_rate) == pytest.approx(2e-3, rel=1e-6)
  for bad in (-1, True, 2.5):
    with pytest.raises(ValueError, match="lr_half_life"):
      model_lib.DrawConfig(lr_half_life=bad)


def test_a_delayed_halving_keeps_the_rate_until_its_start_then_halves_from_there():
  variable = keras.Variable(np.zeros(3, np.float32))
  delayed = optim.for_config(model_lib.DrawConfig(learning_rate=3e-3, lr_half_life=4,
                                                  lr_decay_start=6))
  delayed.build([variable])
  # By hand: 3e-3 up to step 6, then 3e-3 * 0.5 ** ((step - 6) / 4).
  for step, want in ((0, 3e-3), (5, 3e-3), (6, 3e-3), (8, 3e-3 / 2 ** 0.5), (10, 1.5e-3),
                     (26, 3e-3 / 32)):
    delayed.iterations.assign(step)
    assert float(delayed.learning_rate) == pytest.approx(want, rel=1e-6)
  # Without a half-life the start does nothing: constant.
  constant = optim.for_config(model_lib.DrawConfig(learning_rate=3e-3, lr_decay_start=6))
  constant.build([variable])
  constant.iterations.assign(26)
  assert float(constant.learning_rate) == pytest.approx(3e-3, rel=1e-6)
  for bad in (-1, True, 2.5):
    with pytest.raises(ValueError, match="lr_decay_start"):
      model_lib.DrawConfig(lr_decay_start=bad)


def test_a_run_with_a_delayed_halving_is_the_constant_rate_run_until_its_start(tmp_path, data):
  cfg = {"checkpoint_every": 4, "verbose": False, "seed": 5}
  config = dataclasses.replace(CONFIG, learning_rate=0.05)
  delayed = dataclasses.replace(config, lr_half_life=2, lr_decay_start=4)
  train.train(config, *data, tmp_path / "constant", train.TrainConfig(max_steps=4, **cfg))
  train.train(delayed, *data, tmp_path / "delayed", train.TrainConfig(max_steps=4, **cfg))
  (wa, _), (wb, _) = weights_of(tmp_path / "constant"), weights_of(tmp_path / "delayed")
  for a, b in zip(wa, wb):
    np.testing.assert_array_equal(a, b)
  # Past the start they part.
  train.train(config, *data, tmp_path / "constant", train.TrainConfig(max_steps=8, **cfg))
  train.train(delayed, *data, tmp_path / "delayed", train.TrainConfig(max_steps=8, **cfg))
  (wa, _), (wb, _) = weights_of(tmp_path / "constant"), weights_of(tmp_path / "delayed")
  assert any(not np.array_equal(a, b) for a, b in zip(wa, wb))
  assert train.load_run_config(tmp_path / "delayed")[0].lr_decay_start == 4


def test_a_resumed_run_goes_on_along_the_same_schedule(tmp_path, data):
  config = dataclasses.replace(CONFIG, lr_half_life=3, learning_rate=0.05)
  cfg = {"checkpoint_every": 4, "verbose": False, "seed": 3}
  train.train(config, *data, tmp_path / "a", train.TrainConfig(max_steps=10, **cfg))
  train.train(config, *data, tmp_path / "b", train.TrainConfig(max_steps=4, **cfg))
  train.train(config, *data, tmp_path / "b", train.TrainConfig(max_steps=10, **cfg))
  (wa, _), (wb, _) = weights_of(tmp_path / "a"), weights_of(tmp_path / "b")
  for a, b in zip(wa, wb):
    np.testing.assert_array_equal(a, b)
  # A constant rate ends elsewhere: the schedule is applied.
  train.train(dataclasses.replace(config, lr_half_life=0), *data, tmp_path / "c",
              train.TrainConfig(max_steps=10, **cfg))
  wc, _ = weights_of(tmp_path / "c")
  assert any(not np.array_equal(a, c) for a, c in zip(wa, wc))
  stored, _ = train.load_run_config(tmp_path / "a")
  assert stored.lr_half_life == 3
