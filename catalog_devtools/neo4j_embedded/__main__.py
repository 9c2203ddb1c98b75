"""``python -m catalog_devtools.neo4j_embedded``: run an embedded Neo4j in the foreground until Ctrl-C.

Prints the Bolt URI alone on stdout's first line (so scripts can read it); progress goes to stderr.
"""

from __future__ import annotations

import argparse
import shutil
import signal
import sys
import tempfile
import time
from pathlib import Path
from types import FrameType

from catalog_devtools.neo4j_embedded import (
    NEO4J_VERSION,
    EmbeddedNeo4j,
    Neo4jStartupError,
    Neo4jToolingMissing,
)


def _parse(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m catalog_devtools.neo4j_embedded",
        description=f"Run an embedded Neo4j {NEO4J_VERSION} (Bolt on 127.0.0.1, no auth) until Ctrl-C.",
    )
    parser.add_argument(
        "--data-dir",
        type=Path,
        help="Neo4j home (store and logs); kept afterwards. Default: a temp dir removed on exit.",
    )
    parser.add_argument("--port", type=int, help="Bolt port (default: a free one)")
    parser.add_argument("--timeout", type=float, default=180, help="start-up timeout, seconds")
    return parser.parse_args(argv)


def _raise_interrupt(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt


def main(argv: list[str] | None = None) -> int:
    args = _parse(argv)
    temp_dir = None
    data_dir: Path = args.data_dir
    if data_dir is None:
        temp_dir = tempfile.mkdtemp(prefix="catalog-neo4j-")
        data_dir = Path(temp_dir)
    # Treat SIGTERM like Ctrl-C so `kill` also stops the JVM cleanly; set SIGINT too, since a
    # shell starting us in the background (`&`) hands us SIGINT ignored.
    signal.signal(signal.SIGTERM, _raise_interrupt)
    signal.signal(signal.SIGINT, _raise_interrupt)
    server = EmbeddedNeo4j(data_dir, args.port)
    try:
        print(f"starting Neo4j {NEO4J_VERSION} in {server.data_dir} ...", file=sys.stderr, flush=True)
        began = time.monotonic()
        server.start(timeout=args.timeout)
        print(server.uri, flush=True)
        print(
            f"ready in {time.monotonic() - began:.1f}s (pid {server.pid}, log {server.log_path}); Ctrl-C to stop",
            file=sys.stderr,
            flush=True,
        )
        while server.is_running():
            time.sleep(0.5)
        print(f"Neo4j exited on its own; see {server.log_path}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("stopping Neo4j ...", file=sys.stderr, flush=True)
        return 0
    except (Neo4jToolingMissing, Neo4jStartupError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    finally:
        server.stop()
        if temp_dir is not None:
            shutil.rmtree(temp_dir, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
