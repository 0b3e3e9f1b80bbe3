"""The search on a real Ray cluster: two nodes started here (`ray.cluster_utils.Cluster`,
loopback only, token authentication on), the tiny search run by `table1_search
--ray_address`, its driver killed with SIGKILL and rerun."""

import os
import secrets
import signal
import subprocess
import sys
import time

import numpy as np

from draw_music.paper import search
from tests import helpers
from tests.conftest import REPO


def test_search_on_a_two_node_cluster_survives_a_killed_driver(tmp_path, monkeypatch):
  # Token authentication, the token given to every node and to the driver by environment
  # (read by Ray when it is imported, so set first).
  monkeypatch.setenv("RAY_AUTH_MODE", "token")
  monkeypatch.setenv("RAY_AUTH_TOKEN", secrets.token_hex(16))
  monkeypatch.setenv("RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER", "0")  # loopback only, see below
  from ray import cluster_utils  # pylint: disable=g-import-not-at-top  (slow)
  rng = np.random.default_rng(2)
  corpus = helpers.write_corpus(tmp_path / "corpus",
                                [helpers.random_roll(rng, 16 * 12, 0.4) for _ in range(6)])
  out = tmp_path / "search"
  results = out / search.RESULTS_FILE
  # Both nodes on loopback. Ray rewrites a 127.0.0.1 address given to a driver into the
  # machine's outward address unless its multi-machine mode is off (the switch below, read
  # by Ray's processes, the driver's included, set above); the nodes bind to 127.0.0.1.
  cluster = cluster_utils.Cluster(
      initialize_head=True,
      head_node_args={"num_cpus": 1, "include_dashboard": False,
                      "node_ip_address": "127.0.0.1"})
  try:
    cluster.add_node(num_cpus=1, node_ip_address="127.0.0.1")
    assert cluster.address.startswith("127.0.0.1:")
    cluster.wait_for_nodes()
    node_ids = {n.node_id for n in cluster.list_all_nodes()}
    assert len(node_ids) == 2
    command = [sys.executable, "-m", "experiments.table1_search", f"--corpus={corpus}",
               f"--out_dir={out}", "--tiny", "--num_trials=4", "--minutes_per_trial=1",
               "--max_steps_per_trial=4", "--num_generate=12", "--keep_best=0",
               f"--ray_address={cluster.address}"]
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"}
    driver = subprocess.Popen(command, cwd=REPO, env=env, stdout=subprocess.PIPE,
                              stderr=subprocess.STDOUT, text=True)
    deadline = time.monotonic() + 240
    while not search.finished_trials(results) and driver.poll() is None:
      assert time.monotonic() < deadline, "no trial finished in 240 s"
      time.sleep(0.2)
    driver.send_signal(signal.SIGKILL)
    log = driver.communicate()[0]
    before = search.read_results(results)
    assert 1 <= len(before) < 4, log[-3000:]

    again = subprocess.run(command, cwd=REPO, env=env, capture_output=True, text=True,
                           timeout=400, check=False)
    assert again.returncode == 0, again.stdout[-3000:] + again.stderr[-3000:]
    assert f"{len(before)} trials already in" in again.stdout
    assert again.stdout.count("finished trial") == 4 - len(before)
    rows = search.read_results(results)
    assert [r["trial"] for r in rows] == [0, 1, 2, 3]
    for r in rows:
      assert r["status"] == "ok" and r["steps"] == 4 and np.isfinite(r["mean_distance"])
      assert r["node"] in node_ids
    assert len({r["node"] for r in rows}) == 2  # the trials ran on both nodes
    for old in before:  # finished before the kill: not run again
      assert rows[old["trial"]]["trial_seconds"] == old["trial_seconds"]
  finally:
    cluster.shutdown()
