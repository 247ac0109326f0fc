"""The platform registry: name -> adapter class, imported lazily; `get_platform` builds one for a project.

An adapter class is constructed as `cls(settings, config)`: the project's non-secret platform settings and the app
config (credentials come from there, i.e. from PAVILION_* environment variables). Adapters may also define the
class methods `add_serve_arguments(parser)`, `settings_from_args(args) -> dict` (app-config overrides),
`validate_settings(settings) -> dict` (raise ValueError naming the bad key) and `init_app(app, socketio)`
(called by create_app for every registered platform: webhook routes, notification consumers through the
`PlatformHost` that `base.host_of(app)` returns); an instance may define `bind(host)` (see `base`).
"""

from __future__ import annotations

import importlib
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # importing base costs the command line's startup (dataclasses, hmac)
    from pavilion.runtime.platforms.base import CrowdPlatform

# One line per adapter: "name": "module:Class".
PLATFORMS: dict[str, str] = {
    "local": "pavilion.runtime.platforms.local:LocalPlatform",
    "mturk": "pavilion.runtime.platforms.mturk.adapter:MTurkPlatform",
    "prolific": "pavilion.runtime.platforms.prolific.adapter:ProlificPlatform",
}

# `pavilion serve` options per adapter, in modules that import nothing heavy: "name": "module:function(parser)".
SERVE_OPTIONS: dict[str, str] = {
    "mturk": "pavilion.runtime.platforms.mturk.options:add_serve_arguments",
    "prolific": "pavilion.runtime.platforms.prolific.options:add_serve_arguments",
}


def platform_class(name: str) -> Any:
    """The adapter class registered as `name`; ValueError names the known platforms otherwise."""
    try:
        target = PLATFORMS[name]
    except (KeyError, TypeError):
        known = ", ".join(sorted(PLATFORMS))
        raise ValueError(f"unknown platform {name!r}; known platforms: {known}") from None
    module_name, _, class_name = target.partition(":")
    return getattr(importlib.import_module(module_name), class_name)


def get_platform(name: str, settings: Mapping[str, Any], config: Mapping[str, Any]) -> CrowdPlatform:
    """An adapter for one project's platform settings."""
    adapter: CrowdPlatform = platform_class(name)(settings, config)
    return adapter


def add_serve_arguments(parser: Any) -> None:
    """Every adapter's `pavilion serve` options, without importing the adapters (see SERVE_OPTIONS)."""
    for name in sorted(SERVE_OPTIONS):
        module, function = SERVE_OPTIONS[name].split(":")
        getattr(importlib.import_module(module), function)(parser)


def init_platforms(app: Any, socketio: Any) -> None:
    """Let every registered adapter class hook into a new app (routes, background jobs)."""
    for name in sorted(PLATFORMS):
        hook = getattr(platform_class(name), "init_app", None)
        if hook is not None:
            hook(app, socketio)


def validate_settings(name: str, settings: Mapping[str, Any]) -> dict[str, Any]:
    """The project's platform settings as the adapter accepts them (the adapter's own check when it has one)."""
    cls = platform_class(name)
    check = getattr(cls, "validate_settings", None)
    return dict(check(settings)) if check is not None else dict(settings)
