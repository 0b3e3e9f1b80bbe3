"""Keras's Adam with the weight update fused into one pass per weight.

Keras 3's `Adam.update_step` streams each weight and its two moments through about ten
separate element-wise TensorFlow ops (a subtraction, a product and an in-place add for each
moment, a square root, a division, ...): on the baseline's 20.4 M weights that is a fifth of
a bfloat16 training step on 2 CPU cores (benchmarks/bench_profile.py). `FusedAdam` does the
same update with TensorFlow's `ResourceApplyAdam` kernel, which reads the weight, the gradient
and both moments once and writes the three back once:

  m   <- m + (g - m) * (1 - beta_1)
  v   <- v + (g^2 - v) * (1 - beta_2)
  w   <- w - lr * sqrt(1 - beta_2^t) / (1 - beta_1^t) * m / (sqrt(v) + epsilon)

with `t = iterations + 1`: Keras's formula, term for term (a test checks several steps against
`keras.optimizers.Adam` to float32 rounding).

`FusedAdam` is a subclass of `keras.optimizers.Adam` that changes nothing but `update_step`:
the same variables under the same names (`iterations`, `<weight>_momentum`,
`<weight>_velocity`), so a checkpoint written with Keras's Adam restores into it and the
other way round. Sparse gradients (`tf.IndexedSlices`), `amsgrad`, weights that are not
float32, and a backend other than TensorFlow fall back to Keras's update.
"""

from __future__ import annotations

import keras
import tensorflow as tf


@keras.saving.register_keras_serializable(package="draw_music")
class FusedAdam(keras.optimizers.Adam):
  """`keras.optimizers.Adam` (same arguments, same state) with a one-pass weight update."""

  def update_step(self, gradient, variable, learning_rate):
    """Applies one Adam update to `variable` (any shape) from `gradient` (same shape)."""
    if (self.amsgrad or isinstance(gradient, tf.IndexedSlices)
        or keras.backend.backend() != "tensorflow" or variable.dtype != "float32"):
      return super().update_step(gradient, variable, learning_rate)
    dtype = tf.float32
    lr = tf.cast(learning_rate, dtype)
    local_step = tf.cast(self.iterations + 1, dtype)
    beta_1 = tf.cast(self.beta_1, dtype)
    beta_2 = tf.cast(self.beta_2, dtype)
    index = self._get_variable_index(variable)
    m = self._momentums[index]
    v = self._velocities[index]
    tf.raw_ops.ResourceApplyAdam(
        var=_handle(variable), m=_handle(m), v=_handle(v),
        beta1_power=tf.pow(beta_1, local_step), beta2_power=tf.pow(beta_2, local_step),
        lr=lr, beta1=beta_1, beta2=beta_2, epsilon=tf.cast(self.epsilon, dtype),
        grad=tf.cast(gradient, dtype), use_locking=False, use_nesterov=False)


def _handle(variable):
  """The resource handle of a Keras variable (or of a plain `tf.Variable`)."""
  return variable.value.handle if isinstance(variable, keras.Variable) else variable.handle


@keras.saving.register_keras_serializable(package="draw_music")
class DelayedHalving(keras.optimizers.schedules.LearningRateSchedule):
  """`initial * 0.5 ** (max(step - start, 0) / half_life)`: constant for `start` steps, then
  halving smoothly every `half_life` steps."""

  def __init__(self, initial, half_life, start=0):
    if not half_life > 0:
      raise ValueError(f"half_life must be positive, got {half_life!r}")
    if not start >= 0:
      raise ValueError(f"start must be non-negative, got {start!r}")
    self.initial, self.half_life, self.start = float(initial), int(half_life), int(start)

  def __call__(self, step):
    past = tf.maximum(tf.cast(step, tf.float32) - float(self.start), 0.0)
    return self.initial * tf.pow(0.5, past / float(self.half_life))

  def get_config(self):
    return {"initial": self.initial, "half_life": self.half_life, "start": self.start}


def for_config(config):
  """The `FusedAdam` a `model.DrawConfig` trains with.

  Its `learning_rate`, `beta_1`, `beta_2`; with `lr_half_life > 0` the learning rate halves
  every `lr_half_life` steps, smoothly, once `lr_decay_start` steps have passed
  (`DelayedHalving`, read at the optimizer's `iterations`, which checkpoints keep, so a
  resumed run goes on where it stopped):
  `lr(step) = learning_rate * 0.5 ** (max(step - lr_decay_start, 0) / lr_half_life)`.
  `lr_half_life` 0 keeps it constant, as in the paper.
  """
  learning_rate = config.learning_rate
  if config.lr_half_life:
    learning_rate = DelayedHalving(config.learning_rate, config.lr_half_life,
                                   config.lr_decay_start)
  return FusedAdam(learning_rate, config.beta_1, config.beta_2)
