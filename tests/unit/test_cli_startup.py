"""`pavilion --help` stays cheap: building the parser imports none of the heavy libraries (DESIGN.md section 6)."""

from __future__ import annotations

import json
import subprocess
import sys

HEAVY = ("pandas", "numpy", "scipy", "sqlalchemy", "flask", "flask_socketio", "httpx", "boto3", "simpy", "matplotlib")

PROBE = """
import json, sys
import pavilion.cli
pavilion.cli.build_parser()
print(json.dumps(sorted({name.split('.')[0] for name in sys.modules})))
"""


def loaded_after_building_the_parser() -> set[str]:
    out = subprocess.run([sys.executable, "-c", PROBE], capture_output=True, text=True, check=True, timeout=120)
    return set(json.loads(out.stdout))


def test_building_the_parser_imports_nothing_heavy() -> None:
    loaded = loaded_after_building_the_parser()
    assert not loaded & set(HEAVY), f"registering subcommands imported {sorted(loaded & set(HEAVY))}"
    assert "pavilion" in loaded  # the probe did run


HELP_PROBE = """
import contextlib, io, json, runpy, sys
sys.argv = ["pavilion", "--help"]
out = io.StringIO()
with contextlib.redirect_stdout(out):
    try:
        runpy.run_module("pavilion", run_name="__main__")  # what `python -m pavilion --help` runs
    except SystemExit as exc:
        assert exc.code == 0, exc.code
print(json.dumps({"help": out.getvalue(), "modules": sorted({name.split('.')[0] for name in sys.modules})}))
"""


def test_pavilion_help_itself_imports_none_of_the_heavy_libraries() -> None:
    out = subprocess.run([sys.executable, "-c", HELP_PROBE], capture_output=True, text=True, check=True, timeout=120)
    got = json.loads(out.stdout)
    assert "usage: pavilion" in got["help"] and "serve" in got["help"]  # the help was printed
    assert not set(got["modules"]) & set(HEAVY), f"pavilion --help imported {sorted(set(got['modules']) & set(HEAVY))}"


def test_serve_still_has_every_platform_option() -> None:
    from pavilion.cli import build_parser

    args = build_parser().parse_args(
        ["serve", "--mturk-endpoint", "http://127.0.0.1:1", "--prolific-api-url", "http://127.0.0.1:2"])
    assert (args.mturk_endpoint, args.prolific_api_url) == ("http://127.0.0.1:1", "http://127.0.0.1:2")


def test_lazy_package_exports_stay_functions_after_their_submodule_is_imported() -> None:
    import pavilion.sim.calibration.calibrate
    import pavilion.sim.exact  # noqa: F401  the submodule named like the exported function
    from pavilion.sim import exact
    from pavilion.sim.calibration import calibrate

    assert callable(exact) and exact.__name__ == "exact"
    assert callable(calibrate) and calibrate.__module__ == "pavilion.sim.calibration.calibrate"


def test_emulator_chaos_options_are_spelt_right() -> None:
    from pavilion.cli import build_parser

    parser = build_parser()
    emulate = next(a for a in parser._subparsers._group_actions[0].choices["emulate"]._actions  # type: ignore[union-attr]
                   if a.dest == "platform")
    text = emulate.choices["mturk"].format_help()
    assert "reordered" in text and "dropped" in text and "reorderd" not in text and "dropd" not in text
