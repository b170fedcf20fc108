"""How long ``imdb_lab.load_data(num_words=10000)`` takes, cold (no cache) and from the cache.

    IMDB_LAB_DATA=/path/to/aclImdb_v1.tar.gz python benchmarks/bench_data.py

Each measurement runs in a fresh process and times the call only, not the
imports. The baseline is Keras's own ``keras.datasets.imdb.load_data`` on the
same reviews written as Keras's ``imdb.npz`` (its download patched away), so
the last line compares our cached load with Keras's, as a ratio in one run.
Targets (2-core machine): cold <= 15 s, cached <= 2 s.
"""

import argparse
import os
import subprocess
import sys
import tempfile
from pathlib import Path

CHILD = {
    "imdb_lab": """
import imdb_lab.data.loading
start = time.perf_counter()
(x_train, y_train), (x_test, y_test) = imdb_lab.data.loading.load_data(num_words=10000)
""",
    "keras": """
import keras.src.datasets.imdb as keras_imdb
keras_imdb.get_file = lambda *args, **kwargs: sys.argv[1]
start = time.perf_counter()
(x_train, y_train), (x_test, y_test) = keras_imdb.load_data(num_words=10000)
""",
}
FOOTER = """
seconds = time.perf_counter() - start
assert len(x_train) == len(x_test) == 25000
print(f"{seconds:.2f} {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f}")
"""


def measure(kind, env, *args):
    """Run one load in a fresh process; return (seconds, peak RSS in MB)."""
    code = "import resource, sys, time\n" + CHILD[kind] + FOOTER
    result = subprocess.run([sys.executable, "-c", code, *args], env=env, capture_output=True, text=True)
    if result.returncode != 0:
        sys.exit(f"{kind} load failed:\n{result.stderr}")
    seconds, rss = result.stdout.split()
    return float(seconds), float(rss)


def write_keras_npz(path, env):
    """Write the cached encoding as Keras's imdb.npz (pickled object arrays, as Keras ships it)."""
    code = f"""
import numpy as np
from imdb_lab.data import sources
encoded, _ = sources.load_encoded(sources.resolve_source())
arrays = {{}}
for split in ("train", "test"):
    tokens, offsets = encoded.tokens[split], encoded.offsets[split]
    x = np.empty(len(offsets) - 1, dtype=object)
    for i in range(len(x)):
        x[i] = tokens[offsets[i]:offsets[i + 1]].tolist()
    arrays["x_" + split], arrays["y_" + split] = x, encoded.labels[split].astype(np.int64)
np.savez({str(path)!r}, **arrays)
"""
    subprocess.run([sys.executable, "-c", code], env=env, check=True, capture_output=True)


def main():
    """Measure and print the table."""
    argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter).parse_args()
    if not os.environ.get("IMDB_LAB_DATA"):
        sys.exit("set IMDB_LAB_DATA=/path/to/aclImdb_v1.tar.gz")
    with tempfile.TemporaryDirectory() as folder:
        env = dict(os.environ, IMDB_LAB_CACHE=folder, TF_CPP_MIN_LOG_LEVEL="3")
        rows = [("imdb_lab, cold (reads the archive)", *measure("imdb_lab", env))]
        rows.append(("imdb_lab, from the cache", *measure("imdb_lab", env)))
        npz = Path(folder) / "imdb.npz"
        write_keras_npz(npz, env)
        rows.append(("keras.datasets.imdb, same data as imdb.npz", *measure("keras", env, str(npz))))
    print(f"{'load_data(num_words=10000)':46} {'seconds':>8} {'peak RSS MB':>12}")
    for name, seconds, rss in rows:
        print(f"{name:46} {seconds:8.2f} {rss:12.0f}")
    print(f"cached imdb_lab / keras: {rows[1][1] / rows[2][1]:.2f}")


if __name__ == "__main__":
    main()
