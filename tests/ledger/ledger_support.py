"""A ledger backend as the tests reach it: by path or URL, raw SQL, a holder in another process."""

from __future__ import annotations

import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from release_ledger.ledger import open_ledger

ROOT = Path(__file__).resolve().parents[2]

#: A child process that takes a release's lock, says so, and holds it until it is killed.
HOLDER = """
import sys, time
from release_ledger.ledger import open_ledger
ledger = open_ledger(sys.argv[1])
with ledger.lock(sys.argv[2], host=sys.argv[3] if len(sys.argv) > 3 else None):
    print("locked", flush=True)
    time.sleep(120)
"""


@dataclass
class Backend:
    """One backend's ledger, named by a path or URL, and a raw connection to its database."""

    name: str
    target: str

    def open(self, **kwargs):
        """Open the ledger (another connection each call)."""
        return open_ledger(self.target, **kwargs)

    def raw(self):
        """A plain DB-API connection in autocommit mode: SQL that bypasses our code."""
        if self.name == "postgres":
            import psycopg

            return psycopg.connect(self.target, autocommit=True)
        import sqlite3

        return sqlite3.connect(self.target, isolation_level=None)

    def tamper(self, sql: str) -> None:
        """Run an UPDATE on events as someone who can switch the append-only trigger off."""
        conn = self.raw()
        try:
            if self.name == "postgres":
                conn.execute("ALTER TABLE events DISABLE TRIGGER events_append_only")
            else:
                conn.execute("DROP TRIGGER events_append_only_update")
            conn.execute(sql)
        finally:
            conn.close()

    def hold_lock(self, release: str, host: str | None = None) -> subprocess.Popen:
        """A child process holding `release`'s lock (it has said "locked" when this returns)."""
        args = [sys.executable, "-c", HOLDER, self.target, release] + ([host] if host else [])
        proc = subprocess.Popen(args, stdout=subprocess.PIPE, text=True, cwd=ROOT)
        line = proc.stdout.readline()
        assert line.strip() == "locked", f"the holder did not take the lock (exit {proc.poll()})"
        return proc
