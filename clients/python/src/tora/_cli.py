"""``python -m tora``: ``login`` writes the config file, ``sync`` replays the spool.

Examples::

    python -m tora login --server-url http://localhost:8080 --api-key tora_...
    python -m tora sync
"""

from __future__ import annotations

import argparse
import getpass
import logging
import sys
from pathlib import Path
from typing import Optional, Sequence

from ._config import describe, resolve, spool_dir, write_config_file
from ._delivery import AUTH, OK, RETRY, announce_run, create_experiment, deliver_spooled, describe_update
from ._errors import ToraError
from ._http import Transport
from ._spool import Spool


def _login(args: argparse.Namespace) -> int:
    url = args.server_url or input("Tora server URL (e.g. http://localhost:8080): ").strip()
    key = args.api_key or getpass.getpass("API key (input hidden): ").strip()
    if args.check:
        transport = Transport(resolve(url, key).server_url, key, timeout=10.0)
        try:
            transport.call("GET", "/api/experiments?limit=1")
        finally:
            transport.close()
    path = write_config_file(url, key)
    print(f"wrote {path}")
    return 0


def sync(
    directory: Optional[Path] = None, server_url: Optional[str] = None, api_key: Optional[str] = None
) -> int:
    """Replays every spooled batch, oldest first; returns the number of files left."""
    spool = Spool(directory or spool_dir())
    ids = spool.load_ids()
    transports: dict[str, Transport] = {}
    left = 0
    stuck: set[str] = set()  # servers that failed this run: keep order by not skipping ahead
    for path in spool.files():
        try:
            doc = spool.read(path)
            url = str(doc["server_url"])
            if url in stuck:
                left += 1
                continue
            settings = resolve(server_url or url, api_key)
            transport = transports.setdefault(url, Transport(settings.server_url, settings.api_key))
            key = str(doc.get("create_key") or doc["local_id"])
            eid = doc.get("experiment_id") or ids.get(key)
            if eid is None:
                with spool.creation_lock(key):  # the run itself may be creating it right now
                    ids = spool.load_ids()
                    eid = ids.get(key)
                    if eid is None:
                        eid = ids[key] = str(create_experiment(transport, doc["create"])["id"])
                        spool.save_id(key, eid)
                        announce_run(settings.server_url, doc["create"].get("name"), eid)
            r = deliver_spooled(transport, str(eid), doc)
        except (OSError, ValueError, KeyError, TypeError) as e:
            print(f"skipping unreadable {path.name}: {e}", file=sys.stderr)
            left += 1
            continue
        except ToraError as e:
            print(f"{path.name}: {e}", file=sys.stderr)
            stuck.add(url)
            left += 1
            continue
        for name, (points, reason) in r.refused.items():
            print(f"{path.name}: the server refused {points} points of {name!r} ({reason})", file=sys.stderr)
        if r.outcome == OK:
            spool.remove(path)
            what = (
                f"status {doc['status']}"
                if doc.get("kind") == "status"
                else describe_update(doc["batch"])
                if doc.get("kind") == "update"
                else f"{doc['route']} {doc['target']}"
                if doc.get("kind") == "upload"
                else f"{r.delivered} points"
            )
            print(f"sent {path.name} ({what})")
        elif r.outcome in (RETRY, AUTH):
            print(f"{path.name}: {r.error}; kept for a later sync", file=sys.stderr)
            stuck.add(url)
            left += 1
        else:
            print(f"{path.name}: {r.error}; the server will never accept it, removed", file=sys.stderr)
            spool.remove(path)
    for t in transports.values():
        t.close()
    return left


def main(argv: Optional[Sequence[str]] = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tora", description="Tora Python client tools")
    sub = parser.add_subparsers(dest="command", required=True)
    p_login = sub.add_parser("login", help="write ~/.tora/config.json ($TORA_CONFIG_DIR/config.json)")
    p_login.add_argument("--server-url", help="server root, e.g. http://localhost:8080")
    p_login.add_argument("--api-key", help="API key (prompted, hidden, when omitted)")
    p_login.add_argument("--no-check", dest="check", action="store_false", help="do not verify the key")
    p_sync = sub.add_parser("sync", help="deliver batches spooled while the server was unreachable")
    p_sync.add_argument("--spool-dir", type=Path, help="default $TORA_SPOOL_DIR or <config dir>/spool")
    p_sync.add_argument("--server-url", help="override the server URL stored in the spool files")
    sub.add_parser(
        "config",
        help="show the server URL, API key, config file and spool in effect, and where each comes from",
    )
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(name)s: %(message)s")
    try:
        if args.command == "login":
            return _login(args)
        if args.command == "sync":
            left = sync(args.spool_dir, args.server_url)
            print(f"{left} batches left in the spool" if left else "spool is empty")
            return 1 if left else 0
        for setting, value, source in describe():
            print(f"{setting}: {value}  [{source}]")
        return 0
    except ToraError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
