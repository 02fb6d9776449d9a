"""Command line: `vecgres serve [--host] [--port] [--data-dir] [--auth] [--password-file]
[--tls-cert --tls-key] [--authentication-timeout] [--config FILE]` and
`vecgres scram-secret USER`.

A config file (``--config``) holds the same settings as ``name = value`` lines, names being the
long options without the leading dashes (``-`` or ``_``), e.g. ``auth = scram``; ``#`` starts a
comment; a value may be single- or double-quoted.  Relative paths in it are relative to the
file's directory.  Options given on the command line override the file.
"""

from __future__ import annotations

import argparse
import getpass
import logging
import shlex
import ssl
import sys
from pathlib import Path

from engine import memory
from engine.vector_store import StorageConfig
from wire.auth import AuthConfig, Method, ScramSecret, load_password_file
from wire.server import TlsConfig, run, tls_config

_SERVE_EPILOG = """\
authentication:
  --auth trust (the default) lets anyone in under any user name. The other methods ask for a
  password and check it against --password-file: `password` (sent in cleartext; use TLS),
  `md5` (Postgres's md5 challenge; a user whose stored secret is a SCRAM verifier gets SCRAM,
  as in Postgres) and `scram` (SCRAM-SHA-256; over TLS SCRAM-SHA-256-PLUS is offered too,
  with tls-server-end-point channel binding). A wrong password or an unknown user fails with
  SQLSTATE 28P01.

password file:
  one `user:secret` per line; `#` comments and blank lines are ignored. The secret is a plain
  password, an md5 hash (`md5` + md5(password || user) in hex) or a SCRAM-SHA-256 verifier as
  Postgres stores it (`SCRAM-SHA-256$4096:<salt>$<StoredKey>:<ServerKey>`; make one with
  `vecgres scram-secret USER`). An md5 hash cannot serve --auth scram (as in Postgres).

TLS:
  with --tls-cert and --tls-key (PEM files) an SSLRequest is answered 'S' and the connection
  upgraded to TLS (1.2 or later), so sslmode=require works; without them it is answered 'N'.

config file:
  --config FILE reads `name = value` lines with the long option names (auth, password_file,
  tls_cert, tls_key, authentication_timeout, host, port, data_dir); relative paths are
  relative to the file. Command line options override it.
"""

_CONFIG_KEYS = {
    "host",
    "port",
    "data_dir",
    "auth",
    "password_file",
    "tls_cert",
    "tls_key",
    "authentication_timeout",
}
_PATH_KEYS = {"data_dir", "password_file", "tls_cert", "tls_key"}


def read_config(path: Path) -> dict[str, str]:
    """``name = value`` lines → {option dest: value}; raises ``ValueError`` on a bad line."""
    out: dict[str, str] = {}
    for lineno, raw in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        try:
            words = shlex.split(raw, comments=True)
        except ValueError as e:
            raise ValueError(f"{path}:{lineno}: {e}") from None
        if not words:
            continue
        text = " ".join(words)
        name, sep, value = text.partition("=")
        name = name.strip().replace("-", "_")
        if not sep or name not in _CONFIG_KEYS:
            raise ValueError(
                f"{path}:{lineno}: expected `name = value` with name one of "
                + ", ".join(sorted(_CONFIG_KEYS))
            )
        value = value.strip()
        if name in _PATH_KEYS:
            value = str(path.parent / value)
        out[name] = value
    return out


