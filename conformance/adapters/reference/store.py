"""SQLite persistence of the reference EHR: the only module that speaks SQL.

Why a separate module: the EHR rules (who may see what, what gets logged) live in
:mod:`conformance.adapters.reference.service`; keeping SQL here means a mutant or a
vendor can change a rule without touching storage, and the storage can be read
on its own when a check's evidence needs explaining.

Concurrency: one connection guarded by a re-entrant lock, in WAL mode with a busy
timeout. The harness calls adapters from short-lived worker threads (see
:mod:`conformance.guard`) and the HTTP server from its thread pool; one locked
connection serves both without leaking a connection per thread. Several
*processes* may open the same file: writes take ``BEGIN IMMEDIATE`` and SQLite
serialises them.

The audit table is append-only: triggers refuse UPDATE and DELETE, so the
access log cannot be altered through this store (Annex II 3.2, log integrity).
"""

from __future__ import annotations

import json
import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

SCHEMA_VERSION = 1

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS patients (
    id         TEXT PRIMARY KEY,
    family     TEXT NOT NULL DEFAULT '',
    given      TEXT NOT NULL DEFAULT '',
    birth_date TEXT NOT NULL DEFAULT '',
    resource   TEXT NOT NULL,              -- the Patient resource as received (JSON)
    created    TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS patient_identifiers (
    system     TEXT NOT NULL,
    value      TEXT NOT NULL,
    patient_id TEXT NOT NULL REFERENCES patients(id),
    PRIMARY KEY (system, value)
);
CREATE TABLE IF NOT EXISTS documents (
    seq               INTEGER PRIMARY KEY AUTOINCREMENT,
    id                TEXT NOT NULL UNIQUE,
    patient_id        TEXT NOT NULL REFERENCES patients(id),
    category          TEXT NOT NULL,
    format            TEXT NOT NULL CHECK (format IN ('fhir', 'cda')),
    title             TEXT NOT NULL DEFAULT '',
    date              TEXT NOT NULL DEFAULT '',
    origin_identifier TEXT NOT NULL DEFAULT '',   -- custodian organisation, system|value
    origin_name       TEXT NOT NULL DEFAULT '',
    content           BLOB NOT NULL,              -- FHIR JSON (utf-8) or CDA XML bytes
    stored            TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS documents_by_patient ON documents (patient_id, category, seq);
CREATE TABLE IF NOT EXISTS restrictions (
    patient_id   TEXT PRIMARY KEY REFERENCES patients(id),
    document_ids TEXT NOT NULL,               -- JSON array
    categories   TEXT NOT NULL,               -- JSON array
    updated      TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS audit_events (
    seq        INTEGER PRIMARY KEY AUTOINCREMENT,
    id         TEXT NOT NULL UNIQUE,
    patient_id TEXT,                          -- NULL for events without a patient (failed logins)
    recorded   TEXT NOT NULL,
    outcome    TEXT NOT NULL,
    resource   TEXT NOT NULL                  -- the FHIR AuditEvent (JSON)
);
CREATE INDEX IF NOT EXISTS audit_by_patient ON audit_events (patient_id, seq);
CREATE TRIGGER IF NOT EXISTS audit_events_no_update BEFORE UPDATE ON audit_events
BEGIN SELECT RAISE(ABORT, 'the access log is append-only'); END;
CREATE TRIGGER IF NOT EXISTS audit_events_no_delete BEFORE DELETE ON audit_events
BEGIN SELECT RAISE(ABORT, 'the access log is append-only'); END;
CREATE TABLE IF NOT EXISTS users (
    identifier    TEXT PRIMARY KEY,           -- system|value of the person
    kind          TEXT NOT NULL,              -- ActorKind value
    name          TEXT NOT NULL DEFAULT '',
    org_identifier TEXT NOT NULL DEFAULT '',
    org_name      TEXT NOT NULL DEFAULT '',
    salt          BLOB NOT NULL,
    password_hash BLOB NOT NULL
);
CREATE TABLE IF NOT EXISTS secrets (
    key           TEXT PRIMARY KEY,           -- e.g. 'patient-password'
    salt          BLOB NOT NULL,
    password_hash BLOB NOT NULL
);
CREATE TABLE IF NOT EXISTS consents (
    id          TEXT PRIMARY KEY,             -- Consent/<id>
    patient_id  TEXT NOT NULL REFERENCES patients(id),
    purpose     TEXT NOT NULL,
    grantee     TEXT NOT NULL DEFAULT '',     -- professional system|value; '' = any professional
    recorded_by TEXT NOT NULL,                -- who recorded it (system|value)
    recorded    TEXT NOT NULL,                -- when (instant with offset)
    withdrawn   TEXT NOT NULL DEFAULT ''      -- when withdrawn; '' = in force
);
CREATE INDEX IF NOT EXISTS consents_by_patient ON consents (patient_id, purpose);
CREATE TABLE IF NOT EXISTS tokens (
    token_hash TEXT PRIMARY KEY,              -- sha256 of the bearer token; the token itself is never stored
    principal  TEXT NOT NULL,                 -- JSON of the authenticated principal
    expires    TEXT NOT NULL
);
"""


@dataclass(frozen=True)
class PatientRow:
    id: str
    identifiers: tuple[tuple[str, str], ...]
    family: str
    given: str
    birth_date: str
    resource: dict[str, Any] = field(repr=False, compare=False)

    @property
    def identifier(self) -> str:
        """The first business identifier as 'system|value'."""
        system, value = self.identifiers[0] if self.identifiers else ("", "")
        return f"{system}|{value}"

    @property
    def display(self) -> str:
        return " ".join(p for p in (self.given, self.family) if p)


@dataclass(frozen=True)
class DocumentRow:
    seq: int
    id: str
    patient_id: str
    category: str
    format: str
    title: str
    date: str
    origin_identifier: str
    origin_name: str
    content: bytes = field(repr=False, compare=False)
    stored: str = ""

    def fhir(self) -> dict[str, Any]:
        """The stored FHIR document (a fresh copy each call)."""
        return json.loads(self.content.decode("utf-8"))


@dataclass(frozen=True)
class RestrictionRow:
    patient_id: str
    document_ids: frozenset[str]
    categories: frozenset[str]
    updated: str


class Store:
    """A SQLite file holding the reference EHR. The schema is created on open."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.RLock()
        self._conn = sqlite3.connect(str(self.path), timeout=10.0, isolation_level=None, check_same_thread=False)
        self._conn.execute("PRAGMA journal_mode=WAL")
        # WAL with synchronous=NORMAL: every commit is atomic and consistent, only the last commits
        # before a power cut may be lost (SQLite's recommended setting for WAL). FULL synced every
        # commit to disk, a large share of a run for a sandbox database.
        self._conn.execute("PRAGMA synchronous=NORMAL")
        self._conn.execute("PRAGMA foreign_keys=ON")
        self._conn.execute("PRAGMA busy_timeout=10000")
        with self.transaction() as tx:
            tx.executescript_in_tx(_SCHEMA)
            tx.execute("INSERT OR IGNORE INTO meta(key, value) VALUES ('schema_version', ?)", (str(SCHEMA_VERSION),))
        self._closed = False

    # ---- plumbing --------------------------------------------------------------------

    @contextmanager
    def transaction(self) -> Iterator[_Tx]:
        """One atomic unit of work: everything inside commits together or not at all."""
        with self._lock:
            self._conn.execute("BEGIN IMMEDIATE")
            try:
                yield _Tx(self._conn)
            except BaseException:
                self._conn.execute("ROLLBACK")
                raise
            else:
                self._conn.execute("COMMIT")

    def _query(self, sql: str, params: tuple[Any, ...] = ()) -> list[dict[str, Any]]:
        with self._lock:
            cur = self._conn.execute(sql, params)
            cols = [d[0] for d in cur.description or ()]
            return [dict(zip(cols, row)) for row in cur.fetchall()]

    def close(self) -> None:
        with self._lock:
            if not getattr(self, "_closed", True):
                self._conn.close()
                self._closed = True

    # ---- patients --------------------------------------------------------------------

    def patient_id_for(self, system: str, value: str) -> str | None:
        rows = self._query("SELECT patient_id FROM patient_identifiers WHERE system = ? AND value = ?", (system, value))
        return rows[0]["patient_id"] if rows else None

    def patient(self, patient_id: str) -> PatientRow | None:
        rows = self._query("SELECT * FROM patients WHERE id = ?", (patient_id,))
        if not rows:
            return None
        row = rows[0]
        idents = self._query("SELECT system, value FROM patient_identifiers WHERE patient_id = ? ORDER BY rowid",
                             (patient_id,))
        return PatientRow(id=row["id"], identifiers=tuple((i["system"], i["value"]) for i in idents),
                          family=row["family"], given=row["given"], birth_date=row["birth_date"],
                          resource=json.loads(row["resource"]))

    # ---- documents -------------------------------------------------------------------

    def documents(self, patient_id: str, category: str | None = None) -> list[DocumentRow]:
        """A patient's documents, oldest first (by storage order)."""
        if category is None:
            rows = self._query("SELECT * FROM documents WHERE patient_id = ? ORDER BY seq", (patient_id,))
        else:
            rows = self._query("SELECT * FROM documents WHERE patient_id = ? AND category = ? ORDER BY seq",
                               (patient_id, category))
        return [_document(r) for r in rows]

    def document(self, document_id: str) -> DocumentRow | None:
        rows = self._query("SELECT * FROM documents WHERE id = ?", (document_id,))
        return _document(rows[0]) if rows else None

    def documents_of_other_patients(self, patient_id: str, category: str) -> list[DocumentRow]:
        """Documents of the same category belonging to anyone else (used by the returns_wrong_patient mutant)."""
        rows = self._query("SELECT * FROM documents WHERE patient_id != ? AND category = ? ORDER BY seq",
                           (patient_id, category))
        return [_document(r) for r in rows]

    # ---- restrictions ----------------------------------------------------------------

    def restriction(self, patient_id: str) -> RestrictionRow:
        rows = self._query("SELECT * FROM restrictions WHERE patient_id = ?", (patient_id,))
        if not rows:
            return RestrictionRow(patient_id, frozenset(), frozenset(), "")
        r = rows[0]
        return RestrictionRow(patient_id, frozenset(json.loads(r["document_ids"])),
                              frozenset(json.loads(r["categories"])), r["updated"])

    # ---- consents --------------------------------------------------------------------

    def consents(self, patient_id: str) -> list[dict[str, Any]]:
        """Every consent recorded for the patient (in force or withdrawn), oldest first."""
        return self._query("SELECT * FROM consents WHERE patient_id = ? ORDER BY recorded, id", (patient_id,))

    def consent(self, consent_id: str) -> dict[str, Any] | None:
        rows = self._query("SELECT * FROM consents WHERE id = ?", (consent_id,))
        return rows[0] if rows else None

    # ---- audit -----------------------------------------------------------------------

    def audit_events(self, patient_id: str | None) -> list[dict[str, Any]]:
        """The AuditEvents about one patient (None: events without a patient), in order."""
        if patient_id is None:
            rows = self._query("SELECT resource FROM audit_events WHERE patient_id IS NULL ORDER BY seq")
        else:
            rows = self._query("SELECT resource FROM audit_events WHERE patient_id = ? ORDER BY seq", (patient_id,))
        return [json.loads(r["resource"]) for r in rows]

    # ---- accounts --------------------------------------------------------------------

    def user(self, identifier: str) -> dict[str, Any] | None:
        rows = self._query("SELECT * FROM users WHERE identifier = ?", (identifier,))
        return rows[0] if rows else None

    def secret(self, key: str) -> dict[str, Any] | None:
        rows = self._query("SELECT * FROM secrets WHERE key = ?", (key,))
        return rows[0] if rows else None

    def token(self, token_hash: str) -> dict[str, Any] | None:
        rows = self._query("SELECT * FROM tokens WHERE token_hash = ?", (token_hash,))
        return rows[0] if rows else None


class _Tx:
    """The write side, only reachable inside :meth:`Store.transaction`."""

    def __init__(self, conn: sqlite3.Connection) -> None:
        self._conn = conn

    def execute(self, sql: str, params: tuple[Any, ...] = ()) -> sqlite3.Cursor:
        return self._conn.execute(sql, params)

    def executescript_in_tx(self, script: str) -> None:
        # executescript() would COMMIT first; run the statements one by one instead.
        for statement in _split_sql(script):
            self._conn.execute(statement)

    def insert_patient(self, patient_id: str, identifiers: list[tuple[str, str]], family: str, given: str,
                       birth_date: str, resource: dict[str, Any], created: str) -> None:
        self._conn.execute(
            "INSERT INTO patients(id, family, given, birth_date, resource, created) VALUES (?, ?, ?, ?, ?, ?)",
            (patient_id, family, given, birth_date, json.dumps(resource, ensure_ascii=False), created))
        self.add_identifiers(patient_id, identifiers)

    def add_identifiers(self, patient_id: str, identifiers: list[tuple[str, str]]) -> None:
        for system, value in identifiers:
            self._conn.execute(
                "INSERT OR IGNORE INTO patient_identifiers(system, value, patient_id) VALUES (?, ?, ?)",
                (system, value, patient_id))

    def insert_document(self, *, document_id: str, patient_id: str, category: str, fmt: str, title: str, date: str,
                        origin_identifier: str, origin_name: str, content: bytes, stored: str) -> None:
        self._conn.execute(
            "INSERT INTO documents(id, patient_id, category, format, title, date, origin_identifier, origin_name,"
            " content, stored) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (document_id, patient_id, category, fmt, title, date, origin_identifier, origin_name, content, stored))

    def set_restriction(self, patient_id: str, document_ids: frozenset[str], categories: frozenset[str],
                        updated: str) -> None:
        self._conn.execute(
            "INSERT INTO restrictions(patient_id, document_ids, categories, updated) VALUES (?, ?, ?, ?)"
            " ON CONFLICT(patient_id) DO UPDATE SET document_ids = excluded.document_ids,"
            " categories = excluded.categories, updated = excluded.updated",
            (patient_id, json.dumps(sorted(document_ids)), json.dumps(sorted(categories)), updated))

    def insert_consent(self, *, consent_id: str, patient_id: str, purpose: str, grantee: str, recorded_by: str,
                       recorded: str) -> None:
        self._conn.execute(
            "INSERT INTO consents(id, patient_id, purpose, grantee, recorded_by, recorded) VALUES (?, ?, ?, ?, ?, ?)",
            (consent_id, patient_id, purpose, grantee, recorded_by, recorded))

    def withdraw_consent(self, consent_id: str, when: str) -> None:
        self._conn.execute("UPDATE consents SET withdrawn = ? WHERE id = ? AND withdrawn = ''", (when, consent_id))

    def append_audit(self, event_id: str, patient_id: str | None, recorded: str, outcome: str,
                     resource: dict[str, Any]) -> None:
        self._conn.execute(
            "INSERT INTO audit_events(id, patient_id, recorded, outcome, resource) VALUES (?, ?, ?, ?, ?)",
            (event_id, patient_id, recorded, outcome, json.dumps(resource, ensure_ascii=False)))

    def upsert_user(self, *, identifier: str, kind: str, name: str, org_identifier: str, org_name: str,
                    salt: bytes, password_hash: bytes) -> None:
        self._conn.execute(
            "INSERT INTO users(identifier, kind, name, org_identifier, org_name, salt, password_hash)"
            " VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT(identifier) DO UPDATE SET kind = excluded.kind,"
            " name = excluded.name, org_identifier = excluded.org_identifier, org_name = excluded.org_name,"
            " salt = excluded.salt, password_hash = excluded.password_hash",
            (identifier, kind, name, org_identifier, org_name, salt, password_hash))

    def set_secret(self, key: str, salt: bytes, password_hash: bytes) -> None:
        self._conn.execute(
            "INSERT INTO secrets(key, salt, password_hash) VALUES (?, ?, ?) ON CONFLICT(key) DO UPDATE SET"
            " salt = excluded.salt, password_hash = excluded.password_hash", (key, salt, password_hash))

    def insert_token(self, token_hash: str, principal: dict[str, Any], expires: str) -> None:
        self._conn.execute("INSERT INTO tokens(token_hash, principal, expires) VALUES (?, ?, ?)",
                           (token_hash, json.dumps(principal), expires))


def _document(row: dict[str, Any]) -> DocumentRow:
    content = row["content"]
    if isinstance(content, str):
        content = content.encode("utf-8")
    return DocumentRow(seq=row["seq"], id=row["id"], patient_id=row["patient_id"], category=row["category"],
                       format=row["format"], title=row["title"], date=row["date"],
                       origin_identifier=row["origin_identifier"], origin_name=row["origin_name"],
                       content=bytes(content), stored=row["stored"])


def _split_sql(script: str) -> list[str]:
    """Split our schema into statements; triggers contain ';' inside BEGIN ... END."""
    statements: list[str] = []
    buf: list[str] = []
    for line in script.splitlines():
        line = line.split("--", 1)[0].rstrip()
        if not line:
            continue
        buf.append(line)
        text = "\n".join(buf)
        if sqlite3.complete_statement(text):
            statements.append(text)
            buf = []
    return statements
