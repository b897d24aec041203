"""The JOSE seam: private joserfc modules are used in pipeline/sealing/jose.py only, on a joserfc release they were
checked against, and the public-API fallback seals and opens the same tokens with the same refusals."""

from __future__ import annotations

import ast
import base64
import hashlib
import hmac
import importlib.metadata
import json
import os
import subprocess
import sys
import zlib
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from joserfc import jwe, jws
from joserfc.jwk import ECKey

from conftest import ROOT
from pipeline.consumer import Opener
from pipeline.errors import EventRejected
from pipeline.sealing import jose
from pipeline.sealing.keys import KeySet, new_keyset
from pipeline.sealing.limits import MAX_INFLATED_BYTES
from pipeline.sealing.seal import JWE_REGISTRY, JWS_REGISTRY, Sealer
from sealing import payment_event, policy_for

NOW = 1_750_000_000
PAYMENT = {"paymentId": "pay_0001", "amount": {"value": 129999, "currency": "GBP"}}
BACKENDS = {"models": jose.MODELS, "public": jose.PUBLIC}
COMBINATIONS = [
    ("HS256", "dir", True),
    ("HS256", "dir", False),
    ("ES256", "ECDH-ES+A256KW", True),
    ("EdDSA", "RSA-OAEP-256", True),
    ("RS256", "dir", True),
    ("HS256", None, False),
]


@pytest.fixture(scope="module")
def keys() -> KeySet:
    return new_keyset("jose")


def kid(keys: KeySet, alg: str) -> str:
    return keys.kids_for(alg)[0]


def b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


# ---------------------------------------------------------------------------------------- the checked release


def test_the_installed_joserfc_is_a_release_the_models_backend_was_checked_against() -> None:
    installed = importlib.metadata.version("joserfc")
    assert installed in jose.CHECKED_JOSERFC, (
        f"joserfc {installed} is not in pipeline.sealing.jose.CHECKED_JOSERFC {jose.CHECKED_JOSERFC}: sealing and "
        "opening fall back to its public API. Review joserfc's _rfc7516/message.py, _rfc7516/models.py and "
        "_rfc7515/compact.py against the checked release, run the suite, then add the version.")
    assert jose.DEFAULT_BACKEND is jose.MODELS


def _backend_in_a_fresh_process(prelude: str) -> str:
    code = prelude + "\nfrom pipeline.sealing import jose\nprint(jose.DEFAULT_BACKEND.name)"
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    return result.stdout.strip()


def test_an_unchecked_joserfc_release_gets_the_public_api() -> None:
    pretend = ("import importlib.metadata as m\nreal = m.version\n"
               "m.version = lambda name: '1.99.0' if name == 'joserfc' else real(name)")
    assert _backend_in_a_fresh_process(pretend) == jose.PUBLIC.name
    assert _backend_in_a_fresh_process("") == jose.MODELS.name  # the control


def test_a_joserfc_without_the_private_function_gets_the_public_api() -> None:
    # A release that moved or renamed decrypt_recipient: importing it fails.
    remove = "import joserfc.jwe, sys\ndel sys.modules['joserfc._rfc7516.message'].decrypt_recipient"
    assert _backend_in_a_fresh_process(remove) == jose.PUBLIC.name


def _private_joserfc_imports(path: Path) -> list[str]:
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found += [alias.name for alias in node.names if alias.name.startswith("joserfc._")]
        elif isinstance(node, ast.ImportFrom) and node.module and node.module.split(".")[0] == "joserfc":
            names = [node.module, *(f"{node.module}.{alias.name}" for alias in node.names)]
            found += [name for name in names if "._" in name]
    return found


def test_only_the_jose_module_imports_private_joserfc_modules() -> None:
    jose_module = ROOT / "pipeline" / "sealing" / "jose.py"
    assert _private_joserfc_imports(jose_module)  # the control: the rule can see an import
    offenders = {
        str(path.relative_to(ROOT)): names
        for folder in ("pipeline", "portal", "scripts", "tests")
        for path in sorted((ROOT / folder).rglob("*.py"))
        if path != jose_module and (names := _private_joserfc_imports(path))
    }
    assert offenders == {}


# ---------------------------------------------------------------------------------------- same tokens


