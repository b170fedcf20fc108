"""Check that a learner's install resolves, from wheels only, on the machines learners use.

    python .ci/check_wheels.py            # every machine below
    python .ci/check_wheels.py --machine "macOS arm64"   # the machines whose name contains that text
    python .ci/check_wheels.py --machine "x86_64, Python 3.14" --print-requirements   # what applies there
    python .ci/check_wheels.py --host ../shared/hosts/colab-pip-freeze.txt   # installing the lab changes nothing there

For each machine, the project's requirements (``pyproject.toml``'s dependencies and the extras
that ``requirements.txt``'s ``-e .[...]`` names, plus its other lines) are resolved by pip's own resolver against the
package registry with ``pip install --dry-run --only-binary=:all: --platform P
--python-version V``, installing nothing. pip evaluates environment markers
against the machine it runs on, not against ``--platform``, so this script
evaluates the project's own markers for each target machine first and hands pip
the requirements that apply there (the markers inside dependencies' metadata are
still evaluated by pip, for this machine).

``--host FREEZE`` checks a hosted runtime instead (Google Colab, Kaggle): its ``pip freeze``
is the installed set, given to pip as constraints, and the package's own dependencies
(no extra: what the notebook's install cell installs there) must resolve to exactly
those versions, adding no Keras backend.

Exit status: 0 when every machine resolves (or the registry cannot be reached:
then the check is skipped with a message), 1 when one does not, naming the
machine and the package that has no wheel for it.
"""

import argparse
import concurrent.futures
import json
import re
import subprocess
import sys
import tempfile
from pathlib import Path

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10
    tomllib = None

try:
    from packaging.requirements import Requirement
except ModuleNotFoundError:  # a bare venv: pip carries its own copy
    from pip._vendor.packaging.requirements import Requirement

ROOT = Path(__file__).resolve().parents[1]
# glibc 2.17 (manylinux2014) to 2.39: pip does not expand a single manylinux tag to the older ones
BACKENDS = ("tensorflow-cpu", "tensorflow", "jax", "torch")
_GLIBC = [f"manylinux_2_{minor}" for minor in range(39, 16, -1)]


def _machine(name, python, sys_platform, platform_system, machine, platforms):
    """Return one target machine: pip's --platform tags and the marker environment it evaluates to."""
    major, minor = python.split(".")
    return {
        "name": f"{name}, Python {python}",
        "python": python,
        "platforms": platforms,
        "environment": {
            "python_version": python,
            "python_full_version": f"{python}.0",
            "implementation_name": "cpython",
            "platform_python_implementation": "CPython",
            "sys_platform": sys_platform,
            "platform_system": platform_system,
            "platform_machine": machine,
            "os_name": "nt" if sys_platform == "win32" else "posix",
            "platform_release": "",
            "platform_version": "",
            "implementation_version": f"{major}.{minor}.0",
            "extra": "",
        },
    }


def _linux(python, arch):
    return _machine(f"Linux {arch}", python, "linux", "Linux", arch,
                    [f"{tag}_{arch}" for tag in _GLIBC] + [f"manylinux2014_{arch}"])


def _macos_arm(python):
    # pip expands one macOS tag to the older macOS versions itself
    return _machine("macOS arm64 (Apple Silicon)", python, "darwin", "Darwin", "arm64", ["macosx_14_0_arm64"])


def _windows(python):
    return _machine("Windows x86_64", python, "win32", "Windows", "AMD64", ["win_amd64"])


MACHINES = [
    _macos_arm("3.12"),
    _macos_arm("3.14"),
    _linux("3.12", "aarch64"),
    _linux("3.11", "x86_64"),
    _linux("3.14", "x86_64"),
    _windows("3.10"),
    _windows("3.12"),
]


