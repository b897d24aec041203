#!/usr/bin/env python3
"""Per-event throughput of the pipeline's stages on one core, against the raw crypto floor.

    .venv/bin/python scripts/bench_pipeline.py            # pinned to one CPU, ~1 minute
    .venv/bin/python scripts/bench_pipeline.py --quick    # shorter runs, for a smoke check
    .venv/bin/python scripts/bench_pipeline.py --json out.json

For each stage it prints events/s (median of ``--repeat`` timed runs of at least ``--min-time`` seconds each,
single process, pinned to one CPU unless ``--no-pin``):

* ``envelope``: build the CloudEvent (monotonic ULID, RFC 3339 time, canonical JSON + MD5 idempotency key);
* ``seal <sign> -> <encrypt>``: :func:`stage_seal` on an already built envelope (claims JSON, JWS, DEF, JWE);
* ``open <sign> -> <encrypt>``: :func:`stage_open` (parse headers, decrypt, inflate, verify, check claims) with
  an :class:`~pipeline.consumer.Opener` kept across events, as a consumer keeps one;

and next to each, the *floor*: the same cryptographic work done with bare ``cryptography``/``hmac``/``zlib``/
``base64``/``orjson`` calls and constant headers (no joserfc, no eventdeck code). ``ours/floor`` is the time
ratio (2.0x: ours takes twice as long), i.e. what the library layers cost. The floor still JSON-encodes the
claims (with orjson, the fastest encoder there is) and base64-encodes every segment, as any correct
implementation must.

Then the whole producer (``chain``: route + enrich + validate + envelope + seal + the EventBridge entry) and the
whole consumer (``open+val``: an ``Opener``'s open + validate against the dataschema) for each combination, on
two events: ``flat``, the calibration event the targets were set with (a ~1.5 KB card payment, ~45 declared
fields, a 5-operation patch, scripts/bench_calibration.py), and ``nested``, the example contract's largest sample
(Order.Created.Uk with a bundle: a recursive allOf/$ref schema of ~70 fields, which alone costs fastjsonschema
~35 us per event).

Numbers depend on the machine and on what else runs on it: treat differences under ~30 % as noise.
"""

from __future__ import annotations

import argparse
import base64
import gc
import hashlib
import hmac
import json
import os
import statistics
import sys
import time
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import orjson  # noqa: E402
from bench_calibration import public_payload  # noqa: E402
from cryptography.hazmat.primitives import hashes  # noqa: E402
from cryptography.hazmat.primitives.asymmetric import ec, padding  # noqa: E402
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature, encode_dss_signature  # noqa: E402
from cryptography.hazmat.primitives.ciphers.aead import AESGCM  # noqa: E402
from cryptography.hazmat.primitives.kdf.concatkdf import ConcatKDFHash  # noqa: E402
from cryptography.hazmat.primitives.keywrap import aes_key_unwrap, aes_key_wrap  # noqa: E402

from pipeline.envelope.cloudevent import CloudEvent, build_cloud_event  # noqa: E402
from pipeline.sealing.keys import KeySet, new_keyset  # noqa: E402
from pipeline.sealing.open import OpenedEvent, Opener  # noqa: E402
from pipeline.sealing.seal import EncryptSpec, Sealer, SealingPolicy, SignSpec  # noqa: E402

EVENT_TYPE = "Payment.Authorised.Ecom"
SOURCE = "urn:eventdeck:payments"


def payment_payload() -> dict[str, Any]:
    """A realistic card-payment authorisation, ~1.5 KB of JSON: the calibration event's payload."""
    return public_payload()


# ---------------------------------------------------------------------------------------- stages


def stage_envelope(data: dict[str, Any]) -> CloudEvent:
    return build_cloud_event(type=EVENT_TYPE, source=SOURCE, subject=EVENT_TYPE, data=data)


def stage_seal(sealer: Sealer, event: CloudEvent | dict[str, Any]) -> dict[str, Any]:
    """One event through sealing; ``sealer`` is built once per (policy, key set), as in the pipeline."""
    return sealer.seal_event(event)


def stage_open(sealed: dict[str, Any], opener: Opener) -> OpenedEvent:
    """One event through opening; ``opener`` is built once per key set, as a consumer does."""
    return opener.open(sealed, expected_issuer=SOURCE)


def pipeline_stages(sealer: Sealer) -> Callable[[dict[str, Any]], dict[str, Any]]:
    """The producer path for one internal event; add enrich/validate here when they exist."""

    def run(data: dict[str, Any]) -> dict[str, Any]:
        return stage_seal(sealer, stage_envelope(data))

    return run