@pytest.mark.parametrize(("sign", "encrypt", "compress"), COMBINATIONS)
@pytest.mark.parametrize("sealed_by", BACKENDS)
def test_either_backend_opens_what_either_sealed(
        keys: KeySet, sealed_by: str, sign: str, encrypt: str | None, compress: bool) -> None:
    event = payment_event(PAYMENT)
    token = Sealer(policy_for(keys, sign, encrypt, compress=compress), keys, jose=BACKENDS[sealed_by]).seal(
        event, issued_at=NOW)
    sealed = {**event, "datacontenttype": "application/jwt", "data": token}
    for backend in BACKENDS.values():
        opener = Opener(keys, jose=backend)
        for _ in range(2):  # cold, then with its headers remembered
            assert opener.open(sealed, now=NOW).data == PAYMENT
    # joserfc's public functions, called directly, read it too.
    inner = token
    if encrypt is not None:
        inner = jwe.decrypt_compact(token, keys.decryption_key(kid(keys, encrypt)), registry=JWE_REGISTRY).plaintext
    claims = jws.deserialize_compact(inner, keys.verification_key(kid(keys, sign)), registry=JWS_REGISTRY).payload
    assert json.loads(claims)["data"] == PAYMENT


@pytest.mark.parametrize(("sign", "encrypt", "compress"), [c for c in COMBINATIONS if c[1] != "ECDH-ES+A256KW"])
def test_both_backends_write_the_same_header_segments(
        keys: KeySet, sign: str, encrypt: str | None, compress: bool) -> None:
    event = payment_event(PAYMENT)
    policy = policy_for(keys, sign, encrypt, compress=compress)
    tokens = [Sealer(policy, keys, jose=backend).seal(event, issued_at=NOW) for backend in BACKENDS.values()]
    assert tokens[0].split(".")[0] == tokens[1].split(".")[0]
    if sign in ("HS256", "EdDSA", "RS256") and encrypt is None:  # deterministic signatures: the whole token
        assert tokens[0] == tokens[1]


# ---------------------------------------------------------------------------------------- same refusals


def _sealed(keys: KeySet, sign: str = "HS256", encrypt: str | None = "dir", **extra: Any) -> dict[str, Any]:
    event = payment_event(PAYMENT)
    token = Sealer(policy_for(keys, sign, encrypt, **extra), keys, jose=jose.PUBLIC).seal(event, issued_at=NOW)
    return {**event, "datacontenttype": "application/jwt", "data": token}


def _inner(keys: KeySet, sealed: dict[str, Any]) -> bytes:
    return jwe.decrypt_compact(sealed["data"], keys.decryption_key(kid(keys, "dir")), registry=JWE_REGISTRY).plaintext


def _under_dir(keys: KeySet, sealed: dict[str, Any], plaintext: bytes, *, header: dict[str, Any] | None = None,
               deflate: bool = True, encrypted_key: bytes = b"", iv: bytes = b"\x01" * 12,
               tag: Callable[[bytes], bytes] = lambda t: t) -> dict[str, Any]:
    """``plaintext`` encrypted by hand under the genuine dir key (any header, any IV), so joserfc cannot refuse
    to write what a forger would."""
    protected = header or {"alg": "dir", "enc": "A256GCM", "kid": kid(keys, "dir"), "cty": "JWT", "zip": "DEF"}
    if deflate:
        compressor = zlib.compressobj(6, zlib.DEFLATED, -zlib.MAX_WBITS)
        plaintext = compressor.compress(plaintext) + compressor.flush()
    segment = b64(json.dumps(protected).encode())
    aesgcm = AESGCM(keys.decryption_key(kid(keys, "dir")).raw_value)
    sealed_bytes = aesgcm.encrypt(iv if len(iv) >= 8 else b"\x00" * 12, plaintext, segment.encode())
    parts = [segment, b64(encrypted_key), b64(iv), b64(sealed_bytes[:-16]), b64(tag(sealed_bytes[-16:]))]
    return {**sealed, "data": ".".join(parts)}


def _hs256(keys: KeySet, header: dict[str, Any], payload: bytes, *, signature: bytes | None = None) -> bytes:
    signing_input = f"{b64(json.dumps(header).encode())}.{b64(payload)}".encode()
    secret = keys.signing_key(kid(keys, "HS256")).raw_value
    digest = hmac.new(secret, signing_input, hashlib.sha256).digest() if signature is None else signature
    return signing_input + b"." + b64(digest).encode()


