"""Tracing through Powertools' Tracer and the real AWS X-Ray SDK, as in the Lambda runtime.

The handler runs in a subprocess that looks like a Lambda execution environment to the X-Ray SDK
(``LAMBDA_TASK_ROOT``, the ``_X_AMZN_TRACE_ID`` of the invocation) and sends its trace documents over UDP to a
stand-in X-Ray daemon on 127.0.0.1, which the test reads: the handler's, the publishing step's and the PutEvents
call's subsegments must be there, in the invocation's trace. (A subprocess, because the SDK patches botocore and
keeps its recorder for the life of the process.)
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

import moto_server
from conftest import ROOT
from pipeline.contract.artefact import artefact_bytes
from pipeline.contract.model import Catalogue
from pipeline.contract.registry import RegistryLayout
from pipeline.produce import required_keys
from pipeline.sealing.keys import keyset_for, write_jwks

moto_endpoint = moto_server.moto_endpoint

TRACE_ROOT = "1-5759e988-bd862e3fe1be46a994272793"

INVOKE = """\
import json, sys
from pipeline.aws_lambda.handler import handler

class Context:
    function_name = "eventdeck-publisher"
    function_version = "$LATEST"
    invoked_function_arn = "arn:aws:lambda:eu-west-1:123456789012:function:eventdeck-publisher"
    memory_limit_in_mb = 256
    aws_request_id = "c6af9ac6-7b61-11e6-9a41-93e812345678"
    def get_remaining_time_in_millis(self):
        return 30000

print("ANSWER " + json.dumps(handler(json.loads(sys.argv[1]), Context())))
"""


def trace_documents(datagrams: list[bytes]) -> list[dict[str, Any]]:
    """The segment documents the SDK sent: each datagram is a JSON header line, then the document."""
    documents = []
    for datagram in datagrams:
        header, _, body = datagram.decode().partition("\n")
        assert json.loads(header) == {"format": "json", "version": 1}
        documents.append(json.loads(body))
    return documents


@pytest.fixture
def daemon() -> Any:
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind(("127.0.0.1", 0))
    sock.settimeout(0.5)
    yield sock
    sock.close()


def test_the_handler_traces_itself_its_publishing_and_the_put_events_call(
        tmp_path: Path, examples_catalogue: Catalogue, moto_endpoint: str, daemon: socket.socket) -> None:
    keys = keyset_for(required_keys(examples_catalogue))
    write_jwks(keys, private_path=tmp_path / "private.jwks.json")
    layout = RegistryLayout.for_catalogue(examples_catalogue)
    (tmp_path / "contract.json").write_bytes(artefact_bytes(examples_catalogue, layout, root=ROOT))
    bus = moto_server.unique_name("traced")
    moto_server.client("events", moto_endpoint).create_event_bus(Name=bus)
    event = examples_catalogue.event("Order.Created.Uk")
    assert event is not None and event.enrichment is not None
    internal = dict(event.enrichment.samples[0].event)

    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"), "PYTHONPATH": str(ROOT), "HOME": str(tmp_path),
        "LAMBDA_TASK_ROOT": str(tmp_path), "AWS_LAMBDA_FUNCTION_NAME": "eventdeck-publisher",
        "_X_AMZN_TRACE_ID": f"Root={TRACE_ROOT};Parent=53995c3f42cd8ad8;Sampled=1",
        "AWS_XRAY_DAEMON_ADDRESS": f"127.0.0.1:{daemon.getsockname()[1]}",
        "AWS_ENDPOINT_URL": moto_endpoint, "AWS_ACCESS_KEY_ID": moto_server.ACCESS_KEY_ID,
        "AWS_SECRET_ACCESS_KEY": moto_server.SECRET_ACCESS_KEY, "AWS_DEFAULT_REGION": moto_server.REGION,
        "EVENTDECK_CONTRACT": str(tmp_path / "contract.json"), "EVENTDECK_KEYS": str(tmp_path / "private.jwks.json"),
        "EVENTDECK_EVENT_BUS": bus, "POWERTOOLS_SERVICE_NAME": "eventdeck-traced",
    }
    done = subprocess.run([sys.executable, "-c", INVOKE, json.dumps(internal)], cwd=tmp_path, env=env,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    answer = json.loads(next(line for line in done.stdout.splitlines() if line.startswith("ANSWER "))[7:])
    assert answer["published"]

    datagrams = []
    while True:
        try:
            datagrams.append(daemon.recv(65536))
        except TimeoutError:
            break
    documents = trace_documents(datagrams)
    assert documents, "the X-Ray SDK sent nothing to the daemon"
    assert {d["trace_id"] for d in documents} == {TRACE_ROOT}
    names = {d["name"] for d in documents}
    assert "## handle" in names
    assert any(name.endswith(".publish") for name in names), names
    put_events = [d for d in documents if d.get("aws", {}).get("operation") == "PutEvents"]
    assert len(put_events) == 1 and put_events[0]["namespace"] == "aws"
