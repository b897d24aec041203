"""EventBridge event patterns: compile once, match internal and public events.

``compile_pattern`` is the entry point; it raises :class:`PatternError` for a pattern EventBridge would reject.
"""

from pipeline.patterns.engine import EventPattern, PatternError, compile_pattern

__all__ = ["EventPattern", "PatternError", "compile_pattern"]
