-- Thumbnails for scrubbing: the WebVTT track, its sprite sheets and their tiles' layout,
-- written with the other derivatives. NULL for media transcoded before they existed.
ALTER TABLE media ADD COLUMN thumbnails jsonb;
