"""The sub-commands of ``imdb-lab``, one module each (see imdb_lab.cli)."""


class CommandError(Exception):
    """A problem with the user's input that is reported in one line, exit code 2."""
