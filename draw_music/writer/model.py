"""DRAW (Gregor et al. 2015) on piano-roll chunks: the Deep Recurrent Music Writer's model.

The model (DESIGN.md section 5). A chunk `x` is a `[chunk_steps, num_pitches]` piano roll,
flattened to `N = chunk_steps * num_pitches` cells. With `c[0] = 0` and every LSTM state zero
at the start of each minibatch, for `t = 1..num_steps`:

  xhat[t]  = x - sigmoid(c[t-1])
  h_enc[t] = LSTM_enc([x, xhat[t], h_dec[t-1]], h_enc[t-1])
  mu[t], log_sigma[t] = dense(h_enc[t])
  z[t]     = mu[t] + exp(log_sigma[t]) * eps[t],   eps[t] ~ N(0, I), fresh at every step
  h_dec[t] = LSTM_dec(z[t], h_dec[t-1])
  c[t]     = c[t-1] + dense_write(h_dec[t])

The output is `sigmoid(c[num_steps])`. The loss is, averaged over the batch,

  sum over cells of BCE(x, sigmoid(c[num_steps]))       (computed from the logits c)
  + sum over steps t and latent dims j of 0.5 * (mu^2 + sigma^2 - 2 log sigma - 1)[t, j]

(the `-1` is per latent dimension; some public DRAW ports put it once per step).

LSTMs: written out here, not `keras.layers.LSTM`, so that the encoder's input kernel can be
split into an `x` part, an `xhat` part and an `h_dec` part: `x @ W_x` does not change over the
steps, so it is computed once per batch instead of once per step (same maths; it halves the
encoder's input matmul, most of the model's work). Gate order `i, f, c, o`; the forget gate's bias starts at 1.0 (Keras's
`unit_forget_bias`); kernels are Glorot-uniform over the whole (unsplit) kernel, recurrent
kernels orthogonal, as in `keras.layers.LSTM`.

Speed. Without attention the step loop runs under a hand-written backward pass
(`tf.custom_gradient`): the same maths as automatic differentiation (a test checks it), but
the weight gradients of the big matmuls are formed once from all steps stacked
(`[num_steps * batch, N]^T @ [num_steps * batch, 4 * enc_units]`) instead of as `num_steps`
rank-`batch` products summed one by one. With `compute_dtype='bfloat16'` the big matmuls
of every step (xhat and write kernels, forward and backward) take bfloat16 operands; the
once-per-batch `x @ W_x` and its gradient stay float32 (cheaper than casting the 8.9 M-weight
kernel and its gradient), and so do the master weights, LSTM states, canvas, KL and loss.
Training uses `optim.FusedAdam`: Keras's Adam with a one-pass update.

Attention (`attention=True`, off by default, as in the paper): reads and writes through
Gaussian filterbanks (Gregor et al. 2015, eqs. 19-27) with separate grids for time and pitch
(rectangular patches `read_time x read_pitch` and `write_time x write_pitch`). The paper
does not give the patch sizes; the defaults (13 x 16) are this project's choice. Each
filterbank's five parameters `(g_time, g_pitch, log sigma^2, log delta, log gamma)` come from
a dense layer on `h_dec` (the previous step's for reading, the current step's for writing).
One `delta` is scaled per axis, `delta_axis = (size - 1) / (grid - 1) * delta`, so
`delta = 1` spans each whole axis; centres are in 0-based cell coordinates,
`g = (size - 1) / 2 * (g_tilde + 1)`.

Generation (`DrawModel.sample`) runs the decoder alone with `z[t] ~ N(0, I)` and keeps every
step's canvas; `binarize` is the paper's post-processing (min-max normalise, threshold).
"""

from __future__ import annotations

import dataclasses
import math

import keras
import numpy as np
import tensorflow as tf

from draw_music.writer import optim
from draw_music.writer import postprocess

COMPUTE_DTYPES = ("float32", "bfloat16")
# Where generation draws z (`DrawConfig.prior`).
PRIORS = ("standard", "fitted")
# The paper's post-processing (min-max normalise, threshold), pure NumPy.
binarize = postprocess.binarize
_ATTENTION_PARAMS = 5  # g_time, g_pitch, log sigma^2, log delta, log gamma


