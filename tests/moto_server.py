"""An AWS emulator for tests: moto in server mode on 127.0.0.1, reached over real HTTP.

Fixtures (import them into a test module or ``conftest.py``; pytest registers fixtures found as module
attributes)::

    import moto_server

    moto_endpoint = moto_server.moto_endpoint      # session: "http://127.0.0.1:<port>"
    aws_client = moto_server.aws_client            # function: aws_client("dynamodb") -> boto3 client

Clients get the endpoint URL, dummy credentials and a fixed region explicitly, so nothing depends on the
developer's AWS configuration and nothing is monkeypatched: requests are serialised, signed and sent exactly
as in production, and moto answers them over HTTP. The server is one per test session (moto keeps its state
in memory, so tests use unique resource names, see :func:`unique_name`).
"""

from __future__ import annotations

import secrets
from collections.abc import Callable, Iterator
from typing import Any

import boto3
import pytest
from botocore.config import Config

REGION = "eu-west-1"
ACCESS_KEY_ID = "testing"  # dummy credentials: moto accepts any
SECRET_ACCESS_KEY = "testing"


def client(service: str, endpoint_url: str, *, region: str = REGION) -> Any:
    """A boto3 client for ``service`` talking to the emulator at ``endpoint_url``."""
    return boto3.session.Session().client(
        service,
        endpoint_url=endpoint_url,
        region_name=region,
        aws_access_key_id=ACCESS_KEY_ID,
        aws_secret_access_key=SECRET_ACCESS_KEY,
        config=Config(retries={"max_attempts": 2, "mode": "standard"}),
    )


def unique_name(prefix: str) -> str:
    """A resource name no other test in the session uses (the server's state is shared)."""
    return f"{prefix}-{secrets.token_hex(4)}"


@pytest.fixture(scope="session")
def moto_endpoint() -> Iterator[str]:
    """Start moto's threaded server on a free loopback port; yield its URL; stop it after the session."""
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    try:
        yield f"http://{host}:{port}"
    finally:
        server.stop()


@pytest.fixture
def aws_client(moto_endpoint: str) -> Callable[..., Any]:
    """Factory: ``aws_client("secretsmanager")`` returns a client bound to the session's emulator."""

    def make(service: str, *, region: str = REGION) -> Any:
        return client(service, moto_endpoint, region=region)

    return make
