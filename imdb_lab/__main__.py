"""Run the ``imdb-lab`` command line as ``python -m imdb_lab``."""

import sys

from imdb_lab.cli import main

if __name__ == "__main__":
    sys.exit(main())