@dataclasses.dataclass(frozen=True)
class DrawConfig:
  """Hyperparameters of a DRAW music model and of its training.

  Attributes:
    chunk_steps: time steps per chunk (`L`; 104 = 13 beats of 8 steps).
    num_pitches: pitches per step (128 MIDI pitches).
    latent_dim: size of each step's latent vector (`#z`).
    num_steps: DRAW's sequential canvas updates (the paper's `T`, "glimpses").
    enc_units: units of the encoder LSTM.
    dec_units: units of the decoder LSTM.
    attention: read and write through Gaussian filterbanks (off in the paper).
    read_time: rows (time steps) of the read patch; used only with attention.
    read_pitch: columns (pitches) of the read patch; used only with attention.
    write_time: rows of the write patch; used only with attention.
    write_pitch: columns of the write patch; used only with attention.
    batch_size: chunks per minibatch (37 = one from each of the paper's 37 pieces).
    learning_rate: Adam's learning rate.
    lr_half_life: steps over which the learning rate halves, smoothly (`optim.for_config`;
      0: constant, as in the paper). Beyond the paper.
    lr_decay_start: steps at the constant learning rate before it starts halving (only
      with `lr_half_life`; 0: it halves from the first step). Beyond the paper.
    beta_1: Adam's beta_1.
    beta_2: Adam's beta_2.
    alpha: binarisation threshold after min-max normalisation (0.25: the paper's best
      median distance, Fig. 5).
    compute_dtype: 'float32', or 'bfloat16' for the big matmuls' operands (no attention).
    offset_grid: 0 trains on the paper's non-overlapping chunks; `g > 0` on windows of
      whole pieces starting on every multiple of `g` steps (`pipeline.windows`; 8 = every
      beat). Beyond the paper.
    transpose: each training window is transposed by a shift drawn uniformly from
      `-transpose..transpose` semitones (0: none; needs `offset_grid > 0`). Beyond the paper.
    decoder: how a canvas becomes notes: 'paper' (min-max normalise, threshold at `alpha`)
      or 'notes' (`postprocess.to_rolls`: hysteresis with `hold` and `min_note_steps`, each
      piece's threshold set so it has the number of active cells `density` asks for).
      Beyond the paper.
    hold: the 'notes' decoder holds a note while its value stays above `hold` times the
      onset threshold.
    min_note_steps: the 'notes' decoder drops notes shorter than this many steps.
    bridge_steps: the 'notes' decoder joins two notes of one pitch across a gap of at most
      this many steps in which no other note starts (`postprocess.bridge_gaps`; 0: never).
    grid_steps: the 'notes' decoder writes notes on a grid of this many steps (1: every
      step; 2: sixteenth notes). Must divide `chunk_steps`.
    density: the 'notes' decoder's active cells per piece: 'model' (the model's own
      expectation) or 'corpus' (the training corpus's distribution, ranked as the model
      ranks its pieces: `postprocess.density_targets`).
    durations: the 'notes' decoder's note lengths: 'model' (every piece held at `hold`) or
      'corpus' (each piece held at the level of `postprocess.DURATION_HOLDS` that gives its
      notes the corpus's mean length of the same rank, `postprocess.length_targets`; the
      ranking reads the piece decoded at `hold`).
    odd_onsets: the 'notes' decoder's onsets off its grid: 'none' (every onset on the grid)
      or 'corpus' (`postprocess.place_odd_onsets`: onset steps moved one step off the grid
      where the canvas rises there, each piece's share of them from the training corpus's
      distribution, ranked as the model ranks its pieces). Needs an even `grid_steps`.
    pitch_peaks: the 'notes' decoder reads only the canvas's peaks along pitch
      (`postprocess.pitch_peaks`): of two neighbouring semitones at one step, the less likely
      is read as 0 (real piano rolls almost never sound both; a canvas unsure between them
      gives both). The decoded pieces keep a few such pairs, from the sixteenth-note grid,
      held notes and moved onsets.
    prior: where generation draws each piece's code `z`: 'standard' (N(0, I), the
      paper's) or 'fitted' (a Gaussian fitted at the end of training to the codes the
      encoder gives the training chunks, `latent.fit_prior`, kept in the training folder
      for the step it was fitted at). Beyond the paper.
    temperature: generation scales the prior's noise by this: `z = temperature * e`
      from N(0, I), `z = mean + temperature * chol e` from a fitted prior (1: the prior
      itself, as in the paper; below 1: codes nearer the prior's mean). Training and the
      fitted prior's fit never use it. Beyond the paper.
    holdout: share of the chunks held out, as whole pieces, to choose the checkpoint on
      (`selection`; 0: none, every piece is trained on, as in the paper). Beyond the paper.
    select_every: steps between two scores of checkpoint selection (0: no selection, the
      last checkpoint is the model); needs `holdout > 0` and the other way round.
    select_pieces: pieces generated per checkpoint selection score.
  """
  chunk_steps: int = 104
  num_pitches: int = 128
  latent_dim: int = 22
  num_steps: int = 23
  enc_units: int = 167
  dec_units: int = 167
  attention: bool = False
  read_time: int = 13
  read_pitch: int = 16
  write_time: int = 13
  write_pitch: int = 16
  batch_size: int = 37
  learning_rate: float = 1e-3
  lr_half_life: int = 0
  lr_decay_start: int = 0
  beta_1: float = 0.9
  beta_2: float = 0.999
  alpha: float = 0.25
  compute_dtype: str = "float32"
  offset_grid: int = 0
  transpose: int = 0
  decoder: str = "paper"
  hold: float = 0.5
  min_note_steps: int = 2
  bridge_steps: int = 0
  grid_steps: int = 1
  density: str = "model"
  durations: str = "model"
  odd_onsets: str = "none"
  pitch_peaks: bool = False
  prior: str = "standard"
  temperature: float = 1.0
  holdout: float = 0.0
  select_every: int = 0
  select_pieces: int = 500

  def __post_init__(self):
    for name in ("chunk_steps", "num_pitches", "latent_dim", "num_steps", "enc_units",
                 "dec_units", "read_time", "read_pitch", "write_time", "write_pitch",
                 "batch_size", "min_note_steps"):
      value = getattr(self, name)
      if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
        raise ValueError(f"{name} must be a positive integer, got {value!r}")
    if not isinstance(self.attention, (bool, np.bool_)):
      raise ValueError(f"attention must be a bool, got {self.attention!r}")
    if self.attention:
      for grid, size_name in (("read_time", "chunk_steps"), ("write_time", "chunk_steps"),
                              ("read_pitch", "num_pitches"), ("write_pitch", "num_pitches")):
        if getattr(self, grid) > getattr(self, size_name):
          raise ValueError(f"{grid} ({getattr(self, grid)}) must not exceed {size_name} "
                           f"({getattr(self, size_name)})")
    if not (isinstance(self.learning_rate, (int, float)) and self.learning_rate > 0):
      raise ValueError(f"learning_rate must be a positive number, got {self.learning_rate!r}")
    for name in ("beta_1", "beta_2"):
      value = getattr(self, name)
      if not (isinstance(value, (int, float)) and 0 <= value < 1):
        raise ValueError(f"{name} must be in [0, 1), got {value!r}")
    if not (isinstance(self.alpha, (int, float)) and 0 <= self.alpha <= 1):
      raise ValueError(f"alpha must be in [0, 1], got {self.alpha!r}")
    if self.compute_dtype not in COMPUTE_DTYPES:
      raise ValueError(f"compute_dtype must be one of {COMPUTE_DTYPES}, got "
                       f"{self.compute_dtype!r}")
    if self.attention and self.compute_dtype != "float32":
      raise ValueError("compute_dtype='bfloat16' is only implemented without attention")
    for name in ("offset_grid", "transpose", "bridge_steps", "lr_half_life",
                 "lr_decay_start"):
      value = getattr(self, name)
      if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 0:
        raise ValueError(f"{name} must be a non-negative integer, got {value!r}")
    if self.transpose and not self.offset_grid:
      raise ValueError("transpose needs offset_grid > 0 (it applies to training windows)")
    if self.decoder not in postprocess.DECODERS:
      raise ValueError(f"decoder must be one of {postprocess.DECODERS}, got "
                       f"{self.decoder!r}")
    if isinstance(self.grid_steps, bool) or not isinstance(self.grid_steps, (int, np.integer)) \
        or self.grid_steps < 1 or self.chunk_steps % self.grid_steps:
      raise ValueError(f"grid_steps must be a positive divisor of chunk_steps "
                       f"({self.chunk_steps}), got {self.grid_steps!r}")
    if self.density not in ("model", "corpus"):
      raise ValueError(f"density must be 'model' or 'corpus', got {self.density!r}")
    if self.durations not in ("model", "corpus"):
      raise ValueError(f"durations must be 'model' or 'corpus', got {self.durations!r}")
    if self.durations == "corpus" and self.decoder != "notes":
      raise ValueError("durations='corpus' chooses the note decoder's hold level: it needs "
                       f"decoder='notes', got decoder={self.decoder!r}")
    if self.odd_onsets not in ("none", "corpus"):
      raise ValueError(f"odd_onsets must be 'none' or 'corpus', got {self.odd_onsets!r}")
    if self.odd_onsets == "corpus" and (self.decoder != "notes" or self.grid_steps % 2):
      raise ValueError("odd_onsets='corpus' moves onsets off the note decoder's grid: it needs "
                       f"decoder='notes' and an even grid_steps, got decoder={self.decoder!r}, "
                       f"grid_steps={self.grid_steps!r}")
    if not isinstance(self.pitch_peaks, (bool, np.bool_)):
      raise ValueError(f"pitch_peaks must be a bool, got {self.pitch_peaks!r}")
    if self.pitch_peaks and self.decoder != "notes":
      raise ValueError("pitch_peaks=True reads the canvas for the note decoder: it needs "
                       f"decoder='notes', got decoder={self.decoder!r}")
    if self.prior not in PRIORS:
      raise ValueError(f"prior must be one of {PRIORS}, got {self.prior!r}")
    if self.prior == "fitted" and self.holdout:
      raise ValueError("prior='fitted' is fitted to the final weights, and checkpoint "
                       "selection (holdout > 0) scores checkpoints on pieces drawn from "
                       "N(0, I): use one or the other")
    if isinstance(self.temperature, bool) or not isinstance(self.temperature, (int, float)) \
        or not 0 < self.temperature < float("inf"):
      raise ValueError(f"temperature must be a positive number, got {self.temperature!r}")
    if self.temperature != 1 and self.holdout:
      raise ValueError("temperature scales the codes of generated pieces, and checkpoint "
                       "selection (holdout > 0) scores checkpoints on pieces drawn at "
                       "temperature 1: use one or the other")
    if not (isinstance(self.hold, (int, float)) and 0 < self.hold <= 1):
      raise ValueError(f"hold must be in (0, 1], got {self.hold!r}")
    if not (isinstance(self.holdout, (int, float)) and 0 <= self.holdout < 1):
      raise ValueError(f"holdout must be in [0, 1), got {self.holdout!r}")
    if isinstance(self.select_every, bool) or not isinstance(self.select_every, (int, np.integer)) \
        or self.select_every < 0:
      raise ValueError(f"select_every must be a non-negative integer, got {self.select_every!r}")
    if bool(self.holdout) != bool(self.select_every):
      raise ValueError(f"holdout ({self.holdout!r}) and select_every ({self.select_every!r}) go "
                       "together: held-out pieces are only there to choose the checkpoint on")
    if isinstance(self.select_pieces, bool) or not isinstance(
        self.select_pieces, (int, np.integer)) or self.select_pieces < 2:
      raise ValueError(f"select_pieces must be an integer >= 2, got {self.select_pieces!r}")

  @property
  def num_cells(self):
    """Cells per chunk, `chunk_steps * num_pitches`."""
    return self.chunk_steps * self.num_pitches


