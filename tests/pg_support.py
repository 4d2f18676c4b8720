"""A throw-away PostgreSQL cluster for the tests: initdb + pg_ctl on a free loopback port.

The server binaries come from Debian's `postgresql` package (scripts/test installs it). As root
(CI, this machine), initdb refuses to run, so the cluster belongs to an unprivileged user: the
package's `postgres` user when it exists, else `nobody`. Its folder lives under the system temp
folder (pytest's own are mode 0700 for root, which that user could not enter).

Authentication: trust on the Unix socket and for every role on 127.0.0.1, except PASSWORD_ROLE,
which must give its password (scram-sha-256), so the tests can prove where a password comes from
and that it is never shown.
"""

from __future__ import annotations

import glob
import itertools
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path

#: A role that needs its password, and that password: a canary no output may ever contain.
PASSWORD_ROLE = "release_pw"
PASSWORD = "Pg-Canary-S3cret-7f2a9"
SUPERUSER = "postgres"

HBA = f"""# written by tests/pg_support.py
local all all trust
host all {PASSWORD_ROLE} 127.0.0.1/32 scram-sha-256
host all all 127.0.0.1/32 trust
"""


def find_bindir() -> Path | None:
    """The folder holding initdb and pg_ctl: the newest /usr/lib/postgresql/*/bin, else PATH."""
    candidates = sorted(glob.glob("/usr/lib/postgresql/*/bin"),
                        key=lambda p: int(Path(p).parent.name) if Path(p).parent.name.isdigit()
                        else 0, reverse=True)
    for folder in candidates:
        if (Path(folder) / "initdb").is_file() and (Path(folder) / "pg_ctl").is_file():
            return Path(folder)
    initdb = shutil.which("initdb")
    if initdb and shutil.which("pg_ctl"):
        return Path(initdb).parent
    return None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class PostgresCluster:
    """One PostgreSQL server in a temp folder; `database()` gives each test its own database."""

    def __init__(self, bindir: Path):
        self.bindir = bindir
        self.user = None
        if os.geteuid() == 0:
            # initdb refuses root; the cluster's files and processes belong to this user.
            self.user = next(u for u in ("postgres", "nobody") if _user_exists(u))
        self.root = Path(tempfile.mkdtemp(prefix="release-pg-"))
        self.root.chmod(0o755)
        self.data, self.sockets = self.root / "data", self.root / "sock"
        self.log = self.root / "log"
        self.sockets.mkdir()
        if self.user:
            for path in (self.root, self.sockets):
                shutil.chown(path, self.user)
        self.port = 0
        self._names = itertools.count(1)

    def _run(self, *args: str) -> subprocess.CompletedProcess:
        argv = [str(self.bindir / args[0]), *args[1:]]
        if self.user:
            runuser = shutil.which("runuser")
            if runuser:
                argv = [runuser, "-u", self.user, "--", *argv]
            else:
                import shlex

                argv = ["su", self.user, "-s", "/bin/sh", "-c", shlex.join(argv)]
        return subprocess.run(argv, capture_output=True, text=True, timeout=120, cwd=self.root)

    def start(self) -> "PostgresCluster":
        """initdb, then start the server on a free port (three tries: a port may be taken)."""
        done = self._run("initdb", "-D", str(self.data), "-U", SUPERUSER, "--auth=trust",
                         "-E", "UTF8", "--locale=C", "--no-sync")
        if done.returncode != 0:
            raise RuntimeError(f"initdb failed: {done.stderr or done.stdout}")
        (self.data / "pg_hba.conf").write_text(HBA)
        for _ in range(3):
            self.port = _free_port()
            # fsync off: a test cluster never survives a power cut, and this makes it fast.
            options = (f"-p {self.port} -k {self.sockets} -c listen_addresses=127.0.0.1 "
                       "-c fsync=off -c synchronous_commit=off -c full_page_writes=off "
                       "-c max_connections=200")
            done = self._run("pg_ctl", "-D", str(self.data), "-o", options, "-l", str(self.log),
                             "-w", "-t", "60", "start")
            if done.returncode == 0:
                break
        else:
            raise RuntimeError(f"pg_ctl start failed: {done.stderr}\n{self.log_text()}")
        self.sql(f"CREATE ROLE {PASSWORD_ROLE} LOGIN PASSWORD '{PASSWORD}'")
        return self

    def log_text(self) -> str:
        """The server's log (for a failure message)."""
        return self.log.read_text(errors="replace") if self.log.is_file() else ""

    def stop(self) -> None:
        """Stop the server at once and remove its folder."""
        self._run("pg_ctl", "-D", str(self.data), "-m", "immediate", "-w", "stop")
        shutil.rmtree(self.root, ignore_errors=True)

    def url(self, database: str = "postgres", user: str = SUPERUSER,
            password: str | None = None) -> str:
        """A postgresql:// URL of this server over TCP on 127.0.0.1."""
        auth = f"{user}:{password}" if password else user
        return f"postgresql://{auth}@127.0.0.1:{self.port}/{database}"

    def sql(self, statement: str, database: str = "postgres") -> list[tuple]:
        """Run one statement as the superuser (autocommit); its rows, if any."""
        import psycopg

        with psycopg.connect(self.url(database), autocommit=True) as conn:
            cur = conn.execute(statement)
            return cur.fetchall() if cur.description else []

    def database(self) -> str:
        """A new, empty database (owned by PASSWORD_ROLE too, so either role may use it)."""
        name = f"t{os.getpid()}_{next(self._names)}"
        self.sql(f"CREATE DATABASE {name} STRATEGY FILE_COPY")
        self.sql(f"GRANT ALL ON DATABASE {name} TO {PASSWORD_ROLE}")
        self.sql(f"GRANT ALL ON SCHEMA public TO {PASSWORD_ROLE}", database=name)
        return name

    def drop(self, name: str) -> None:
        """Drop a test's database, ending any session still on it."""
        self.sql(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")

    def wait_for_no_session(self, database: str, pid: int | None = None,
                            timeout: float = 10.0) -> None:
        """Wait until the server has ended the sessions of a killed client (bounded)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            rows = self.sql("SELECT count(*) FROM pg_stat_activity WHERE datname = "
                            f"'{database}' AND application_name = 'release'"
                            + (f" AND pid = {pid}" if pid else ""))
            if rows[0][0] == 0:
                return
            time.sleep(0.05)
        raise AssertionError(f"the server kept a session on {database} for {timeout} s")


def _user_exists(name: str) -> bool:
    try:
        pwd.getpwnam(name)
        return True
    except KeyError:
        return False
