-- flux2-mock schema version 1: every piece of state that the instances share.

CREATE TABLE tasks (
    seq           BIGINT PRIMARY KEY,
    task_id       TEXT NOT NULL UNIQUE,
    api_key       TEXT NOT NULL,
    request_json  TEXT NOT NULL,   -- text, not jsonb: the request's key order is kept
    base_url      TEXT NOT NULL,
    create_ms     BIGINT NOT NULL,
    pending_ms    BIGINT NOT NULL,
    processing_ms BIGINT NOT NULL,
    outcome       TEXT NOT NULL,
    fail_code     TEXT,
    fail_msg      TEXT,
    width         INTEGER NOT NULL,
    height        INTEGER NOT NULL,
    scenario_json TEXT NOT NULL DEFAULT '{}'
);
CREATE INDEX tasks_by_key ON tasks (api_key, seq);

-- The task sequence: one row, locked by each submit until it commits, so tasks become
-- visible in sequence order and a scan past a cursor never misses one.
CREATE TABLE counters (name TEXT PRIMARY KEY, value BIGINT NOT NULL);
INSERT INTO counters (name, value) VALUES ('task_seq', 0);

CREATE TABLE callback_outbox (
    task_id     TEXT NOT NULL,
    delivery    INTEGER NOT NULL,
    reason      TEXT NOT NULL,
    url         TEXT NOT NULL,
    delay_ms    BIGINT NOT NULL DEFAULT 0,
    state       TEXT NOT NULL,
    attempts    INTEGER NOT NULL DEFAULT 0,
    next_ms     BIGINT,
    lease_owner TEXT,
    lease_until BIGINT,
    PRIMARY KEY (task_id, delivery)
);
CREATE INDEX callback_outbox_waiting ON callback_outbox (task_id) WHERE state = 'waiting';

CREATE TABLE callback_attempts (
    id           BIGSERIAL PRIMARY KEY,
    task_id      TEXT NOT NULL,
    delivery     INTEGER NOT NULL,
    attempt      INTEGER NOT NULL,
    time_ms      BIGINT NOT NULL,
    url          TEXT NOT NULL,
    status       INTEGER,
    error        TEXT,
    latency_ms   BIGINT NOT NULL,
    payload_json TEXT NOT NULL
);
CREATE INDEX callback_attempts_by_task ON callback_attempts (task_id, id);

CREATE TABLE callback_scan (id INTEGER PRIMARY KEY CHECK (id = 1), seq BIGINT NOT NULL);
INSERT INTO callback_scan (id, seq) VALUES (1, 0);

CREATE TABLE rate_hits (api_key TEXT NOT NULL, at_ms BIGINT NOT NULL);
CREATE INDEX rate_hits_by_key ON rate_hits (api_key, at_ms);
CREATE TABLE request_counters (api_key TEXT PRIMARY KEY, n BIGINT NOT NULL);

CREATE TABLE charges (
    task_id   TEXT PRIMARY KEY,
    api_key   TEXT NOT NULL,
    micro_usd BIGINT NOT NULL,
    at_ms     BIGINT NOT NULL
);
CREATE INDEX charges_by_key ON charges (api_key);

CREATE TABLE mock_runtime (name TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE mock_scenario_queue (
    id        BIGSERIAL PRIMARY KEY,
    scenario  TEXT NOT NULL,
    remaining INTEGER NOT NULL,
    api_key   TEXT
);

CREATE TABLE journal (
    seq          BIGSERIAL PRIMARY KEY,
    time_ms      BIGINT NOT NULL,
    method       TEXT NOT NULL,
    path         TEXT NOT NULL,
    query        TEXT NOT NULL DEFAULT '',
    status       INTEGER NOT NULL,
    key_id       TEXT NOT NULL DEFAULT '',
    key_hint     TEXT NOT NULL DEFAULT '',
    task_id      TEXT,
    state        TEXT,
    errors_json  TEXT NOT NULL DEFAULT '[]',
    headers_json TEXT NOT NULL DEFAULT '{}'
);
CREATE INDEX journal_by_key ON journal (key_id, seq);
CREATE INDEX journal_by_task ON journal (task_id);

-- The virtual clock's offset from the wall clock (0: real time).
CREATE TABLE mock_clock (id INTEGER PRIMARY KEY CHECK (id = 1), offset_ms BIGINT NOT NULL);
INSERT INTO mock_clock (id, offset_ms) VALUES (1, 0);

-- Request metrics: one row per worker process of each instance.
CREATE TABLE mock_metrics (
    process    TEXT PRIMARY KEY,
    instance   TEXT NOT NULL,
    data       TEXT NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL DEFAULT now()
);