def cpu_has_bf16_matmuls():
  """Whether this CPU multiplies bfloat16 matrices natively (AMX or AVX-512 BF16).

  Reads the Linux CPU flags (`/proc/cpuinfo`); False where they cannot be read. On such a
  CPU the bfloat16 path is about 1.5x faster a step with the same loss (BENCHMARKS.md); on
  others bfloat16 is emulated and slower than float32.
  """
  try:
    with open("/proc/cpuinfo", encoding="ascii", errors="replace") as f:
      flags = set(f.read().split())
  except OSError:
    return False
  return bool({"amx_bf16", "avx512_bf16"} & flags)


# The `writer` recipe (beyond the paper; the README's "The writer" says what each part does
# and BENCHMARKS.md measures it): the paper's architecture and chunks, Adam at the paper's
# rate for 2,500 steps (about 10 minutes on BENCHMARKS.md's Intel machine) and then halving every 1,000 (`lr_half_life`,
# `lr_decay_start`: at the constant rate the pieces got worse between 10 and 30 minutes on 3
# seeds; halving from the start cost quality at 5 minutes), the big matmuls in bfloat16
# where the CPU has them (more steps a minute), and its canvases decoded
# into notes on the sixteenth-note grid: each piece as dense as the corpus's chunk of the same
# rank, notes held through dips at the level that gives each piece the corpus's mean note
# length of the same rank (`durations`), no blips shorter than a sixteenth,
# re-strikes across gaps of up to 4 steps joined where nothing else starts, and onset steps
# moved one step off the grid where the canvas rises there, as often as the corpus has such
# onsets (`odd_onsets`; measured on 3 seeds, BENCHMARKS.md), and of two neighbouring
# semitones sounding at one step only the more likely (`pitch_peaks`: the canvases' pitch
# blur gave semitone clusters that real piano rolls almost never have); and each piece's
# code is drawn from a Gaussian fitted to the codes the encoder gives the training chunks
# instead of N(0, I) (`prior`: at 30 minutes it brought the `extended` Fréchet distance of
# 3 seeds from 4.77, 4.66, 4.73 to 4.49, 4.52, 4.63, under the bound of 4.75, and of a
# fourth from 5.24 to 5.02, still over it; at 5 and 10 minutes it helps some seeds and not
# others, BENCHMARKS.md), at a temperature of 0.7 (`temperature`: the fitted prior's noise
# scaled by 0.7; on the four 30-minute models above, five draws each, it brought the
# `extended` medians from 4.66, 4.64, 4.51, 4.80 to 4.59, 4.52, 4.57, 4.56, and 18 of 20
# draws under the bound against 13; chosen there, then checked on three seeds trained
# afterwards: at 30 minutes 4.37, 4.68, 4.72, under the bound, against 4.61, 4.92, 4.52 at
# temperature 1; BENCHMARKS.md). Windows on every
# beat and transposition (`offset_grid`, `transpose`) are options, not part of it: in first
# trials at the steps 10 minutes buy they made the pieces worse (README, "The writer"); so
# is checkpoint selection on held-out pieces (`holdout`, `select_every`): measured on 3
# seeds it kept the pieces from getting worse past 10 minutes but, trained on 15% fewer
# chunks, lost the 10-minute bound (README, "The writer"; BENCHMARKS.md).
WRITER = DrawConfig(lr_half_life=1000, lr_decay_start=2500, decoder="notes", hold=0.6,
                    min_note_steps=2, bridge_steps=4,
                    grid_steps=2, density="corpus", durations="corpus", odd_onsets="corpus",
                    pitch_peaks=True, prior="fitted", temperature=0.7,
                    compute_dtype="bfloat16" if cpu_has_bf16_matmuls() else "float32")

CONFIGS = {
    "baseline": DrawConfig(),
    "writer": WRITER,
    "baseline_bf16": DrawConfig(compute_dtype="bfloat16"),
    "tiny": DrawConfig(chunk_steps=16, latent_dim=3, num_steps=3, enc_units=8, dec_units=8,
                       batch_size=4),
}


def get_config(name):
  """The registered `DrawConfig` called `name` (see `CONFIGS`)."""
  if name not in CONFIGS:
    raise ValueError(f"unknown config {name!r}; expected one of {sorted(CONFIGS)}")
  return CONFIGS[name]


# ---------------------------------------------------------------------------------------------
# Pure functions.


def kl_divergence(mu, log_sigma):
  """KL[N(mu, sigma^2) || N(0, I)] summed over the last (latent) axis.

  `0.5 * sum_j (mu_j^2 + sigma_j^2 - 2 log sigma_j - 1)`: the `-1` is per latent dimension.

  Args:
    mu: `[..., latent_dim]` float32 means.
    log_sigma: `[..., latent_dim]` float32 log standard deviations.

  Returns:
    `[...]` float32 divergences (per step when the input is `[batch, num_steps, latent]`).
  """
  mu = tf.convert_to_tensor(mu, tf.float32)
  log_sigma = tf.convert_to_tensor(log_sigma, tf.float32)
  return 0.5 * tf.reduce_sum(
      tf.square(mu) + tf.exp(2.0 * log_sigma) - 2.0 * log_sigma - 1.0, axis=-1)


def filterbank(center, log_delta, log_sigma2, grid_size, image_size, epsilon=1e-8):
  """Gaussian filterbank along one axis (Gregor et al. 2015, eqs. 19-21, 25-26).

  Filter `i` (0-based) is centred at `center + (i - (grid_size - 1) / 2) * delta`, in 0-based
  cell coordinates; `F[b, i, a] = exp(-(a - mu_i)^2 / (2 sigma^2))`, each row normalised to
  sum 1 (divided by `max(row sum, epsilon)`, so a row far outside the image is ~0, not NaN).

  Args:
    center: `[batch]` float32 grid centre `g`.
    log_delta: `[batch]` float32 log of the stride `delta` between filters (in cells).
    log_sigma2: `[batch]` float32 log of the filters' variance.
    grid_size: number of filters `N`.
    image_size: number of cells `A` along the axis.
    epsilon: guard of the normalisation.

  Returns:
    `[batch, grid_size, image_size]` float32 filterbank.
  """
  center = tf.convert_to_tensor(center, tf.float32)[:, None, None]
  delta = tf.exp(tf.convert_to_tensor(log_delta, tf.float32))[:, None, None]
  sigma2 = tf.exp(tf.convert_to_tensor(log_sigma2, tf.float32))[:, None, None]
  grid = tf.range(grid_size, dtype=tf.float32)[None, :, None] - (grid_size - 1) / 2.0
  means = center + grid * delta  # [batch, N, 1]
  cells = tf.range(image_size, dtype=tf.float32)[None, None, :]
  filters = tf.exp(-tf.square(cells - means) / (2.0 * sigma2))
  return filters / tf.maximum(tf.reduce_sum(filters, axis=-1, keepdims=True), epsilon)


