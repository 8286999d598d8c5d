-- Many regions, one catalogue: a media's originals and derivatives stay in the region whose
-- API received it and are served by that region's distribution, so the row says which, for
-- the APIs of every other region to hand out the right URLs. Empty on rows of a single-region
-- stack from before: they are the reading region's own.
ALTER TABLE media
    ADD COLUMN region          text NOT NULL DEFAULT '',
    ADD COLUMN cdn_base_url    text NOT NULL DEFAULT '',
    -- The key pair the holding region's distribution trusts, when it signs.
    ADD COLUMN cdn_key_pair_id text NOT NULL DEFAULT '';
