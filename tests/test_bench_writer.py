"""The writer benchmark's variants, and its section rewritten from records alone."""

import dataclasses
import json
import types

import numpy as np
import pytest

from benchmarks import bench_writer
from draw_music.writer import model as model_lib


def _record(variant, seed, minutes, frechet):
  level = {"frechet": frechet, "p_value": 0.2, "diversity_ratio": 0.8, "verdict": "same",
           "bound_view": "same" if frechet < 4.53 else "different",
           "thresholds": {"frechet_bound": 4.53, "diversity_low": 0.46, "diversity_high": 2.19},
           "top_ks": [{"feature": "duration_mean", "statistic": 0.41}]}
  return {"variant": variant, "seed": seed, "minutes": minutes, "step": 2000,
          "selected_step": 2000, "trained_seconds": 500.0, "judge_seed": 0,
          "rizo17": {"t_test": {"t": -3.0, "p_value": 0.003}, "set_level": level}}


def test_section_only_rewrites_the_section_from_the_records_and_trains_nothing(tmp_path):
  out_dir = tmp_path / "bench"
  out_dir.mkdir()
  records = [_record("writer", 0, 10.0, 3.99), _record("writer", 1, 10.0, 4.71),
             _record("baseline", 0, 10.0, 11.42)]
  (out_dir / "bench_writer.json").write_text(json.dumps({"records": records}))
  out = tmp_path / "BENCH.md"
  out.write_text("# Benchmarks\n\n## Other\n\nkept\n")
  assert bench_writer.main(["--section_only", "--variants", "writer", "--feature_sets",
                            "rizo17", "--out_dir", str(out_dir), "--out", str(out),
                            "--corpus", str(tmp_path / "no_corpus_needed")]) == 0
  text = out.read_text()
  assert "## Other\n\nkept" in text
  section = text[text.index(bench_writer.SECTIONS[False]):]
  rows = [line for line in section.splitlines() if line.startswith("| writer |")]
  assert [row.split(" | ")[6] for row in rows] == ["3.99", "4.71"]
  assert "| baseline |" not in section                     # not among --variants
  assert sorted(p.name for p in out_dir.iterdir()) == ["bench_writer.json"]  # no training


def test_the_recipe_and_its_before_and_after_variants():
  writer = model_lib.get_config("writer")
  assert bench_writer.variant_config("writer") == writer
  constant = bench_writer.variant_config("writer (constant rate)")
  assert (writer.lr_half_life, writer.lr_decay_start) == (1000, 2500)
  assert constant == dataclasses.replace(writer, lr_half_life=0, lr_decay_start=0,
                                         prior="standard", temperature=1.0)
  # The recipe samples from its fitted prior; every variant measured before it took it, N(0, I).
  assert writer.prior == "fitted"
  assert bench_writer.variant_config("writer (standard prior)") == dataclasses.replace(
      writer, prior="standard", temperature=1.0)
  for name in bench_writer.VARIANTS:
    if (name.startswith("writer (") and name != "writer (untempered)") \
        or name.startswith("writer + lr"):
      assert bench_writer.variant_config(name).prior == "standard", name
  # ... at a temperature of 0.7; every variant measured before it took that, at 1.
  assert writer.temperature == 0.7
  untempered = bench_writer.variant_config("writer (untempered)")
  assert untempered == dataclasses.replace(writer, temperature=1.0)
  assert bench_writer.variant_config("writer + fitted prior") == untempered
  for name in bench_writer.VARIANTS:
    if name.startswith("writer (") or name.startswith("writer +"):
      assert bench_writer.variant_config(name).temperature == 1.0, name
  for t in (0.85, 0.55):  # the temperatures 0.7 was chosen among: decoding only
    other = bench_writer.variant_config(f"writer at temperature {t}")
    assert other == dataclasses.replace(writer, temperature=t)
    assert bench_writer.training_key(other) == bench_writer.training_key(writer)
  before = bench_writer.variant_config("writer (one hold; onsets on the grid)")
  assert before.odd_onsets == "none" and writer.odd_onsets == "corpus"
  assert before.durations == "model" and writer.durations == "corpus"
  # Decoding alone differs between the constant-rate recipe and the variants measured with
  # it: one training folder for them; the halving rate trains in another.
  assert bench_writer.training_key(before) == bench_writer.training_key(constant)
  assert "lr_" not in bench_writer.training_key(constant)
  assert bench_writer.training_key(writer).endswith("lr_decay_start=2500_lr_half_life=1000")
  for name in bench_writer.VARIANTS:
    if name.startswith("writer (one hold)"):
      assert bench_writer.variant_config(name).lr_decay_start == 0, name
      if "half-life" not in name:
        assert bench_writer.variant_config(name).lr_half_life == 0, name
  assert not any(v.startswith("writer") and v != "writer" for v in bench_writer.ABLATION)


