"""A throwaway PostgreSQL server for tests, started from the machine's own binaries.

Root cannot run initdb, so as root every server command runs as the ``postgres`` user through
``runuser``, in a temporary folder that user owns. fsync is off: the data dies with the test run.
"""

from __future__ import annotations

import contextlib
import os
import pwd
import re
import shutil
import socket
import subprocess
import tempfile
import uuid
from pathlib import Path
from types import TracebackType

NO_BINARIES = "no Postgres server binaries (initdb) on this machine"
SUPERUSER = "postgres"


def find_bindir(debian_root: Path = Path("/usr/lib/postgresql")) -> Path | None:
    """The folder holding initdb, pg_ctl and psql: from PATH, else the newest Debian layout."""
    on_path = shutil.which("initdb")
    if on_path:
        return Path(on_path).resolve().parent
    found = [p.parent for p in debian_root.glob("*/bin/initdb")]

    def version(bindir: Path) -> tuple[int, ...]:
        return tuple(int(n) for n in re.findall(r"\d+", bindir.parent.name)) or (0,)

    return max(found, key=version) if found else None


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class PostgresServer:
    """``with PostgresServer(bindir) as pg: url = pg.create_database()``."""

    def __init__(self, bindir: Path) -> None:
        self.bindir = bindir
        self.port: int | None = None
        self._root: Path | None = None
        self._as_root = os.geteuid() == 0

    @property
    def _data(self) -> Path:
        assert self._root is not None, "server not started"
        return self._root / "data"

    def __enter__(self) -> PostgresServer:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    def start(self) -> None:
        self._root = Path(tempfile.mkdtemp(prefix="hedgebot-pg-"))
        sock = self._root / "sock"
        sock.mkdir()
        if self._as_root:
            try:
                owner = pwd.getpwnam(SUPERUSER)
            except KeyError:
                raise RuntimeError("running as root needs a 'postgres' system user") from None
            for path in (self._root, sock):
                os.chown(path, owner.pw_uid, owner.pw_gid)
        flags = f"-A trust -U {SUPERUSER} -E UTF8 --no-locale --no-sync".split()
        self._server_cmd("initdb", "-D", str(self._data), *flags)
        last_error: subprocess.CalledProcessError | None = None
        for _ in range(3):  # another process may grab the free port before the server binds it
            self.port = free_port()
            options = (
                f"-p {self.port} -k {sock} -c listen_addresses=127.0.0.1 -c fsync=off "
                "-c synchronous_commit=off -c full_page_writes=off"
            )
            log_file = str(self._root / "server.log")
            start = ["-D", str(self._data), "-l", log_file, "-o", options, "-w", "-t", "60"]
            try:
                self._server_cmd("pg_ctl", *start, "start")
                return
            except subprocess.CalledProcessError as exc:
                last_error = exc
        log = (self._root / "server.log").read_text(errors="replace")[-2000:]
        self.stop()
        raise RuntimeError(f"Postgres did not start: {last_error}\n{log}")

    def stop(self) -> None:
        if self._root is None:
            return
        if (self._data / "postmaster.pid").exists():
            with contextlib.suppress(subprocess.CalledProcessError):
                self._server_cmd("pg_ctl", "-D", str(self._data), "-m", "immediate", "-w", "stop")
        shutil.rmtree(self._root, ignore_errors=True)
        self._root = None

    def url(self, database: str = "postgres") -> str:
        return f"postgresql+asyncpg://{SUPERUSER}@127.0.0.1:{self.port}/{database}"

    def sql(self, statement: str) -> None:
        """Run one statement as superuser in the maintenance database."""
        target = f"-h 127.0.0.1 -p {self.port} -U {SUPERUSER} -d postgres".split()
        cmd = [str(self.bindir / "psql"), "-X", "-q", "-v", "ON_ERROR_STOP=1", *target]
        env = {**os.environ, "PGCONNECT_TIMEOUT": "10"}
        subprocess.run([*cmd, "-c", statement], check=True, capture_output=True, text=True, env=env)

    def create_database(self) -> str:
        """A new empty database with a unique name; returns its URL."""
        name = f"t_{uuid.uuid4().hex[:16]}"
        self.sql(f'CREATE DATABASE "{name}"')
        return self.url(name)

    def drop_database(self, url: str) -> None:
        name = url.rsplit("/", 1)[1]
        self.sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    def _server_cmd(self, tool: str, *args: str) -> None:
        cmd = [str(self.bindir / tool), *args]
        if self._as_root:
            cmd = ["runuser", "-u", SUPERUSER, "--", *cmd]
        subprocess.run(cmd, check=True, capture_output=True, text=True, cwd=self._root)
