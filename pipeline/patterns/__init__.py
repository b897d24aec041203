"""EventBridge event patterns: compile once, match internal and public events.

``compile_pattern`` is the entry point; it raises :class:`PatternError` for a pattern EventBridge would reject.
The modules: ``engine`` (structure, ``$or``, arrays and array consistency), ``operators`` (one field's values and
operators as a predicate on a leaf), ``wildcard`` (glob parsing, limits and matching), ``errors``.
"""

from pipeline.patterns.engine import MAX_COMBINATIONS, EventPattern, compile_pattern
from pipeline.patterns.errors import PatternError

__all__ = ["MAX_COMBINATIONS", "EventPattern", "PatternError", "compile_pattern"]
