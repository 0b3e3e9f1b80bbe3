"""The package layout: one subpackage per stage, and the old flat names kept as aliases.

The modules moved from `draw_music/` into `corpora/`, `metric/`, `writer/`, `paper/` and
`listening/`. The names the README documents stay valid: `from draw_music import corpus,
evaluate, features, measure` and `python -m draw_music.{evaluate,generate,interpolate,render}`
(each alias is the moved module itself, so patching it patches the real one).
"""

import importlib
import pickle
import subprocess
import sys

import numpy as np
import pytest

from tests.conftest import REPO

ALIASES = {
    "corpus": "draw_music.corpora.corpus",
    "evaluate": "draw_music.metric.evaluate",
    "features": "draw_music.metric.features",
    "generate": "draw_music.writer.generate",
    "interpolate": "draw_music.writer.interpolate",
    "measure": "draw_music.metric.measure",
    "render": "draw_music.listening.render",
}
COMMANDS = ("evaluate", "generate", "interpolate", "render")
TOP_LEVEL = {"__init__", "cli", "results", "plotting"}


@pytest.mark.parametrize("name", sorted(ALIASES))
def test_alias_is_the_moved_module(name):
  import draw_music  # pylint: disable=g-import-not-at-top
  old = importlib.import_module(f"draw_music.{name}")
  new = importlib.import_module(ALIASES[name])
  assert old is new
  assert getattr(draw_music, name) is new
  assert sys.modules[f"draw_music.{name}"] is new


def test_readme_import_line():
  from draw_music import corpus, evaluate, features, measure  # pylint: disable=g-import-not-at-top,g-multiple-import
  from draw_music.corpora import corpus as corpus_new  # pylint: disable=g-import-not-at-top
  from draw_music.metric import evaluate as evaluate_new  # pylint: disable=g-import-not-at-top
  from draw_music.metric import features as features_new  # pylint: disable=g-import-not-at-top
  from draw_music.metric import measure as measure_new  # pylint: disable=g-import-not-at-top
  assert (corpus, evaluate, features, measure) == (corpus_new, evaluate_new, features_new,
                                                   measure_new)
  assert corpus is corpus_new and evaluate is evaluate_new
  assert features is features_new and measure is measure_new


def test_documented_command_lines_run_through_their_aliases():
  procs = {name: subprocess.Popen([sys.executable, "-m", f"draw_music.{name}", "--help"],
                                  cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                  text=True)
           for name in COMMANDS}
  for name, proc in procs.items():
    out, err = proc.communicate(timeout=300)
    assert proc.returncode == 0, (name, err)
    assert out.startswith(f"usage: python -m {ALIASES[name]} "), (name, out)
    assert "--help" in out and "Traceback" not in err, (name, err)


def test_flat_folder_holds_only_the_shared_modules_and_the_aliases():
  flat = {p.stem for p in (REPO / "draw_music").glob("*.py")}
  assert flat == TOP_LEVEL | set(ALIASES)
  stages = {p.parent.name for p in (REPO / "draw_music").glob("*/__init__.py")}
  assert stages == {"corpora", "metric", "writer", "paper", "listening"}
  # No alias shares its name with a subpackage.
  assert not stages & set(ALIASES)


def test_tree_pickled_under_the_old_module_name_still_loads(tmp_path):
  from sklearn import tree as sk_tree  # pylint: disable=g-import-not-at-top
  from draw_music.paper import tree  # pylint: disable=g-import-not-at-top
  params = np.array([[1, 2, 3, 4], [4, 3, 2, 1]])
  fitted = tree.CategoryTree(
      classifier=sk_tree.DecisionTreeClassifier(random_state=0).fit(params, [0, 1]),
      params=params, categories=np.array([0, 1]), trials=np.array([0, 1]),
      class_names=("a", "b"), seed=0)
  # Protocol 0 names classes as text lines, so the old module name can be written in.
  data = pickle.dumps(fitted, protocol=0)
  assert b"draw_music.paper.tree\n" in data
  path = tmp_path / "tree.pkl"
  path.write_bytes(data.replace(b"draw_music.paper.tree\n", b"draw_music.tree\n"))
  loaded = tree.load_tree(path)
  assert isinstance(loaded, tree.CategoryTree)
  np.testing.assert_array_equal(loaded.params, params)