def read_patch(image, f_time, f_pitch, gamma):
  """Reads a patch: `gamma * F_time @ image @ F_pitch^T` (Gregor et al. eq. 27).

  Args:
    image: `[batch, time, pitch]` float32.
    f_time: `[batch, grid_time, time]` float32 filterbank.
    f_pitch: `[batch, grid_pitch, pitch]` float32 filterbank.
    gamma: `[batch]` float32 intensity.

  Returns:
    `[batch, grid_time, grid_pitch]` float32 patch.
  """
  patch = tf.matmul(tf.matmul(f_time, image), f_pitch, transpose_b=True)
  return gamma[:, None, None] * patch


def write_patch(patch, f_time, f_pitch, gamma):
  """Writes a patch: `F_time^T @ patch @ F_pitch / gamma` (Gregor et al. eq. 29).

  Args:
    patch: `[batch, grid_time, grid_pitch]` float32.
    f_time: `[batch, grid_time, time]` float32 filterbank.
    f_pitch: `[batch, grid_pitch, pitch]` float32 filterbank.
    gamma: `[batch]` float32 intensity.

  Returns:
    `[batch, time, pitch]` float32 image.
  """
  image = tf.matmul(tf.matmul(f_time, patch, transpose_a=True), f_pitch)
  return image / gamma[:, None, None]


# ---------------------------------------------------------------------------------------------
# The LSTM maths, forward and backward.


def _lstm(gates, cell):
  """One LSTM update from pre-activations `gates` `[batch, 4u]` (order i, f, c, o)."""
  i, f, g, o = tf.split(gates, 4, axis=-1)
  i, f, g, o = tf.sigmoid(i), tf.sigmoid(f), tf.tanh(g), tf.sigmoid(o)
  cell = f * cell + i * g
  tanh_cell = tf.tanh(cell)
  return o * tanh_cell, cell, (i, f, g, o, tanh_cell)


def _lstm_backward(d_h, d_cell, acts, prev_cell):
  """Gradients of one `_lstm` update.

  Args:
    d_h: `[batch, u]` gradient w.r.t. the new hidden state.
    d_cell: `[batch, u]` gradient w.r.t. the new cell state from later steps.
    acts: the `(i, f, g, o, tanh(cell))` activations saved by `_lstm`.
    prev_cell: `[batch, u]` previous cell state.

  Returns:
    `(d_gates [batch, 4u], d_prev_cell [batch, u])`.
  """
  i, f, g, o, tanh_cell = acts
  d_o = d_h * tanh_cell
  d_c = d_cell + d_h * o * (1.0 - tf.square(tanh_cell))
  d_gates = tf.concat([d_c * g * i * (1.0 - i), d_c * prev_cell * f * (1.0 - f),
                       d_c * i * (1.0 - tf.square(g)), d_o * o * (1.0 - o)], axis=-1)
  return d_gates, d_c * f


