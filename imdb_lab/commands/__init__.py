"""The sub-commands of ``imdb-lab``, one module each (see imdb_lab.cli)."""


from imdb_lab.errors import LabError


class CommandError(LabError):
    """A problem with the user's input that is reported in one line, exit code 2."""