@dataclass(frozen=True)
class Combo:
    sign: str
    encrypt: str
    compress: bool

    @property
    def label(self) -> str:
        return f"{self.sign} -> {self.encrypt}+A256GCM{' +DEF' if self.compress else ''}"


COMBOS = [
    Combo("HS256", "dir", False),
    Combo("HS256", "dir", True),
    Combo("ES256", "ECDH-ES+A256KW", True),
    Combo("EdDSA", "ECDH-ES+A256KW", True),
    Combo("RS256", "RSA-OAEP-256", True),
]

# Targets from the brief (events/s, one core); reported, not enforced.
# The brief's targets are for the whole producer chain (enrich + envelope + validate + seal) and for opening.
TARGETS: dict[tuple[str, str], int] = {
    ("chain", Combo("HS256", "dir", False).label): 10_000,
    ("chain", Combo("HS256", "dir", True).label): 6_000,
    ("open+val", Combo("HS256", "dir", False).label): 8_000,
    ("open+val", Combo("HS256", "dir", True).label): 8_000,
    ("chain", Combo("ES256", "ECDH-ES+A256KW", True).label): 2_500,
}


def policy_for(keys: KeySet, combo: Combo) -> SealingPolicy:
    return SealingPolicy(
        sign=SignSpec(combo.sign, keys.kids_for(combo.sign)[0]),
        encrypt=EncryptSpec(combo.encrypt, keys.kids_for(combo.encrypt)[0]),
        compress=combo.compress,
        issuer=SOURCE,
    )


# ---------------------------------------------------------------------------------------- the floor


def _b64(raw: bytes) -> bytes:
    return base64.urlsafe_b64encode(raw).rstrip(b"=")


def _unb64(text: bytes) -> bytes:
    return base64.urlsafe_b64decode(text + b"=" * (-len(text) % 4))


def _deflate(raw: bytes) -> bytes:
    # The small window and memLevel pipeline.sealing.seal uses for small inputs (same output, no page faults): a floor
    # must be the cheapest correct way.
    compressor = zlib.compressobj(6, zlib.DEFLATED, -13, 7) if len(raw) <= 8192 - 262 else zlib.compressobj(
        6, zlib.DEFLATED, -zlib.MAX_WBITS)
    return compressor.compress(raw) + compressor.flush()


def _inflate(raw: bytes) -> bytes:
    return zlib.decompressobj(-zlib.MAX_WBITS).decompress(raw)


def _concat_kdf(shared: bytes, header_alg: bytes) -> bytes:
    other_info = len(header_alg).to_bytes(4, "big") + header_alg + bytes(8) + (256).to_bytes(4, "big")
    return ConcatKDFHash(hashes.SHA256(), 32, other_info).derive(shared)


