"""Subscription snippets generated from the contract: every text a consumer copies to subscribe to an event.

Pure functions from a checked :class:`SnippetSpec` to :class:`Snippet` values (one file each). ``snippets(spec,
format)`` gives every snippet of one ``eventdeck kit --format``; the modules give each one alone.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Final

import portal.kit.snippets.cloudformation as cloudformation
import portal.kit.snippets.terraform as terraform
from portal.kit.snippets.boto3_script import api_destination_script, boto3_script, forward_script
from portal.kit.snippets.cdk import cdk_app
from portal.kit.snippets.consumer import lambda_consumer, sqs_consumer
from portal.kit.snippets.pattern import pattern_json
from portal.kit.snippets.snippet import Snippet
from portal.kit.snippets.spec import ApiDestination, Auth, Mode, SnippetError, SnippetSpec

__all__ = ["FORMATS", "ApiDestination", "Auth", "Mode", "Snippet", "SnippetError", "SnippetSpec", "snippets"]

_Maker = Callable[[SnippetSpec], Snippet]

#: Each ``--format`` and its generators, in the order a page shows them. Generators needing an API destination
#: are left out when the spec has none.
FORMATS: Final[dict[str, tuple[_Maker, ...]]] = {
    "pattern": (pattern_json,),
    "cfn": (cloudformation.cross_account_producer, cloudformation.cross_account_consumer,
            cloudformation.sqs_target, cloudformation.api_destination),
    "sam": (cloudformation.lambda_target_sam,),
    "cdk": (cdk_app,),
    "terraform": (terraform.cross_account_producer, terraform.cross_account_consumer, terraform.sqs_target,
                  terraform.lambda_target, terraform.api_destination),
    "boto3": (boto3_script, forward_script, api_destination_script),
    "python": (lambda_consumer, sqs_consumer),
}

_NEEDS_DESTINATION: Final = frozenset({cloudformation.api_destination, terraform.api_destination,
                                       api_destination_script})


def snippets(spec: SnippetSpec, format: str) -> tuple[Snippet, ...]:
    """Every snippet of ``format`` for ``spec``. :raises SnippetError: an unknown format."""
    makers = FORMATS.get(format)
    if makers is None:
        raise SnippetError(f"{format!r} is not one of {', '.join(FORMATS)}", field="format")
    return tuple(make(spec) for make in makers if spec.api_destination is not None or make not in _NEEDS_DESTINATION)
