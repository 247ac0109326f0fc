"""`pavilion emulate mturk` as a user runs it: a separate process that boto3 and a browser can reach."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from .conftest import free_port, start

pytestmark = pytest.mark.timeout(60)


def test_emulate_mturk_serves_the_requester_api(tmp_path: Path, base_env: dict[str, str],
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    import boto3

    port = free_port()
    emu = start(["emulate", "mturk", "--port", str(port), "--balance", "25.00"], base_env,
                f"http://127.0.0.1:{port}", tmp_path / "emulator.log")
    try:
        for key in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
            monkeypatch.setenv(key, "e2e")
        client = boto3.client("mturk", region_name="us-east-1", endpoint_url=emu.url)
        assert client.get_account_balance()["AvailableBalance"] == "25.00"
        type_id = client.create_hit_type(Title="t", Description="d", Reward="1.00",
                                         AssignmentDurationInSeconds=60)["HITTypeId"]
        with pytest.raises(client.exceptions.RequestError) as exc:
            client.create_hit_with_hit_type(HITTypeId=type_id, MaxAssignments=30, LifetimeInSeconds=60,
                                            Question="<ExternalQuestion><ExternalURL>https://x/</ExternalURL>"
                                                     "</ExternalQuestion>")
        assert exc.value.response["TurkErrorCode"] == "AWS.MechanicalTurk.InsufficientFunds"
        assert "endpoint_url" in httpx.get(emu.url).text
    finally:
        emu.stop()
    assert "MTurk emulator on http://127.0.0.1:" in (tmp_path / "emulator.log").read_text()
