-- The DASH manifest over the same CMAF segments as the HLS playlists. Empty for media
-- transcoded before it existed (their HLS segments are MPEG-TS, which DASH players lack).
ALTER TABLE media ADD COLUMN dash_key text NOT NULL DEFAULT '';
