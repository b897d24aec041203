"""``eventdeck keys``: create a key set for local use, with exactly the keys the contract's sealing names; check a
key file.

The private file is written ``0600`` into a folder only its owner can write to (created ``0700``), by an atomic
rename: there is never a half-written key file, and an existing one is replaced only with ``--force``.
"""

from __future__ import annotations

import argparse
import os
import stat
import sys
from pathlib import Path
from typing import Any

from pipeline.errors import SealingError
from pipeline.produce import required_keys
from pipeline.sealing.keys import keyset_for, new_keyset, write_jwks
from portal.cli.seal import DEFAULT_KEYS, add_strict_keys_argument, load_keys
from portal.cli.site_config import contract_loader

PRIVATE = "private.jwks.json"
PUBLIC = "public.jwks.json"


def register(sub: Any) -> None:
    parser = sub.add_parser("keys", help="manage local key sets (JWKS)")
    actions = parser.add_subparsers(dest="keys_command", required=True, metavar="ACTION")
    new = actions.add_parser("new", help="create a private and a public JWKS",
                             description="Create keys for every kid/alg the contract's x-sealing names (or a "
                                         "general-purpose set with --general). The private file is written 0600, "
                                         "atomically, into a folder only you can write to.")
    new.add_argument("--contract", nargs="*", default=["asyncapi"], help="AsyncAPI documents (default: asyncapi/)")
    new.add_argument("--general", action="store_true", help="one key per supported algorithm instead")
    new.add_argument("--out", type=Path, default=Path("keys"), help="folder for the JWKS files (default: keys/)")
    new.add_argument("--force", action="store_true", help="replace existing key files")
    new.set_defaults(run=run_new)
    check = actions.add_parser("check", help="load a JWKS and list its keys (kids and algorithms, never key material)",
                               description="Load JWKS files as `seal` and `open` do: every key must fit its "
                                           "algorithm, and a file holding secrets must not be accessible by others "
                                           "(a warning; an error with --strict-keys).")
    check.add_argument("files", nargs="*", default=[DEFAULT_KEYS], help=f"JWKS files (default: {DEFAULT_KEYS})")
    add_strict_keys_argument(check)
    check.set_defaults(run=run_check)


def run_new(args: argparse.Namespace) -> int:
    out: Path = args.out
    private, public = out / PRIVATE, out / PUBLIC
    existing = [p for p in (private, public) if os.path.lexists(p)]
    if existing and not args.force:
        print(f"eventdeck: {existing[0]} exists; keep it, or replace it with --force (consumers must then get the "
              "new public keys)", file=sys.stderr)
        return 1
    problem = _folder_problem(out)
    if problem:
        print(f"eventdeck: {out}: {problem}; no key was written", file=sys.stderr)
        return 1
    if args.general:
        keys = new_keyset()
    else:
        needed = required_keys(contract_loader().load(args.contract, strict=True))
        if not needed:
            print("eventdeck: the contract seals nothing (x-sealing: none everywhere); nothing to create",
                  file=sys.stderr)
            return 1
        keys = keyset_for(needed)
    try:
        out.mkdir(mode=0o700, parents=True, exist_ok=True)
        write_jwks(keys, private_path=private, public_path=public, replace=args.force)
    except FileExistsError as exc:  # created by someone else since the check above
        print(f"eventdeck: {exc.filename or out} appeared while the keys were made; nothing was replaced",
              file=sys.stderr)
        return 1
    except OSError as exc:
        print(f"eventdeck: cannot write the keys into {out}: {exc.strerror or exc}; no key file was written",
              file=sys.stderr)
        return 1
    print(f"wrote {private} (private, keep secret) and {public} (public, for consumers): {', '.join(keys.kids)}")
    return 0


def _folder_problem(folder: Path) -> str | None:
    """Why the key files must not go into ``folder`` (``None``: they may; a missing folder is created 0700)."""
    try:
        info = folder.stat()
    except FileNotFoundError:
        return None
    except OSError as exc:
        return f"cannot use it ({exc.strerror or exc})"
    if not stat.S_ISDIR(info.st_mode):
        return "is not a folder"
    if os.name != "nt" and info.st_mode & (stat.S_IWGRP | stat.S_IWOTH):
        return (f"the folder is writable by others (permissions {stat.S_IMODE(info.st_mode):04o}), so anyone could "
                f"replace the key files: use a folder only you can write to (chmod go-w {folder})")
    return None


def run_check(args: argparse.Namespace) -> int:
    failed = 0
    for file in args.files:
        try:
            keys = load_keys([file], strict=args.strict_keys)
        except SealingError as exc:
            failed += 1
            print(f"eventdeck: {exc}", file=sys.stderr)
            continue
        assert keys is not None
        kind = "holds secrets" if keys.holds_secrets else "public keys only"
        listing = ", ".join(f"{kid} ({keys.alg_of(kid)})" for kid in keys.kids)
        print(f"✓ {file}: {len(keys)} key(s), {kind}: {listing}")
    return 1 if failed else 0