def project_requirements(root=ROOT):
    """Return the requirement strings a learner's ``pip install -r requirements.txt`` asks for."""
    lines, extras = [], []
    for line in (root / "requirements.txt").read_text(encoding="utf-8").splitlines():
        line = line.split("#", 1)[0].strip()
        project = re.fullmatch(r"-e \.(?:\[([\w,\s-]+)\])?", line)
        if project:  # "-e .[extra]" stands for the project: read its dependencies and those extras below
            extras += [name.strip() for name in (project.group(1) or "").split(",") if name.strip()]
        elif line and not line.startswith("-"):
            lines.append(line)
    if tomllib is None:
        raise SystemExit("check_wheels.py needs Python 3.11 or newer (tomllib) to read pyproject.toml")
    with open(root / "pyproject.toml", "rb") as file:
        project = tomllib.load(file)["project"]
    lines += project["dependencies"]
    for extra in extras:
        lines += project["optional-dependencies"][extra]
    return lines


def requirements_for(requirements, environment):
    """Return the requirements that apply on ``environment``, markers evaluated and removed."""
    out = []
    for text in requirements:
        requirement = Requirement(text)
        if requirement.marker is None or requirement.marker.evaluate(environment):
            requirement.marker = None
            out.append(str(requirement))
    return out


def missing_package(output):
    """Return the package pip found no wheel for, from its error output (or None)."""
    match = re.search(r"No matching distribution found for ([A-Za-z0-9_.\-\[\]]+)", output)
    if match:
        return match.group(1)
    match = re.search(r"Cannot install (.+?) because", output)
    return match.group(1) if match else None


def dry_run(machine, wanted, pip, constraints=None):
    """Return ``(installed, output)``: ``{name: version}`` pip would install on ``machine`` (None when it cannot
    resolve ``wanted``), and pip's output without its notes about missing local indexes."""
    with tempfile.TemporaryDirectory(prefix="check-wheels-") as scratch:
        report = Path(scratch) / "report.json"
        command = [*pip, "install", "--dry-run", "--quiet", "--ignore-installed", "--only-binary=:all:",
                   "--target", str(Path(scratch) / "target"), "--python-version", machine["python"],
                   "--report", str(report)]
        if constraints is not None:
            path = Path(scratch) / "constraints.txt"
            path.write_text("".join(f"{name}=={version}\n" for name, version in constraints.items()),
                            encoding="utf-8")
            command += ["--constraint", str(path)]
        for platform in machine["platforms"]:
            command += ["--platform", platform]
        result = subprocess.run(command + wanted, capture_output=True, text=True)
        output = "\n".join(line for line in (result.stdout + result.stderr).splitlines()
                           if "is ignored: it is neither" not in line).strip()
        if result.returncode != 0:
            return None, output
        return {normalized(item["metadata"]["name"]): item["metadata"]["version"]
                for item in json.loads(report.read_text(encoding="utf-8"))["install"]}, output


def resolve(machine, requirements, pip):
    """Return ``(ok, message)`` for one machine: what pip would install there, or why it can't."""
    installed, output = dry_run(machine, requirements_for(requirements, machine["environment"]), pip)
    if installed is None:
        package = missing_package(output)
        what = f"no wheel of {package}" if package else "pip could not resolve the requirements"
        return False, f"{machine['name']}: FAILS: {what}\n    " + "\n    ".join(output.splitlines()[-4:])
    backends = [f"{name} {installed[name]}" for name in BACKENDS if name in installed]
    if not backends:
        return False, f"{machine['name']}: FAILS: no Keras backend ({', '.join(BACKENDS)}) would be installed"
    return True, f"{machine['name']}: ok ({', '.join(backends)}, keras {installed.get('keras')})"


def freeze_pins(path):
    """Return ``{normalized name: version}`` of a ``pip freeze`` file's ``name==version`` lines."""
    pins = {}
    for line in Path(path).read_text(encoding="utf-8").splitlines():
        name, separator, version = line.split("#", 1)[0].strip().partition("==")
        if separator:
            pins[normalized(name)] = version.strip()
    return pins


def normalized(name):
    """Return a package name as the registry compares it (PEP 503)."""
    return re.sub(r"[-_.]+", "-", name).lower()


