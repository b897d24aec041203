"""``$ref`` stays inside its root: nothing outside the root folder, and nothing that is not a document, is read,
published or quoted.

The root is the folder the documents were loaded from (or ``root=``, ``--root``, the plugin's ``root`` option). An
absolute path, a ``..`` that climbs out, a symbolic link that leads out and a ``file:`` URI are refused with the
file, line and pointer of the ``$ref``; a remote document never reaches a local file; a ``$ref`` to a key, a
password file or a Markdown page is refused by its name, so its content appears in no message and on no page.
"""

from __future__ import annotations

import json
import os
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import ClassVar

import pytest

from conftest import write
from pipeline.contract import Catalogue, ContractError, ContractInvalid, ContractLoader, Diagnostic
from portal.cli.main import main
from portal.render import render_site

# A private key in the shape `eventdeck keys new` writes: what a hostile $ref would publish.
SECRET_D = "nhLhsW9SZr2oJwKjyr2dUX-private-part-never-to-be-published"
PRIVATE_JWKS = json.dumps({"keys": [{"kty": "EC", "crv": "P-256", "kid": "k1", "d": SECRET_D,
                                     "x": "f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU",
                                     "y": "x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0"}]})
PEM = ("-----BEGIN PRIVATE KEY-----\nMIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgPEMSECRETLINEONE\n"
       "hRANCAAQPEMSECRETLINETWOxyz\n-----END PRIVATE KEY-----\n")
PASSWD_LINE = "root:x:0:0:root:/root:/bin/bash"

DOC = """\
asyncapi: 3.0.0
info:
  title: Test
  version: 1.0.0
  description: {description}
channels:
  things:
    address: things
    messages:
      thing:
        $ref: '#/components/messages/Thing'
operations:
  sendThing:
    action: send
    channel:
      $ref: '#/channels/things'
    messages:
      - $ref: '#/channels/things/messages/thing'
components:
  messages:
    Thing:
      name: Thing.Created.Uk
      payload:
        $ref: {payload}
"""
PAYLOAD_LINE = 24  # the line of `$ref: {payload}`
SCHEMA = "type: object\nproperties:\n  id: {type: integer}\n"


def doc(payload: str = "'#/components/schemas/Thing'", description: str = "A test.") -> str:
    return DOC.format(payload=payload, description=description) + (
        "  schemas:\n    Thing:\n      type: object\n      properties:\n        id: {type: integer}\n")


def ref_problems(catalogue_or_error: Catalogue | ContractError) -> list[Diagnostic]:
    found = catalogue_or_error.diagnostics if isinstance(catalogue_or_error, ContractError) \
        else catalogue_or_error.all_diagnostics
    return [d for d in found if d.code == "ref"]


def lenient(paths: list[Path], **kwargs: object) -> Catalogue:
    return ContractLoader(**kwargs).load(paths)  # type: ignore[arg-type]


def published(catalogue: Catalogue) -> str:
    """Every page and file the catalogue would publish, as one text."""
    site = render_site(catalogue)
    return "\n".join([*site.pages.values(), *(f.decode("utf-8", "replace") for f in site.files.values())])


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """A project folder: documents under specs/, a private key set and a PEM key beside it, outside specs/."""
    write(tmp_path, "keys/private.jwks.json", PRIVATE_JWKS)
    write(tmp_path, "keys/private.pem", PEM)
    write(tmp_path, "specs/schemas/thing.yaml", SCHEMA)
    return tmp_path


# ---------------------------------------------------------------------------------------------- absolute paths
def test_an_absolute_ref_to_a_private_key_set_is_refused_and_never_published(project: Path) -> None:
    key = project / "keys" / "private.jwks.json"
    path = write(project, "specs/doc.yaml", doc(f"'{key}'"))
    catalogue = lenient([project / "specs"])
    (problem,) = ref_problems(catalogue)
    assert "absolute path" in problem.message
    assert (problem.location.file, problem.location.line) == (str(path.resolve()), PAYLOAD_LINE)
    assert problem.location.pointer == "/components/messages/Thing/payload/$ref"
    assert SECRET_D not in published(catalogue)


def test_an_absolute_ref_is_refused_even_inside_the_root(project: Path) -> None:
    inside = project / "specs" / "schemas" / "thing.yaml"
    write(project, "specs/doc.yaml", doc(f"'{inside}'"))
    with pytest.raises(ContractInvalid) as caught:
        ContractLoader().load([project / "specs"], strict=True)
    assert "absolute path" in ref_problems(caught.value)[0].message


