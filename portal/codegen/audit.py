"""An allow-list check of a generated module: declarations of models and nothing else.

A consumer imports the generated module, and pydantic evaluates its annotations, so whatever a hostile schema
could smuggle into it through a generator bug (a title, a description, an enum value, a default written as code)
would run on the consumer's machine. Rather than trusting every string the generator quotes, eventdeck reads the
module back with :mod:`ast` and admits only what a declaration of models needs: ``from``-imports of a few
standard and pydantic modules, classes whose bodies declare fields, literal values, calls of imported constructors
(``Field``, ``ConfigDict``, …), attribute access on the module's own classes (enum members, ``model_rebuild``), and
string constants only where they are values, never where Python or pydantic would evaluate them as a type.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator

#: The modules a generated module may import from (names, never whole modules).
ALLOWED_MODULES = frozenset({"__future__", "enum", "typing", "typing_extensions", "uuid", "datetime", "decimal",
                             "ipaddress", "pydantic"})
#: Builtins a declaration may name.
ALLOWED_BUILTINS = frozenset({"str", "int", "float", "bool", "bytes", "list", "dict", "set", "frozenset", "tuple",
                              "type", "object", "None", "True", "False"})
#: Attributes the module may read on its own classes besides their members.
ALLOWED_METHODS = frozenset({"model_rebuild"})
_VALUE_NODES = (ast.Constant, ast.Name, ast.Subscript, ast.Tuple, ast.List, ast.Dict, ast.Set, ast.BinOp,
                ast.UnaryOp, ast.Call, ast.Attribute, ast.keyword, ast.Load, ast.BitOr, ast.USub, ast.UAdd)


def problems(code: str) -> list[str]:
    """Why ``code`` is not a plain declaration of models (empty when it is one): ``line N: what``."""
    try:
        tree = ast.parse(code)
    except SyntaxError as exc:
        return [f"line {exc.lineno}: not valid Python ({exc.msg})"]
    imported: set[str] = set()
    classes = {node.name for node in tree.body if isinstance(node, ast.ClassDef)}
    found: list[str] = []
    for node in tree.body:
        if isinstance(node, ast.ImportFrom):
            if node.module not in ALLOWED_MODULES or node.level:
                found.append(f"line {node.lineno}: imports from {node.module!r}")
            imported.update(alias.asname or alias.name for alias in node.names)
    known = imported | classes | ALLOWED_BUILTINS
    for node in tree.body:
        found.extend(_statement(node, known, classes, top=True))
    return found


def _statement(node: ast.stmt, known: set[str], classes: set[str], *, top: bool) -> Iterator[str]:
    where = f"line {node.lineno}"
    if isinstance(node, ast.ImportFrom) and top:
        return
    if isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant) and isinstance(node.value.value, str):
        return  # a docstring
    if isinstance(node, ast.Pass):
        return
    if isinstance(node, ast.Expr) and top and _is_rebuild(node.value, classes):
        return
    if isinstance(node, ast.ClassDef) and top:
        if node.decorator_list or node.keywords:
            yield f"{where}: class {node.name} has decorators or keywords"
        for base in node.bases:
            yield from _annotation(base, known, classes, where)
        members = set(known)
        for item in node.body:
            if isinstance(item, ast.AnnAssign | ast.Assign):
                targets = [item.target] if isinstance(item, ast.AnnAssign) else item.targets
                members.update(t.id for t in targets if isinstance(t, ast.Name))
        for item in node.body:
            yield from _statement(item, members, classes, top=False)
        return
    if isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
        yield from _annotation(node.annotation, known, classes, where)
        if node.value is not None:
            yield from _value(node.value, known, classes, where)
        return
    if isinstance(node, ast.Assign) and all(isinstance(t, ast.Name) for t in node.targets):
        yield from _value(node.value, known, classes, where)
        return
    yield f"{where}: a {type(node).__name__} statement"


def _is_rebuild(node: ast.expr, classes: set[str]) -> bool:
    return (isinstance(node, ast.Call) and not node.args and not node.keywords
            and isinstance(node.func, ast.Attribute) and node.func.attr in ALLOWED_METHODS
            and isinstance(node.func.value, ast.Name) and node.func.value.id in classes)


def _annotation(node: ast.expr, known: set[str], classes: set[str], where: str) -> Iterator[str]:
    """A type: names, subscripts, unions; strings only as ``Literal`` values and ``Field`` arguments."""
    if isinstance(node, ast.Subscript):
        yield from _annotation(node.value, known, classes, where)
        if isinstance(node.value, ast.Name) and node.value.id == "Literal":
            yield from _value(node.slice, known, classes, where)
        elif isinstance(node.slice, ast.Tuple):
            elements = node.slice.elts
            if elements:
                yield from _annotation(elements[0], known, classes, where)
            annotated = isinstance(node.value, ast.Name) and node.value.id == "Annotated"
            for element in elements[1:]:  # Annotated's metadata are values (Field(...)); other parameters are types
                yield from (_value if annotated else _annotation)(element, known, classes, where)
        else:
            yield from _annotation(node.slice, known, classes, where)
    elif isinstance(node, ast.BinOp) and isinstance(node.op, ast.BitOr):
        yield from _annotation(node.left, known, classes, where)
        yield from _annotation(node.right, known, classes, where)
    elif isinstance(node, ast.Name):
        if node.id not in known:
            yield f"{where}: names {node.id!r}, which the module does not define or import"
    elif isinstance(node, ast.Constant) and node.value is None:
        return
    elif isinstance(node, ast.Tuple | ast.List):
        for element in node.elts:
            yield from _annotation(element, known, classes, where)
    else:
        yield f"{where}: a {type(node).__name__} where a type belongs"


def _value(node: ast.AST, known: set[str], classes: set[str], where: str) -> Iterator[str]:
    """A literal value, possibly built by calling an imported constructor or naming an enum member."""
    for child in ast.walk(node):
        if not isinstance(child, _VALUE_NODES):
            yield f"{where}: a {type(child).__name__} expression"
        elif isinstance(child, ast.Name) and child.id not in known:
            yield f"{where}: names {child.id!r}, which the module does not define or import"
        elif isinstance(child, ast.Call) and not (isinstance(child.func, ast.Name) and child.func.id in known):
            yield f"{where}: calls something other than an imported constructor"
        elif isinstance(child, ast.Attribute) and not (
                isinstance(child.value, ast.Name) and child.value.id in classes and not child.attr.startswith("_")):
            yield f"{where}: reads attribute {child.attr!r} of something other than the module's own classes"
