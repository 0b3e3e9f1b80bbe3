"""Property tests (hypothesis): invariants that hold for every piano roll.

The CI profile is derandomized (the same examples on every run) with few examples, so the
file runs in seconds; `HYPOTHESIS_PROFILE=explore` draws fresh, more numerous examples.
"""

import io
import os

import mido
import numpy as np
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from draw_music.corpora import corpus
from draw_music.corpora import midi_io
from draw_music.metric import features
from draw_music.metric import measure

settings.register_profile("ci", max_examples=40, derandomize=True, deadline=None,
                          database=None, suppress_health_check=[HealthCheck.too_slow])
settings.register_profile("explore", max_examples=500, deadline=None)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))

NAMES = features.feature_names()
PITCH = [NAMES.index(n) for n in ("pitch_max", "pitch_min", "pitch_mean")]
SHIFT_FREE = [i for i, n in enumerate(NAMES) if i not in PITCH]  # pitch_std included


@st.composite
def rolls(draw, max_steps=64, low=0, high=127, max_notes=25):
  """`[time, 128]` bool rolls built from notes (pitch, onset, duration) in [low, high]."""
  steps = draw(st.integers(1, max_steps))
  notes = draw(st.lists(st.tuples(st.integers(low, high), st.integers(0, steps - 1),
                                  st.integers(1, 12)), max_size=max_notes))
  roll = np.zeros((steps, 128), bool)
  for pitch, onset, duration in notes:
    roll[onset:onset + duration, pitch] = True
  return roll


def transpose(roll, k):
  out = np.zeros_like(roll)
  t, p = np.nonzero(roll)
  out[t, p + k] = True
  return out


@given(rolls(low=30, high=90), st.integers(-30, 37))
def test_transposition_shifts_pitch_features_only(roll, k):
  assume(roll.any())
  moved = transpose(roll, k)
  before, after = features.signature(roll), features.signature(moved)
  np.testing.assert_allclose(after[SHIFT_FREE], before[SHIFT_FREE], rtol=1e-6, atol=1e-9)
  np.testing.assert_allclose(after[PITCH], before[PITCH] + k / 127.0, rtol=1e-6, atol=1e-9)


@given(rolls(max_steps=48))
def test_roll_to_midi_to_roll_is_the_identity(roll):
  assume(roll.any())  # a file without notes is refused by design (DESIGN.md section 1)
  buffer = io.BytesIO()
  midi_io.roll_to_midi(roll).save(file=buffer)
  buffer.seek(0)
  back = midi_io.midi_to_roll(mido.MidiFile(file=buffer))
  # The file ends with its last note: trailing silent steps are not written.
  active = np.nonzero(roll.any(axis=1))[0]
  end = active[-1] + 1 if len(active) else 0
  assert back.shape[1] == 128 and back[end:].sum() == 0
  np.testing.assert_array_equal(back[:end], roll[:end])


@given(rolls(max_steps=200), st.integers(1, 40))
def test_chunking_then_concatenating_gives_the_roll_back(roll, length):
  chunks = corpus.chunk_roll(roll, length, drop_empty=False)
  n = len(roll) // length
  assert chunks.shape == (n, length, 128)
  np.testing.assert_array_equal(chunks.reshape(-1, 128), roll[:n * length])


@given(st.lists(rolls(max_steps=40), min_size=1, max_size=6))
def test_no_feature_is_ever_nan_or_infinite(batch):
  for roll in batch:
    assert np.all(np.isfinite(features.signature(roll)))
  length = min(len(r) for r in batch)
  sigs = features.signatures(np.stack([r[:length] for r in batch]))
  assert sigs.shape == (len(batch), len(NAMES)) and np.all(np.isfinite(sigs))


@given(st.integers(0, 2**32 - 1), st.integers(17, 60), st.permutations(range(17)),
       st.booleans())
def test_distance_is_zero_at_the_mean_and_blind_to_feature_order(seed, n, order, constant):
  rng = np.random.default_rng(seed)
  scales = np.geomspace(1e-3, 1e3, 17)  # lopsided: features on very different scales
  sig = rng.normal(size=(n, 17)) * scales + np.arange(17)
  if constant:
    sig[:, 5] = 2.5  # a feature constant in the reference
  ref = measure.Reference.from_signatures(sig)
  assert ref.distance(ref.mean[None])[0] <= 1e-6 * ref.distance(sig).max()
  order = list(order)
  permuted = measure.Reference.from_signatures(sig[:, order],
                                               [NAMES[i] for i in order])
  queries = np.concatenate([sig[:5], rng.normal(size=(5, 17)) * scales])
  np.testing.assert_allclose(permuted.distance(queries[:, order]), ref.distance(queries),
                             rtol=1e-6, atol=1e-9)
  assert np.all(np.isfinite(ref.distance(queries))) and np.all(ref.distance(queries) >= 0)
