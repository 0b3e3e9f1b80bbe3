"""The profile benchmark's old path still builds beside today's model."""

import keras
import numpy as np
import pytest

from benchmarks import bench_profile
from draw_music.writer import model as model_lib


def test_old_and_new_paths_share_weights_and_sample_alike():
  pair = bench_profile.build_pair(bench_profile.old_model_module(), "float32")
  (old, _), (new, _) = pair["old"], pair["new"]
  for a, b in zip(old.get_weights(), new.get_weights()):
    np.testing.assert_array_equal(a, b)
  # Same weights and seed: the same pieces, up to the fused sigmoid's float32 rounding.
  np.testing.assert_allclose(new.sample(3, seed=1).numpy(), old.sample(3, seed=1).numpy(),
                             rtol=1e-5, atol=1e-6)


def test_the_old_module_leaves_the_keras_registration_to_todays_model():
  bench_profile.old_model_module()
  assert keras.saving.get_registered_object("draw_music>DrawModel") is model_lib.DrawModel


def test_an_old_commit_of_the_subpackage_layout_builds_and_a_missing_one_is_named():
  module = bench_profile.old_model_module("HEAD")  # draw_music/writer/model.py there
  config = module.DrawConfig(**vars(model_lib.get_config("tiny")))
  model = module.DrawModel(config, seed=0)
  model.build()
  assert model.sample(2, seed=0).shape == (2, config.num_steps, config.chunk_steps, 128)
  with pytest.raises(ValueError, match="--old_commit 0000000"):
    bench_profile.old_model_module("0000000")


def test_a_benchmark_command_line_is_quoted_as_a_shell_needs_it():
  from benchmarks import common  # pylint: disable=g-import-not-at-top
  assert (common.command_line("benchmarks.bench_profile", ["--section", "## On an AMD (x)",
                                                           "--repeats", "3"])
          == "python -m benchmarks.bench_profile --section '## On an AMD (x)' --repeats 3")
  assert common.command_line("benchmarks.bench_model", []) == "python -m benchmarks.bench_model"


def test_generation_times_compares_the_same_pieces_both_ways():
  pair = bench_profile.build_pair(bench_profile.old_model_module(), "float32",
                                  config_name="tiny")
  (old, _), (new, _) = pair["old"], pair["new"]
  config = new.config
  got = bench_profile.generation_times({"old": old, "new": new}, repeats=2, n=7)
  # The pieces by hand: the old sampler's last canvases, min-max normalised per piece and
  # thresholded (the paper's post-processing), in numpy.
  last = old.sample(7, seed=0).numpy()[:, -1].astype(np.float64)
  low = last.min(axis=(1, 2), keepdims=True)
  high = last.max(axis=(1, 2), keepdims=True)
  by_hand = (last - low) / (high - low) > bench_profile.PIECES_ALPHA
  assert got["cells"] == int(by_hand.sum())
  assert got["cells_differ"] == 0
  assert (got["rows"], got["inner"], got["cols"]) == (7 * config.num_steps,
                                                      config.dec_units + 1, config.num_cells)
  assert 0 < got["new_min"] <= got["new"] and got["old"] > 0 and got["product"] > 0
