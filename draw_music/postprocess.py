"""The paper's post-processing of a generated canvas: min-max normalise, then threshold.

Pure NumPy (no TensorFlow), so that scoring code can use it without loading the model.
"""

from __future__ import annotations

import numpy as np


def normalise(canvases):
  """Min-max normalises each `[time, pitch]` output to [0, 1], as `binarize` does.

  Args:
    canvases: `[..., time, pitch]` float array; not modified.

  Returns:
    `[..., time, pitch]` float64; a constant output maps to all zeros.
  """
  values = np.asarray(canvases, dtype=np.float64)
  if values.ndim < 2:
    raise ValueError(f"canvases must be [..., time, pitch], got shape {values.shape}")
  low = values.min(axis=(-2, -1), keepdims=True)
  span = values.max(axis=(-2, -1), keepdims=True) - low
  safe = np.where(span > 0, span, 1.0)
  return np.where(span > 0, (values - low) / safe, 0.0)


def binarize(canvas, alpha):
  """The paper's post-processing: min-max normalise each output, then threshold.

  Each `[time, pitch]` output is mapped to `[0, 1]` over its own cells,
  `(v - min) / (max - min)`; a constant output (max == min) maps to all zeros. A cell is on
  when its normalised value is strictly greater than `alpha`.

  Args:
    canvas: `[..., time, pitch]` float array (a `tf.Tensor` is accepted); not modified.
    alpha: threshold in `[0, 1]`.

  Returns:
    `[..., time, pitch]` bool numpy array.
  """
  if not 0 <= alpha <= 1:
    raise ValueError(f"alpha must be in [0, 1], got {alpha!r}")
  return normalise(canvas) > alpha
