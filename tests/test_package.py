"""Tests of the package as a whole: a cheap import, every public name, and imports that point one way only."""

import ast
import importlib
import json
import re
import subprocess
import sys
from pathlib import Path

import imdb_lab

PACKAGE = Path(imdb_lab.__file__).parent
ROOT = PACKAGE.parent

# the layers, lowest first: a module imports only modules of its own layer and of the layers before it
LAYERS = {
    "base": ("imdb_lab.errors", "imdb_lab.arguments", "imdb_lab.untrusted", "imdb_lab.files", "imdb_lab.progress",
             "imdb_lab.cgroups", "imdb_lab.memory", "imdb_lab.backend"),
    "data": ("imdb_lab.data",),
    "features": ("imdb_lab.features",),
    "models": ("imdb_lab.models",),
    "check": ("imdb_lab.check",),
    "grader": ("imdb_lab.grader",),
    # what users run: the command, the student-notebook maker, the package's front, the names kept for old notebooks
    "apps": ("imdb_lab.cli", "imdb_lab.commands", "imdb_lab.student", "imdb_lab.__main__", "imdb_lab.training",
             "imdb_lab.word_ids", "imdb_lab"),
}
# third-party modules that are slow to import or need the backend chosen first: the only ones a function may import
HEAVY = {"keras", "tensorflow", "torch", "jax", "matplotlib", "nbformat", "nbclient", "jupyter_client", "ipykernel",
         "IPython", "ipywidgets"}
# the names notebooks handed out before the package had layers import or name (they must keep running)
HANDED_OUT = ["imdb_lab.word_ids.can_twin", "imdb_lab.word_ids.word_id_feed", "imdb_lab.word_ids.word_id_twin",
              "imdb_lab.training.train", "imdb_lab.training.evaluate", "imdb_lab.training.set_seed",
              "imdb_lab.data.load_data", "imdb_lab.data.load_flat", "imdb_lab.build_model", "imdb_lab.multi_hot_encode",
              "imdb_lab.MultiHotSequence", "imdb_lab.check.model", "imdb_lab.check.history",
              "imdb_lab.check.accuracy", "imdb_lab.check.prediction", "imdb_lab.check.encoding"]


def module_name(path):
    """Return the dotted name of the package file at ``path``."""
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def resolve(dotted):
    """Return the package module that ``dotted`` (a module, or a name in one) refers to."""
    while dotted:
        candidate = ROOT / Path(*dotted.split("."))
        if candidate.with_suffix(".py").exists() or (candidate / "__init__.py").exists():
            return dotted
        dotted = dotted.rpartition(".")[0]
    return None


def imports(path):
    """Yield ``(node, imported module, inside a function)`` for every import in the file at ``path``."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    in_functions = {id(node) for function in ast.walk(tree)
                    if isinstance(function, (ast.FunctionDef, ast.AsyncFunctionDef)) for node in ast.walk(function)}
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module:
            for alias in node.names:  # "from imdb_lab.data import archive" imports a module
                target = resolve(f"{node.module}.{alias.name}") if node.module.startswith("imdb_lab") else None
                yield node, target or node.module, id(node) in in_functions
        elif isinstance(node, ast.Import):
            for alias in node.names:
                yield node, alias.name, id(node) in in_functions


def module_imports():
    """Return {module: the package modules it imports anywhere, function bodies included}."""
    graph = {}
    for path in PACKAGE.rglob("*.py"):
        name = module_name(path)
        graph[name] = {target for _, target, _ in imports(path) if target.startswith("imdb_lab")} - {name}
    return graph


def layer_of(module):
    """Return the index of ``module``'s layer (the longest prefix in LAYERS that names it)."""
    matches = [(len(prefix), index) for index, prefixes in enumerate(LAYERS.values()) for prefix in prefixes
               if module == prefix or module.startswith(prefix + ".")]
    assert matches, f"{module} belongs to no layer: add it to LAYERS (and to the README's tree)"
    return max(matches)[1]


def test_importing_the_package_imports_no_keras_nor_backend():
    code = ("import sys, imdb_lab; heavy = {'keras', 'tensorflow', 'jax', 'torch'} & set(sys.modules); "
            "print(sorted(heavy))")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "[]"


def test_every_public_name_resolves():
    for name in imdb_lab.__all__:
        assert getattr(imdb_lab, name) is not None, name
    assert set(dir(imdb_lab)) >= set(imdb_lab.__all__)


def test_no_import_cycle():
    graph = module_imports()
    assert "imdb_lab.data.loading" in graph and graph["imdb_lab.grader.grading"]  # the graph is read
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


