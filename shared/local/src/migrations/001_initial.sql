-- Migration 1: the whole schema of an ml-connector store (work items, their audit trails, blobs,
-- cursors, mappings, webhook delivery dedup, seen versions, named locks, and the work queue).
--
-- Each record is kept whole as JSON (`body`), exactly as the core types serialise, so every field
-- round-trips; the columns beside it are copies of what queries filter and sort on, rewritten with
-- the body in the same statement. Times that SQL compares are integer nanoseconds (`*_ns`).
-- Applied inside one transaction together with `PRAGMA user_version = 1` (see db.rs).

CREATE TABLE items (
    key         TEXT NOT NULL UNIQUE,
    flow        TEXT NOT NULL,
    system      TEXT NOT NULL,
    doc_id      TEXT NOT NULL,
    state       TEXT NOT NULL,
    natural_key TEXT,
    updated_ns  INTEGER NOT NULL,
    body        TEXT NOT NULL
) STRICT;
CREATE INDEX items_by_update ON items (updated_ns DESC, key);
CREATE INDEX items_by_flow_state ON items (flow, state, updated_ns DESC);
CREATE INDEX items_by_state ON items (state, updated_ns DESC);
CREATE INDEX items_by_doc ON items (flow, system, doc_id);
CREATE INDEX items_by_natural_key ON items (flow, natural_key) WHERE natural_key IS NOT NULL;

-- One row per (missing mapping, item) while the item is in needs_mapping: adding a mapping finds
-- exactly the items waiting for it.
CREATE TABLE item_missing (
    scope    TEXT NOT NULL,
    kind     TEXT NOT NULL,
    source   TEXT NOT NULL,
    item_key TEXT NOT NULL REFERENCES items (key) ON DELETE CASCADE,
    PRIMARY KEY (scope, kind, source, item_key)
) STRICT, WITHOUT ROWID;
CREATE INDEX item_missing_by_item ON item_missing (item_key);

-- Not tied to items by a foreign key: the trail of a record is kept even if its item is not.
CREATE TABLE audit (
    item_key TEXT NOT NULL,
    seq      INTEGER NOT NULL,
    entry    TEXT NOT NULL,
    PRIMARY KEY (item_key, seq)
) STRICT;

CREATE TABLE blobs (
    sha256 TEXT PRIMARY KEY NOT NULL,
    body   BLOB NOT NULL
) STRICT;

CREATE TABLE cursors (
    flow  TEXT PRIMARY KEY NOT NULL,
    value TEXT NOT NULL,
    body  TEXT NOT NULL
) STRICT;

CREATE TABLE mappings (
    scope  TEXT NOT NULL,
    kind   TEXT NOT NULL,
    source TEXT NOT NULL,
    body   TEXT NOT NULL,
    PRIMARY KEY (scope, kind, source)
) STRICT;

CREATE TABLE deliveries (
    system      TEXT NOT NULL,
    delivery_id TEXT NOT NULL,
    expires_ns  INTEGER NOT NULL,
    PRIMARY KEY (system, delivery_id)
) STRICT, WITHOUT ROWID;
CREATE INDEX deliveries_by_expiry ON deliveries (expires_ns);

CREATE TABLE seen_versions (
    record_key TEXT PRIMARY KEY NOT NULL,
    version    TEXT NOT NULL
) STRICT, WITHOUT ROWID;

-- Named locks (target natural keys between lookup and outcome). `claim` is the JSON Claim.
CREATE TABLE locks (
    name  TEXT PRIMARY KEY NOT NULL,
    owner TEXT NOT NULL,
    claim TEXT NOT NULL
) STRICT, WITHOUT ROWID;

-- The work queue. A message is ready when not dead and visible_ns <= now; `lease` is the token of
-- its current receive (NULL when waiting); dead messages stay for the operator's replay.
-- AUTOINCREMENT: ids are never reused, so an old receipt can never name a new message.
CREATE TABLE queue (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    record_key    TEXT NOT NULL,
    hint          TEXT NOT NULL,
    visible_ns    INTEGER NOT NULL,
    receive_count INTEGER NOT NULL DEFAULT 0,
    lease         TEXT,
    dead          INTEGER NOT NULL DEFAULT 0,
    last_error    TEXT,
    enqueued_ns   INTEGER NOT NULL
) STRICT;
CREATE INDEX queue_ready ON queue (dead, visible_ns, id);
CREATE INDEX queue_waiting ON queue (record_key) WHERE dead = 0 AND lease IS NULL;