def test_a_description_ref_to_etc_passwd_is_refused_and_not_on_any_page(project: Path) -> None:
    write(project, "specs/doc.yaml", doc(description="{$ref: '/etc/passwd'}"))
    catalogue = lenient([project / "specs"])
    (problem,) = ref_problems(catalogue)
    assert problem.location.pointer == "/info/description/$ref" and problem.location.line == 5
    assert "root:x:" not in published(catalogue) and "root:x:" not in str(problem)


def test_a_percent_encoded_absolute_path_is_an_absolute_path(project: Path) -> None:
    write(project, "specs/doc.yaml", doc("'%2Fetc%2Fpasswd'"))
    assert "absolute path" in ref_problems(lenient([project / "specs"]))[0].message


# ---------------------------------------------------------------------------------------------- `..` escapes
def test_dot_dot_out_of_the_root_is_refused(project: Path) -> None:
    write(project, "specs/doc.yaml", doc("'../keys/private.jwks.json'"))
    catalogue = lenient([project / "specs"])
    (problem,) = ref_problems(catalogue)
    assert "leads outside the root folder" in problem.message and problem.location.line == PAYLOAD_LINE
    assert SECRET_D not in published(catalogue)


def test_deep_dot_dot_walks_are_refused(project: Path) -> None:
    write(project, "specs/doc.yaml", doc("'schemas/../../../../../../../../etc/passwd.yaml'"))
    assert "leads outside" in ref_problems(lenient([project / "specs"]))[0].message


def test_dot_dot_that_stays_inside_the_root_is_followed(project: Path) -> None:
    write(project, "specs/domain/doc.yaml", doc("'../schemas/thing.yaml'"))
    catalogue = ContractLoader().load([project / "specs"], strict=True)
    assert catalogue.events[0].payload.document["properties"]["id"] == {"type": "integer"}


def test_a_wider_root_lets_a_reference_climb_into_it(project: Path) -> None:
    write(project, "shared/thing.yaml", SCHEMA)
    write(project, "specs/doc.yaml", doc("'../shared/thing.yaml'"))
    assert ref_problems(lenient([project / "specs"]))  # the default root is specs/
    catalogue = ContractLoader(root=project).load([project / "specs"], strict=True)
    assert catalogue.events[0].payload.document["properties"]["id"] == {"type": "integer"}
    assert ContractLoader().load([project / "specs"], strict=True, root=project).events  # or per load


def test_the_default_root_of_files_is_their_common_folder(project: Path) -> None:
    write(project, "specs/a/doc.yaml", doc("'../../specs/schemas/thing.yaml'"))
    write(project, "specs/b/doc.yaml", doc("'../../keys/private.jwks.json'").replace("Thing.Created", "Thing.Made"))
    catalogue = lenient([project / "specs" / "a" / "doc.yaml", project / "specs" / "b" / "doc.yaml"])
    (problem,) = ref_problems(catalogue)  # a/ reaches specs/schemas (inside specs/); b/ reaches keys/ (outside)
    assert problem.location.file.endswith("b/doc.yaml") and "leads outside" in problem.message


def test_a_document_outside_an_explicit_root_is_refused(project: Path) -> None:
    path = write(project, "elsewhere/doc.yaml", doc())
    with pytest.raises(ContractError, match="outside the root folder"):
        ContractLoader(root=project / "specs").load([path])


# ---------------------------------------------------------------------------------------------- symbolic links
def test_a_symbolic_link_leading_out_of_the_root_is_refused(project: Path) -> None:
    os.symlink(project / "keys" / "private.jwks.json", project / "specs" / "schemas" / "innocent.json")
    write(project, "specs/domain/doc.yaml", doc("'../schemas/innocent.json'"))
    catalogue = lenient([project / "specs" / "domain"], root=project / "specs")
    (problem,) = ref_problems(catalogue)
    assert "symbolic link" in problem.message and problem.location.line == PAYLOAD_LINE
    assert SECRET_D not in published(catalogue)


def test_a_linked_folder_leading_out_of_the_root_is_refused(project: Path) -> None:
    write(project, "vendor/thing.yaml", SCHEMA)
    os.symlink(project / "vendor", project / "specs" / "vendor")
    write(project, "specs/domain/doc.yaml", doc("'../vendor/thing.yaml'"))
    assert "symbolic link" in ref_problems(lenient([project / "specs" / "domain"], root=project / "specs"))[0].message


