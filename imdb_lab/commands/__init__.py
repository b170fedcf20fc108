"""Sub-commands of the ``imdb-lab`` command line, one module each."""
