"""A fork server for the crash tests: the real CLI in a fresh process per run, without paying the imports.

Why: the crash tests start the CLI a hundred times; importing dlt, DuckDB and both SDKs costs about
a second each time on this machine. This process imports them once, single-threaded, then forks one
child per request: the child is a separate process (its own pid, files and DuckDB connection) that
installs the kill points, runs `spm_sync.cli.main(argv)` and exits with its code -- or dies by SIGKILL.

Protocol: one JSON object a line on stdin `{"argv", "cwd", "env", "out"}`; the answer on stdout is
`{"status": <exit code, or -signal>}`; the child's stdout and stderr go to `out`.
"""

from __future__ import annotations

import json
import os
import sys

import dlt  # noqa: F401 - imported before forking, that is the point
import duckdb  # noqa: F401
import hubspot  # noqa: F401
import simple_salesforce  # noqa: F401

import spm_sync.connectors.hubspot.source  # noqa: F401
import spm_sync.connectors.salesforce.source  # noqa: F401
import spm_sync.metrics  # noqa: F401
import spm_sync.normalize  # noqa: F401
import spm_sync.writeback  # noqa: F401
from spm_sync import cli
from tests.reliability import killpoints


def child(request: dict) -> None:
    os.chdir(request["cwd"])
    os.environ.update(request["env"])
    out = os.open(request["out"], os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    os.dup2(out, 1)
    os.dup2(out, 2)
    code, hits = 1, None
    try:
        hits = killpoints.install()
        code = cli.main(request["argv"]) or 0
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
    finally:
        if hits is not None:
            hits.save()
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)  # never return into the server loop


def serve() -> None:
    for line in sys.stdin:
        request = json.loads(line)
        pid = os.fork()
        if pid == 0:
            child(request)
        _, status = os.waitpid(pid, 0)
        code = -os.WTERMSIG(status) if os.WIFSIGNALED(status) else os.WEXITSTATUS(status)
        sys.stdout.write(json.dumps({"status": code}) + "\n")
        sys.stdout.flush()


if __name__ == "__main__":
    serve()
