"""Payload schemas at run time: compiled validators, and the one registry that says where each published schema
lives (site path and public URL)."""