def _draw_core(x, eps, weights, compute_dtype):
  """The no-attention step loop with its hand-written backward pass.

  What it does to stream less memory than automatic differentiation would (each measured
  by benchmarks/bench_profile.py):
  - the encoder's `x` term, `x @ W_x` (once per batch), and its weight gradient
    `x^T @ sum_t d_gates[t]` are float32 matmuls whatever `compute_dtype` is: with 37 rows
    they are cheap, and they save casting the 8.9 M-weight `W_x` to bfloat16 and its
    gradient back at every step;
  - the write bias's gradient comes out of the write kernel's gradient matmul, as one more
    row (`[h_dec, 1]^T @ d_canvas`), instead of a separate sum over every step's canvas
    gradient;
  - each step's canvas gradient is kept in `compute_dtype` (the copy that the step's
    `d_h_dec` matmul needs anyway), so the weight gradient stacks them without casting
    all of them again;
  - the two per-step backward products read transposed copies made once per batch:
    `d_gates @ W_xhat^T` in both types (no transposed output at each step), and in float32
    `d_canvas @ W_write^T`; in bfloat16 the write's is `(W_write @ d_canvas^T)^T`, faster
    there. In float32 each copy goes through a `Snapshot`: without it grappler folds the
    transpose back into each product as `transpose_b`, which oneDNN runs 2-4x slower in
    float32 (`bench_matmul_layouts`); measured with `bench_profile --old_commit`, the float32
    forward + backward went from 535 to 430 ms on a 2-core AMD EPYC;
  - in bfloat16 the encoder's forward product is `(W_xhat^T @ xhat^T)^T`, reading the same
    kept `W_xhat^T` (one cast copy of the 8.9 M-weight kernel a batch instead of two), with
    a `Snapshot` on the kept copy and on the product's `[4 enc, batch]` output: without them
    grappler folds both transposes into the product and oneDNN multiplies that form as slowly
    as `xhat @ W_xhat`. Measured with `bench_profile` on a 2-core AMD EPYC, the bfloat16
    forward went to 0.86 of dd36dcb's (from 0.95 to 1.03 before) and the whole step to 0.82
    (from 0.85 to 0.88). In float32 it stays `xhat @ W_xhat`, the faster layout there
    (`bench_matmul_layouts`);
  - the weight-gradient products run one after the other, `xhat`'s first, then the write's,
    then the small ones (control dependencies): TensorFlow starts every op whose inputs are
    ready, and side by side they shared the two cores and each took longer than alone (a
    profiler trace per op shows it; `bench_profile` measures the step before and after).

  Args:
    x: `[batch, N]` float32 flattened chunks.
    eps: `[num_steps, batch, latent_dim]` float32 noise.
    weights: float32 tensors `(enc_x, enc_xhat, enc_hdec, enc_rec, enc_bias, latent_kernel,
      latent_bias, dec_kernel, dec_rec, dec_bias, write_kernel, write_bias)`.
    compute_dtype: `tf.float32` or `tf.bfloat16`, operand type of the big matmuls (all
      but the `x` term's).

  Returns:
    `(logits [batch, N], mu [num_steps, batch, latent], log_sigma [same])`, float32.
    Gradients flow to the weights only: none to `x` or `eps` (use
    `DrawModel.forward(..., fast=False)` for those).
  """

  @tf.custom_gradient
  def core(x, eps, enc_x, enc_xhat, enc_hdec, enc_rec, enc_bias, lat_w, lat_b, dec_w, dec_rec,
           dec_b, write_w, write_b):
    num_steps = eps.shape[0]
    latent = eps.shape[-1]
    batch = tf.shape(x)[0]
    enc_units = enc_rec.shape[0]
    dec_units = dec_rec.shape[0]
    low = compute_dtype != tf.float32
    cast = (lambda t: tf.cast(t, compute_dtype)) if low else (lambda t: t)
    back = (lambda t: tf.cast(t, tf.float32)) if low else (lambda t: t)
    # In bfloat16, W_xhat^T in the compute type, made once per batch and read by the
    # forward and backward products alike (see the docstring).
    enc_xhat_t = tf.raw_ops.Snapshot(input=cast(tf.transpose(enc_xhat))) if low else None
    write_w_c = cast(write_w)  # [dec, N]
    enc_hr = tf.concat([enc_hdec, enc_rec], axis=0)  # [dec + enc, 4 enc]
    x_gates = tf.matmul(x, enc_x) + enc_bias  # once per batch, float32

    canvas = tf.zeros_like(x)
    h_enc = tf.zeros([batch, enc_units])
    c_enc = tf.zeros([batch, enc_units])
    h_dec = tf.zeros([batch, dec_units])
    c_dec = tf.zeros([batch, dec_units])
    saved = []
    mus, log_sigmas = [], []
    for t in range(num_steps):
      probs = tf.sigmoid(canvas)
      xhat = cast(x - probs)
      hr = tf.concat([h_dec, h_enc], axis=-1)
      if low:  # (W_xhat^T @ xhat^T)^T; the Snapshot keeps grappler from folding it back
        xhat_w = tf.transpose(tf.raw_ops.Snapshot(
            input=back(tf.matmul(enc_xhat_t, xhat, transpose_b=True))))
      else:
        xhat_w = tf.matmul(xhat, enc_xhat)
      gates = x_gates + xhat_w + tf.matmul(hr, enc_hr)
      prev_c_enc = c_enc
      h_enc, c_enc, enc_acts = _lstm(gates, c_enc)
      stats = tf.matmul(h_enc, lat_w) + lat_b
      mu, log_sigma = stats[:, :latent], stats[:, latent:]
      sigma = tf.exp(log_sigma)
      z = mu + sigma * eps[t]
      prev_h_dec, prev_c_dec = h_dec, c_dec
      h_dec, c_dec, dec_acts = _lstm(
          tf.matmul(z, dec_w) + tf.matmul(prev_h_dec, dec_rec) + dec_b, c_dec)
      h_dec_c = cast(h_dec)
      canvas = canvas + tf.nn.bias_add(back(tf.matmul(h_dec_c, write_w_c)), write_b)
      saved.append(dict(probs=probs, xhat=xhat, hr=hr, enc_acts=enc_acts,
                        prev_c_enc=prev_c_enc, h_enc=h_enc, sigma=sigma, z=z,
                        prev_h_dec=prev_h_dec, prev_c_dec=prev_c_dec, dec_acts=dec_acts,
                        h_dec=h_dec_c))
      mus.append(mu)
      log_sigmas.append(log_sigma)

    def grad_fn(d_logits, d_mu, d_log_sigma):
      if d_mu is None:
        d_mu = tf.zeros([num_steps, batch, latent])
      if d_log_sigma is None:
        d_log_sigma = tf.zeros([num_steps, batch, latent])
      d_canvas = d_logits if d_logits is not None else tf.zeros_like(x)
      d_h_enc = tf.zeros([batch, enc_units])
      d_c_enc = tf.zeros([batch, enc_units])
      d_h_dec = tf.zeros([batch, dec_units])
      d_c_dec = tf.zeros([batch, dec_units])
      # Transposed copies, made once per batch (in bfloat16 the forward's). In float32 a
      # `Snapshot` keeps grappler from folding the transpose back into every step's product
      # as `transpose_b`, which oneDNN multiplies 2-4x slower
      # (benchmarks/bench_matmul_layouts.py).
      write_w_t = None if low else tf.raw_ops.Snapshot(input=tf.transpose(write_w))
      xhat_kernel_t = (enc_xhat_t if low
                       else tf.raw_ops.Snapshot(input=tf.transpose(enc_xhat)))  # [4 enc, N]
      d_canvases, d_enc_gates, d_dec_gates, d_stats = [], [], [], []
      for t in reversed(range(num_steps)):
        s = saved[t]
        d_canvas_c = cast(d_canvas)
        d_canvases.append(d_canvas_c)
        if low:  # (W_write @ d_canvas^T)^T
          d_h_dec = d_h_dec + tf.transpose(back(tf.matmul(write_w_c, d_canvas_c,
                                                          transpose_b=True)))
        else:
          d_h_dec = d_h_dec + tf.matmul(d_canvas, write_w_t)
        d_dec, d_c_dec = _lstm_backward(d_h_dec, d_c_dec, s["dec_acts"], s["prev_c_dec"])
        d_dec_gates.append(d_dec)
        d_z = tf.matmul(d_dec, dec_w, transpose_b=True)
        d_h_dec = tf.matmul(d_dec, dec_rec, transpose_b=True)
        d_stat = tf.concat([d_mu[t] + d_z, d_log_sigma[t] + d_z * s["sigma"] * eps[t]], -1)
        d_stats.append(d_stat)
        d_h_enc = d_h_enc + tf.matmul(d_stat, lat_w, transpose_b=True)
        d_enc, d_c_enc = _lstm_backward(d_h_enc, d_c_enc, s["enc_acts"], s["prev_c_enc"])
        d_enc_gates.append(d_enc)
        d_hr = tf.matmul(d_enc, enc_hr, transpose_b=True)
        d_h_dec = d_h_dec + d_hr[:, :dec_units]
        d_h_enc = d_hr[:, dec_units:]
        if t > 0:  # c[0] is a constant: no gradient to pass on
          d_xhat = back(tf.matmul(cast(d_enc), xhat_kernel_t))  # [batch, N]
          d_canvas = d_canvas - tf.raw_ops.SigmoidGrad(y=s["probs"], dy=d_xhat)
      # Weight gradients, each from all steps at once (rows ordered t = 0..num_steps-1).
      stack = lambda items: tf.concat(items[::-1], axis=0)
      d_enc_all = stack(d_enc_gates)  # [steps * batch, 4 enc]
      d_dec_all = stack(d_dec_gates)
      d_stat_all = stack(d_stats)
      d_canvas_all = stack(d_canvases)  # [steps * batch, N], compute dtype
      rows = lambda key: tf.concat([s[key] for s in saved], axis=0)
      # One product at a time, the largest first (see the docstring).
      d_enc_xhat = back(tf.matmul(rows("xhat"), cast(d_enc_all), transpose_a=True))
      with tf.control_dependencies([d_enc_xhat]):
        # [h_dec, 1]^T @ d_canvas: the kernel's gradient and, as its last row, the bias's.
        h_dec_rows = rows("h_dec")
        ones = tf.ones([tf.shape(h_dec_rows)[0], 1], h_dec_rows.dtype)
        d_write = back(tf.matmul(tf.concat([h_dec_rows, ones], axis=1), d_canvas_all,
                                 transpose_a=True))
      with tf.control_dependencies([d_write]):
        d_enc_x = tf.matmul(x, tf.add_n(d_enc_gates), transpose_a=True)
        d_enc_hr = tf.matmul(rows("hr"), d_enc_all, transpose_a=True)
        d_lat_w = tf.matmul(rows("h_enc"), d_stat_all, transpose_a=True)
        d_dec_w = tf.matmul(rows("z"), d_dec_all, transpose_a=True)
        d_dec_rec = tf.matmul(rows("prev_h_dec"), d_dec_all, transpose_a=True)
      d_enc_bias = tf.reduce_sum(d_enc_all, axis=0)
      d_lat_b = tf.reduce_sum(d_stat_all, axis=0)
      d_dec_b = tf.reduce_sum(d_dec_all, axis=0)
      d_write_w, d_write_b = d_write[:dec_units], d_write[dec_units]
      return (None, None, d_enc_x, d_enc_xhat, d_enc_hr[:dec_units], d_enc_hr[dec_units:],
              d_enc_bias, d_lat_w, d_lat_b, d_dec_w, d_dec_rec, d_dec_b, d_write_w, d_write_b)

    return (canvas, tf.stack(mus), tf.stack(log_sigmas)), grad_fn

  return core(x, eps, *weights)


