"""The boto3 MTurk client from configuration: sandbox, production or any endpoint; credentials from the AWS chain."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pavilion.errors import InputError

ENDPOINTS = {
    "production": "https://mturk-requester.us-east-1.amazonaws.com",
    "sandbox": "https://mturk-requester-sandbox.us-east-1.amazonaws.com",
}
SUBMIT_HOSTS = {"production": "https://www.mturk.com", "sandbox": "https://workersandbox.mturk.com"}
MAX_ATTEMPTS = 10  # as Mephisto: MTurk throttles bursts, and botocore's standard mode backs off


def endpoint_url(endpoint: str) -> str:
    """`sandbox`, `production` or an http(s) URL (an emulator, or anything that speaks the Requester API)."""
    if endpoint in ENDPOINTS:
        return ENDPOINTS[endpoint]
    if endpoint.startswith(("http://", "https://")):
        return endpoint.rstrip("/")
    raise InputError(f"MTurk endpoint must be 'sandbox', 'production' or an http(s) URL, got {endpoint!r}")


def is_real(endpoint: str) -> bool:
    """Amazon's own service (which needs an HTTPS task link), as opposed to a local emulator."""
    return endpoint_url(endpoint) in ENDPOINTS.values()


def make_client(endpoint: str, *, max_attempts: int = MAX_ATTEMPTS, timeout_s: float = 10.0) -> Any:
    """A boto3 `mturk` client. Credentials come only from the standard chain (environment, profile, role)."""
    import boto3
    from botocore.config import Config

    config = Config(
        retries={"mode": "standard", "total_max_attempts": max_attempts},
        connect_timeout=timeout_s,
        read_timeout=timeout_s,
    )
    return boto3.session.Session().client(
        "mturk", region_name="us-east-1", endpoint_url=endpoint_url(endpoint), config=config
    )


def make_sqs_client(queue_url: str, endpoint: str | None = None) -> Any:
    """A boto3 SQS client for the notification queue; `endpoint` overrides AWS (moto, ElasticMQ)."""
    import boto3
    from botocore.config import Config

    return boto3.session.Session().client(
        "sqs",
        region_name=_queue_region(queue_url),
        endpoint_url=endpoint,
        config=Config(retries={"mode": "standard", "total_max_attempts": 5}),
    )


def _queue_region(queue_url: str) -> str:
    # https://sqs.<region>.amazonaws.com/<account>/<name>; anything else (a local SQS) gets us-east-1.
    host = queue_url.split("/")[2] if "//" in queue_url else ""
    parts = host.split(".")
    return parts[1] if len(parts) > 3 and parts[0] == "sqs" else "us-east-1"


def turk_code(exc: BaseException) -> str:
    """The TurkErrorCode of a botocore ClientError without `AWS.MechanicalTurk.`, or ''."""
    response: Mapping[str, Any] = getattr(exc, "response", None) or {}
    return str(response.get("TurkErrorCode", "")).removeprefix("AWS.MechanicalTurk.")


def error_message(exc: BaseException) -> str:
    response: Mapping[str, Any] = getattr(exc, "response", None) or {}
    return str(response.get("Error", {}).get("Message", str(exc)))
