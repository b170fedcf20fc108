"""Tests of the package as a whole: a cheap import, every public name, and imports that only point downward."""

import ast
import subprocess
import sys
from pathlib import Path

import imdb_lab

PACKAGE = Path(imdb_lab.__file__).parent


def test_importing_the_package_imports_no_keras_nor_backend():
    code = ("import sys, imdb_lab; heavy = {'keras', 'tensorflow', 'jax', 'torch'} & set(sys.modules); "
            "print(sorted(heavy))")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "[]"


def test_every_public_name_resolves():
    for name in imdb_lab.__all__:
        assert getattr(imdb_lab, name) is not None, name
    assert set(dir(imdb_lab)) >= set(imdb_lab.__all__)


def module_imports():
    """Return {module: the imdb_lab modules it imports anywhere, function bodies included}."""
    graph = {}
    for path in PACKAGE.rglob("*.py"):
        parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        imported = set()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("imdb_lab"):
                for alias in node.names:  # "from imdb_lab import data" imports a module
                    candidate = f"{node.module}.{alias.name}"
                    imported.add(candidate if (PACKAGE.parent / Path(*candidate.split("."))).with_suffix(
                        ".py").exists() else node.module)
            elif isinstance(node, ast.Import):
                imported.update(alias.name for alias in node.names if alias.name.startswith("imdb_lab"))
        graph[name] = imported - {name, "imdb_lab"}
    return graph


def test_no_import_cycle():
    graph = module_imports()
    assert "imdb_lab.data" in graph and graph["imdb_lab.grading"]  # the graph is read
    visiting, done = [], set()

    def visit(module):
        if module in visiting:
            raise AssertionError("import cycle: " + " -> ".join(visiting[visiting.index(module):] + [module]))
        if module in done:
            return
        visiting.append(module)
        for imported in sorted(graph.get(module, ())):
            visit(imported)
        visiting.pop()
        done.add(module)

    for module in sorted(graph):
        visit(module)


def test_every_imdb_lab_name_that_the_benchmarks_and_notebooks_import_exists():
    import importlib
    import json

    root = PACKAGE.parent
    sources = {path: path.read_text(encoding="utf-8") for path in (root / "benchmarks").glob("*.py")}
    for notebook in root.glob("*.ipynb"):  # the code cells of both notebooks
        cells = json.loads(notebook.read_text(encoding="utf-8"))["cells"]
        code = ["".join(c["source"]) for c in cells if c["cell_type"] == "code"]
        sources[notebook] = "\n".join(line for cell in code for line in cell.splitlines()
                                      if not line.lstrip().startswith(("%", "!")))
    missing = []
    for path, text in sources.items():
        for node in ast.walk(ast.parse(text)):
            if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("imdb_lab"):
                module = importlib.import_module(node.module)
                missing += [f"{path.name}: {node.module}.{a.name}" for a in node.names
                            if not hasattr(module, a.name)
                            and importlib.util.find_spec(f"{node.module}.{a.name}") is None]
    assert len(sources) >= 4 and not missing, missing
