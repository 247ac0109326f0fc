"""`pavilion rehearse` on the command line: bad input is one line and exit 2; registering it imports nothing heavy."""

from __future__ import annotations

import subprocess
import sys

import pytest

from pavilion.cli import main


@pytest.mark.parametrize(("args", "message"), [
    (["--time-scale", "0"], "--time-scale must be a number >= 1"),
    (["--metrics", "availability,happiness"], "unknown metric 'happiness'"),
    (["--set", "workload.arrivals.mode=per_slot"], "pooled arrivals only"),
    (["--replications", "0"], "--replications must be >= 1"),
    (["--drop", "0.5"], "need --platform mturk"),
    (["--server", "http://127.0.0.1:9", "--platform", "mturk"], "--server works with --platform local only"),
    (["no-such-scenario.toml"], "not found"),
])
def test_bad_input_is_one_line_and_exit_2(args: list[str], message: str, capsys: pytest.CaptureFixture[str],
                                          tmp_path: object) -> None:
    assert main(["rehearse", *args, "--out", str(tmp_path), "--quiet"]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and message in err, err


def test_registering_the_command_imports_nothing_heavy() -> None:
    code = ("import argparse, sys; from pavilion.rehearsal import cli; "
            "cli.register(argparse.ArgumentParser().add_subparsers()); "
            "print(sorted(m for m in ('httpx', 'socketio', 'numpy', 'pandas', 'matplotlib', 'pavilion.rehearsal.run')"
            " if m in sys.modules))")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]"