def test_a_symbolic_link_inside_the_root_is_followed(project: Path) -> None:
    os.symlink(project / "specs" / "schemas" / "thing.yaml", project / "specs" / "alias.yaml")
    write(project, "specs/doc.yaml", doc("'alias.yaml'"))
    assert ContractLoader().load([project / "specs"], strict=True).events[0].payload.document["properties"]


def test_a_document_link_leading_out_of_a_searched_folder_is_not_read(project: Path) -> None:
    os.symlink(project / "keys" / "private.jwks.json", project / "specs" / "keys.json")
    write(project, "specs/doc.yaml", doc())
    with pytest.raises(ContractError) as caught:
        ContractLoader().load([project / "specs"])
    assert "symbolic link to a file outside the root folder" in str(caught.value)
    assert SECRET_D not in str(caught.value)


# ---------------------------------------------------------------------------------------------- file: URIs
@pytest.mark.parametrize("ref", ["file:///etc/passwd", "file:thing.yaml", "FILE:///etc/passwd",
                                 "file://localhost/etc/passwd"])
def test_file_uris_are_refused(project: Path, ref: str) -> None:
    write(project, "specs/doc.yaml", doc(f"'{ref}'"))
    (problem,) = ref_problems(lenient([project / "specs"]))
    assert "file: URIs are not allowed" in problem.message and problem.location.line == PAYLOAD_LINE


def test_other_schemes_are_refused(project: Path) -> None:
    write(project, "specs/doc.yaml", doc("'ftp://example.com/thing.yaml'"))
    assert "unsupported reference scheme" in ref_problems(lenient([project / "specs"]))[0].message


@pytest.mark.parametrize("ref", [
    "a\x00.yaml", "%00.yaml", "http://[::1/x.yaml", "file:", "c:\\keys\\x.yaml", "\\\\server\\share\\x.yaml",
    "//host/x.yaml", "....//....//etc/passwd.yaml", "~/.ssh/id_rsa", "schemas/%2e%2e/%2e%2e/%2e%2e/x.yaml",
    "x" * 5000 + ".yaml", "javascript:alert(1)", "data:application/json,{}", "#nope", "#/a/../../b",
])
def test_hostile_refs_become_diagnostics_never_exceptions(project: Path, ref: str) -> None:
    write(project, "specs/doc.yaml", doc(json.dumps(ref)))
    catalogue = lenient([project / "specs"])
    (problem,) = ref_problems(catalogue)
    assert problem.location.line == PAYLOAD_LINE and "\n" not in str(problem)
    render_site(catalogue)


# ---------------------------------------------------------------------------------------------- remote documents
class _Remote(BaseHTTPRequestHandler):
    bodies: ClassVar[dict[str, str]] = {}

    def do_GET(self) -> None:
        body = self.bodies.get(self.path)
        self.send_response(200 if body is not None else 404)
        self.end_headers()
        self.wfile.write((body or "").encode())

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def remote() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Remote)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()


def test_a_remote_document_can_never_reach_a_local_file(project: Path, remote: str) -> None:
    key = project / "keys" / "private.jwks.json"
    _Remote.bodies = {"/schemas/thing.yaml": "type: object\nproperties:\n"
                                             f"  key: {{$ref: 'file://{key}'}}\n"
                                             f"  key2: {{$ref: 'file:{key}'}}\n"
                                             "  shared: {$ref: 'shared.yaml'}\n",
                      "/schemas/shared.yaml": "type: string\n"}
    write(project, "specs/doc.yaml", doc(f"'{remote}/schemas/thing.yaml'"))
    catalogue = ContractLoader(allow_http=True).load([project / "specs"])
    problems = ref_problems(catalogue)
    assert len(problems) == 2 and all(p.location.file.startswith(remote) for p in problems)
    assert all("file: URIs are not allowed" in p.message for p in problems)
    schema = catalogue.events[0].payload.document
    assert schema["properties"]["key"] == {"x-unresolved-ref": f"file://{key}"}
    assert schema["$defs"]["shared"] == {"type": "string"}  # remote to remote is fine
    assert SECRET_D not in published(catalogue)