def test_every_variant_name_can_be_given_in_the_comma_list():
  assert not [v for v in bench_writer.VARIANTS if "," in v]
  assert bench_writer.variant_config("writer (one hold; onsets on the grid)").durations == "model"


def test_the_draw_spread_section_lists_every_draw_with_its_median_and_count():
  from benchmarks import bench_draws  # pylint: disable=g-import-not-at-top
  draw = lambda seed, a, b: {"seed": seed, "rizo17": {"frechet": a, "bound": 4.53},
                             "extended": {"frechet": b, "bound": 4.75}}
  models = [{"run": "/x/run_a", "variant": "writer", "step": 2357,
             "draws": [draw(0, 2.5, 4.98), draw(1, 2.7, 4.60), draw(2, 4.6, 4.74)]},
            {"run": "/x/run_a", "variant": "writer (untempered)", "step": 2357,
             "draws": [draw(0, 4.9, 5.10), draw(1, 3.1, 4.70), draw(2, 3.0, 4.80)]}]
  args = types.SimpleNamespace(draws=3, num_pieces=500, variant="writer",
                               section="## Draws of other models")
  lines = bench_draws.section_lines(models, ["rizo17", "extended"], args)
  assert lines[0] == "## Draws of other models"
  rows = [line for line in lines if line.startswith("| run_a |")]
  # Medians and counts by hand: 17 features 2.7, two of three under 4.53; extended 4.74,
  # two of three under 4.75 (4.98 is not).
  # The second variant, same model: 3.1 of 4.9, 3.1, 3.0, two under; 4.80 of 5.10, 4.70,
  # 4.80, one under.
  assert rows == [
      "| run_a | writer | 2357 | rizo17 | 4.53 | 2.50, 2.70, 4.60 | 2.70 | 2 of 3 |",
      "| run_a | writer | 2357 | extended | 4.75 | 4.98, 4.60, 4.74 | 4.74 | 2 of 3 |",
      "| run_a | writer (untempered) | 2357 | rizo17 | 4.53 | 4.90, 3.10, 3.00 | 3.10 | 2 of 3 |",
      "| run_a | writer (untempered) | 2357 | extended | 4.75 | 5.10, 4.70, 4.80 | 4.80 | 1 of 3 |"]


def test_the_draw_spread_refuses_what_is_not_a_training_folder(tmp_path, capsys):
  from benchmarks import bench_draws  # pylint: disable=g-import-not-at-top
  with pytest.raises(SystemExit) as e:
    bench_draws.main(["--runs", str(tmp_path), "--out", str(tmp_path / "B.md")])
  assert e.value.code == 2 and "not a training folder" in capsys.readouterr().err
  with pytest.raises(SystemExit):
    bench_draws.main(["--runs", str(tmp_path), "--draws", "0"])


def test_the_draw_spread_keeps_a_model_scored_before_at_the_same_step_and_setting(tmp_path):
  from benchmarks import bench_draws  # pylint: disable=g-import-not-at-top
  setting = {"variant": "writer", "num_draws": 5, "num_pieces": 500, "corpus": "/c",
             "feature_sets": ["rizo17", "extended"]}
  # A file of the first format: the setting in the run's config only (the count of draws
  # as "draws"), not in the models.
  old = {"run": {"config": {"variant": "writer", "draws": 5, "num_pieces": 500, "corpus": "/c",
                            "feature_sets": ["rizo17", "extended"], "runs": ["/r/a", "/r/b"]}},
         "models": [{"run": "/r/a", "step": 2357, "draws": ["a"]},
                    {"run": "/r/b", "step": 6780, "draws": ["b"]}]}
  path = tmp_path / "bench_draws.json"
  path.write_text(json.dumps(old))
  stored = bench_draws.kept_models(path)
  assert [m["variant"] for m in stored] == ["writer", "writer"]
  assert bench_draws.find_model(stored, "/r/a", 2357, setting)["draws"] == ["a"]
  assert bench_draws.find_model(stored, "/r/b", 6780, setting)["draws"] == ["b"]
  # Trained on since, another setting, another folder: scored again.
  assert bench_draws.find_model(stored, "/r/a", 7000, setting) is None
  assert bench_draws.find_model(stored, "/r/a", 2357, {**setting, "num_draws": 3}) is None
  assert bench_draws.find_model(stored, "/r/a", 2357, {**setting, "variant": "baseline"}) is None
  assert bench_draws.find_model(stored, "/r/c", 2357, setting) is None
  assert bench_draws.kept_models(tmp_path / "none.json") == []


