"""Opening events under their contract: a consumer refuses anything weaker than its type's policy.

Cryptography proves *who* sealed an event; the contract says *how* each type must be sealed. Given the contract
(a runtime artefact, or a catalogue loaded from the AsyncAPI documents), :class:`ContractOpener` refuses, before
any cryptography where it can:

* an event of a type the contract does not have (:class:`~pipeline.errors.UnknownEventType`);
* a ``dataschema`` that is not a published schema URL of the event's own type — otherwise an event could name a
  laxer schema than its own (:class:`~pipeline.errors.DataschemaMismatch`);
* an event sealed more weakly than its type's ``x-sealing``: plain JSON for a sealed type, a bare JWS (the
  encryption layer stripped) where the policy encrypts (:class:`~pipeline.errors.SealingDowngraded`);
* a token made with another algorithm or key than the policy names, in either layer
  (:class:`~pipeline.errors.SealingPolicyMismatch`);

and then opens it (decrypt, verify, claims) expecting the policy's issuer, and validates the data against the
type's own schema. Plain JSON is accepted only for types whose contract declares ``x-sealing: none`` (or nothing).
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from pipeline.contract.extensions import SealingPolicy
from pipeline.contract.model import Catalogue, Event
from pipeline.errors import (
    DataschemaMismatch,
    MalformedEnvelope,
    OversizedToken,
    SealingDowngraded,
    SealingPolicyMismatch,
    TamperedToken,
    UnknownEventType,
)
from pipeline.schemas.registry import SchemaRegistry
from pipeline.sealing.keys import KeySet
from pipeline.sealing.limits import MAX_TOKEN_BYTES
from pipeline.sealing.open import DEFAULT_LEEWAY_SECONDS, OpenedEvent, Opener, Validator

__all__ = ["ContractOpener", "Expectation"]

_JWT = "application/jwt"


@dataclass(frozen=True, slots=True)
class Expectation:
    """What the contract expects of one event: its type's model and sealing policy (``None``: unsealed)."""

    event: Event
    policy: SealingPolicy | None


