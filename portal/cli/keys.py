"""``eventdeck keys new``: create a key set for local use, with exactly the keys the contract's sealing names."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from pipeline.produce import required_keys
from pipeline.sealing.keys import keyset_for, new_keyset, write_jwks
from portal.cli.site_config import contract_loader

PRIVATE = "private.jwks.json"
PUBLIC = "public.jwks.json"


def register(sub: Any) -> None:
    parser = sub.add_parser("keys", help="manage local key sets (JWKS)")
    actions = parser.add_subparsers(dest="keys_command", required=True, metavar="ACTION")
    new = actions.add_parser("new", help="create a private and a public JWKS",
                             description="Create keys for every kid/alg the contract's x-sealing names (or a "
                                         "general-purpose set with --general). The private file is written 0600.")
    new.add_argument("--contract", nargs="*", default=["asyncapi"], help="AsyncAPI documents (default: asyncapi/)")
    new.add_argument("--general", action="store_true", help="one key per supported algorithm instead")
    new.add_argument("--out", type=Path, default=Path("keys"), help="folder for the JWKS files (default: keys/)")
    new.add_argument("--force", action="store_true", help="replace existing key files")
    new.set_defaults(run=run_new)


def run_new(args: argparse.Namespace) -> int:
    private, public = args.out / PRIVATE, args.out / PUBLIC
    existing = [p for p in (private, public) if p.exists()]
    if existing and not args.force:
        print(f"eventdeck: {existing[0]} exists; keep it, or replace it with --force (consumers must then get the "
              "new public keys)", file=sys.stderr)
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
    args.out.mkdir(parents=True, exist_ok=True)
    write_jwks(keys, private_path=private, public_path=public)
    print(f"wrote {private} (private, keep secret) and {public} (public, for consumers): {', '.join(keys.kids)}")
    return 0