# ---------------------------------------------------------------------------------------------
# The model.


def _glorot_limit(fan_in, fan_out):
  return math.sqrt(6.0 / (fan_in + fan_out))


@keras.saving.register_keras_serializable(package="draw_music")
class DrawModel(keras.Model):
  """DRAW for piano-roll chunks, with its training and generation.

  Inputs are `[batch, chunk_steps, num_pitches]` chunks (bool or float; cast to float32).
  `call` returns the reconstruction `sigmoid(c[num_steps])`; `train_step` / `test_step`
  report `loss`, `reconstruction` and `kl` (batch means). The noise comes from a
  `keras.random.SeedGenerator` (seeded by `seed`), so a run is reproducible; pass `eps` to
  `call` / `forward` / `losses` to fix it.

  Args:
    config: a `DrawConfig` (default: `DrawConfig()`, the paper's baseline).
    seed: seed of the training noise (None: a random one).
    **kwargs: `DrawConfig` fields (override `config`; this is how `from_config` rebuilds the
      model), then `keras.Model` arguments (`name`, ...).
  """

  def __init__(self, config=None, seed=None, **kwargs):
    fields = {f.name for f in dataclasses.fields(DrawConfig)}
    overrides = {k: kwargs.pop(k) for k in list(kwargs) if k in fields}
    config = config if config is not None else DrawConfig()
    if isinstance(config, dict):
      config = DrawConfig(**config)
    if not isinstance(config, DrawConfig):
      raise ValueError(f"config must be a DrawConfig, got {type(config).__name__}")
    kwargs.setdefault("name", "draw")
    super().__init__(**kwargs)
    self.config = dataclasses.replace(config, **overrides)
    self.seed = seed
    self._noise = keras.random.SeedGenerator(seed, name="noise_seed")
    self.loss_tracker = keras.metrics.Mean(name="loss")
    self.reconstruction_tracker = keras.metrics.Mean(name="reconstruction")
    self.kl_tracker = keras.metrics.Mean(name="kl")
    self._sample_fn = None
    self._zero_bias = None  # see _decode_canvases
    self.latent_prior = None  # see set_latent_prior

  # ------------------------------------------------------------------------------ weights

  def build(self, input_shape=None):
    if self.built:
      return
    cfg = self.config
    n, e, d, zdim = cfg.num_cells, cfg.enc_units, cfg.dec_units, cfg.latent_dim
    if cfg.attention:
      enc_in = 2 * cfg.read_time * cfg.read_pitch
      write_out = cfg.write_time * cfg.write_pitch
    else:
      enc_in, write_out = n, n

    def uniform(limit):
      return keras.initializers.RandomUniform(-limit, limit)

    enc_limit = _glorot_limit(2 * enc_in + d if not cfg.attention else enc_in + d, 4 * e)
    add = self.add_weight
    if cfg.attention:
      self.enc_x = add((enc_in, 4 * e), uniform(enc_limit), name="enc_kernel_read")
      self.enc_xhat = None
    else:
      self.enc_x = add((n, 4 * e), uniform(enc_limit), name="enc_kernel_x")
      self.enc_xhat = add((n, 4 * e), uniform(enc_limit), name="enc_kernel_xhat")
    self.enc_hdec = add((d, 4 * e), uniform(enc_limit), name="enc_kernel_hdec")
    self.enc_rec = add((e, 4 * e), "orthogonal", name="enc_recurrent_kernel")
    self.enc_bias = add((4 * e,), _forget_bias(e), name="enc_bias")
    self.latent_kernel = add((e, 2 * zdim), "glorot_uniform", name="latent_kernel")
    self.latent_bias = add((2 * zdim,), "zeros", name="latent_bias")
    self.dec_kernel = add((zdim, 4 * d), "glorot_uniform", name="dec_kernel")
    self.dec_rec = add((d, 4 * d), "orthogonal", name="dec_recurrent_kernel")
    self.dec_bias = add((4 * d,), _forget_bias(d), name="dec_bias")
    self.write_kernel = add((d, write_out), "glorot_uniform", name="write_kernel")
    self.write_bias = add((write_out,), "zeros", name="write_bias")
    if cfg.attention:
      self.read_att_kernel = add((d, _ATTENTION_PARAMS), "glorot_uniform",
                                 name="read_attention_kernel")
      self.read_att_bias = add((_ATTENTION_PARAMS,), "zeros", name="read_attention_bias")
      self.write_att_kernel = add((d, _ATTENTION_PARAMS), "glorot_uniform",
                                  name="write_attention_kernel")
      self.write_att_bias = add((_ATTENTION_PARAMS,), "zeros", name="write_attention_bias")
    self.built = True

  def _core_weights(self):
    return (self.enc_x, self.enc_xhat, self.enc_hdec, self.enc_rec, self.enc_bias,
            self.latent_kernel, self.latent_bias, self.dec_kernel, self.dec_rec,
            self.dec_bias, self.write_kernel, self.write_bias)

  # ------------------------------------------------------------------------------ forward

  def _prepare(self, x, eps):
    """Flattens `x` to `[batch, N]` float32 and returns `eps` as `[steps, batch, latent]`."""
    if not self.built:
      self.build()
    cfg = self.config
    x = tf.reshape(tf.cast(x, tf.float32), [-1, cfg.num_cells])
    batch = tf.shape(x)[0]
    if eps is None:
      eps = keras.random.normal((cfg.num_steps, batch, cfg.latent_dim), seed=self._noise)
    else:
      eps = tf.transpose(tf.cast(eps, tf.float32), [1, 0, 2])
    return x, eps

  def forward(self, x, eps=None, fast=True):
    """Runs the step loop.

    Args:
      x: `[batch, chunk_steps, num_pitches]` chunks.
      eps: optional `[batch, num_steps, latent_dim]` float32 noise (default: fresh
        N(0, I) draws from the model's seed generator, one per step).
      fast: without attention, use the hand-written backward pass (same maths); False
        differentiates the plain step loop automatically (slower; for tests).

    Returns:
      A dict of float32 tensors: `logits` `[batch, chunk_steps, num_pitches]` (the final
      canvas `c[num_steps]`), and `mu`, `log_sigma`, `eps`, `z`, each
      `[batch, num_steps, latent_dim]`.
    """
    cfg = self.config
    x, eps = self._prepare(x, eps)
    if cfg.attention or not fast:
      logits, mu, log_sigma = self._forward_autodiff(x, eps)
    else:
      weights = tuple(tf.convert_to_tensor(w) for w in self._core_weights())
      logits, mu, log_sigma = _draw_core(x, eps, weights, tf.as_dtype(cfg.compute_dtype))
    z = mu + tf.exp(log_sigma) * eps
    to_batch_major = lambda t: tf.transpose(t, [1, 0, 2])
    return dict(logits=tf.reshape(logits, [-1, cfg.chunk_steps, cfg.num_pitches]),
                mu=to_batch_major(mu), log_sigma=to_batch_major(log_sigma),
                eps=to_batch_major(eps), z=to_batch_major(z))

  def _attention(self, h_dec, kernel, bias, grid_time, grid_pitch):
    """Filterbanks and intensity of one read or write from `h_dec` `[batch, dec_units]`."""
    cfg = self.config
    params = tf.matmul(h_dec, kernel) + bias
    g_time, g_pitch, log_sigma2, log_delta, log_gamma = tf.unstack(params, axis=-1)
    center_time = (cfg.chunk_steps - 1) / 2.0 * (g_time + 1.0)
    center_pitch = (cfg.num_pitches - 1) / 2.0 * (g_pitch + 1.0)
    scale_time = math.log(max(cfg.chunk_steps - 1, 1) / max(grid_time - 1, 1))
    scale_pitch = math.log(max(cfg.num_pitches - 1, 1) / max(grid_pitch - 1, 1))
    f_time = filterbank(center_time, log_delta + scale_time, log_sigma2, grid_time,
                        cfg.chunk_steps)
    f_pitch = filterbank(center_pitch, log_delta + scale_pitch, log_sigma2, grid_pitch,
                         cfg.num_pitches)
    return f_time, f_pitch, tf.exp(log_gamma)

  def _read(self, x, xhat, h_dec):
    """Encoder input `[batch, enc_in]` from `x`, `xhat` `[batch, N]` and `h_dec`."""
    cfg = self.config
    if not cfg.attention:
      return tf.concat([x, xhat], axis=-1)
    shape = [-1, cfg.chunk_steps, cfg.num_pitches]
    f_time, f_pitch, gamma = self._attention(h_dec, self.read_att_kernel, self.read_att_bias,
                                             cfg.read_time, cfg.read_pitch)
    patches = [read_patch(tf.reshape(image, shape), f_time, f_pitch, gamma)
               for image in (x, xhat)]
    return tf.concat([tf.reshape(p, [-1, cfg.read_time * cfg.read_pitch]) for p in patches],
                     axis=-1)

  def _write(self, h_dec):
    """Canvas update `[batch, N]` from `h_dec` `[batch, dec_units]`."""
    cfg = self.config
    content = tf.matmul(h_dec, self.write_kernel) + self.write_bias
    if not cfg.attention:
      return content
    f_time, f_pitch, gamma = self._attention(h_dec, self.write_att_kernel,
                                             self.write_att_bias, cfg.write_time,
                                             cfg.write_pitch)
    patch = tf.reshape(content, [-1, cfg.write_time, cfg.write_pitch])
    return tf.reshape(write_patch(patch, f_time, f_pitch, gamma), [-1, cfg.num_cells])

  def _forward_autodiff(self, x, eps):
    """The step loop in plain TF ops (attention, and the reference for the fast path)."""
    cfg = self.config
    batch = tf.shape(x)[0]
    enc_in_kernel = (self.enc_x if cfg.attention
                     else tf.concat([self.enc_x, self.enc_xhat], axis=0))
    enc_kernel = tf.concat([enc_in_kernel, self.enc_hdec], axis=0)
    canvas = tf.zeros_like(x)
    h_enc = c_enc = tf.zeros([batch, cfg.enc_units])
    h_dec = c_dec = tf.zeros([batch, cfg.dec_units])
    mus, log_sigmas = [], []
    for t in range(cfg.num_steps):
      xhat = x - tf.sigmoid(canvas)
      enc_input = tf.concat([self._read(x, xhat, h_dec), h_dec], axis=-1)
      gates = (tf.matmul(enc_input, enc_kernel) + tf.matmul(h_enc, self.enc_rec)
               + self.enc_bias)
      h_enc, c_enc, _ = _lstm(gates, c_enc)
      stats = tf.matmul(h_enc, self.latent_kernel) + self.latent_bias
      mu, log_sigma = stats[:, :cfg.latent_dim], stats[:, cfg.latent_dim:]
      z = mu + tf.exp(log_sigma) * eps[t]
      gates = tf.matmul(z, self.dec_kernel) + tf.matmul(h_dec, self.dec_rec) + self.dec_bias
      h_dec, c_dec, _ = _lstm(gates, c_dec)
      canvas = canvas + self._write(h_dec)
      mus.append(mu)
      log_sigmas.append(log_sigma)
    return canvas, tf.stack(mus), tf.stack(log_sigmas)

  def call(self, inputs, training=None, eps=None):
    """Reconstruction `sigmoid(c[num_steps])` `[batch, chunk_steps, num_pitches]` float32.

    Args:
      inputs: `[batch, chunk_steps, num_pitches]` chunks.
      training: unused (the noise is sampled in training and inference alike).
      eps: optional `[batch, num_steps, latent_dim]` noise (see `forward`).
    """
    del training
    return tf.sigmoid(self.forward(inputs, eps)["logits"])

  def losses_for(self, x, eps=None, fast=True):
    """Per-batch losses.

    Args:
      x: `[batch, chunk_steps, num_pitches]` chunks.
      eps: optional `[batch, num_steps, latent_dim]` noise.
      fast: see `forward`.

    Returns:
      A dict of float32 scalars, batch means: `reconstruction` (binary cross-entropy summed
      over cells), `kl` (summed over steps and latent dimensions), `loss` (their sum); and
      `kl_per_step` `[num_steps]` (batch means).
    """
    out = self.forward(x, eps, fast=fast)
    x = tf.cast(x, tf.float32)
    cross_entropy = tf.nn.sigmoid_cross_entropy_with_logits(labels=x, logits=out["logits"])
    reconstruction = tf.reduce_mean(tf.reduce_sum(cross_entropy, axis=[1, 2]))
    kl_steps = kl_divergence(out["mu"], out["log_sigma"])  # [batch, num_steps]
    kl = tf.reduce_mean(tf.reduce_sum(kl_steps, axis=1))
    return dict(loss=reconstruction + kl, reconstruction=reconstruction, kl=kl,
                kl_per_step=tf.reduce_mean(kl_steps, axis=0))

  # ----------------------------------------------------------------------------- training

  @property
  def metrics(self):
    return [self.loss_tracker, self.reconstruction_tracker, self.kl_tracker]

  def _update_metrics(self, losses):
    self.loss_tracker.update_state(losses["loss"])
    self.reconstruction_tracker.update_state(losses["reconstruction"])
    self.kl_tracker.update_state(losses["kl"])
    return {m.name: m.result() for m in self.metrics}

  @staticmethod
  def _unpack(data):
    while isinstance(data, (tuple, list)):
      data = data[0]
    return data

  def train_step(self, data):
    x = self._unpack(data)
    with tf.GradientTape() as tape:
      losses = self.losses_for(x)
    grads = tape.gradient(losses["loss"], self.trainable_weights)
    self.optimizer.apply(grads, self.trainable_weights)
    return self._update_metrics(losses)

  def test_step(self, data):
    return self._update_metrics(self.losses_for(self._unpack(data)))

  # --------------------------------------------------------------------------- generation

  def _decode_canvases(self, z, probabilities=False):
    """Every step's canvas logits `[n, num_steps, N]` from `z` `[num_steps, n, latent]`
    (with `probabilities`, their sigmoids)."""
    cfg = self.config
    n = tf.shape(z)[1]
    h_dec = c_dec = tf.zeros([n, cfg.dec_units])
    hs = []
    writes = []
    for t in range(cfg.num_steps):
      gates = tf.matmul(z[t], self.dec_kernel) + tf.matmul(h_dec, self.dec_rec) + self.dec_bias
      h_dec, c_dec, _ = _lstm(gates, c_dec)
      if cfg.attention:
        writes.append(self._write(h_dec))
      else:
        hs.append(h_dec)
    if cfg.attention:
      logits = tf.cumsum(tf.stack(writes, axis=1), axis=1)
      return tf.sigmoid(logits) if probabilities else logits
    # c[t] = (sum_{s <= t} h[s]) @ W + t * b: one matmul gives every step's canvas, the
    # bias riding along as an extra row of the kernel against a column of step counts.
    h_sums = tf.cumsum(tf.stack(hs, axis=1), axis=1)  # [n, steps, dec]
    steps = tf.range(1, cfg.num_steps + 1, dtype=tf.float32)[None, :, None]
    rows = tf.concat([h_sums, tf.broadcast_to(steps, [n, cfg.num_steps, 1])], axis=-1)
    kernel = tf.concat([self.write_kernel, self.write_bias[None, :]], axis=0)
    canvases = tf.matmul(tf.reshape(rows, [-1, cfg.dec_units + 1]), kernel)
    if probabilities:
      # A zero bias makes the graph MatMul + BiasAdd + Sigmoid, which oneDNN runs as one
      # fused kernel (grappler's remapper): the sigmoid is applied as the product is
      # written instead of in a second pass over every step's canvas
      # (benchmarks/bench_profile.py times `sample`). The zeros are a tensor made outside
      # the graph: a constant zero bias would be folded away, and the fusion with it.
      if self._zero_bias is None:
        with tf.init_scope():
          self._zero_bias = tf.zeros([cfg.num_cells])
      canvases = tf.sigmoid(tf.nn.bias_add(canvases, self._zero_bias))
    return tf.reshape(canvases, [n, cfg.num_steps, cfg.num_cells])

  def set_latent_prior(self, prior):
    """Samples `z` from `prior` instead of N(0, I) from now on (None: N(0, I) again).

    `prior`: a `latent.LatentPrior` (a Gaussian over a piece's whole `[num_steps,
    latent_dim]` code, `latent.fit_prior`). The same seed draws the same standard normal
    noise `e` either way; the prior turns it into `mean + e @ chol^T`.
    """
    cfg = self.config
    if prior is not None:
      size = cfg.num_steps * cfg.latent_dim
      if prior.mean.shape != (size,) or prior.chol.shape != (size, size):
        raise ValueError(f"the latent prior is for codes of {prior.mean.shape[0]} values; "
                         f"this model's have {size} (num_steps x latent_dim)")
    self.latent_prior = prior
    self._sample_fn = None  # traced with the prior it had
    if hasattr(self, "reference_draw"):
      self.reference_draw = None  # drawn from the prior it had

  def draw_z(self, n, seed, temperature=None):
    """The `z` `[num_steps, n, latent_dim]` that `sample(n, seed)` decodes: standard normal
    noise from the philox stream of `seed` (`seed_pair`), scaled by `temperature` (None:
    the config's), through the fitted prior where one is set (`set_latent_prior`)."""
    cfg = self.config
    if temperature is None:
      temperature = cfg.temperature
    noise = tf.random.stateless_normal(tf.stack([cfg.num_steps, n, cfg.latent_dim]), seed,
                                       alg="philox") * tf.cast(temperature, tf.float32)
    if self.latent_prior is None:
      return noise
    flat = tf.reshape(tf.transpose(noise, [1, 0, 2]), [n, cfg.num_steps * cfg.latent_dim])
    flat = self.latent_prior.mean[None, :] + tf.matmul(flat, self.latent_prior.chol,
                                                       transpose_b=True)
    return tf.transpose(tf.reshape(flat, [n, cfg.num_steps, cfg.latent_dim]), [1, 0, 2])

  def _generate(self, n, seed, temperature):
    cfg = self.config
    z = self.draw_z(n, seed, temperature)
    canvases = self._decode_canvases(z, probabilities=True)
    return tf.reshape(canvases, [n, cfg.num_steps, cfg.chunk_steps, cfg.num_pitches])

  def sample(self, n, seed=None):
    """Generates `n` chunks with the decoder alone, `z[t] ~ N(0, I)` at every step (or
    from the fitted prior, `set_latent_prior`), the noise scaled by the config's
    `temperature`.

    Args:
      n: number of pieces.
      seed: int seed; the same seed gives the same pieces. None: a random seed.

    Returns:
      `[n, num_steps, chunk_steps, num_pitches]` float32 tensor, `sigmoid(c[t])` for every
      step `t` (the last step, `[:, -1]`, is the model's output).
    """
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 1:
      raise ValueError(f"n must be a positive integer, got {n!r}")
    if seed is None:
      seed = int(np.random.default_rng().integers(2**31 - 1))
    if not self.built:
      self.build()
    if self._sample_fn is None:
      # XLA gives no gain here (one big matmul dominates) and would recompile for each n.
      self._sample_fn = tf.function(
          self._generate, jit_compile=False,
          input_signature=[tf.TensorSpec([], tf.int32), tf.TensorSpec([2], tf.int64),
                           tf.TensorSpec([], tf.float32)])
    return self._sample_fn(tf.constant(int(n), tf.int32), seed_pair(seed),
                           tf.constant(self.config.temperature, tf.float32))

  # ------------------------------------------------------------------------ serialisation

  def get_config(self):
    base_config = super().get_config()
    config = {**dataclasses.asdict(self.config), "seed": self.seed}
    return {**base_config, **config}

  @classmethod
  def from_config(cls, config):
    return cls(**config)


