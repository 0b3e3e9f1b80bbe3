"""Every command line: bad input is one line on stderr and a non-zero exit, and TensorFlow's
start-up lines are silenced unless asked for (`--verbose` or TF_CPP_MIN_LOG_LEVEL)."""

import os
import re
import subprocess
import sys

from tests.conftest import REPO

# A line that TensorFlow (absl C++ logging) or the CUDA probe writes at start-up.
NOISE = re.compile(r"^[IWEF]\d{4} |oneDNN|cuInit|cuda drivers|absl::InitializeLog",
                   re.MULTILINE)


def commands(tmp):
  empty = tmp / "empty"
  empty.mkdir()
  missing = tmp / "missing"
  # (module, arguments, what the error line must name); every entry point is here (the
  # top-level aliases, `python -m draw_music.generate` and the like, are in test_layout).
  return [
      ("experiments.train_baseline", ["--corpus", empty, "--max_steps", "1"], "--corpus"),
      ("experiments.fig1_metric_validation", ["--corpus", missing], "--corpus"),
      ("experiments.fig4_distance_distribution", ["--results", missing / "r.csv"],
       "--results"),
      ("experiments.fig5_threshold", ["--checkpoint", missing], "--checkpoint"),
      ("experiments.fig6_step_quality", ["--checkpoint", empty], "--checkpoint"),
      ("experiments.style_separation", ["--num_samples", "0"], "--num_samples"),
      ("experiments.table1_search", ["--tiny", "--corpus", empty], "--corpus"),
      ("experiments.tree_analysis", ["--results", missing], "--results"),
      ("draw_music.writer.generate", ["--checkpoint", empty], "--checkpoint"),
      ("draw_music.writer.fit_prior", ["--checkpoint", missing], "--checkpoint"),
      ("draw_music.metric.evaluate", ["--reference", missing, "--pieces", empty], "--pieces"),
      ("draw_music.listening.render", [missing / "a.mid", "--out_dir", tmp / "wav",
                                       "--sample_rate", "0"], "--sample_rate"),
      ("draw_music.writer.interpolate", ["--checkpoint", missing, "--from", "a.mid", "--to",
                                         "b.mid"], "--checkpoint"),
      ("experiments.composer_separation", ["--alpha", "2"], "--alpha"),
      ("experiments.seam_continuity", ["--checkpoint", missing], "--checkpoint"),
  ]


def start(module, args, env):
  return subprocess.Popen([sys.executable, "-m", module, *map(str, args)], cwd=REPO,
                          env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                          text=True)


def test_bad_input_is_one_line_and_startup_is_quiet(tmp_path):
  entry_points = sorted(
      [f"experiments.{p.stem}" for p in (REPO / "experiments").glob("*.py")
       if "common.run(main)" in p.read_text()]
      + [".".join(p.relative_to(REPO).with_suffix("").parts)
         for p in (REPO / "draw_music").glob("*/*.py")
         if 'if __name__ == "__main__":' in p.read_text()])
  cases = commands(tmp_path)
  assert sorted(m for m, _, _ in cases) == entry_points
  env = {k: v for k, v in os.environ.items() if k != "TF_CPP_MIN_LOG_LEVEL"}
  procs = [(case, start(case[0], case[1], env)) for case in cases]
  # The same bad training command, asking for the library lines back.
  verbose = start("experiments.train_baseline", [*cases[0][1], "--verbose"], env)
  by_env = start("experiments.train_baseline", cases[0][1],
                 {**env, "TF_CPP_MIN_LOG_LEVEL": "0"})
  for (module, args, flag), proc in procs:
    out, err = proc.communicate(timeout=300)
    assert proc.returncode != 0, (module, out, err)
    assert "Traceback" not in err, (module, err)
    assert not NOISE.search(err), (module, err)
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and flag in lines[0], \
        (module, err)
  for proc in (verbose, by_env):
    _, err = proc.communicate(timeout=300)
    assert proc.returncode == 2 and "Traceback" not in err
    assert err.strip().splitlines()[-1] == "error: --corpus: no readable MIDI file under " \
        f"'{tmp_path / 'empty'}'"
    assert NOISE.search(err), err