def test_a_remote_document_cannot_climb_to_a_local_path(project: Path, remote: str) -> None:
    # An absolute or `..` path in a remote document stays on its server: it is never a local file.
    _Remote.bodies = {"/a/thing.yaml": "type: object\nproperties:\n  x: {$ref: '../../../../etc/passwd.yaml'}\n"
                                       "  y: {$ref: '/etc/passwd.yaml'}\n"}
    write(project, "specs/doc.yaml", doc(f"'{remote}/a/thing.yaml'"))
    catalogue = ContractLoader(allow_http=True).load([project / "specs"])
    fetched = {p.message.split("'")[1] for p in ref_problems(catalogue) if "could not be fetched" in p.message}
    assert fetched == {f"{remote}/etc/passwd.yaml"}


# ---------------------------------------------------------------------------------------------- not a document
@pytest.mark.parametrize(("name", "content"), [
    ("keys.pem", PEM),
    ("passwd", PASSWD_LINE + "\n"),
    ("notes.md", "# Notes\n\nSECRETNOTE: do not publish\n"),
    ("config.env", "API_TOKEN: SECRETTOKEN\n"),
])
def test_a_ref_to_a_file_that_is_not_a_document_is_refused_without_reading_it(
        project: Path, name: str, content: str) -> None:
    write(project, f"specs/{name}", content)
    write(project, "specs/doc.yaml", doc(f"'{name}'", description=f"{{$ref: '{name}'}}"))
    catalogue = lenient([project / "specs"])
    problems = ref_problems(catalogue)
    assert len(problems) == 2 and all("not a YAML or JSON document" in p.message for p in problems)
    shown = "\n".join(map(str, problems)) + published(catalogue)
    assert all(secret not in shown for secret in ("PEMSECRET", "root:x:", "SECRETNOTE", "SECRETTOKEN"))


def test_a_document_named_link_to_a_key_is_refused_by_the_name_it_leads_to(project: Path) -> None:
    write(project, "specs/keys/key.pem", PEM)
    os.symlink(project / "specs" / "keys" / "key.pem", project / "specs" / "schema.yaml")
    write(project, "specs/doc.yaml", doc("'schema.yaml'"))
    (problem,) = ref_problems(lenient([project / "specs"]))
    assert "not a YAML or JSON document (.pem)" in problem.message and "PEMSECRET" not in str(problem)


def test_a_yaml_file_that_does_not_parse_is_named_but_not_quoted(project: Path) -> None:
    write(project, "specs/broken.yaml", PEM.replace("MIGH", "MIGH: [SECRET: {"))
    write(project, "specs/doc.yaml", doc("'broken.yaml'"))
    catalogue = lenient([project / "specs"])
    messages = "\n".join(str(d) for d in catalogue.all_diagnostics)
    assert "broken.yaml" in messages and "PEMSECRET" not in messages and "SECRET:" not in messages


def test_suffixes_are_matched_whatever_their_case(project: Path) -> None:
    write(project, "specs/schemas/Thing.YAML", SCHEMA)
    write(project, "specs/doc.yaml", doc("'schemas/Thing.YAML'"))
    assert ContractLoader().load([project / "specs"], strict=True).events


# ---------------------------------------------------------------------------------------------- the edges
def test_validate_takes_a_root(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    write(project, "shared/thing.yaml", SCHEMA)
    write(project, "specs/doc.yaml", doc("'../shared/thing.yaml'"))
    assert main(["validate", str(project / "specs")]) == 1
    err = capsys.readouterr().err
    assert "doc.yaml:24:9 (#/components/messages/Thing/payload/$ref): error: $ref '../shared/thing.yaml' leads " \
           "outside the root folder" in err
    assert all("Traceback" not in line for line in err.splitlines())
    assert main(["validate", "--root", str(project), str(project / "specs")]) == 0


def test_the_plugin_takes_a_root(project: Path) -> None:
    from mkdocs.config import load_config

    from portal.mkdocs_plugin.plugin import ref_root

    (project / "docs").mkdir()
    write(project, "mkdocs.yml", "site_name: T\nplugins:\n  - eventdeck:\n      asyncapi: [specs]\n      root: .\n")
    config = load_config(str(project / "mkdocs.yml"))
    plugin_config = config.plugins["eventdeck"].config
    assert ref_root(plugin_config, project) == project.resolve()
    plugin_config["root"] = None
    assert ref_root(plugin_config, project) is None