def _parser() -> tuple[argparse.ArgumentParser, argparse.ArgumentParser]:
    parser = argparse.ArgumentParser(
        prog="vecgres", description="A vector database that speaks PostgreSQL"
    )
    sub = parser.add_subparsers(dest="command", required=True)
    serve = sub.add_parser(
        "serve",
        help="run the server",
        description="Run the server.",
        epilog=_SERVE_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    serve.add_argument("--config", type=Path, metavar="FILE", help="read settings from FILE")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=5433, help="0 picks a free port")
    serve.add_argument("--data-dir", default="./vecgres-data", type=Path)
    serve.add_argument(
        "--auth",
        choices=[m.value for m in Method],
        default=Method.TRUST.value,
        help="authentication method (default: trust)",
    )
    serve.add_argument(
        "--password-file", type=Path, metavar="PATH", help="user:secret lines (see below)"
    )
    serve.add_argument("--tls-cert", type=Path, metavar="FILE", help="PEM certificate (chain)")
    serve.add_argument("--tls-key", type=Path, metavar="FILE", help="PEM private key")
    serve.add_argument(
        "--authentication-timeout",
        type=float,
        default=60.0,
        metavar="SECONDS",
        help="drop a connection not authenticated in time (default: 60)",
    )
    serve.add_argument(
        "--storage",
        choices=["memmap", "memory"],
        default="memmap",
        help="default storage of tables without their own `storage` option (default: memmap)",
    )
    serve.add_argument(
        "--memmap-threshold-kb",
        type=int,
        default=StorageConfig.memmap_threshold_kb,
        metavar="KB",
        help="memmap storage keeps sealed segments smaller than this in RAM "
        f"(default: {StorageConfig.memmap_threshold_kb})",
    )
    secret = sub.add_parser(
        "scram-secret",
        help="print a SCRAM-SHA-256 verifier for a password file",
        description="Read a password (prompted, or from stdin when not a terminal) and print "
        "the `user:SCRAM-SHA-256$...` line for --password-file.",
    )
    secret.add_argument("user")
    return parser, serve


def main(argv: list[str] | None = None) -> None:
    parser, serve = _parser()
    args = parser.parse_args(argv)
    if args.command == "scram-secret":
        if sys.stdin.isatty():
            password = getpass.getpass("Password: ")
        else:
            password = sys.stdin.readline().rstrip("\r\n")
        print(f"{args.user}:{ScramSecret.from_password(password).encode()}")
        return
    if args.config is not None:
        try:
            config = read_config(args.config)
        except (OSError, ValueError) as e:
            serve.error(f"--config: {e}")
        serve.set_defaults(**config)
        args = parser.parse_args(argv)  # the command line overrides the file
    auth = _auth_config(serve, args)
    tls = _tls(serve, args)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    # sqlglot warns for every statement it keeps as a raw Command (CREATE EXTENSION, ...)
    logging.getLogger("sqlglot").setLevel(logging.ERROR)
    timeout = float(args.authentication_timeout)
    if not timeout > 0:
        serve.error("--authentication-timeout must be positive")
    # (string defaults from --config went through each option's type like typed values)
    memory.limit_arenas()
    storage = StorageConfig(str(args.storage), int(args.memmap_threshold_kb))
    if storage.storage not in ("memmap", "memory") or storage.memmap_threshold_kb < 0:
        serve.error("--storage is memmap or memory; --memmap-threshold-kb is 0 or more")
    run(Path(args.data_dir).resolve(), args.host, int(args.port), auth, tls, timeout, storage)


def _auth_config(serve: argparse.ArgumentParser, args: argparse.Namespace) -> AuthConfig:
    try:
        method = Method(args.auth)
    except ValueError:
        serve.error(f"--auth: invalid choice {args.auth!r}")
    if args.password_file is None:
        if method is not Method.TRUST:
            serve.error(f"--auth {method.value} needs --password-file")
        return AuthConfig(method)
    try:
        users = load_password_file(Path(args.password_file))
    except (OSError, ValueError) as e:
        serve.error(f"--password-file: {e}")
    return AuthConfig(method, users)


def _tls(serve: argparse.ArgumentParser, args: argparse.Namespace) -> TlsConfig | None:
    if args.tls_cert is None and args.tls_key is None:
        return None
    if args.tls_cert is None or args.tls_key is None:
        serve.error("--tls-cert and --tls-key go together")
    try:
        return tls_config(Path(args.tls_cert), Path(args.tls_key))
    except (OSError, ssl.SSLError) as e:
        serve.error(f"TLS certificate/key: {e}")


if __name__ == "__main__":
    main()
