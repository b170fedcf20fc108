"""The grader's fixture notebooks test what they say: every package name a cheat imports or patches exists.

A cheat that patches a name the package no longer has patches nothing, and
then "the cheat fails" would pass whatever the grader does.
"""

import ast
import importlib
import json
import re

import pytest

from conftest import GRADER_NOTEBOOKS


def package_names(code):
    """Yield every ``imdb_lab...`` name the code imports, or assigns to (``imdb_lab.x.y = ...``)."""
    for node in ast.walk(ast.parse(code)):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names if alias.name.startswith("imdb_lab"))
        elif isinstance(node, ast.ImportFrom) and (node.module or "").startswith("imdb_lab"):
            yield from (f"{node.module}.{alias.name}" for alias in node.names)
        elif isinstance(node, ast.Assign):
            for target in node.targets:
                dotted = []
                while isinstance(target, ast.Attribute):
                    dotted.insert(0, target.attr)
                    target = target.value
                if isinstance(target, ast.Name) and target.id == "imdb_lab" and dotted:
                    yield ".".join(["imdb_lab", *dotted])


def exists(dotted):
    """Return True when ``dotted`` is a package module, or a name defined in one."""
    parts = dotted.split(".")
    for cut in range(len(parts), 0, -1):
        try:
            value = importlib.import_module(".".join(parts[:cut]))
        except ImportError:
            continue
        for name in parts[cut:]:
            if not hasattr(value, name):
                return False
            value = getattr(value, name)
        return True
    return False


NOTEBOOKS = sorted(GRADER_NOTEBOOKS.glob("*.ipynb"))


def test_the_fixtures_are_there():
    assert len(NOTEBOOKS) >= 20


@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=lambda path: path.name)
def test_every_package_name_a_fixture_uses_exists(notebook):
    cells = json.loads(notebook.read_text(encoding="utf-8"))["cells"]
    names = [name for cell in cells if cell["cell_type"] == "code" for name in package_names("".join(cell["source"]))]
    missing = [name for name in names if not exists(name)]
    assert not missing, f"{notebook.name} uses names the package does not have: {missing}"


def test_a_patch_of_a_missing_name_is_caught():
    assert list(package_names("import imdb_lab.grader.grading\nimdb_lab.grader.grading._score = 1")) == [
        "imdb_lab.grader.grading", "imdb_lab.grader.grading._score"]
    assert not exists("imdb_lab.grader.grading._score") and exists("imdb_lab.grader.scorer.evaluate_export")


def test_every_attack_in_the_readmes_protection_table_names_a_fixture_and_a_test_that_exist():
    readme = (GRADER_NOTEBOOKS.parents[2] / "README.md").read_text(encoding="utf-8")
    table = readme[readme.index("**What is protected, where.**"):readme.index("Install bubblewrap with")]
    rows = [line for line in table.splitlines()
            if line.startswith("| ") and not line.startswith(("| a notebook", "| ---"))]
    assert len(rows) >= 10
    tests = {path.name for path in GRADER_NOTEBOOKS.parents[1].rglob("test_*.py")}
    for row in rows:
        tested_in = row.rstrip(" |").rsplit("|", 1)[1]
        names = re.findall(r"`([\w.]+)`", tested_in)
        assert names, row
        for name in names:
            assert (GRADER_NOTEBOOKS / name).exists() if name.endswith(".ipynb") else name in tests, (name, row)
