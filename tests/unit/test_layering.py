"""The layering of DESIGN.md section 1, read from the source with `ast`: every import counts, lazy ones included.

A new folder of pavilion/ states its rule in RULES (a test fails until it does). Imports are found anywhere in a
module (top level, functions, `if TYPE_CHECKING:`), relative ones resolved, and module paths written as strings
("pavilion.x.y" or "pavilion.x.y:Name", as in the platform and command registries) count as imports too.
"""

from __future__ import annotations

import ast
import functools
import re
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
MAX_LINES = 400
DYNAMIC = re.compile(r"^pavilion(\.\w+){2,}(:\w+)?$")  # a module path in a string, e.g. a registry entry


@dataclass(frozen=True)
class Rule:
    """What the modules of `folder` (a package, with everything below it) may import."""

    folder: str
    why: str
    forbid: tuple[str, ...] = ()  # packages they must not import
    allow: tuple[str, ...] = ()  # exceptions to `forbid` and to `stdlib_only`
    stdlib_only: bool = False  # besides `allow`, nothing but the standard library

    def breaks(self, target: str) -> bool:
        if any(within(target, allowed) for allowed in self.allow):
            return False
        if self.stdlib_only:
            return target.partition(".")[0] not in sys.stdlib_module_names
        return any(within(target, forbidden) for forbidden in self.forbid)


# One rule per folder; a module obeys every rule whose folder holds it (platforms obey runtime's rule too).
RULES: tuple[Rule, ...] = (
    Rule("pavilion.core", "the policy core is pure: standard library only", allow=("pavilion.core",), stdlib_only=True),
    Rule("pavilion.errors", "shared by every layer: standard library only", stdlib_only=True),
    Rule("pavilion.sim", "the simulator never reaches the live system",
         forbid=("pavilion.runtime", "pavilion.rehearsal")),
    Rule(
        "pavilion.runtime",
        "the runtime never imports the simulator; it reaches the emulators only over the wire",
        forbid=("pavilion.sim", "pavilion.rehearsal", "pavilion.emulators"),
    ),
    Rule(
        "pavilion.runtime.platforms",
        "adapters reach the runtime only through the PlatformHost of platforms/base.py",
        forbid=("pavilion.runtime",),
        allow=("pavilion.runtime.platforms",),
    ),
    Rule(
        "pavilion.emulators",
        "the emulators stand alone, like the real services",
        forbid=("pavilion.runtime", "pavilion.sim", "pavilion.rehearsal"),
    ),
    Rule(
        "pavilion.rehearsal",
        "rehearsal uses sim for draws and metrics and reaches the server and the emulators only over the wire",
        forbid=("pavilion.runtime", "pavilion.emulators"),
    ),
)
ACYCLIC: tuple[str, ...] = ("pavilion.runtime.platforms", "pavilion.emulators")  # no import cycle inside these
SHELLS: tuple[str, ...] = ("pavilion", "pavilion.cli", "pavilion.__main__")  # may import any layer: the command


@dataclass(frozen=True)
class Import:
    module: str
    path: Path
    line: int
    target: str


def within(name: str, package: str) -> bool:
    return name == package or name.startswith(package + ".")