def floor_functions(
    keys: KeySet, combo: Combo, claims: dict[str, Any]
) -> tuple[Callable[[], bytes], Callable[[bytes], Any]]:
    """Return (seal, open) doing the same work as ours with bare primitives and precomputed headers."""
    sign_kid, enc_kid = keys.kids_for(combo.sign)[0], keys.kids_for(combo.encrypt)[0]
    sign_key, enc_key = keys.signing_key(sign_kid), keys.decryption_key(enc_kid)
    jws_header = _b64(json.dumps({"alg": combo.sign, "kid": sign_kid, "typ": "JWT"}).encode())
    jwe_header_base = {"alg": combo.encrypt, "enc": "A256GCM", "kid": enc_kid, "cty": "JWT"}
    if combo.compress:
        jwe_header_base["zip"] = "DEF"
    static_jwe_header = _b64(json.dumps(jwe_header_base).encode())

    if combo.sign == "HS256":
        secret = sign_key.raw_value

        def sign(msg: bytes) -> bytes:
            return hmac.new(secret, msg, hashlib.sha256).digest()

        def verify(msg: bytes, sig: bytes) -> None:
            if not hmac.compare_digest(hmac.new(secret, msg, hashlib.sha256).digest(), sig):
                raise ValueError("bad signature")

    elif combo.sign == "ES256":
        private, public = sign_key.private_key, sign_key.public_key

        def sign(msg: bytes) -> bytes:
            r, s = decode_dss_signature(private.sign(msg, ec.ECDSA(hashes.SHA256())))
            return r.to_bytes(32, "big") + s.to_bytes(32, "big")

        def verify(msg: bytes, sig: bytes) -> None:
            der = encode_dss_signature(int.from_bytes(sig[:32], "big"), int.from_bytes(sig[32:], "big"))
            public.verify(der, msg, ec.ECDSA(hashes.SHA256()))

    elif combo.sign == "EdDSA":
        private, public = sign_key.private_key, sign_key.public_key

        def sign(msg: bytes) -> bytes:
            return private.sign(msg)

        def verify(msg: bytes, sig: bytes) -> None:
            public.verify(sig, msg)

    else:  # RS256
        private, public = sign_key.private_key, sign_key.public_key

        def sign(msg: bytes) -> bytes:
            return private.sign(msg, padding.PKCS1v15(), hashes.SHA256())

        def verify(msg: bytes, sig: bytes) -> None:
            public.verify(sig, msg, padding.PKCS1v15(), hashes.SHA256())

    oaep = padding.OAEP(mgf=padding.MGF1(hashes.SHA256()), algorithm=hashes.SHA256(), label=None)
    alg_bytes = combo.encrypt.encode()

    def encrypt(plaintext: bytes) -> bytes:
        if combo.compress:
            plaintext = _deflate(plaintext)
        if combo.encrypt == "dir":
            cek, header, encrypted_key = enc_key.raw_value, static_jwe_header, b""
        elif combo.encrypt == "RSA-OAEP-256":
            cek = AESGCM.generate_key(256)
            header, encrypted_key = static_jwe_header, enc_key.public_key.encrypt(cek, oaep)
        else:  # ECDH-ES+A256KW
            ephemeral = ec.generate_private_key(ec.SECP256R1())
            numbers = ephemeral.public_key().public_numbers()
            epk = {
                "kty": "EC",
                "crv": "P-256",
                "x": _b64(numbers.x.to_bytes(32, "big")).decode(),
                "y": _b64(numbers.y.to_bytes(32, "big")).decode(),
            }
            header = _b64(json.dumps({**jwe_header_base, "epk": epk}).encode())
            kek = _concat_kdf(ephemeral.exchange(ec.ECDH(), enc_key.public_key), alg_bytes)
            cek = AESGCM.generate_key(256)
            encrypted_key = aes_key_wrap(kek, cek)
        iv = os.urandom(12)
        sealed = AESGCM(cek).encrypt(iv, plaintext, header)
        return b".".join([header, _b64(encrypted_key), _b64(iv), _b64(sealed[:-16]), _b64(sealed[-16:])])

    def decrypt(token: bytes) -> bytes:
        header_b64, ek_b64, iv_b64, ct_b64, tag_b64 = token.split(b".")
        if combo.encrypt == "dir":
            cek = enc_key.raw_value
        elif combo.encrypt == "RSA-OAEP-256":
            cek = enc_key.private_key.decrypt(_unb64(ek_b64), oaep)
        else:
            epk = json.loads(_unb64(header_b64))["epk"]
            peer = ec.EllipticCurvePublicNumbers(
                int.from_bytes(_unb64(epk["x"].encode()), "big"),
                int.from_bytes(_unb64(epk["y"].encode()), "big"),
                ec.SECP256R1(),
            ).public_key()
            kek = _concat_kdf(enc_key.private_key.exchange(ec.ECDH(), peer), alg_bytes)
            cek = aes_key_unwrap(kek, _unb64(ek_b64))
        plaintext = AESGCM(cek).decrypt(_unb64(iv_b64), _unb64(ct_b64) + _unb64(tag_b64), header_b64)
        return _inflate(plaintext) if combo.compress else plaintext

    def seal_floor() -> bytes:
        signing_input = jws_header + b"." + _b64(orjson.dumps(claims))
        return encrypt(signing_input + b"." + _b64(sign(signing_input)))

    def open_floor(token: bytes) -> Any:
        header, payload, signature = decrypt(token).split(b".")
        verify(header + b"." + payload, _unb64(signature))
        return orjson.loads(_unb64(payload))

    return seal_floor, open_floor


# ---------------------------------------------------------------------------------------- measuring


def events_per_second(fn: Callable[[], Any], *, min_time: float, repeat: int) -> float:
    """Median rate over ``repeat`` runs, each calibrated to last at least ``min_time`` seconds."""
    number = 1
    while True:
        start = time.perf_counter()
        for _ in range(number):
            fn()
        elapsed = time.perf_counter() - start
        if elapsed >= min_time / 5:
            break
        number *= 4
    number = max(1, int(number * min_time / max(elapsed, 1e-9)))
    rates = []
    for _ in range(repeat):
        start = time.perf_counter()
        for _ in range(number):
            fn()
        rates.append(number / (time.perf_counter() - start))
    return statistics.median(rates)


def pin_to_one_cpu() -> str:
    if not hasattr(os, "sched_setaffinity"):
        return "not pinned (no sched_setaffinity)"
    cpu = min(os.sched_getaffinity(0))
    os.sched_setaffinity(0, {cpu})
    return f"pinned to CPU {cpu}"