def _replace_segment(sealed: dict[str, Any], index: int, value: str) -> dict[str, Any]:
    parts = sealed["data"].split(".")
    parts[index] = value
    return {**sealed, "data": ".".join(parts)}


def _flip(text: str, at: int = 5) -> str:
    return text[:at] + ("B" if text[at] == "A" else "A") + text[at + 1:]


def _claims(keys: KeySet, sealed: dict[str, Any]) -> bytes:
    return unb64(_inner(keys, sealed).decode().split(".")[1])


def _forgeries(keys: KeySet) -> dict[str, Callable[[], dict[str, Any]]]:
    genuine = _sealed(keys)
    hs_header = {"alg": "HS256", "kid": kid(keys, "HS256"), "typ": "JWT"}
    oaep = padding.OAEP(mgf=padding.MGF1(hashes.SHA256()), algorithm=hashes.SHA256(), label=None)
    ecdh = _sealed(keys, "ES256", "ECDH-ES+A256KW")
    ecdh_header = json.loads(unb64(ecdh["data"].split(".")[0]))
    other_epk = ECKey.generate_key("P-256").as_dict(private=False)
    sign_only = _sealed(keys, "HS256", None)
    return {
        "genuine dir": lambda: genuine,
        "genuine ECDH-ES": lambda: ecdh,
        "genuine RSA-OAEP": lambda: _sealed(keys, "EdDSA", "RSA-OAEP-256"),
        "genuine sign-only": lambda: sign_only,
        "ciphertext flipped": lambda: _replace_segment(genuine, 3, _flip(genuine["data"].split(".")[3])),
        "tag flipped": lambda: _replace_segment(genuine, 4, _flip(genuine["data"].split(".")[4])),
        "tag short": lambda: _under_dir(keys, genuine, _inner(keys, genuine), tag=lambda t: t[:8]),
        "tag not base64url": lambda: _replace_segment(genuine, 4, "!!!!"),
        "iv short": lambda: _under_dir(keys, genuine, _inner(keys, genuine), iv=b"\x01" * 4),
        "encrypted key on dir": lambda: _under_dir(keys, genuine, _inner(keys, genuine), encrypted_key=bytes(32)),
        "header respelled": lambda: _replace_segment(
            genuine, 0, b64(json.dumps(json.loads(unb64(genuine["data"].split(".")[0])), indent=1).encode())),
        "unknown JWE member": lambda: _under_dir(keys, genuine, _inner(keys, genuine), header={
            "alg": "dir", "enc": "A256GCM", "kid": kid(keys, "dir"), "cty": "JWT", "zip": "DEF", "x-extra": 1}),
        "crit JWE member": lambda: _under_dir(keys, genuine, _inner(keys, genuine), header={
            "alg": "dir", "enc": "A256GCM", "kid": kid(keys, "dir"), "cty": "JWT", "zip": "DEF", "crit": ["exp"]}),
        "JWE kid not a string": lambda: _under_dir(keys, genuine, _inner(keys, genuine), header={
            "alg": "dir", "enc": "A256GCM", "kid": 7, "cty": "JWT", "zip": "DEF"}),
        "RSA-OAEP CEK of 128 bits": lambda: (lambda s: _replace_segment(s, 1, b64(
            keys.encryption_key(kid(keys, "RSA-OAEP-256")).public_key.encrypt(bytes(16), oaep))))(
            _sealed(keys, "HS256", "RSA-OAEP-256")),
        "RSA-OAEP key garbage": lambda: _replace_segment(_sealed(keys, "HS256", "RSA-OAEP-256"), 1, b64(bytes(256))),
        "ECDH-ES epk of another key": lambda: _replace_segment(
            ecdh, 0, b64(json.dumps({**ecdh_header, "epk": other_epk}).encode())),
        "ECDH-ES without epk": lambda: _replace_segment(
            ecdh, 0, b64(json.dumps({k: v for k, v in ecdh_header.items() if k != "epk"}).encode())),
        "compression bomb": lambda: _under_dir(keys, genuine, b"A" * (MAX_INFLATED_BYTES + 1)),
        "not deflate": lambda: _under_dir(keys, genuine, _inner(keys, genuine), deflate=False),
        "truncated deflate": lambda: _truncated(keys, genuine, _inner(keys, genuine)),
        "inner alg none": lambda: _under_dir(keys, genuine, b"%s.%s." % (
            b64(json.dumps({"alg": "none", "kid": kid(keys, "HS256")}).encode()).encode(),
            b64(_claims(keys, genuine)).encode())),
        "inner signature wrong": lambda: _under_dir(keys, genuine, _hs256(
            keys, hs_header, _claims(keys, genuine), signature=bytes(32))),
        "inner signature not base64url": lambda: _under_dir(keys, genuine, _inner(keys, genuine)[:-3] + b"+/="),
        "inner payload not base64url": lambda: _under_dir(keys, genuine, b"%s.%s.%s" % (
            b64(json.dumps(hs_header).encode()).encode(), b"**", b64(bytes(32)).encode())),
        "inner claims not JSON": lambda: _under_dir(keys, genuine, _hs256(keys, hs_header, b"{not json")),
        "inner claims a list": lambda: _under_dir(keys, genuine, _hs256(keys, hs_header, b"[1, 2]")),
        "inner unknown member": lambda: _under_dir(keys, genuine, _hs256(
            keys, {**hs_header, "x-extra": 1}, _claims(keys, genuine))),
        "inner crit member": lambda: _under_dir(keys, genuine, _hs256(
            keys, {**hs_header, "crit": ["exp"]}, _claims(keys, genuine))),
        "inner four segments": lambda: _under_dir(keys, genuine, _inner(keys, genuine) + b".x"),
        "inner header oversized": lambda: _under_dir(keys, genuine, _hs256(
            keys, {**hs_header, "typ": "J" * 600}, _claims(keys, genuine))),
        "inner claims for another event": lambda: _under_dir(keys, genuine, _hs256(
            keys, hs_header, json.dumps({**json.loads(_claims(keys, genuine)), "jti": "other"}).encode())),
        "sign-only signature flipped": lambda: _replace_segment(sign_only, 2, _flip(sign_only["data"].split(".")[2])),
        "sign-only payload flipped": lambda: _replace_segment(sign_only, 1, _flip(sign_only["data"].split(".")[1])),
    }


