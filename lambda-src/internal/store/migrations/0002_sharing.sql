-- Sharing: who may see a media, what its owner says of it, likes and comments, and deletion.
-- Additive only: existing media become private, as they were.
ALTER TABLE media
    ADD COLUMN visibility     text NOT NULL DEFAULT 'private'
                              CHECK (visibility IN ('private', 'unlisted', 'public')),
    ADD COLUMN description    text NOT NULL DEFAULT '',
    -- Where the uploader is told that their media is ready or failed; from their token.
    ADD COLUMN uploader_email text NOT NULL DEFAULT '',
    -- When the media last entered the public feed (ready and public): the feed's order, so
    -- that a media published late appears at its top, never behind a reader's cursor.
    ADD COLUMN published_at   timestamptz,
    -- Counters kept with the rows they count, in the same transactions, so a feed page
    -- needs no aggregation and concurrent likes stay exact.
    ADD COLUMN likes          integer NOT NULL DEFAULT 0,
    ADD COLUMN comments       integer NOT NULL DEFAULT 0,
    -- A deleted media stays as a tombstone of its id, owner and keys, so that a late S3 or
    -- SQS delivery of its upload cannot bring it back.
    ADD COLUMN deleted_at     timestamptz;

-- The public feed, newest first, keyset-paginated.
CREATE INDEX media_feed_idx ON media (published_at DESC, id DESC)
    WHERE visibility = 'public' AND status = 'ready' AND deleted_at IS NULL;

-- Upload limits count an owner's recent media.
CREATE INDEX media_owner_recent_idx ON media (owner, created_at);

CREATE TABLE likes (
    media_id   uuid        NOT NULL REFERENCES media (id) ON DELETE CASCADE,
    user_id    text        NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (media_id, user_id)
);

CREATE TABLE comments (
    id         uuid PRIMARY KEY,
    media_id   uuid        NOT NULL REFERENCES media (id) ON DELETE CASCADE,
    author     text        NOT NULL,
    text       text        NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now()
);

-- A media's comments oldest first, keyset-paginated; an author's recent comments (limits).
CREATE INDEX comments_media_idx ON comments (media_id, created_at, id);
CREATE INDEX comments_author_idx ON comments (author, created_at);
