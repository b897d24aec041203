"""Property tests without a network: the compiled fast path agrees with the exact array-consistency search.

The engine answers most events by walking each field independently and only falls back to searching leaf
combinations when an array sits where two fields share a path. These properties check that shortcut against the
exhaustive search over every expanded sub-rule, for generated patterns and events (strategies shared with the
moto comparison, plus events rich in arrays of objects).
"""

from __future__ import annotations

from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_patterns_moto import KEYS, event_values, patterns, scalars

from pipeline.patterns import PatternError, compile_pattern
from pipeline.patterns.engine import _consistent_match

objects_in_arrays = st.recursive(
    st.one_of(scalars, st.lists(scalars, max_size=2)),
    lambda inner: st.lists(st.dictionaries(st.sampled_from(KEYS), inner, min_size=1, max_size=3), min_size=1,
                           max_size=3),
    max_leaves=8,
)
details = st.dictionaries(st.sampled_from(KEYS), st.one_of(event_values, objects_in_arrays), max_size=3)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(pattern=patterns, detail=details, source=st.sampled_from(["com.shop.orders", "other"]))
def test_the_fast_path_agrees_with_the_exhaustive_search(pattern: dict[str, Any], detail: dict[str, Any],
                                                           source: str) -> None:
    try:
        compiled = compile_pattern(pattern)
    except PatternError:
        return
    event = {"source": source, "detail-type": "T", "detail": detail}
    exhaustive = any(_consistent_match(subrule, event) for subrule in compiled._subrules)
    assert compiled.matches(event) is exhaustive
