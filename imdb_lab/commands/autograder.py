"""``imdb-lab autograder OUT.zip``: the zip an instructor uploads to Gradescope as it is.

Gradescope unpacks the zip into ``/autograder/source``, runs ``setup.sh`` once
(as root) to build the image, then ``run_autograder`` for each submission,
which must write ``/autograder/results/results.json`` (Gradescope's
"Autograder Specifications"). The zip holds the lab's package (installed by
``setup.sh`` with the backend chosen, and bubblewrap for the sandbox), the
options of the grade, a rubric if given, and the data archive if given (else
``setup.sh`` fetches Keras's download once, when the image is built).
``AUTOGRADER`` (default ``/autograder``) moves the whole layout, for a trial run
on your own machine (tests/commands/test_cli_autograder.py does one).
"""

import json
import stat
import zipfile
from pathlib import Path

from imdb_lab.backend import BACKENDS
from imdb_lab.commands.on_gradescope import AutograderSettings
from imdb_lab.commands.options import accuracy_target, memory_size, positive_seconds
from imdb_lab.errors import CommandError
from imdb_lab.memory import format_bytes
from imdb_lab.grader.exercises import Rubric
from imdb_lab.models.evaluation import TARGET

HELP = "write the autograder zip to upload to Gradescope (setup.sh, run_autograder, the lab, its options)"
PACKAGE_FILES = ("pyproject.toml", "README.md", "LICENSE")
# the two scripts Gradescope runs, shipped as they are: they call imdb_lab.commands.on_gradescope
SCRIPTS = Path(__file__).with_name("gradescope")


def add_arguments(parser):
    """Register autograder's arguments on ``parser``."""
    parser.add_argument("output", metavar="OUT.zip", help="the zip to write (e.g. autograder.zip)")
    parser.add_argument("--backend", choices=list(BACKENDS), default="tensorflow",
                        help="the Keras backend the autograder installs (default: tensorflow)")
    parser.add_argument("--data", metavar="PATH",
                        help="ship this data archive (aclImdb_v1.tar.gz) in the zip; default: setup.sh fetches "
                             "Keras's download once, when Gradescope builds the image")
    parser.add_argument("--rubric", metavar="FILE", help="the points of each exercise (TOML, as grade --rubric)")
    parser.add_argument("--timeout", type=positive_seconds, default=540, metavar="SECONDS",
                        help="seconds a submission may take (default: 540, within Gradescope's default 10 minutes)")
    parser.add_argument("--memory", type=memory_size, default="2G", metavar="SIZE",
                        help="memory a submission may use (default: 2G; choose a Gradescope machine with more)")
    parser.add_argument("--target", type=accuracy_target, default=TARGET,
                        help=f"test accuracy a model needs to pass (default: {TARGET})")


def package_root():
    """Return the folder that holds the lab's package and its ``pyproject.toml`` (a clone of its repository)."""
    root = Path(__file__).resolve().parents[2]
    missing = [name for name in PACKAGE_FILES if not (root / name).is_file()]
    if missing:
        raise CommandError(f"the autograder ships the lab's source, but {root} has no {missing[0]}: run "
                           "imdb-lab autograder from a clone of the lab's repository (pip install -e .)")
    return root


def write_autograder(output, *, backend="tensorflow", data=None, rubric=None, options=()):
    """Write the autograder zip to ``output``: setup.sh, run_autograder, the lab's source, its settings and
    requirements, and the data archive and rubric if given. Returns the names in the zip.

    Args:
        output: the zip to write.
        backend: the Keras backend the image installs (``backend.BACKENDS``).
        data: a data archive to ship in the zip (None: Keras's download, fetched by ``setup.sh``).
        rubric: a rubric file (TOML) to ship, checked now.
        options: more options of ``imdb-lab grade`` (``--timeout``, ``--memory``, ``--target``).
    """
    root = package_root()
    if data is not None and not Path(data).is_file():
        raise CommandError(f"no such data archive: {data} (give aclImdb_v1.tar.gz, or leave --data out)")
    if rubric is not None:
        Rubric.from_file(rubric)  # a bad rubric stops here, not on Gradescope
    settings = AutograderSettings(tuple(options), Path(data).name if data else None, rubric is not None)
    files = {"setup.sh": (SCRIPTS / "setup.sh").read_text(encoding="utf-8"),
             "run_autograder": (SCRIPTS / "run_autograder").read_text(encoding="utf-8"),
             "settings.json": json.dumps(settings.to_json(), indent=2) + "\n",
             # pip reads ${AUTOGRADER} from setup.sh's environment: the lab's source in the zip, with its backend
             "requirements.txt": f"${{AUTOGRADER}}/source/imdb-lab[{backend}]\n"}
    output = Path(output)
    temporary = output.with_name(f".{output.name}.partial")
    names = []
    try:
        with zipfile.ZipFile(temporary, "w", compression=zipfile.ZIP_DEFLATED) as archive:
            for name, text in files.items():
                info = zipfile.ZipInfo(name, date_time=(2026, 1, 1, 0, 0, 0))
                executable = name in ("setup.sh", "run_autograder")
                info.external_attr = ((stat.S_IFREG | (0o755 if executable else 0o644)) << 16)
                info.compress_type = zipfile.ZIP_DEFLATED
                archive.writestr(info, text)
                names.append(name)
            sources = [root / name for name in PACKAGE_FILES] + sorted(
                path for path in (root / "imdb_lab").rglob("*")
                if path.is_file() and "__pycache__" not in path.parts and path.suffix != ".pyc")
            for path in sources:
                name = f"imdb-lab/{path.relative_to(root).as_posix()}"
                archive.write(path, name)
                names.append(name)
            if rubric is not None:
                archive.write(rubric, "rubric.toml")
                names.append("rubric.toml")
            if data is not None:
                archive.write(data, f"data/{Path(data).name}", compress_type=zipfile.ZIP_STORED)  # already gzip
                names.append(f"data/{Path(data).name}")
        temporary.replace(output)
    finally:
        temporary.unlink(missing_ok=True)
    return names


def run(args):
    """Write the zip and say what to upload and which machine to choose; return the exit code."""
    if not Path(args.output).resolve().parent.is_dir():
        raise CommandError(f"no such folder for the zip: {Path(args.output).parent}")
    options = ["--timeout", f"{args.timeout:g}", "--memory", str(args.memory), "--target", f"{args.target:g}"]
    names = write_autograder(args.output, backend=args.backend, data=args.data, rubric=args.rubric, options=options)
    size = Path(args.output).stat().st_size
    print(f"wrote {args.output} ({len(names)} files, {format_bytes(size)}): upload it as the autograder of a "
          "Gradescope programming assignment; the README's \"Grading on Gradescope\" says which machine to choose")
    return 0
