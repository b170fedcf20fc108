"""``imdb-lab prepare``: build the data cache now, so that the lab's first load_data is fast."""

from pathlib import Path

from imdb_lab.data.sources import prepare
from imdb_lab.errors import CacheError, CommandError

HELP = "build the tokenized data cache now (with a progress bar) and print where it is"


def add_arguments(parser):
    """Register prepare's arguments on ``parser``."""
    parser.add_argument(
        "--source", metavar="PATH",
        help="aclImdb_v1.tar.gz or an extracted aclImdb/ folder (default: $IMDB_LAB_DATA, "
             "else Keras's cache or download)",
    )


def run(args):
    """Build (or find) the cache and print its path and size; return the exit code."""
    if args.source is not None and not Path(args.source).exists():
        raise CommandError(f"no such file or folder: {args.source}")
    try:
        path = Path(prepare(args.source))
    except CacheError as error:
        raise CommandError(str(error)) from None  # the data would load, but not fast: say so, exit non-zero
    size = sum(p.stat().st_size for p in path.rglob("*") if p.is_file()) if path.is_dir() else path.stat().st_size
    print(f"data cache: {path} ({size / 1e6:.1f} MB)")
    return 0
