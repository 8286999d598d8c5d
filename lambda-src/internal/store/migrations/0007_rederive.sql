-- Derivatives live on reduced-redundancy storage and are made again when lost, under the
-- same keys while the media stays ready (and in the feed): rederiving marks the media whose
-- derivatives are being made again, under the media's claim as a transcode is;
-- derivative_count is how many objects its transcode published (0 for media transcoded
-- before it was recorded), and checked_at when the reconciler last found them all there.
ALTER TABLE media
    ADD COLUMN rederiving       boolean NOT NULL DEFAULT false,
    ADD COLUMN derivative_count integer NOT NULL DEFAULT 0,
    ADD COLUMN checked_at       timestamptz;

-- The reconciler's walk: ready media, least recently checked first.
CREATE INDEX media_check_idx ON media (checked_at NULLS FIRST, id) WHERE status = 'ready' AND deleted_at IS NULL;
