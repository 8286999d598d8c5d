-- Long videos are transcoded in chunks, each a job of its own: chunks is how many the
-- transcode in flight has (0: one pass), and each chunk has a row with a claim of its own
-- and, once encoded, what it wrote. The job that completes the last chunk assembles.
ALTER TABLE media ADD COLUMN chunks integer NOT NULL DEFAULT 0;

CREATE TABLE media_chunks (
    media_id    uuid             NOT NULL REFERENCES media (id) ON DELETE CASCADE,
    idx         integer          NOT NULL,
    start_s     double precision NOT NULL,
    end_s       double precision NOT NULL,
    last        boolean          NOT NULL,
    claim_token uuid,
    lease_until timestamptz,
    attempts    integer          NOT NULL DEFAULT 0,
    error       text             NOT NULL DEFAULT '',
    part        jsonb,
    PRIMARY KEY (media_id, idx)
);
