"""Sealing: nested JWT (JWS inside JWE) with joserfc — key sets, sealing on the producer side, opening (decrypt,
inflate, verify, check claims) on the consumer side."""
