"""The notebooks here are inputs of the grade tests, not tests: nbval must not run them."""

collect_ignore_glob = ["*.ipynb"]