def _truncated(keys: KeySet, genuine: dict[str, Any], inner: bytes) -> dict[str, Any]:
    compressor = zlib.compressobj(6, zlib.DEFLATED, -zlib.MAX_WBITS)
    return _under_dir(keys, genuine, (compressor.compress(inner) + compressor.flush())[:-8], deflate=False)


FORGERY_NAMES = list(_forgeries(new_keyset("names")))


def _outcome(opener: Opener, event: dict[str, Any]) -> tuple[Any, ...]:
    try:
        opened = opener.open(event, now=NOW)
    except EventRejected as err:
        return (type(err).__name__, str(err), getattr(err, "alg", None), getattr(err, "claim", None), err.event_id)
    return ("opened", opened.data, opened.signing_kid, opened.encryption_kid)


@pytest.mark.parametrize("forgery", FORGERY_NAMES)
def test_both_backends_open_and_refuse_alike_with_and_without_remembered_headers(keys: KeySet, forgery: str) -> None:
    event = _forgeries(keys)[forgery]()
    warm_up = [_sealed(keys, sign, encrypt, compress=compress) for sign, encrypt, compress in COMBINATIONS]
    outcomes = {}
    for name, backend in BACKENDS.items():
        outcomes[f"{name}, cold"] = _outcome(Opener(keys, jose=backend), event)
        warm = Opener(keys, jose=backend)
        for genuine in warm_up:
            warm.open(genuine, now=NOW)
        outcomes[f"{name}, warm"] = _outcome(warm, event)
    assert len(set(map(repr, outcomes.values()))) == 1, outcomes
    if not forgery.startswith("genuine"):
        assert outcomes["models, cold"][0] != "opened"


# ---------------------------------------------------------------------------------------- the whole suite


@pytest.mark.slow
def test_the_sealing_and_opening_suites_pass_on_the_public_api() -> None:
    # tests/jose_unchecked.py makes the installed joserfc look unchecked before anything imports pipeline.
    modules = ["tests/test_consumer.py", "tests/test_seal.py", "tests/test_seal_fastpath.py",
               "tests/test_interop.py", "tests/test_dedupe.py"]
    path = os.pathsep.join([str(ROOT / "tests"), str(ROOT)])
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "jose_unchecked", "-p", "no:cacheprovider", "-x", *modules],
        cwd=ROOT, capture_output=True, text=True, env={**os.environ, "PYTHONPATH": path},
    )
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]
    assert "JOSE backend: joserfc public API" in result.stdout