@dataclass
class Row:
    stage: str
    label: str
    ours: float
    floor: float | None
    event: str = "payment"

    @property
    def ratio(self) -> float | None:
        return None if not self.floor else self.floor / self.ours

    @property
    def target(self) -> int | None:
        return TARGETS.get((self.stage, self.label))


def run(min_time: float, repeat: int) -> list[Row]:
    keys = new_keyset("bench")
    data = payment_payload()
    rows: list[Row] = []

    def floor_envelope() -> Any:
        canonical = orjson.dumps({"type": EVENT_TYPE, "data": data}, option=orjson.OPT_SORT_KEYS)
        return hashlib.md5(canonical, usedforsecurity=False).hexdigest(), os.urandom(10)

    rows.append(
        Row(
            "envelope",
            "CloudEvent + ULID + MD5 idempotency key",
            events_per_second(lambda: stage_envelope(data), min_time=min_time, repeat=repeat),
            events_per_second(floor_envelope, min_time=min_time, repeat=repeat),
        )
    )
    event = stage_envelope(data)
    claims = {
        "iss": SOURCE,
        "iat": int(time.time()),
        "jti": event.id,
        "type": event.type,
        "sub": event.subject,
        "idempotencykey": event.idempotencykey,
        "data": data,
    }
    for combo in COMBOS:
        sealer = Sealer(policy_for(keys, combo), keys)
        opener = Opener(keys)
        sealed = stage_seal(sealer, event)
        stage_open(sealed, opener)  # fail fast if the combination is broken
        seal_floor, open_floor = floor_functions(keys, combo, claims)
        floor_token = seal_floor()
        assert open_floor(floor_token)["data"] == data
        rows.append(
            Row(
                "seal",
                combo.label,
                events_per_second(lambda s=sealer: stage_seal(s, event), min_time=min_time, repeat=repeat),
                events_per_second(seal_floor, min_time=min_time, repeat=repeat),
            )
        )
        rows.append(
            Row(
                "open",
                combo.label,
                events_per_second(lambda t=sealed, o=opener: stage_open(t, o), min_time=min_time, repeat=repeat),
                events_per_second(lambda t=floor_token, f=open_floor: f(t), min_time=min_time, repeat=repeat),
            )
        )
    produce = pipeline_stages(Sealer(policy_for(keys, COMBOS[1]), keys))
    rows.append(
        Row(
            "producer",
            f"envelope + seal {COMBOS[1].label}",
            events_per_second(lambda: produce(data), min_time=min_time, repeat=repeat),
            None,
        )
    )
    # The whole chain next to the same crypto floor as the seal/open rows of its combination.
    floors = {(row.stage, row.label): row.floor for row in rows}
    for row in contract_rows(min_time, repeat):
        stage = {"chain": "seal", "open+val": "open"}.get(row.stage)
        rows.append(Row(row.stage, row.label, row.ours, floors.get((stage, row.label)) if stage else None, row.event))
    return rows


CHAIN_EVENT = ("Order.Created.Uk", "with-bundle")  # a real sample whose public payload is about 1.4 KB


def chain_rows(catalogue: Any, name: str, example: str, tag: str, min_time: float, repeat: int) -> list[Row]:
    """For each sealing combination, the whole producer (route + enrich + validate + envelope + seal + Detail)
    and the whole consumer (open + validate against the dataschema) on one sample event of ``catalogue``."""
    from dataclasses import replace

    from pipeline.consumer import Opener
    from pipeline.contract import Sealing
    from pipeline.contract.model import Catalogue
    from pipeline.produce import Producer
    from pipeline.schemas.registry import SchemaRegistry

    registry = SchemaRegistry.for_catalogue(catalogue)
    rows = []
    event = catalogue.event(name)
    assert event.enrichment is not None
    sample = next(s for s in event.enrichment.samples if s.example == example)
    internal, canned = sample.event, sample.lookups
    keys = new_keyset("chain")
    size = len(json.dumps(next(e.payload for e in event.examples if e.name == example), separators=(",", ":")))
    for combo in COMBOS:
        sealing = Sealing(policy_for(keys, combo), "message", event.location)
        producer = Producer(Catalogue(catalogue.documents, (), {name: replace(event, sealing=sealing)}), keys)
        (published,) = producer.process_one(internal, lookup_results=lambda _: canned)
        cloud_event = json.loads(published.entry["Detail"])
        validate = registry.for_dataschema(cloud_event["dataschema"], name)
        opener = Opener(keys)
        rows.append(Row("chain", combo.label, events_per_second(
            lambda p=producer: p.process_one(internal, lookup_results=lambda _: canned),
            min_time=min_time, repeat=repeat), None, tag))
        rows.append(Row("open+val", combo.label, events_per_second(
            lambda c=cloud_event, v=validate, o=opener: o.open(c, validate=v), min_time=min_time, repeat=repeat),
            None, tag))
    print(f"event {tag}: {name} '{example}', {size} B public payload, "
          f"{len(event.enrichment.patch)} patch operations, "
          f"validator {producer.routes[0].validator.engine}")
    return rows


