"""`pavilion emulate mturk` refuses bad input with one line and status 2."""

from __future__ import annotations

import pytest

from pavilion.cli import main


@pytest.mark.parametrize(("args", "names"), [
    (["--port", "0"], "--port"),
    (["--balance", "lots"], "--balance"),
    (["--drop", "2"], "--drop"),
    (["--batch", "0"], "--batch"),
])
def test_bad_input(args: list[str], names: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["emulate", "mturk", *args]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("pavilion: error: ") and names in err[0]