def test_imports_point_down_the_layers_only():
    names = list(LAYERS)
    upward = [f"{module} ({names[layer_of(module)]}) imports {target} ({names[layer_of(target)]})"
              for module, targets in module_imports().items() for target in targets
              if layer_of(target) > layer_of(module)]
    assert not upward, upward


def test_the_direction_test_sees_an_upward_import():
    assert layer_of("imdb_lab.data.archive") < layer_of("imdb_lab.models.training") < layer_of("imdb_lab.grader.scorer")
    assert layer_of("imdb_lab.errors") == 0 and layer_of("imdb_lab.word_ids") == len(LAYERS) - 1


def test_functions_import_only_heavy_modules_with_a_reason_beside_them():
    # a package module that imports a heavy one when it is imported is heavy too
    top = {}
    for path in PACKAGE.rglob("*.py"):
        top[module_name(path)] = {target for _, target, inside in imports(path) if not inside}
    heavy = set(HEAVY)
    while True:
        more = {module for module, targets in top.items()
                if module not in heavy and any(t.split(".")[0] in HEAVY or t in heavy for t in targets)}
        if not more:
            break
        heavy |= more
    wrong = []
    for path in PACKAGE.rglob("*.py"):
        lines = path.read_text(encoding="utf-8").splitlines()
        for node, target, inside in imports(path):
            if not inside:
                continue
            where = f"{path.relative_to(ROOT)}:{node.lineno}"
            if target.split(".")[0] not in HEAVY and target not in heavy:
                wrong.append(f"{where}: {target} is cheap to import: import it at the top of the module")
                continue
            # the reason: a comment on the import, or on the line before it, or on the import just above it
            block = lines[max(0, node.lineno - 3):node.lineno]
            if not any("#" in line for line in block):
                wrong.append(f"{where}: say beside the import of {target} why it is inside a function")
    assert not wrong, "\n".join(wrong)


def test_every_imdb_lab_name_that_the_benchmarks_and_notebooks_import_exists():
    sources = {path: path.read_text(encoding="utf-8") for path in (ROOT / "benchmarks").glob("*.py")}
    for notebook in ROOT.glob("*.ipynb"):  # the code cells of both notebooks
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


def test_the_names_handed_out_notebooks_use_still_work():
    for dotted in HANDED_OUT:
        module, _, name = dotted.rpartition(".")
        assert getattr(importlib.import_module(module), name) is not None, dotted


def test_the_readme_tree_lists_every_module_once_and_nothing_else():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    tree = readme.split("## How the package is laid out", 1)[1].split("```", 2)[1]
    listed, folders = [], []
    for line in tree.splitlines():
        match = re.match(r"^([ │├└─]*)(\S+?)(/?)\s{2,}\S", line)
        if not match:
            continue
        depth = len(match.group(1)) // 4
        folders[depth:] = [match.group(2)] if match.group(3) else []
        if not match.group(3):
            listed.append("/".join(folders[:depth] + [match.group(2)]))
    files = sorted(str(path.relative_to(ROOT)) for path in PACKAGE.rglob("*.py"))
    assert sorted(listed) == files


def test_every_folder_of_the_package_is_a_package_that_the_wheel_finds():
    # pyproject.toml finds the packages (include = ["imdb_lab*"]): a folder without __init__.py would be left out
    folders = {path.parent for path in PACKAGE.rglob("*.py")}
    assert {folder.name for folder in folders} >= {"data", "features", "models", "check", "grader", "commands"}
    assert all((folder / "__init__.py").exists() for folder in folders)
    assert 'include = ["imdb_lab*"]' in (ROOT / "pyproject.toml").read_text(encoding="utf-8")


def test_every_public_function_has_a_docstring_and_those_of_many_parameters_an_args_section():
    missing, without_args = [], []
    for path in sorted(PACKAGE.rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        # the module's functions and its classes' methods (functions nested in them are their own business)
        functions = [*tree.body, *(item for node in tree.body if isinstance(node, ast.ClassDef) for item in node.body)]
        for node in functions:
            if not isinstance(node, ast.FunctionDef) or node.name.startswith("_"):
                continue
            where = f"{path.relative_to(ROOT)}:{node.lineno} {node.name}"
            doc = ast.get_docstring(node)
            arguments = node.args
            names = [a.arg for a in (*arguments.posonlyargs, *arguments.args, *arguments.kwonlyargs)
                     if a.arg not in ("self", "cls")]
            if not doc:
                missing.append(where)
            elif len(names) > 4 and "\n    Args:\n" not in f"\n{doc}\n".replace("\nArgs:\n", "\n    Args:\n"):
                without_args.append(where)
    assert not missing, f"public functions without a docstring: {missing}"
    assert not without_args, f"public functions of more than four parameters without an Args: section: {without_args}"
