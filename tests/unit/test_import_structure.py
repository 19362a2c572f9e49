"""The import structure of simbench and sdpo, read from the source with `ast` (nothing runs).

- no import cycles among the packages' modules (module-level imports; `TYPE_CHECKING`-only
  imports excluded, since they never execute);
- imports sit at module top, except the heavy optional ones: a package in HEAVY, or a
  first-party module that imports one at its own top (torch via sdpo.updater, ...); and the
  command modules' per-command imports, which keep `simbench --help` and `simbench list`
  from loading pydantic, the metrics or the model code;
- sdpo never imports simbench;
- every module sits in one layer of LAYERS and imports only its own layer or lower ones
  (every import counted: `TYPE_CHECKING` blocks and function bodies too).
"""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("simbench", "sdpo")
HEAVY = {"torch", "transformers", "peft", "vllm", "openai", "safetensors", "matplotlib",
         "huggingface_hub", "gguf", "accelerate", "llama_cpp", "ray", "scipy", "datasets",
         "fcntl"}  # not heavy but POSIX-only: imported where it is used
CLI_LAYER = ("simbench/cli.py", "simbench/commands/")
# Lowest first. A module belongs to the layer of its longest matching prefix (`simbench` alone
# is the package face). A new package or base module is one entry here.
LAYERS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("sdpo", ("sdpo",)),
    ("base", ("simbench.errors", "simbench.paths", "simbench.seeding", "simbench.safe_load",
              "simbench.redaction", "simbench.registry", "simbench.run_defaults", "simbench.option_types",
              "simbench.distribution", "simbench.arms", "simbench.plugins")),
    ("data", ("simbench.persona", "simbench.prompts", "simbench.logs", "simbench.config")),
    ("components", ("simbench.backends", "simbench.users", "simbench.learners", "simbench.judge",
                    "simbench.judge_cache", "simbench.scoring", "simbench.metrics")),
    ("runner", ("simbench.runner", "simbench.population")),
    ("products", ("simbench.reporting", "simbench.teaching", "simbench.preset", "simbench.distillation",
                  "simbench.data")),
    ("api", ("simbench", "simbench.api", "simbench.extend")),
    ("cli", ("simbench.commands", "simbench.cli", "simbench.__main__")),
)
# (importer, imported) edges that break the order today, each with what removes it; the test
# fails once an entry no longer occurs, so this table only shrinks.
KNOWN_UPWARD: dict[tuple[str, str], str] = {}
# `import simbench` loads the API (and with it pydantic and numpy) on first attribute use.
LAZY_BY_DESIGN = {"simbench/__init__.py"}


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def modules() -> dict[str, Path]:
    return {module_name(p): p for package in PACKAGES for p in sorted((ROOT / package).rglob("*.py"))}


def imported(node: ast.AST, current: str, is_package: bool) -> list[str]:
    """Module names an import statement loads (relative imports resolved)."""
    if isinstance(node, ast.Import):
        return [alias.name for alias in node.names]
    if isinstance(node, ast.ImportFrom):
        if node.level:
            base = current.split(".")
            base = base[: len(base) - node.level + (1 if is_package else 0)]
            module = ".".join(base + ([node.module] if node.module else []))
        else:
            module = node.module or ""
        # `from pkg import sub` may load the submodule pkg.sub
        return [module] + [f"{module}.{alias.name}" for alias in node.names]
    return []


def is_type_checking(node: ast.If) -> bool:
    return "TYPE_CHECKING" in ast.unparse(node.test)


def top_level_imports(tree: ast.Module, name: str, is_package: bool) -> set[str]:
    found: set[str] = set()

    def visit(body: list[ast.stmt]) -> None:
        for node in body:
            if isinstance(node, ast.If) and is_type_checking(node):
                continue
            if isinstance(node, (ast.If, ast.Try)):
                visit(node.body + getattr(node, "orelse", []) + sum((h.body for h in getattr(node, "handlers", [])), []))
            found.update(imported(node, name, is_package))

    visit(tree.body)
    return found


def graph() -> tuple[dict[str, set[str]], dict[str, ast.Module]]:
    mods = modules()
    trees = {name: ast.parse(path.read_text(encoding="utf-8")) for name, path in mods.items()}
    edges = {}
    for name, tree in trees.items():
        targets = top_level_imports(tree, name, mods[name].name == "__init__.py")
        edges[name] = {t for t in targets if t in mods and t != name}
    return edges, trees


def find_cycle(edges: dict[str, set[str]]) -> list[str] | None:
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        stack.append(node)
        for nxt in sorted(edges[node]):
            if state.get(nxt) == 1:
                return stack[stack.index(nxt):] + [nxt]
            if nxt not in state and (cycle := visit(nxt)):
                return cycle
        stack.pop()
        state[node] = 2
        return None

    for node in sorted(edges):
        if node not in state and (cycle := visit(node)):
            return cycle
    return None


