"""The sub-commands of ``imdb-lab``, one module each (see ``imdb_lab.cli``), and their argument types (``options``)."""