def contract_rows(min_time: float, repeat: int) -> list[Row]:
    """The whole producer and consumer (:func:`chain_rows`) on the calibration event the targets were set with
    (flat, ~1.5 KB, see scripts/bench_calibration.py) and on the example contract's largest event; then each
    example document with the sealing it declares."""
    import tempfile

    from bench_calibration import EVENT_NAME, EXAMPLE, write

    from pipeline.contract import ContractLoader
    from pipeline.produce import Producer, required_keys
    from pipeline.sealing.keys import keyset_for

    with tempfile.TemporaryDirectory() as folder:
        write(Path(folder))
        calibration = ContractLoader().load([Path(folder)], strict=True)
    catalogue = ContractLoader().load([ROOT / "asyncapi"], strict=True)
    rows = chain_rows(calibration, EVENT_NAME, EXAMPLE, "flat", min_time, repeat)
    rows += chain_rows(catalogue, *CHAIN_EVENT, "nested", min_time, repeat)

    producer = Producer(catalogue, keyset_for(required_keys(catalogue)))
    for name in ("Order.Created.Uk", "Payment.AuthorisedV2.Ecom", "Basket.Created.Eu"):
        event = catalogue.event(name)
        assert event.enrichment is not None
        sample = event.enrichment.samples[0]
        internal, canned = sample.event, sample.lookups
        policy = event.sealing.policy if event.sealing is not None else None
        sealing = "plain JSON" if policy is None else (
            f"{policy.sign.alg} -> {policy.encrypt.alg if policy.encrypt else '-'}"
            f"{' +DEF' if policy.compress and policy.encrypt else ''}")
        # One internal event may become several public events (Payment.Authorised and its V2): count those.
        fanout = len(producer.process_one(internal, lookup_results=lambda _, c=canned: c))
        per_call = events_per_second(lambda i=internal, c=canned: producer.process_one(
            i, lookup_results=lambda _: c), min_time=min_time, repeat=repeat)
        rows.append(Row("contract", f"{name} x{fanout} ({sealing})", per_call * fanout, None, "example"))
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--min-time", type=float, default=0.4, help="seconds per timed run (default 0.4)")
    parser.add_argument("--repeat", type=int, default=5, help="timed runs per figure, median reported (default 5)")
    parser.add_argument("--quick", action="store_true", help="--min-time 0.1 --repeat 3")
    parser.add_argument("--no-pin", action="store_true", help="do not pin the process to one CPU")
    parser.add_argument("--json", type=Path, help="also write the figures to this JSON file")
    args = parser.parse_args(argv)
    if args.quick:
        args.min_time, args.repeat = 0.1, 3
    pinning = "not pinned" if args.no_pin else pin_to_one_cpu()
    payload_size = len(json.dumps(payment_payload(), separators=(",", ":")).encode())
    print(f"eventdeck pipeline benchmark - Python {sys.version.split()[0]}, {pinning}, payload {payload_size} bytes")
    print(f"median of {args.repeat} runs >= {args.min_time}s each; events/s on one core\n")
    gc.collect()
    rows = run(args.min_time, args.repeat)
    header = f"{'stage':9} {'event':8} {'combination':44} {'ours/s':>9} {'floor/s':>9} {'ours/floor':>10} {'target':>8}"
    print(header)
    print("-" * len(header))
    for row in rows:
        floor = f"{row.floor:9,.0f}" if row.floor else f"{'-':>9}"
        ratio = f"{row.ratio:9.1f}x" if row.ratio else f"{'-':>10}"
        target = ""
        if row.target:
            target = f"{row.target:>6,} {'ok' if row.ours >= row.target else 'MISS'}"
        print(f"{row.stage:9} {row.event:8} {row.label:44} {row.ours:9,.0f} {floor} {ratio} {target}")
    if args.json:
        args.json.write_text(
            json.dumps(
                [
                    {"stage": r.stage, "event": r.event, "combination": r.label, "ours": r.ours,
                     "floor": r.floor, "target": r.target}
                    for r in rows
                ],
                indent=2,
            )
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
