-- pflow store schema, version 1: every life of every workflow (live or in the trash)
-- and the revisions each life kept. Created in the connection's current schema.

-- Which migrations ran: the schema's version is the highest.
CREATE TABLE pflow_schema (
    version     integer PRIMARY KEY,
    description text NOT NULL,
    applied_at  timestamptz NOT NULL DEFAULT now()
);

-- One row per life of a workflow, from the save that created it to its purge: live while
-- `deleted_at` is NULL, in the trash after. The row holds the current (or trashed)
-- document exactly as it was written, and beside it the summary a listing shows, so that
-- a listing never parses an IR. A row whose summary is NULL is read from its document.
-- `created_at` and `revision` are NULL only for a document that cannot be read.
CREATE TABLE pflow_workflows (
    id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    -- Compared byte by byte, so listings are in the same order on every server.
    name       text COLLATE "C" NOT NULL
               CHECK (name ~ '^[a-z0-9]+(-[a-z0-9]+)*$' AND length(name) <= 50),
    deleted_at timestamptz,
    created_at timestamptz,
    revision   numeric(20, 0) CHECK (revision >= 1),
    summary    text,
    document   text NOT NULL
);

-- At most one live workflow per name: of racing creators, one wins.
CREATE UNIQUE INDEX pflow_workflows_live ON pflow_workflows (name) WHERE deleted_at IS NULL;
-- Trash entries are keyed by name and deletion time.
CREATE UNIQUE INDEX pflow_workflows_trash ON pflow_workflows (name, deleted_at)
    WHERE deleted_at IS NOT NULL;
-- A life is found by its name and creation time (the key of its history).
CREATE INDEX pflow_workflows_life ON pflow_workflows (name, created_at);

-- The revisions a life kept before its current one: immutable, removed only with their
-- life (a purge).
CREATE TABLE pflow_revisions (
    workflow_id bigint NOT NULL REFERENCES pflow_workflows (id) ON DELETE CASCADE,
    revision    numeric(20, 0) NOT NULL CHECK (revision >= 1),
    document    text NOT NULL,
    PRIMARY KEY (workflow_id, revision)
);
