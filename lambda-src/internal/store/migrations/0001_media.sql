-- The media table: one row per uploaded original, its processing state and its derivatives.
CREATE TABLE media (
    id            uuid PRIMARY KEY,
    owner         text        NOT NULL,
    title         text        NOT NULL DEFAULT '',
    filename      text        NOT NULL DEFAULT '',
    content_type  text        NOT NULL DEFAULT '',
    original_key  text        NOT NULL UNIQUE,
    size_bytes    bigint      NOT NULL DEFAULT 0,
    status        text        NOT NULL DEFAULT 'pending_upload'
                  CHECK (status IN ('pending_upload', 'uploaded', 'processing', 'ready', 'failed')),
    error         text        NOT NULL DEFAULT '',
    duration_s    double precision NOT NULL DEFAULT 0,
    width         integer     NOT NULL DEFAULT 0,
    height        integer     NOT NULL DEFAULT 0,
    renditions    jsonb       NOT NULL DEFAULT '[]',
    hls_key       text        NOT NULL DEFAULT '',
    poster_key    text        NOT NULL DEFAULT '',
    is_transcoded boolean     NOT NULL DEFAULT false,
    uploaded_at   timestamptz,
    -- The transcoder's claim: whoever holds claim_token until lease_until owns the row's
    -- next transition; attempts counts claims, so a poison original cannot loop forever.
    claim_token   uuid,
    lease_until   timestamptz,
    attempts      integer     NOT NULL DEFAULT 0,
    -- When the event of the terminal status went out; NULL means it is still owed.
    notified_at   timestamptz,
    created_at    timestamptz NOT NULL DEFAULT now(),
    updated_at    timestamptz NOT NULL DEFAULT now()
);

-- Keyset pagination of an owner's media, newest first.
CREATE INDEX media_owner_created_idx ON media (owner, created_at DESC, id DESC);