def heavy_modules(edges: dict[str, set[str]], trees: dict[str, ast.Module]) -> set[str]:
    """First-party modules that import a HEAVY package at their top, directly or through others."""
    mods = modules()
    direct = {name for name, tree in trees.items()
              if any(t.split(".")[0] in HEAVY for t in top_level_imports(tree, name, mods[name].name == "__init__.py"))}
    heavy = set(direct)
    changed = True
    while changed:
        changed = False
        for name, targets in edges.items():
            if name not in heavy and targets & heavy:
                heavy.add(name)
                changed = True
    return heavy


def layer_of(module: str) -> int | None:
    """Index in LAYERS of the layer `module` belongs to (longest matching prefix), or None."""
    best: tuple[int, int] | None = None
    for index, (_, prefixes) in enumerate(LAYERS):
        for prefix in prefixes:
            if (module == prefix or module.startswith(prefix + ".")) and (best is None or len(prefix) > best[1]):
                best = (index, len(prefix))
    return best[0] if best else None


def upward_imports(sources: dict[str, tuple[str, ast.Module, bool]]) -> list[str]:
    """Every import of a module from a higher layer, as 'path:line importer (layer) -> target (layer)'.

    `sources` maps a module name to (its path, its tree, whether it is a package's __init__)."""
    found = []
    for name, (path, tree, is_package) in sources.items():
        own = layer_of(name)
        for node in ast.walk(tree):
            for target in imported(node, name, is_package):
                theirs = layer_of(target) if target in sources else None
                if own is not None and theirs is not None and theirs > own:
                    found.append(f"{path}:{node.lineno} {name} ({LAYERS[own][0]}) -> {target} ({LAYERS[theirs][0]})")
    return found


def sources() -> dict[str, tuple[str, ast.Module, bool]]:
    return {name: (path.relative_to(ROOT).as_posix(), ast.parse(path.read_text(encoding="utf-8")),
                   path.name == "__init__.py") for name, path in modules().items()}


def test_every_module_sits_in_a_layer():
    assert [name for name in modules() if layer_of(name) is None] == []


def test_no_module_imports_from_a_higher_layer():
    found = upward_imports(sources())
    known = [line for line in found if tuple(line.split(" ")[1::3]) in KNOWN_UPWARD]
    assert [line for line in found if line not in known] == []
    assert {tuple(line.split(" ")[1::3]) for line in known} == set(KNOWN_UPWARD), "a KNOWN_UPWARD entry is gone: drop it"


def test_layer_check_names_the_offending_import():
    tree = ast.parse("import os\nif TYPE_CHECKING:\n    from simbench.runner.sweep import SweepCell\n")
    base = ast.parse("")
    found = upward_imports({"simbench.config": ("simbench/config.py", tree, False),
                            "simbench.runner.sweep": ("simbench/runner/sweep.py", base, False)})
    assert found == ["simbench/config.py:3 simbench.config (data) -> simbench.runner.sweep (runner)"]


def test_there_are_no_import_cycles():
    edges, _ = graph()
    assert find_cycle(edges) is None


def test_cycle_finder_finds_a_cycle():
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"b"}, "b": set()}) is None


def test_imports_inside_functions_are_only_the_heavy_optional_ones():
    edges, trees = graph()
    heavy = heavy_modules(edges, trees)
    mods = modules()
    misplaced = []
    for name, tree in trees.items():
        path = mods[name].relative_to(ROOT).as_posix()
        if path.startswith(CLI_LAYER) or path in LAZY_BY_DESIGN:
            continue
        for function in (n for n in ast.walk(tree) if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))):
            for node in ast.walk(function):
                for target in imported(node, name, mods[name].name == "__init__.py")[:1]:
                    if target.split(".")[0] not in HEAVY and target not in heavy:
                        misplaced.append(f"{path}:{node.lineno} {target}")
    assert misplaced == []


def test_sdpo_never_imports_simbench():
    edges, trees = graph()
    mods = modules()
    for name, tree in trees.items():
        if name.startswith("sdpo"):
            every = {t for node in ast.walk(tree) for t in imported(node, name, mods[name].name == "__init__.py")}
            assert not any(t.startswith("simbench") for t in every), name


def test_import_simbench_and_its_api_names_load_no_heavy_package():
    code = ("import sys, simbench; simbench.run; "
            "print(sorted(m for m in ('torch', 'transformers', 'openai', 'vllm', 'peft') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, check=True)
    assert out.stdout.strip() == "[]"


def test_ui_lives_only_in_the_cli_layer():
    """The library reports progress to a display object; only the CLI draws (rich)."""
    _, trees = graph()
    mods = modules()
    drawing = []
    for name, tree in trees.items():
        path = mods[name].relative_to(ROOT).as_posix()
        if path.startswith(CLI_LAYER):
            continue
        every = {t for node in ast.walk(tree) for t in imported(node, name, mods[name].name == "__init__.py")}
        drawing += [f"{path}: {t}" for t in sorted(every) if t.split(".")[0] == "rich"]
    assert drawing == []