def seed_pair(seed):
  """The `[2]` int64 philox seed of an int sampler seed (`DrawModel.sample`, `draw_z`)."""
  return tf.constant([int(seed) % (2**63), 0], tf.int64)


def _forget_bias(units):
  """Bias initialiser: zeros, with 1.0 on the forget gate (gate order i, f, c, o)."""

  def initializer(shape, dtype=None):
    del shape
    values = np.zeros(4 * units, np.float32)
    values[units:2 * units] = 1.0
    return tf.constant(values, dtype=dtype or tf.float32)

  return initializer


def create_model(config="baseline", seed=None, jit_compile="auto", **config_overrides):
  """A `DrawModel` compiled with the config's Adam optimiser (`optim.FusedAdam`).

  Args:
    config: a `DrawConfig` or a registered name.
    seed: seed of the training noise.
    jit_compile: compile the training step with XLA. Keras's 'auto' means no XLA on a
      CPU-only machine, which is right here: on 2 CPU cores the baseline step takes about
      285 ms without XLA against about 510 ms with it (benchmarks/bench_model.py).
    **config_overrides: `DrawConfig` fields to replace.

  Returns:
    A compiled, unbuilt `DrawModel`.
  """
  if isinstance(config, str):
    config = get_config(config)
  config = dataclasses.replace(config, **config_overrides)
  model = DrawModel(config, seed=seed)
  model.compile(optimizer=optim.for_config(config), jit_compile=jit_compile)
  return model
