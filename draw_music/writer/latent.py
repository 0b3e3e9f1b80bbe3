"""DRAW's latents: encode chunks into per-step latents, decode latents into final canvases,
and paths between two pieces' latents.

DRAW has one latent vector per step, `z[t]` for `t = 1..num_steps` (`[num_steps,
latent_dim]` per chunk), so a chunk's code is `[num_steps, latent_dim]`. Built on the
model's own weights and its public `forward` and `draw_z`.

- `encode`: the encoder's posterior means `mu[t]`, running the step loop with `eps = 0`, so
  `z[t] = mu[t]` and the canvas the encoder reads at step `t` is the one those means drew:
  the deterministic code of a chunk.
- `decode_last`: the decoder alone, from `z` to the final canvas `sigmoid(c[num_steps])`,
  without forming the intermediate canvases that `DrawModel.sample` keeps (23 times less
  work for the baseline's write matmul). `decode_last(encode(x))` is the model's
  reconstruction of `x` with zero noise, `model(x, eps=0)`.
- `interpolate`: latents between two codes, step by step: each step's vector is slerped
  (spherical: the angle and the norm are interpolated, so a path between two typical codes
  stays at a typical length, where a straight line through the middle would shrink it
  towards 0, which the decoder turns into a quieter, blurred canvas), or lerped
  (`method='lerp'`).
- `prior_latents`: the same `z` draws as `DrawModel.sample` for a seed (`DrawModel.draw_z`:
  N(0, I), or the model's fitted prior).
- `fit_prior`: that fitted prior, a Gaussian over the whole code fitted to the encoder's
  posterior draws of the training chunks (`DrawConfig.prior='fitted'`).
"""

from __future__ import annotations

import dataclasses

import numpy as np
import tensorflow as tf

from draw_music.writer import model as model_lib

METHODS = ("slerp", "lerp")


def prior_latents(model, n, seed):
  """`[n, num_steps, latent_dim]` float32: the `z` that `model.sample(n, seed)` decodes
  (from N(0, I), or from the model's fitted prior, `DrawModel.set_latent_prior`)."""
  return np.transpose(model.draw_z(n, model_lib.seed_pair(seed)).numpy(), (1, 0, 2))


@dataclasses.dataclass(frozen=True)
class LatentPrior:
  """A Gaussian over a piece's whole code, `z` `[num_steps, latent_dim]` flattened:
  `mean` `[num_steps * latent_dim]`, `chol` its covariance's lower Cholesky factor."""
  mean: np.ndarray
  chol: np.ndarray

  def save(self, path):
    np.savez(path, mean=self.mean, chol=self.chol)

  @classmethod
  def load(cls, path):
    try:
      with np.load(path) as f:
        mean, chol = f["mean"].astype(np.float32), f["chol"].astype(np.float32)
    except (OSError, ValueError, KeyError) as e:
      raise ValueError(f"{path}: not a latent prior file ({e})") from e
    if mean.ndim != 1 or chol.shape != (mean.size, mean.size) \
        or not (np.isfinite(mean).all() and np.isfinite(chol).all()):
      raise ValueError(f"{path}: a latent prior needs a finite mean [k] and a Cholesky "
                       f"factor [k, k], got {mean.shape} and {chol.shape}")
    return cls(mean, chol)


def posterior_samples(model, chunks, passes, seed, batch_size=256):
  """`[passes * n, num_steps * latent_dim]` float32: `passes` draws of `z` from the
  encoder's posterior `q(z | x)` for every chunk (DRAW's `z[t]` depends on the earlier
  steps' draws, so each is drawn by the model's own step loop with N(0, I) noise seeded by
  `seed`)."""
  cfg = model.config
  chunks = np.asarray(chunks, np.float32)
  rng = np.random.default_rng(seed)
  out = []
  for _ in range(passes):
    for start in range(0, len(chunks), batch_size):
      x = chunks[start:start + batch_size]
      eps = rng.standard_normal((len(x), cfg.num_steps, cfg.latent_dim)).astype(np.float32)
      z = model.forward(x, eps)["z"].numpy()
      out.append(z.reshape(len(x), -1))
  return np.concatenate(out)


def fit_prior(model, chunks, passes=4, seed=0, ridge=1e-3):
  """A Gaussian fitted to the aggregate posterior of `chunks`: the mean and covariance of
  `posterior_samples` (`passes` draws per chunk), the covariance's diagonal raised by `ridge`
  times its mean so that it factors. Beyond the paper, which samples `z ~ N(0, I)`: a VAE's
  encoder rarely fills its whole prior, and codes drawn where it put no training chunk
  decode to canvases unlike the corpus's; sampling from a density fitted to the encoder's
  codes is "ex-post density estimation" (Ghosh et al., "From variational to deterministic
  autoencoders", ICLR 2020). One Gaussian over the whole code keeps the steps'
  correlations; it does not single out any one training chunk's code (BENCHMARKS.md
  measures the pieces' overlap with the training chunks)."""
  z = posterior_samples(model, chunks, passes, seed).astype(np.float64)
  if len(z) < 2:
    raise ValueError("fitting a latent prior needs at least 2 posterior samples")
  mean = z.mean(axis=0)
  cov = np.cov(z, rowvar=False)
  cov[np.diag_indices_from(cov)] += ridge * np.trace(cov) / len(cov)
  chol = np.linalg.cholesky(cov)
  return LatentPrior(mean.astype(np.float32), chol.astype(np.float32))