def host_python(path):
    """Return the ``X.Y`` Python version a freeze file's header names (``# ... Python 3.13.15``)."""
    match = re.search(r"Python (3\.\d+)", Path(path).read_text(encoding="utf-8"))
    if not match:
        raise SystemExit(f"{path} does not say which Python its runtime has (a header line with 'Python 3.X')")
    return match.group(1)


def host_changes(installed, pins):
    """Return ``(changed, added)``: preinstalled packages pip would change, and the packages it would add.

    ``installed``: ``{name: version}`` pip's report would install; ``pins``: the host's ``freeze_pins``.
    """
    changed = sorted((name, pins[name], version) for name, version in installed.items()
                     if name in pins and pins[name] != version)
    added = sorted((name, version) for name, version in installed.items() if name not in pins)
    return changed, added


def resolve_on_host(freeze, pip, root=ROOT):
    """Return ``(ok, message)``: whether installing the package on the host of ``freeze`` keeps its packages."""
    with open(root / "pyproject.toml", "rb") as file:
        wanted = tomllib.load(file)["project"]["dependencies"]
    machine = _linux(host_python(freeze), "x86_64")
    pins = freeze_pins(freeze)
    installed, output = dry_run(machine, requirements_for(wanted, machine["environment"]), pip, constraints=pins)
    if installed is None:
        return False, (f"{freeze}: FAILS: the package's dependencies cannot keep the host's versions\n    "
                       + "\n    ".join(output.splitlines()[-6:]))
    changed, added = host_changes(installed, pins)
    backends = [name for name, _ in added if name in BACKENDS]
    if changed or backends:
        what = [f"{name} {before} -> {after}" for name, before, after in changed]
        what += [f"adds the backend {name}" for name in backends]
        return False, f"{freeze}: FAILS: " + "; ".join(what)
    return True, (f"{freeze}: ok, changes none of its {len(pins)} packages"
                  + (f" (adds {', '.join(f'{n} {v}' for n, v in added)})" if added else " and adds none"))


def registry_reachable(pip):
    """Return True when pip can read the package registry (this check needs it)."""
    result = subprocess.run([*pip, "index", "versions", "keras"], capture_output=True, text=True, timeout=120)
    return result.returncode == 0


def main(argv=None):
    """Resolve the requirements for every machine; return the exit status."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--machine", default="", help="only the machines whose name contains this text")
    parser.add_argument("--print-requirements", action="store_true",
                        help="resolve nothing: print the requirements that apply on the (one) machine chosen with "
                             "--machine, one per line, for pip install -r (CI installs the Python 3.14 set this way)")
    parser.add_argument("--host", metavar="FREEZE",
                        help="check a hosted runtime instead: the pip freeze of its preinstalled packages")
    args = parser.parse_args(argv)
    pip = [sys.executable, "-m", "pip"]
    machines = [m for m in MACHINES if args.machine.lower() in m["name"].lower()]
    if not machines:
        parser.error(f"no machine matches {args.machine!r}: choose from {', '.join(m['name'] for m in MACHINES)}")
    if args.print_requirements:
        if len(machines) != 1:
            parser.error(f"--print-requirements needs --machine to name one machine, not {len(machines)}")
        print("\n".join(requirements_for(project_requirements(), machines[0]["environment"])))
        return 0
    try:
        reachable = registry_reachable(pip)
    except subprocess.TimeoutExpired:
        reachable = False
    if not reachable:
        print("check_wheels: skipped: the package registry cannot be reached (this check asks it which wheels exist)")
        return 0
    if args.host:
        ok, message = resolve_on_host(args.host, pip)
        print(message)
        return 0 if ok else 1
    requirements = project_requirements()
    with concurrent.futures.ThreadPoolExecutor(max_workers=4) as pool:
        results = list(pool.map(lambda machine: resolve(machine, requirements, pip), machines))
    for _, message in results:
        print(message)
    failed = sum(not ok for ok, _ in results)
    print(f"{len(results) - failed} of {len(results)} machines resolve")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
