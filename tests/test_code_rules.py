"""Rules of the codebase, held by reading its source.

One model: no module outside ``pipeline/contract/`` reads an ``x-`` key of a raw document dict. Every reader —
producer, consumer, catalogue, CLI, scripts — uses the typed extensions of the model (``Document.eventbridge``,
``Event.sealing``, ``Event.enrichment``, ``Document.backstage``, ``Event.lifecycle``). A read is any subscript,
``.get``/``.extension``/``.pop``/``.setdefault`` call or ``in`` test with a literal ``x-…`` key; naming an
extension in a message or a label is not a read.

Environment at the edges: library code takes parameters; only the small helpers the CLI, the plugin and the
handler call read environment variables.
"""

from __future__ import annotations

import ast
from pathlib import Path

from conftest import ROOT

READ_METHODS = frozenset({"get", "extension", "pop", "setdefault"})


def _is_extension_key(node: ast.AST) -> bool:
    return isinstance(node, ast.Constant) and isinstance(node.value, str) and node.value.startswith("x-")


def extension_reads(source: str) -> list[tuple[int, str]]:
    """(line, key) of every read of a literal ``x-`` key in ``source``."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Subscript) and _is_extension_key(node.slice):
            found.append((node.lineno, node.slice.value))  # type: ignore[attr-defined]
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) \
                and node.func.attr in READ_METHODS and node.args and _is_extension_key(node.args[0]):
            found.append((node.lineno, node.args[0].value))  # type: ignore[attr-defined]
        elif isinstance(node, ast.Compare) and _is_extension_key(node.left) \
                and any(isinstance(op, ast.In | ast.NotIn) for op in node.ops):
            found.append((node.lineno, node.left.value))  # type: ignore[attr-defined]
    return found


def test_the_rule_finds_every_kind_of_read() -> None:
    source = ('a = doc["x-sealing"]\nb = event.extension("x-enrichment")\nc = d.get("x-eventbridge", {})\n'
              'if "x-lifecycle" in message: pass\nlabel = "x-enrichment"\nraise ValueError(f"x-sealing: bad")\n')
    assert extension_reads(source) == [(1, "x-sealing"), (2, "x-enrichment"), (3, "x-eventbridge"),
                                       (4, "x-lifecycle")]


def test_no_module_outside_the_contract_package_reads_an_extension_key() -> None:
    contract = ROOT / "pipeline" / "contract"
    offenders = []
    for folder in ("pipeline", "portal", "scripts"):
        for path in sorted((ROOT / folder).rglob("*.py")):
            if contract in path.parents:
                continue
            for line, key in extension_reads(path.read_text(encoding="utf-8")):
                offenders.append(f"{path.relative_to(ROOT)}:{line} reads {key!r}")
    assert offenders == [], "read the typed extension on the model instead:\n" + "\n".join(offenders)


def test_templates_read_no_extension_values() -> None:
    # Templates receive views built from the typed model; they may name extensions in prose, never index them.
    for path in sorted(Path(ROOT / "portal").rglob("*.j2")):
        text = path.read_text(encoding="utf-8")
        for key in ("x-sealing", "x-enrichment", "x-eventbridge", "x-backstage", "x-lifecycle"):
            assert f'["{key}"]' not in text and f"['{key}']" not in text and f'get("{key}"' not in text, path


# The few functions the edges call to read the environment; everything else in the runtime takes parameters.
ENVIRONMENT_READERS = {
    ("pipeline/contract/specs.py", "settings_from_environment"),
    ("pipeline/forking.py", "workers_from_environment"),
    ("pipeline/aws_lambda/config.py", "settings_from_environment"),  # the Lambda handler's configuration
    ("pipeline/sealing/keys.py", "read"),  # JwksEnvironment: a key source the edge chose, `env:NAME`
}


def environment_reads(source: str) -> list[tuple[int, str]]:
    """(line, enclosing function) of every ``os.environ`` / ``os.getenv`` use in ``source``."""
    found: list[tuple[int, str]] = []

    def visit(node: ast.AST, function: str) -> None:
        for child in ast.iter_child_nodes(node):
            name = child.name if isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef) else function
            if isinstance(child, ast.Attribute) and isinstance(child.value, ast.Name) and child.value.id == "os" \
                    and child.attr in ("environ", "getenv", "environb"):
                found.append((child.lineno, function))
            visit(child, name)

    visit(ast.parse(source), "<module>")
    return found


def test_library_code_reads_no_environment_variables_outside_the_edge_helpers() -> None:
    offenders = []
    for path in sorted((ROOT / "pipeline").rglob("*.py")):
        relative = path.relative_to(ROOT).as_posix()
        for line, function in environment_reads(path.read_text(encoding="utf-8")):
            if (relative, function) not in ENVIRONMENT_READERS:
                offenders.append(f"{relative}:{line} in {function}()")
    assert offenders == [], "take it as a parameter; the CLI, plugin or handler reads the environment:\n" + \
        "\n".join(offenders)
    assert environment_reads("import os\ndef f():\n    return os.environ.get('X')\n") == [(3, "f")]