def _lstm(gates, cell):
  """One LSTM update, gate order i, f, c, o (as in `model.py`)."""
  i, f, g, o = tf.split(gates, 4, axis=-1)
  cell = tf.sigmoid(f) * cell + tf.sigmoid(i) * tf.tanh(g)
  return tf.sigmoid(o) * tf.tanh(cell), cell


@tf.function(reduce_retracing=True)
def _decode_last_logits(z, dec_kernel, dec_rec, dec_bias, write_kernel, write_bias):
  """Final canvas logits `[n, N]` from `z` `[num_steps, n, latent]` (no attention)."""
  n = tf.shape(z)[1]
  units = tf.shape(dec_rec)[0]
  h = cell = tf.zeros([n, units])
  h_sum = tf.zeros([n, units])
  for t in tf.range(tf.shape(z)[0]):
    h, cell = _lstm(tf.matmul(z[t], dec_kernel) + tf.matmul(h, dec_rec) + dec_bias, cell)
    h_sum += h
  steps = tf.cast(tf.shape(z)[0], tf.float32)
  # c[T] = sum_t (h[t] @ W + b) = (sum_t h[t]) @ W + T b
  return tf.matmul(h_sum, write_kernel) + steps * write_bias


def decode_last(model, z):
  """The final canvas `sigmoid(c[num_steps])` decoded from latents.

  Args:
    model: a built `DrawModel` without attention.
    z: `[n, num_steps, latent_dim]` latents.

  Returns:
    `[n, chunk_steps, num_pitches]` float32 probabilities.
  """
  cfg = model.config
  if cfg.attention:
    raise ValueError("decode_last is written for DRAW without attention")
  z = np.asarray(z, np.float32)
  if z.ndim != 3 or z.shape[1:] != (cfg.num_steps, cfg.latent_dim):
    raise ValueError(f"z must have shape [n, {cfg.num_steps}, {cfg.latent_dim}], got "
                     f"{z.shape}")
  logits = _decode_last_logits(tf.constant(np.transpose(z, (1, 0, 2))), model.dec_kernel,
                               model.dec_rec, model.dec_bias, model.write_kernel,
                               model.write_bias)
  return tf.sigmoid(tf.reshape(logits, [-1, cfg.chunk_steps, cfg.num_pitches])).numpy()


def encode(model, chunks):
  """Per-step posterior means of chunks (the step loop run with `eps = 0`).

  Args:
    model: a `DrawModel`.
    chunks: `[n, chunk_steps, num_pitches]` bool or float chunks.

  Returns:
    `[n, num_steps, latent_dim]` float32 means (`z` with zero noise).
  """
  cfg = model.config
  chunks = np.asarray(chunks, np.float32)
  if chunks.ndim != 3 or chunks.shape[1:] != (cfg.chunk_steps, cfg.num_pitches):
    raise ValueError(f"chunks must have shape [n, {cfg.chunk_steps}, {cfg.num_pitches}], "
                     f"got {chunks.shape}")
  eps = np.zeros((len(chunks), cfg.num_steps, cfg.latent_dim), np.float32)
  return model.forward(chunks, eps)["mu"].numpy()


def slerp(a, b, t):
  """Spherical interpolation of the last axis of `a` and `b` (`[..., d]`) at `t` in [0, 1].

  The direction turns along the great circle from `a` to `b` while the norm goes linearly
  from `|a|` to `|b|`; where either vector is 0 or they are (anti)parallel, the direction
  comes from `lerp` instead. `t = 0` gives `a`, `t = 1` gives `b`.
  """
  a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)
  na = np.linalg.norm(a, axis=-1, keepdims=True)
  nb = np.linalg.norm(b, axis=-1, keepdims=True)
  ua, ub = a / np.maximum(na, 1e-12), b / np.maximum(nb, 1e-12)
  omega = np.arccos(np.clip((ua * ub).sum(-1, keepdims=True), -1.0, 1.0))
  so = np.sin(omega)
  ok = (so > 1e-6) & (na > 1e-12) & (nb > 1e-12)
  safe = np.where(ok, so, 1.0)
  direction = np.where(ok, (np.sin((1 - t) * omega) * ua + np.sin(t * omega) * ub) / safe,
                       0.0)
  line = (1 - t) * a + t * b
  norm = (1 - t) * na + t * nb
  return np.where(ok, direction * norm, line)


def interpolate(z_from, z_to, num, method="slerp"):
  """`num` latents from `z_from` to `z_to` (both ends included), step by step.

  Args:
    z_from: `[num_steps, latent_dim]` code of the first piece.
    z_to: `[num_steps, latent_dim]` code of the last.
    num: points on the path, >= 2.
    method: 'slerp' (each step's vector on its own great circle) or 'lerp'.

  Returns:
    `[num, num_steps, latent_dim]` float32, `[0]` = `z_from` and `[-1]` = `z_to`.
  """
  if method not in METHODS:
    raise ValueError(f"method must be one of {METHODS}, got {method!r}")
  if isinstance(num, bool) or not isinstance(num, (int, np.integer)) or num < 2:
    raise ValueError(f"num must be an integer >= 2, got {num!r}")
  z_from, z_to = np.asarray(z_from, np.float64), np.asarray(z_to, np.float64)
  if z_from.shape != z_to.shape:
    raise ValueError(f"codes differ in shape: {z_from.shape} and {z_to.shape}")
  ts = np.linspace(0.0, 1.0, num)
  if method == "lerp":
    path = [(1 - t) * z_from + t * z_to for t in ts]
  else:
    path = [slerp(z_from, z_to, t) for t in ts]
  path[0], path[-1] = z_from, z_to
  return np.stack(path).astype(np.float32)
