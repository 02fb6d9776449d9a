"""Command line: `vecgres serve [--host] [--port] [--data-dir]`."""

from __future__ import annotations

import argparse
import logging
from pathlib import Path

from wire.server import run


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="vecgres", description="A vector database that speaks PostgreSQL"
    )
    sub = parser.add_subparsers(dest="command", required=True)
    serve = sub.add_parser("serve", help="run the server")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=5433, help="0 picks a free port")
    serve.add_argument("--data-dir", default="./vecgres-data", type=Path)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    # sqlglot warns for every statement it keeps as a raw Command (CREATE EXTENSION, ...)
    logging.getLogger("sqlglot").setLevel(logging.ERROR)
    if args.command == "serve":
        run(args.data_dir.resolve(), args.host, args.port)


if __name__ == "__main__":
    main()
