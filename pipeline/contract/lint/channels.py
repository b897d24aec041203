"""Channel and parameter hygiene: addresses a broker and a consumer can both use, parameters that match them,
servers that exist."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from ..errors import Location
from .findings import LintSeverity
from .registry import rule
from .target import LintTarget

Findings = Iterator[tuple[str, Location]]
WARN = LintSeverity.WARN
_VARIABLE = re.compile(r"{(.+?)}")


def _address_location(target: LintTarget, key: str, channel: dict[str, Any]) -> Location:
    return target.where(channel, "address") if target.major >= 3 else target.where(channel)


def _addresses(target: LintTarget) -> Iterator[tuple[str, str, Location]]:
    for key, channel in target.channels():
        address = target.address(key, channel)
        if address is not None:
            yield key, address, _address_location(target, key, channel)


@rule("asyncapi-channel-no-empty-parameter", WARN, "channels",
      "Channel address must not have an empty parameter substitution pattern ({}).",
      spectral=("asyncapi-channel-no-empty-parameter", "asyncapi-3-channel-no-empty-parameter"))
def no_empty_parameter(target: LintTarget) -> Findings:
    for key, address, where in _addresses(target):
        if "{}" in address:
            yield f"channel '{key}': address '{address}' has an empty parameter '{{}}'", where


@rule("asyncapi-channel-no-query-nor-fragment", WARN, "channels",
      "Channel address must not include a query (\"?\") or fragment (\"#\") delimiter.",
      spectral=("asyncapi-channel-no-query-nor-fragment", "asyncapi-3-channel-no-query-nor-fragment"))
def no_query_nor_fragment(target: LintTarget) -> Findings:
    for key, address, where in _addresses(target):
        if "?" in address or "#" in address:
            yield f"channel '{key}': address '{address}' holds a query or fragment delimiter", where


@rule("asyncapi-channel-no-trailing-slash", WARN, "channels", "Channel address must not end with a slash.",
      spectral=("asyncapi-channel-no-trailing-slash", "asyncapi-3-channel-no-trailing-slash"))
def no_trailing_slash(target: LintTarget) -> Findings:
    for key, address, where in _addresses(target):
        if len(address) > 1 and address.endswith("/"):
            yield f"channel '{key}': address '{address}' ends with a slash", where


@rule("asyncapi-channel-parameters", LintSeverity.ERROR, "channels",
      "Every parameter of a channel address is defined in \"parameters\", and every defined one is used.",
      spectral=("asyncapi-channel-parameters",))
def channel_parameters(target: LintTarget) -> Findings:
    channels = list(target.channels())
    channels += [(k, c) for k, c in target.mapping("components", "channels").items() if isinstance(c, dict)]
    for key, channel in channels:
        parameters = channel.get("parameters")
        if not isinstance(parameters, dict):
            continue  # as Spectral: no parameters object, nothing to compare (3.x reply channels have no address)
        address = channel.get("address") if target.major >= 3 else key
        used = _VARIABLE.findall(address if isinstance(address, str) else key)
        if not used:
            continue
        missing = [name for name in dict.fromkeys(used) if name not in parameters]
        if missing:
            yield (f"channel '{key}': parameter(s) {', '.join(missing)} of its address are not described in "
                   "'parameters'"), target.where(channel, "parameters")
        for name in parameters:
            if name not in used:
                yield f"channel '{key}': parameter '{name}' is not in its address", \
                    target.where(channel, "parameters", name)


@rule("asyncapi-parameter-description", WARN, "channels", "Parameter objects must have a \"description\".",
      spectral=("asyncapi-parameter-description",))
def parameter_description(target: LintTarget) -> Findings:
    seen: set[int] = set()
    groups = [channel.get("parameters") for _, channel in target.channels()]
    groups.append(target.member("components", "parameters"))
    for group in groups:
        if not isinstance(group, dict):
            continue
        for name, parameter in group.items():
            if isinstance(parameter, dict) and id(parameter) not in seen:
                seen.add(id(parameter))
                if not parameter.get("description"):
                    yield f"parameter '{name}' has no 'description'", target.where(group, name)


@rule("asyncapi-channel-servers", LintSeverity.ERROR, "channels",
      "Servers a channel names must be defined in the document's \"servers\".",
      spectral=("asyncapi-channel-servers", "asyncapi-3-channel-servers"))
def channel_servers(target: LintTarget) -> Findings:
    if target.major < 3:
        names = set(target.mapping("servers"))
        for key, channel in target.channels():
            listed = channel.get("servers")
            for index, name in enumerate(listed if isinstance(listed, list) else []):
                if name not in names:
                    yield f"channel '{key}' names server '{name}', which 'servers' does not define", \
                        target.where(channel, "servers", index)
        return
    # 3.x: each entry must be a reference to a server of this document (read as written: before dereferencing).
    raw_channels = target.raw.get("channels") if isinstance(target.raw, dict) else None
    for key, channel in (raw_channels.items() if isinstance(raw_channels, dict) else ()):
        listed = channel.get("servers") if isinstance(channel, dict) else None
        for index, entry in enumerate(listed if isinstance(listed, list) else []):
            ref = entry.get("$ref") if isinstance(entry, dict) else None
            if not (isinstance(ref, str) and "#/servers/" in ref):
                yield f"channel '{key}': servers[{index}] is not a reference to one of the document's servers", \
                    target.at(f"/channels/{_escape(key)}/servers/{index}")


def _escape(token: str) -> str:
    return token.replace("~", "~0").replace("/", "~1")