class ContractOpener:
    """Opens events with ``keys`` and refuses what their type's contract does not allow (module docstring).

    Build one per contract and key set and keep it: it holds an :class:`~pipeline.sealing.open.Opener` (with its
    header caches) and the compiled validators of the types it has seen.

    :param registry: where the contract publishes its schemas; by default the catalogue's own
        (:attr:`Catalogue.registry`, set by a runtime artefact), else the default layout.
    :param validate: validate each payload against its type's schema (default ``True``).
    """

    def __init__(self, contract: Catalogue, keys: KeySet, *, registry: SchemaRegistry | None = None,
                 validate: bool = True, leeway: float = DEFAULT_LEEWAY_SECONDS, max_age: float | None = None,
                 opener: Opener | None = None) -> None:
        self.contract = contract
        self.registry = registry or SchemaRegistry.for_catalogue(contract)
        self.opener = opener or Opener(keys)
        self.keys = keys
        self.validate = validate
        self.leeway = leeway
        self.max_age = max_age
        self._validators: dict[str, Validator] = {}

    def expectation(self, cloud_event: Mapping[str, Any]) -> Expectation:
        """What the contract expects of ``cloud_event``, checked on its clear attributes and token headers only
        (no cryptography). :raises ContractViolation: one of its subclasses; :class:`MalformedEnvelope` for what
        is no CloudEvent, :class:`OversizedToken` and :class:`TamperedToken` for a token whose headers cannot be
        read."""
        if not isinstance(cloud_event, Mapping):
            raise MalformedEnvelope("a CloudEvent must be a JSON object")
        event_id = _text(cloud_event.get("id"))
        event_type = cloud_event.get("type")
        event = self.registry.event(event_type) if isinstance(event_type, str) else None
        if event is None:
            raise UnknownEventType(f"type {_shown(event_type)} is not an event of the contract", event_id=event_id)
        dataschema = cloud_event.get("dataschema")
        if dataschema is not None and (not isinstance(dataschema, str)
                                       or dataschema not in self.registry.dataschemas(event)):
            raise DataschemaMismatch(f"dataschema {_shown(dataschema)} is not a published schema of {event.name}",
                                     event_id=event_id)
        sealing = event.sealing
        if sealing is not None and sealing.problem is not None:
            raise SealingPolicyMismatch(f"the contract's x-sealing of {event.name} is invalid: {sealing.problem}",
                                        event_id=event_id)
        policy = sealing.policy if sealing is not None else None
        if policy is None:
            return Expectation(event, None)
        token = cloud_event.get("data")
        if cloud_event.get("datacontenttype") != _JWT or not isinstance(token, str):
            raise SealingDowngraded(f"{event.name} is sealed by its contract ({_describe(policy)}) but the event "
                                    "arrived unsealed", event_id=event_id)
        if len(token) > MAX_TOKEN_BYTES:  # before splitting or decoding anything of it, as the opener does
            raise OversizedToken(f"token is {len(token)} bytes, over the {MAX_TOKEN_BYTES}-byte cap", event_id=event_id)
        segments = token.split(".")
        if len(segments) == 3 and policy.encrypt is not None:
            raise SealingDowngraded(f"{event.name} is encrypted by its contract ({_describe(policy)}) but the event "
                                    "carries a bare signed token", event_id=event_id)
        header = _header(segments[0], event_id) if len(segments) in (3, 5) else None
        if header is not None and len(segments) == 5 and policy.encrypt is not None:
            _expect(header, "JWE", policy.encrypt.alg, policy.encrypt.kid, event.name, event_id)
            if header.get("enc") != policy.encrypt.enc:
                raise SealingPolicyMismatch(f"JWE enc {_shown(header.get('enc'))} is not {policy.encrypt.enc}, "
                                            f"which the contract of {event.name} names", event_id=event_id)
        elif header is not None and len(segments) == 3:
            _expect(header, "JWS", policy.sign.alg, policy.sign.kid, event.name, event_id)
        return Expectation(event, policy)

    def _validator(self, event: Event) -> Validator:
        """The type's validate callable, made once per type (bounded by the contract)."""
        found = self._validators.get(event.key)
        if found is None:
            found = self._validators[event.key] = self.registry.for_dataschema(None, event.name)
        return found

    def open(self, cloud_event: Mapping[str, Any], *, verify_content_hash: bool = False,
             now: float | None = None) -> OpenedEvent:
        """Open ``cloud_event`` as its contract says. :raises EventRejected: one of its subclasses."""
        expected = self.expectation(cloud_event)
        policy = expected.policy
        validate = self._validator(expected.event) if self.validate and expected.event.payload is not None else None
        opened = self.opener.open(
            cloud_event, expected_issuer=policy.issuer if policy is not None else None, leeway=self.leeway,
            max_age=self.max_age, validate=validate, allow_unsealed=policy is None,
            verify_content_hash=verify_content_hash, now=now)
        if policy is not None:
            if opened.signing_kid != policy.sign.kid or self.keys.alg_of(policy.sign.kid) != policy.sign.alg:
                raise SealingPolicyMismatch(
                    f"signed with kid {_shown(opened.signing_kid)}; the contract of {expected.event.name} names "
                    f"{policy.sign.kid!r} ({policy.sign.alg})", event_id=opened.id)
            if policy.encrypt is not None and opened.encryption_kid != policy.encrypt.kid:
                raise SealingPolicyMismatch(
                    f"encrypted to kid {_shown(opened.encryption_kid)}; the contract of {expected.event.name} names "
                    f"{policy.encrypt.kid!r}", event_id=opened.id)
        return opened


def _expect(header: Mapping[str, Any], layer: str, alg: str, kid: str, name: str, event_id: str | None) -> None:
    if header.get("alg") != alg or header.get("kid") != kid:
        raise SealingPolicyMismatch(
            f"{layer} alg {_shown(header.get('alg'))} kid {_shown(header.get('kid'))}; the contract of {name} names "
            f"{alg} with kid {kid!r}", event_id=event_id)


def _header(segment: str, event_id: str | None) -> dict[str, Any]:
    try:
        header = json.loads(base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4)))
    except (ValueError, binascii.Error, UnicodeDecodeError, RecursionError):  # RecursionError: nested too deeply
        raise TamperedToken("token header is not base64url JSON", event_id=event_id) from None
    if not isinstance(header, dict):
        raise TamperedToken("token header is not a JSON object", event_id=event_id)
    return header


def _describe(policy: SealingPolicy) -> str:
    sign = f"{policy.sign.alg}, kid {policy.sign.kid}"
    return sign if policy.encrypt is None else f"{sign} → {policy.encrypt.alg}, kid {policy.encrypt.kid}"


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) else None


def _shown(value: Any) -> str:
    return repr(value) if isinstance(value, str) and len(value) <= 80 else f"<{type(value).__name__}>"