def test_the_profiles_section_stars_what_is_beyond_the_corpus_halves():
  from benchmarks import bench_profiles  # pylint: disable=g-import-not-at-top
  from draw_music.metric import profiles  # pylint: disable=g-import-not-at-top
  names = profiles.PROFILE_NAMES
  calibration = {k: np.array([0.01, 0.03, 0.02]) for k in names}
  cells = {k: {"distance": 0.025, "within": True} for k in names}
  cells["polyphony"] = {"distance": 0.05, "within": False}
  records = [{"run": "/x/run_a", "variant": "writer", "step": 5485, "profiles": cells,
              "semitone_clusters": {"cells": 0.095, "pieces": 0.88}}]
  args = types.SimpleNamespace(section="## Profiles", corpus="c", num_pieces=500, splits=3)
  lines = bench_profiles.section_lines(records, calibration, args)
  assert lines[0] == "## Profiles"
  assert "| median | " + " | ".join(["0.020"] * len(names)) + " |" in lines
  assert "| largest | " + " | ".join(["0.030"] * len(names)) + " |" in lines
  row = [line for line in lines if line.startswith("| run_a |")]
  want = ["0.050 *" if k == "polyphony" else "0.025" for k in names]
  assert row == ["| run_a | writer | 5485 | " + " | ".join(want)
                 + f" | {len(names) - 1} of {len(names)} | 9.50%, 88.0% |"]
  clusters = {"c": {"cells": 0.0028, "pieces": 0.094}}
  assert lines[-1] != bench_profiles.section_lines(records, calibration, args, clusters)[-1]
  assert "`c` 0.28%, 9.4%." in bench_profiles.section_lines(records, calibration, args,
                                                             clusters)[-1]
  records[0]["nearest_overlap"] = {"median": 0.181, "largest": 0.4496}
  lines = bench_profiles.section_lines(records, calibration, args, clusters,
                                       {"median": 0.1417, "largest": 0.3708})
  row = [line for line in lines if line.startswith("| run_a |")]
  assert row[0].endswith("| 9.50%, 88.0% | 0.181, 0.450 |")
  assert any(line.endswith("other pieces: 0.142, 0.371.") for line in lines)


def test_the_profiles_bench_scores_a_folder_with_each_variants_decoder(tmp_path, capsys):
  from benchmarks import bench_profiles  # pylint: disable=g-import-not-at-top
  from draw_music.metric import profiles  # pylint: disable=g-import-not-at-top
  from draw_music.writer import model as model_lib  # pylint: disable=g-import-not-at-top
  from draw_music.writer import train  # pylint: disable=g-import-not-at-top
  from tests import helpers  # pylint: disable=g-import-not-at-top
  rng = np.random.default_rng(2)
  rolls = [helpers.random_roll(rng, 16 * k, 0.4) for k in (3, 5, 2, 4)]
  chunks = np.concatenate([r.reshape(-1, 16, 128) for r in rolls])
  piece_index = np.concatenate([np.full(len(r) // 16, i) for i, r in enumerate(rolls)])
  # Fitted at the end of training: "writer" samples from that prior, the other from N(0, I).
  config = dataclasses.replace(model_lib.get_config("tiny"), decoder="notes", prior="fitted")
  train.train(config, chunks, piece_index, tmp_path, train.TrainConfig(
      max_steps=2, verbose=False, seed=3), rolls=rolls)
  reference = profiles.profiles(chunks)
  calibration = profiles.calibrate(chunks, piece_index, 3)
  records = bench_profiles.score_run(tmp_path, ["writer", "writer (without pitch peaks)"], 6,
                                     reference, calibration, chunks)
  assert [r["variant"] for r in records] == ["writer", "writer (without pitch peaks)"]
  assert all(r["seed"] == 3 and r["step"] == 2 for r in records)
  for r in records:
    assert set(r["profiles"]) == set(profiles.PROFILE_NAMES)
    assert 0 <= r["semitone_clusters"]["cells"] <= 1
    assert 0 <= r["nearest_overlap"]["median"] <= r["nearest_overlap"]["largest"] <= 1
    for k, v in r["profiles"].items():
      assert 0 <= v["distance"] <= 1
      assert v["within"] == (v["distance"] <= calibration[k].max())
  with pytest.raises(SystemExit) as e:
    bench_profiles.main(["--runs", str(tmp_path), "--variants", "writer,nope"])
  assert e.value.code == 2 and "unknown variant 'nope'" in capsys.readouterr().err
  with pytest.raises(SystemExit):
    bench_profiles.main(["--runs", str(tmp_path / "none")])
