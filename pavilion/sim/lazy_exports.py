"""Package exports imported on first use (PEP 562), so that importing one submodule stays cheap."""

from __future__ import annotations

import importlib
import sys
import types
from collections.abc import Mapping
from typing import Any


class _Shadowing:
    """A function exported under its own submodule's name: it stays the function once the submodule is imported."""

    def __init__(self, module: str, name: str) -> None:
        self.module, self.name = module, name

    def __get__(self, obj: object, owner: type | None = None) -> Any:
        return getattr(importlib.import_module(self.module), self.name)

    def __set__(self, obj: object, value: Any) -> None:
        """The import system records the submodule here; the package keeps exporting the function (as before)."""


def install(package: str, exports: Mapping[str, str]) -> None:
    """Make `package.<name>` import `exports[name]` (a module path) on first use."""
    module = sys.modules[package]
    shadowed = {name: _Shadowing(target, name) for name, target in exports.items()
                if target == f"{package}.{name}"}

    def lookup(self: types.ModuleType, name: str) -> Any:
        try:
            target = exports[name]
        except KeyError:
            raise AttributeError(f"module {package!r} has no attribute {name!r}") from None
        value = getattr(importlib.import_module(target), name)
        self.__dict__[name] = value
        return value

    namespace: dict[str, Any] = {"__getattr__": lookup, **shadowed}
    module.__class__ = type(f"LazyPackage[{package}]", (types.ModuleType,), namespace)