def modules(root: Path) -> dict[str, Path]:
    """Module name -> file, for every .py file under root/pavilion."""
    found = {}
    for path in sorted((root / "pavilion").rglob("*.py")):
        parts = path.relative_to(root).with_suffix("").parts
        found[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = path
    return found


def imports_of(name: str, path: Path, known: set[str]) -> Iterator[Import]:
    """Every import in one module, as absolute module names (a submodule when `from pkg import sub` names one)."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), filename=str(path))):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield Import(name, path, node.lineno, alias.name)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = ".".join(package.split(".")[: len(package.split(".")) - node.level + 1])
                base = f"{anchor}.{base}" if base else anchor
            for alias in node.names:
                sub = f"{base}.{alias.name}"
                yield Import(name, path, node.lineno, sub if sub in known else base)
        elif isinstance(node, ast.Constant) and isinstance(node.value, str) and DYNAMIC.match(node.value):
            target = node.value.partition(":")[0]
            if target in known and target != name:
                yield Import(name, path, node.lineno, target)


@functools.cache
def all_imports(root: Path) -> tuple[Import, ...]:
    found = modules(root)
    return tuple(imp for name, path in found.items() for imp in imports_of(name, path, set(found)))


def violations(root: Path, rules: tuple[Rule, ...] = RULES) -> list[str]:
    """One line per import that breaks a rule: where, what, and why the rule exists."""
    out = []
    for imp in all_imports(root):
        for rule in rules:
            if within(imp.module, rule.folder) and rule.breaks(imp.target):
                where = f"{imp.path.relative_to(root)}:{imp.line}"
                out.append(f"{where} imports {imp.target}: {rule.why} (rule for {rule.folder})")
    return out


def cycles(root: Path, package: str) -> list[list[str]]:
    """The import cycles among the modules of `package` (each as a path of module names, first = last)."""
    graph: dict[str, set[str]] = {}
    for imp in all_imports(root):
        if within(imp.module, package) and within(imp.target, package) and imp.target != imp.module:
            graph.setdefault(imp.module, set()).add(imp.target)
    found, done = [], set()

    def visit(node: str, path: list[str]) -> None:
        if node in path:
            found.append(path[path.index(node) :] + [node])
            return
        if node in done:
            return
        for target in sorted(graph.get(node, ())):
            visit(target, path + [node])
        done.add(node)

    for start in sorted(graph):
        visit(start, [])
    return found


# ---- the rules hold on this tree -----------------------------------------------------------------------------
def test_every_import_obeys_the_layering() -> None:
    broken = violations(ROOT)
    assert not broken, "layering broken (DESIGN.md section 1):\n" + "\n".join(broken)


@pytest.mark.parametrize("package", ACYCLIC)
def test_no_import_cycles(package: str) -> None:
    found = cycles(ROOT, package)
    assert not found, f"import cycles in {package}:\n" + "\n".join(" -> ".join(cycle) for cycle in found)


def test_every_folder_states_its_rule() -> None:
    folders = {rule.folder for rule in RULES}
    names = modules(ROOT)
    top = {".".join(name.split(".")[:2]) for name in names if name.count(".") >= 1}
    missing = sorted(top - folders - set(SHELLS))
    assert not missing, f"add a rule to RULES in {Path(__file__).name} for: {', '.join(missing)}"


def test_no_module_is_over_400_lines() -> None:
    sizes = {path: len(path.read_text(encoding="utf-8").splitlines()) for path in modules(ROOT).values()}
    long = sorted(f"{path.relative_to(ROOT)}: {n} lines" for path, n in sizes.items() if n > MAX_LINES)
    assert not long, f"split these by role (at most {MAX_LINES} lines a module):\n" + "\n".join(long)


# ---- the checker finds what it must (on small trees written here) ----------------------------------------------
def write(root: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    for folder in {p.parent for p in root.rglob("*.py")}:
        (folder / "__init__.py").touch()
    return root


def test_a_lazy_forbidden_import_is_caught(tmp_path: Path) -> None:
    root = write(tmp_path, {
        "pavilion/runtime/models.py": "",
        "pavilion/runtime/platforms/base.py": "",
        "pavilion/runtime/platforms/adapter.py": (
            "from pavilion.runtime.platforms import base\n\n\ndef hook():\n    from pavilion.runtime import models\n"
        ),
    })
    assert violations(root) == [
        "pavilion/runtime/platforms/adapter.py:5 imports pavilion.runtime.models: adapters reach the runtime only "
        "through the PlatformHost of platforms/base.py (rule for pavilion.runtime.platforms)"
    ]


def test_relative_imports_type_checking_and_registry_strings_count(tmp_path: Path) -> None:
    root = write(tmp_path, {
        "pavilion/runtime/db.py": "",
        "pavilion/sim/engine.py": "",
        "pavilion/emulators/mturk/app.py": "from ...runtime import db\n",
        "pavilion/core/step.py": "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    import numpy\n",
        "pavilion/runtime/registry.py": 'PLUGINS = {"sim": "pavilion.sim.engine:Engine"}\n',
    })
    assert [line.split(": ")[0] for line in violations(root)] == [
        "pavilion/core/step.py:3 imports numpy",
        "pavilion/emulators/mturk/app.py:1 imports pavilion.runtime.db",
        "pavilion/runtime/registry.py:1 imports pavilion.sim.engine",
    ]


def test_a_cycle_is_caught_and_the_allowed_imports_pass(tmp_path: Path) -> None:
    root = write(tmp_path, {
        "pavilion/runtime/platforms/base.py": "import json\nfrom pavilion.errors import InputError\n",
        "pavilion/runtime/platforms/shop/adapter.py": "def f():\n    from . import routes\n",
        "pavilion/runtime/platforms/shop/routes.py": "from pavilion.runtime.platforms.shop.adapter import Shop\n",
        "pavilion/errors.py": "",
    })
    assert violations(root) == []
    assert cycles(root, "pavilion.runtime.platforms") == [[
        "pavilion.runtime.platforms.shop.adapter",
        "pavilion.runtime.platforms.shop.routes",
        "pavilion.runtime.platforms.shop.adapter",
    ]]
