"""The writer benchmark's variants, and its section rewritten from records alone."""

import json

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
  assert bench_writer.variant_config("writer") == model_lib.get_config("writer")
  before = bench_writer.variant_config("writer (one hold; onsets on the grid)")
  assert before.odd_onsets == "none" and model_lib.get_config("writer").odd_onsets == "corpus"
  assert before.durations == "model" and model_lib.get_config("writer").durations == "corpus"
  # Decoding alone differs: one training folder for both.
  assert bench_writer.training_key(before) == bench_writer.training_key(
      model_lib.get_config("writer"))
  assert not any(v.startswith("writer") and v != "writer" for v in bench_writer.ABLATION)


def test_every_variant_name_can_be_given_in_the_comma_list():
  assert not [v for v in bench_writer.VARIANTS if "," in v]
  assert bench_writer.variant_config("writer (one hold; onsets on the grid)").durations == "model"
