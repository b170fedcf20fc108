#!/usr/bin/env bash
# Gradescope runs this once, as root, when it builds the autograder's image (`imdb-lab autograder` put it in the zip)
set -euo pipefail
export AUTOGRADER="${AUTOGRADER:-/autograder}"
if [ -z "${IMDB_LAB_SKIP_APT:-}" ]; then
    apt-get install -y -qq python3-venv python3-pip bubblewrap
fi
python3 -m venv ${IMDB_LAB_VENV_OPTIONS:-} "$AUTOGRADER/venv"
# requirements.txt names the lab's source in the zip with the backend chosen: ${AUTOGRADER}/source/imdb-lab[BACKEND]
"$AUTOGRADER/venv/bin/python" -m pip install --quiet ${IMDB_LAB_PIP_OPTIONS:-} -r "$AUTOGRADER/source/requirements.txt"
# the data, once, here (each submission then runs offline): imdb_lab/commands/on_gradescope.py
"$AUTOGRADER/venv/bin/python" -m imdb_lab.commands.on_gradescope setup
# the account notebooks run as where bubblewrap cannot (a container without user namespaces): it can read the lab's
# code, and nothing of the grader's (on_gradescope.py keeps the data, state and results root's)
if [ "$(id -u)" = 0 ] && ! id imdb-lab-notebook >/dev/null 2>&1; then
    useradd --system --no-create-home --home-dir /nonexistent --shell /usr/sbin/nologin imdb-lab-notebook ||
        echo "warning: no account imdb-lab-notebook: without bubblewrap, notebooks would run uncontained" >&2
fi
