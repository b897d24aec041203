"""`eventdeck keys new`, `eventdeck seal` and `eventdeck open` as a user runs them."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from conftest import EXAMPLES
from portal.cli.main import main


@pytest.fixture
def workdir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    (tmp_path / "asyncapi").symlink_to(EXAMPLES)
    monkeypatch.chdir(tmp_path)
    return tmp_path


def test_keys_seal_open_round_trip(workdir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["keys", "new"]) == 0
    private = workdir / "keys" / "private.jwks.json"
    assert oct(os.stat(private).st_mode & 0o777) == "0o600"
    public = json.loads((workdir / "keys" / "public.jwks.json").read_text())
    assert all("d" not in key for key in public["keys"])  # no private material in the public set
    capsys.readouterr()
    assert main(["seal", "--samples"]) == 0
    sealed = capsys.readouterr().out
    (workdir / "sealed.jsonl").write_text(sealed)
    lines = [json.loads(line) for line in sealed.splitlines()]
    assert len(lines) >= 20 and all(line["outcome"] == "published" for line in lines)
    assert main(["open", "sealed.jsonl"]) == 0
    opened = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert len(opened) == len(lines)
    assert {o["type"] for o in opened} >= {"Payment.AuthorisedV2.Ecom", "Order.Created.Uk", "Basket.Paid.Eu"}


def test_keys_are_never_silently_replaced(workdir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["keys", "new"]) == 0
    before = (workdir / "keys" / "private.jwks.json").read_text()
    assert main(["keys", "new"]) == 1
    assert "--force" in capsys.readouterr().err
    assert (workdir / "keys" / "private.jwks.json").read_text() == before


def test_tampered_token_is_rejected_with_the_event_id(workdir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    main(["keys", "new"])
    capsys.readouterr()
    main(["seal", "--samples"])
    line = next(json.loads(x) for x in capsys.readouterr().out.splitlines() if "Payment.AuthorisedV2" in x)
    cloud_event = json.loads(line["entry"]["Detail"])
    token = cloud_event["data"]
    cloud_event["data"] = token[:-6] + ("A" if token[-6] != "A" else "B") + token[-5:]
    (workdir / "tampered.json").write_text(json.dumps(cloud_event))
    assert main(["open", "tampered.json"]) == 1
    err = capsys.readouterr().err
    assert "tampered.json: rejected" in err and cloud_event["id"] in err


def test_seal_reports_unrouted_and_failed_events(workdir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    main(["keys", "new"])
    (workdir / "in.json").write_text(json.dumps([
        {"id": "u-1", "source": "nowhere", "detail-type": "X", "detail": {}},
        {"id": "f-1", "detail": 3},
    ]))
    capsys.readouterr()
    assert main(["seal", "in.json"]) == 1
    err = capsys.readouterr().err
    assert "in.json[0]: unrouted" in err and "in.json[1]: input failed" in err
    assert "0 published, 1 unrouted, 1 failed" in err


def test_invalid_json_input_names_file_and_line(workdir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    main(["keys", "new"])
    (workdir / "bad.jsonl").write_text('{"id": "a", "detail": {}}\n{oops\n')
    capsys.readouterr()
    assert main(["seal", "bad.jsonl"]) == 1
    assert "bad.jsonl:2:2: invalid JSON" in capsys.readouterr().err


def test_seal_without_keys_explains_how_to_get_them(workdir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["seal", "--samples"]) == 1
    assert "eventdeck keys new" in capsys.readouterr().err


def test_keys_can_come_from_the_environment(workdir: Path, capsys: pytest.CaptureFixture[str],
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    main(["keys", "new"])
    monkeypatch.setenv("PRODUCER_JWKS", (workdir / "keys" / "private.jwks.json").read_text())
    (workdir / "keys" / "private.jwks.json").unlink()
    capsys.readouterr()
    assert main(["seal", "--samples", "--keys", "env:PRODUCER_JWKS"]) == 0
    assert "Payment.AuthorisedV2.Ecom" in capsys.readouterr().out


def test_a_missing_key_source_is_named(workdir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["seal", "--samples", "--keys", "env:NOT_SET_ANYWHERE"]) == 1
    assert "NOT_SET_ANYWHERE" in capsys.readouterr().err
    (workdir / "x.json").write_text("{}")
    assert main(["open", "x.json", "--keys", "missing.jwks.json"]) == 1
    assert "missing.jwks.json" in capsys.readouterr().err


def test_open_enforces_the_contract_plain_json_only_for_types_declared_unsealed(
        workdir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    main(["keys", "new"])
    capsys.readouterr()
    main(["seal", "--samples"])
    lines = [json.loads(x) for x in capsys.readouterr().out.splitlines()]
    events = {e["type"]: e for e in (json.loads(line["entry"]["Detail"]) for line in lines)}
    sealed, public = events["Payment.AuthorisedV2.Ecom"], events["Basket.Created.Eu"]
    forged = {**sealed, "datacontenttype": "application/json", "data": {"paymentId": "p-1", "amount": 1}}
    (workdir / "forged.json").write_text(json.dumps(forged))
    assert main(["open", "forged.json"]) == 1
    err = capsys.readouterr().err
    assert "forged.json: rejected" in err and "arrived unsealed" in err and forged["id"] in err
    (workdir / "public.json").write_text(json.dumps(public))  # declared x-sealing: none
    assert main(["open", "public.json"]) == 0
    assert json.loads(capsys.readouterr().out)["sealed"] is False
    lax = {**public, "dataschema": events["Basket.Abandoned.Eu"]["dataschema"]}
    (workdir / "lax.json").write_text(json.dumps(lax))
    assert main(["open", "lax.json"]) == 1
    assert "is not a published schema of Basket.Created.Eu" in capsys.readouterr().err
