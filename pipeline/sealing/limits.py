"""Size caps for sealed events, all derived from one number: the EventBridge ``PutEvents`` entry limit.

joserfc's defaults (JWS payload 128,000 bytes, JWE ciphertext 64 KiB, inflated plaintext 250 KiB) would refuse
legitimate events between ~64 KiB and the EventBridge limit, and are not derived from anything we publish. The
caps here are; :mod:`pipeline.sealing.jose` sets them on eventdeck's own registries (joserfc's process-wide
defaults are left alone), and :mod:`pipeline.sealing.seal` / :mod:`pipeline.sealing.open` enforce the rest.
"""

from __future__ import annotations

from typing import Final

__all__ = [
    "DEFLATE_LEVEL",
    "EVENTBRIDGE_MAX_ENTRY_BYTES",
    "MAX_CLAIMS_BYTES",
    "MAX_INFLATED_BYTES",
    "MAX_JWE_CIPHERTEXT_BYTES",
    "MAX_JWS_HEADER_BYTES",
    "MAX_JWS_PAYLOAD_BYTES",
    "MAX_JWS_SIGNATURE_BYTES",
    "MAX_TOKEN_BYTES",
]

# One number drives every cap: the PutEvents entry limit, 256 KiB per entry (pipeline-anchors §1.2; AWS raised
# it to 1 MB on 2026-01-29, but some regions/docs still state 256 KB, so we stay conservative). A token travels
# inside one entry, so nothing bigger can legitimately arrive; everything bigger is refused before any crypto.

#: PutEvents entry size limit (bytes). Raise to 1024 * 1024 once every target bus accepts 1 MB entries.
EVENTBRIDGE_MAX_ENTRY_BYTES: Final = 256 * 1024

#: A token can never be larger than the entry that carries it.
MAX_TOKEN_BYTES: Final = EVENTBRIDGE_MAX_ENTRY_BYTES

#: The claims JSON (payload + claims) a producer may seal: no more than an unsealed event could carry.
MAX_CLAIMS_BYTES: Final = EVENTBRIDGE_MAX_ENTRY_BYTES


def _base64url_length(n: int) -> int:
    return (4 * n + 2) // 3  # unpadded


#: JWS header / signature caps: joserfc's defaults (512 / 1024) already fit ours (~90 bytes; RS4096 = 683).
MAX_JWS_HEADER_BYTES: Final = 512
MAX_JWS_SIGNATURE_BYTES: Final = 1024

#: joserfc measures the JWS payload as its base64url segment: the largest claims we seal, encoded.
MAX_JWS_PAYLOAD_BYTES: Final = _base64url_length(MAX_CLAIMS_BYTES)

#: The inner JWS (the JWE plaintext) can be no larger than header.payload.signature at their caps; a DEF
#: plaintext that inflates beyond this is a compression bomb (deflate reaches ~1000:1, so a 256 KiB token
#: could otherwise inflate to ~250 MiB) and is refused while inflating, not after.
MAX_INFLATED_BYTES: Final = MAX_JWS_HEADER_BYTES + 1 + MAX_JWS_PAYLOAD_BYTES + 1 + MAX_JWS_SIGNATURE_BYTES

#: The JWE ciphertext segment cannot be longer than the whole token.
MAX_JWE_CIPHERTEXT_BYTES: Final = MAX_TOKEN_BYTES

#: zlib level for DEF: zlib's default, as joserfc uses. On a ~1.9 KB inner JWS level 1 saves ~2 us and 1 % size.
DEFLATE_LEVEL: Final = 6
