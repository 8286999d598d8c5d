package api_test

import (
	"bytes"
	"context"
	"crypto/rsa"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/google/uuid"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mediastack/terraform-aws-mediastack/lambda-src/internal/api"
	"github.com/mediastack/terraform-aws-mediastack/lambda-src/internal/auth/authtest"
	"github.com/mediastack/terraform-aws-mediastack/lambda-src/internal/cdnsign"
	"github.com/mediastack/terraform-aws-mediastack/lambda-src/internal/store"
	"github.com/mediastack/terraform-aws-mediastack/test/postgres"
)

// TestPresignedPutLandsAtTheOwnersKey uploads through the presigned URL into the emulator's
// bucket and finds the object at uploads/<owner>/<media id>/original, whatever the filename.
func TestPresignedPutLandsAtTheOwnersKey(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	owner := uuid.NewString()
	video := bytes.Repeat([]byte("not really a video "), 1000)
	started := time.Now()

	out := e.createUpload(owner, `..\..\secret/../../evil name.mp4`, int64(len(video)))
	_, err := uuid.Parse(out.MediaID)
	require.NoError(t, err, "media ids are UUIDs")
	up := out.Upload
	assert.Equal(t, "single", up.Type)
	assert.Equal(t, http.MethodPut, up.Method)
	assert.Equal(t, "video/mp4", up.Headers["Content-Type"])
	within(t, started.Add(api.DefaultUploadURLTTL), up.ExpiresAt, 5*time.Second)
	key := "uploads/" + owner + "/" + out.MediaID + "/original"
	u, err := url.Parse(up.URL)
	require.NoError(t, err)
	assert.Equal(t, "/"+e.cfg.OriginalsBucket+"/"+key, u.Path)
	assert.NotEmpty(t, u.Query().Get("X-Amz-Signature"))
	assert.Contains(t, u.Query().Get("X-Amz-SignedHeaders"), "content-length", "the size that passed the limits is signed")

	// S3 holds the URL to what was signed: another size or type is refused, and nothing lands.
	resp := e.put(up.URL, up.Headers, append(video, "and more"...))
	assert.Equal(t, http.StatusForbidden, resp.StatusCode, "a body larger than the size that passed the limits")
	otherType := map[string]string{"Content-Type": "text/html"}
	resp = e.put(up.URL, otherType, video)
	assert.Equal(t, http.StatusForbidden, resp.StatusCode, "a body of another content type")

	resp = e.put(up.URL, up.Headers, video)
	require.Equal(t, http.StatusOK, resp.StatusCode)
	head := e.head(key)
	assert.Equal(t, int64(len(video)), aws.ToInt64(head.ContentLength))
	assert.Equal(t, "video/mp4", aws.ToString(head.ContentType))
	listed, err := e.s3.ListObjectsV2(context.Background(), &s3.ListObjectsV2Input{Bucket: &e.cfg.OriginalsBucket})
	require.NoError(t, err)
	require.Len(t, listed.Contents, 1, "nothing but the original key may be written")

	r := e.do(http.MethodGet, "/v1/media/"+out.MediaID, owner, nil)
	require.Equal(t, http.StatusOK, r.Status, "body: %s", r.Body)
	var m api.MediaResponse
	r.JSON(t, &m)
	assert.Equal(t, out.MediaID, m.MediaID)
	assert.Equal(t, owner, m.Owner)
	assert.Equal(t, store.StatusPendingUpload, m.Status)
	assert.Equal(t, "evil name.mp4", m.Filename, "only the base name is kept, as metadata")
	assert.Equal(t, `clip ..\..\secret/../../evil name.mp4`, m.Title)
	assert.Equal(t, int64(len(video)), m.SizeBytes)
	assert.Nil(t, m.Error)
	assert.Nil(t, m.DurationS)
	assert.Nil(t, m.HLSURL)
	assert.Empty(t, m.Renditions)
	var raw map[string]any
	r.JSON(t, &raw)
	for _, field := range []string{"media_id", "owner", "title", "status", "error", "duration_s", "width", "height", "renditions", "hls_url", "poster_url", "created_at", "updated_at"} {
		assert.Contains(t, raw, field, "the contract's fields are always present")
	}
}

// TestMultipartUpload sends a file above the threshold in parts to the presigned part URLs
// and completes it through the API.
func TestMultipartUpload(t *testing.T) {
	t.Parallel()
	const mib = 1 << 20
	e := newEnv(t, func(c *api.Config, _ *api.Deps) { c.MultipartThreshold, c.PartSize = 5*mib, 5*mib })
	owner := uuid.NewString()
	video := make([]byte, 11*mib)
	for i := range video {
		video[i] = byte(i * 7)
	}

	out := e.createUpload(owner, "long.mp4", int64(len(video)))
	up := out.Upload
	require.Equal(t, "multipart", up.Type)
	require.NotEmpty(t, up.UploadID)
	assert.Equal(t, "/v1/uploads/"+out.MediaID+"/complete", up.CompleteURL)
	require.Len(t, up.Parts, 3)
	assert.Equal(t, []int64{5 * mib, 5 * mib, 1 * mib}, []int64{up.Parts[0].SizeBytes, up.Parts[1].SizeBytes, up.Parts[2].SizeBytes})

	type part struct {
		PartNumber int32  `json:"part_number"`
		ETag       string `json:"etag"`
	}
	var parts []part
	offset := int64(0)
	for _, p := range up.Parts {
		resp := e.put(p.URL, p.Headers, video[offset:offset+p.SizeBytes])
		require.Equal(t, http.StatusOK, resp.StatusCode, "part %d", p.PartNumber)
		require.NotEmpty(t, resp.Header.Get("ETag"))
		parts = append(parts, part{p.PartNumber, resp.Header.Get("ETag")})
		offset += p.SizeBytes
	}

	// Another user cannot complete it, nor can a made-up upload id.
	r := e.do(http.MethodPost, up.CompleteURL, uuid.NewString(), map[string]any{"upload_id": up.UploadID, "parts": parts})
	assert.Equal(t, http.StatusNotFound, r.Status)
	// Nor can alice's media be completed with the upload id of someone else's media.
	other := uuid.NewString()
	theirs := e.createUpload(other, "theirs.mp4", int64(len(video)))
	r = e.do(http.MethodPost, up.CompleteURL, owner, map[string]any{"upload_id": theirs.Upload.UploadID, "parts": parts})
	assert.Equal(t, http.StatusNotFound, r.Status, "body: %s", r.Body)
	r = e.do(http.MethodPost, up.CompleteURL, owner, map[string]any{"upload_id": "made-up", "parts": parts})
	assert.Equal(t, http.StatusNotFound, r.Status, "body: %s\nlogs: %s", r.Body, e.logs.String())
	r = e.do(http.MethodPost, up.CompleteURL, owner, map[string]any{"upload_id": up.UploadID, "parts": []part{parts[1], parts[0]}})
	assert.Equal(t, http.StatusBadRequest, r.Status)
	msg, _ := r.Error(t)
	assert.Contains(t, msg, "ascending")

	r = e.do(http.MethodPost, up.CompleteURL, owner, map[string]any{"upload_id": up.UploadID, "parts": parts})
	require.Equal(t, http.StatusOK, r.Status, "body: %s", r.Body)
	var m api.MediaResponse
	r.JSON(t, &m)
	assert.Equal(t, out.MediaID, m.MediaID)

	key := "uploads/" + owner + "/" + out.MediaID + "/original"
	obj, err := e.s3.GetObject(context.Background(), &s3.GetObjectInput{Bucket: &e.cfg.OriginalsBucket, Key: &key})
	require.NoError(t, err)
	defer obj.Body.Close()
	got, err := io.ReadAll(obj.Body)
	require.NoError(t, err)
	assert.True(t, bytes.Equal(video, got), "the parts must join into the original")
	assert.Equal(t, "video/mp4", aws.ToString(obj.ContentType))
	listed, err := e.s3.ListObjectsV2(context.Background(), &s3.ListObjectsV2Input{Bucket: &e.cfg.OriginalsBucket})
	require.NoError(t, err)
	require.Len(t, listed.Contents, 1, "only the completed original exists")

	r = e.do(http.MethodPost, up.CompleteURL, owner, map[string]any{"upload_id": up.UploadID, "parts": parts})
	assert.Equal(t, http.StatusNotFound, r.Status, "a completed upload cannot be completed again")
}

func TestUploadRequestsAreChecked(t *testing.T) {
	t.Parallel()
	e := newEnv(t, func(c *api.Config, _ *api.Deps) { c.MaxUploadBytes = 1 << 20 })
	owner := uuid.NewString()
	valid := func(change func(map[string]any)) map[string]any {
		b := map[string]any{"filename": "a.mp4", "content_type": "video/mp4", "size_bytes": 1000, "title": "A"}
		change(b)
		return b
	}
	cases := []struct {
		name   string
		body   any
		status int
		msg    string
	}{
		{"image", valid(func(b map[string]any) { b["content_type"] = "image/png" }), 400, `content_type "image/png" is not accepted`},
		{"video type off the list", valid(func(b map[string]any) { b["content_type"] = "video/x-flv" }), 400, "allowed: video/mp4"},
		{"no content type", valid(func(b map[string]any) { delete(b, "content_type") }), 400, "content_type"},
		{"too large", valid(func(b map[string]any) { b["size_bytes"] = 1<<20 + 1 }), 413, "exceeds the limit of 1048576 bytes"},
		{"empty", valid(func(b map[string]any) { b["size_bytes"] = 0 }), 400, "size_bytes must be a positive"},
		{"negative", valid(func(b map[string]any) { b["size_bytes"] = -5 }), 400, "size_bytes must be a positive"},
		{"size as text", valid(func(b map[string]any) { b["size_bytes"] = "100" }), 400, `field "size_bytes" must be a int64`},
		{"no filename", valid(func(b map[string]any) { delete(b, "filename") }), 400, "filename is required"},
		{"control characters", valid(func(b map[string]any) { b["filename"] = "a\x00.mp4" }), 400, "without control characters"},
		{"long title", valid(func(b map[string]any) { b["title"] = strings.Repeat("t", 201) }), 400, "title must be at most 200"},
		{"not JSON", "filename=a.mp4", 400, "not valid JSON"},
		{"empty body", "", 400, "request body is empty"},
		{"two objects", `{"filename":"a.mp4"} {}`, 400, "more than one JSON value"},
		{"huge body", `{"filename":"` + strings.Repeat("a", 20<<10) + `"}`, 413, "request body exceeds"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := e.do(http.MethodPost, "/v1/uploads", owner, tc.body)
			assert.Equal(t, tc.status, r.Status, "body: %s", r.Body)
			msg, _ := r.Error(t)
			assert.Contains(t, msg, tc.msg)
		})
	}
	items, _, err := e.store.ListByOwner(context.Background(), owner, "", 100)
	require.NoError(t, err)
	assert.Empty(t, items, "a refused request creates no media")

	// Parameters of an allowed type are fine; the type is stored without them.
	out := e.createUpload(owner, "ok.mp4", 1<<20)
	m, err := e.store.GetForOwner(context.Background(), owner, out.MediaID)
	require.NoError(t, err)
	assert.Equal(t, store.StatusPendingUpload, m.Status)
	r := e.do(http.MethodPost, "/v1/uploads", owner, valid(func(b map[string]any) { b["content_type"] = "Video/MP4; codecs=avc1" }))
	assert.Equal(t, http.StatusCreated, r.Status, "body: %s", r.Body)
}

// TestMediaOfOthersIsNotFound: another user's media answers exactly like media that does
// not exist.
func TestMediaOfOthersIsNotFound(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	alice, bob := uuid.NewString(), uuid.NewString()
	mine := e.createUpload(alice, "alice.mp4", 100)

	r := e.do(http.MethodGet, "/v1/media/"+mine.MediaID, alice, nil)
	require.Equal(t, http.StatusOK, r.Status)

	theirs := e.do(http.MethodGet, "/v1/media/"+mine.MediaID, bob, nil)
	assert.Equal(t, http.StatusNotFound, theirs.Status)
	msgTheirs, _ := theirs.Error(t)
	missingID := uuid.NewString()
	none := e.do(http.MethodGet, "/v1/media/"+missingID, bob, nil)
	assert.Equal(t, http.StatusNotFound, none.Status)
	msgNone, _ := none.Error(t)
	assert.Equal(t, strings.Replace(msgNone, missingID, mine.MediaID, 1), msgTheirs, "indistinguishable from no media")
	notUUID := e.do(http.MethodGet, "/v1/media/..%2F..%2Fetc", bob, nil)
	assert.Equal(t, http.StatusNotFound, notUUID.Status)

	var list api.MediaListResponse
	r = e.do(http.MethodGet, "/v1/media", bob, nil)
	require.Equal(t, http.StatusOK, r.Status)
	r.JSON(t, &list)
	assert.Empty(t, list.Items, "bob's list holds nothing of alice's")
	assert.Nil(t, list.NextCursor)
}

func TestListIsPaginated(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	owner, other := uuid.NewString(), uuid.NewString()
	var created []string
	for i := range 5 {
		created = append(created, e.createUpload(owner, fmt.Sprintf("clip-%d.mp4", i), 100).MediaID)
	}
	e.createUpload(other, "other.mp4", 100)

	var seen []string
	cursor := ""
	pages := 0
	for {
		path := "/v1/media?limit=2"
		if cursor != "" {
			path += "&cursor=" + url.QueryEscape(cursor)
		}
		r := e.do(http.MethodGet, path, owner, nil)
		require.Equal(t, http.StatusOK, r.Status, "body: %s", r.Body)
		var page api.MediaListResponse
		r.JSON(t, &page)
		pages++
		assert.LessOrEqual(t, len(page.Items), 2)
		for _, m := range page.Items {
			assert.Equal(t, owner, m.Owner)
			seen = append(seen, m.MediaID)
		}
		if page.NextCursor == nil {
			break
		}
		cursor = *page.NextCursor
		require.Less(t, pages, 5, "pagination must end")
	}
	assert.Equal(t, 3, pages)
	reversed := make([]string, len(created))
	for i, id := range created {
		reversed[len(created)-1-i] = id
	}
	assert.Equal(t, reversed, seen, "every item once, newest first")

	for _, q := range []string{"limit=0", "limit=101", "limit=abc"} {
		r := e.do(http.MethodGet, "/v1/media?"+q, owner, nil)
		assert.Equal(t, http.StatusBadRequest, r.Status, q)
		msg, _ := r.Error(t)
		assert.Contains(t, msg, "limit must be an integer from 1 to 100")
	}
	r := e.do(http.MethodGet, "/v1/media?cursor=forged", owner, nil)
	assert.Equal(t, http.StatusBadRequest, r.Status)
	msg, _ := r.Error(t)
	assert.Contains(t, msg, "cursor")
}

// TestMediaURLsAreSignedCDNURLs makes media ready the way the transcoder does and checks
// that every derivative URL is on the CDN and carries a canned-policy signature.
func TestMediaURLsAreSignedCDNURLs(t *testing.T) {
	t.Parallel()
	signed, key := signedEnv(t)
	owner := uuid.NewString()
	id := makeReady(t, signed, owner)

	r := signed.do(http.MethodGet, "/v1/media/"+id, owner, nil)
	require.Equal(t, http.StatusOK, r.Status, "body: %s", r.Body)
	var m api.MediaResponse
	r.JSON(t, &m)
	assert.Equal(t, store.StatusReady, m.Status)
	require.NotNil(t, m.DurationS)
	assert.InDelta(t, 12.5, *m.DurationS, 0.001)
	require.NotNil(t, m.Width)
	assert.Equal(t, 1920, *m.Width)
	assert.Equal(t, 1080, *m.Height)
	require.Len(t, m.Renditions, 2)
	assert.Equal(t, 1080, m.Renditions[0].Height)
	assert.Equal(t, int64(2_000_000), m.Renditions[0].Bytes)
	require.NotNil(t, m.HLSURL)
	require.NotNil(t, m.PosterURL)
	require.NotNil(t, m.Thumbnails, "scrubbing thumbnails are listed")
	assert.Equal(t, api.ThumbnailsResponse{TrackURL: m.Thumbnails.TrackURL, SpriteURLs: m.Thumbnails.SpriteURLs, IntervalS: 5, TileWidth: 160, TileHeight: 90}, *m.Thumbnails)
	require.Len(t, m.Thumbnails.SpriteURLs, 2)
	urls := map[string]string{
		"/" + id + "/1080p.mp4":                 m.Renditions[0].URL,
		"/" + id + "/720p.mp4":                  m.Renditions[1].URL,
		"/" + id + "/hls/master.m3u8":           *m.HLSURL,
		"/" + id + "/poster.jpg":                *m.PosterURL,
		"/" + id + "/thumbnails/thumbnails.vtt": m.Thumbnails.TrackURL,
		"/" + id + "/thumbnails/sprite_1.jpg":   m.Thumbnails.SpriteURLs[0],
		"/" + id + "/thumbnails/sprite_2.jpg":   m.Thumbnails.SpriteURLs[1],
	}
	for path, u := range urls {
		assert.True(t, strings.HasPrefix(u, "https://d111111abcdef8.cloudfront.net"+path+"?Expires="), "%s: %s", path, u)
		assert.NoError(t, cdnsign.Verify(u, &key.PublicKey, "KTESTKEYPAIR", time.Now()), u)
		assert.Error(t, cdnsign.Verify(u, &key.PublicKey, "KTESTKEYPAIR", time.Now().Add(api.DefaultCDNURLTTL+time.Minute)), "expires after CDN_URL_TTL")
	}

	plain := newEnv(t)
	id = makeReady(t, plain, owner)
	r = plain.do(http.MethodGet, "/v1/media/"+id, owner, nil)
	require.Equal(t, http.StatusOK, r.Status)
	r.JSON(t, &m)
	assert.Equal(t, "https://d111111abcdef8.cloudfront.net/"+id+"/hls/master.m3u8", *m.HLSURL, "unsigned without a key pair")
}

// TestMediaCarriesCDNCookies: with a signer, media with derivatives carries CloudFront signed
// cookies covering every derivative, the HLS variant playlists and segments included, which a
// player fetches without the master playlist's query string.
func TestMediaCarriesCDNCookies(t *testing.T) {
	t.Parallel()
	signed, key := signedEnv(t)
	owner := uuid.NewString()
	id := makeReady(t, signed, owner)
	pending := signed.createUpload(owner, "pending.mp4", 100).MediaID

	r := signed.do(http.MethodGet, "/v1/media/"+id, owner, nil)
	require.Equal(t, http.StatusOK, r.Status, "body: %s", r.Body)
	var m api.MediaResponse
	r.JSON(t, &m)
	require.NotNil(t, m.CDNCookies, "body: %s", r.Body)
	assert.ElementsMatch(t, []string{"CloudFront-Policy", "CloudFront-Signature", "CloudFront-Key-Pair-Id"}, slices.Collect(maps.Keys(m.CDNCookies)))
	require.NotNil(t, m.HLSURL)
	require.NotNil(t, m.PosterURL)
	hls, _, _ := strings.Cut(*m.HLSURL, "?")
	covered := []string{hls, strings.Replace(hls, "master.m3u8", "720p/index.m3u8", 1), strings.Replace(hls, "master.m3u8", "720p/segment_0.ts", 1)}
	for _, rd := range m.Renditions {
		u, _, _ := strings.Cut(rd.URL, "?")
		covered = append(covered, u)
	}
	poster, _, _ := strings.Cut(*m.PosterURL, "?")
	covered = append(covered, poster)
	for _, u := range covered {
		assert.NoError(t, cdnsign.VerifyCookies(m.CDNCookies, u, &key.PublicKey, "KTESTKEYPAIR", time.Now()), u)
		assert.Error(t, cdnsign.VerifyCookies(m.CDNCookies, u, &key.PublicKey, "KTESTKEYPAIR", time.Now().Add(api.DefaultCDNURLTTL+time.Minute)), "expires after CDN_URL_TTL")
	}
	assert.Error(t, cdnsign.VerifyCookies(m.CDNCookies, "https://d111111abcdef8.cloudfront.net/"+pending+"/hls/master.m3u8", &key.PublicKey, "KTESTKEYPAIR", time.Now()), "another media's derivatives")

	r = signed.do(http.MethodGet, "/v1/media/"+pending, owner, nil)
	require.Equal(t, http.StatusOK, r.Status)
	assert.Equal(t, "null", string(rawField(t, r, "cdn_cookies")), "nothing to grant before the transcoder ran")

	r = signed.do(http.MethodGet, "/v1/media", owner, nil)
	require.Equal(t, http.StatusOK, r.Status)
	var list api.MediaListResponse
	r.JSON(t, &list)
	require.Len(t, list.Items, 2)
	for _, item := range list.Items {
		if item.MediaID == id {
			assert.NoError(t, cdnsign.VerifyCookies(item.CDNCookies, hls, &key.PublicKey, "KTESTKEYPAIR", time.Now()), "listed")
		} else {
			assert.Nil(t, item.CDNCookies, "listed before the transcoder ran")
		}
	}

	plain := newEnv(t)
	id = makeReady(t, plain, owner)
	r = plain.do(http.MethodGet, "/v1/media/"+id, owner, nil)
	require.Equal(t, http.StatusOK, r.Status)
	assert.Equal(t, "null", string(rawField(t, r, "cdn_cookies")), "no cookies without a key pair")
}

// TestCDNCookiesThatCannotBeSignedAreLeftOut: a signing failure is logged and the media is
// still served, like a URL that cannot be signed.
func TestCDNCookiesThatCannotBeSignedAreLeftOut(t *testing.T) {
	t.Parallel()
	signer, err := cdnsign.New("KTESTKEYPAIR", authtest.NewKey(t))
	require.NoError(t, err)
	e := newEnv(t, func(c *api.Config, d *api.Deps) { d.Signer = noCookies{signer}; c.CDNKeyPairID = "KTESTKEYPAIR" })
	owner := uuid.NewString()
	id := makeReady(t, e, owner)

	r := e.do(http.MethodGet, "/v1/media/"+id, owner, nil)
	require.Equal(t, http.StatusOK, r.Status, "body: %s", r.Body)
	assert.Equal(t, "null", string(rawField(t, r, "cdn_cookies")))
	var m api.MediaResponse
	r.JSON(t, &m)
	require.NotNil(t, m.HLSURL)
	assert.Contains(t, *m.HLSURL, "&Signature=", "URLs are still signed")
	assert.Contains(t, e.logs.String(), "sign CDN cookies")
}

// noCookies signs URLs but fails to make cookies.
type noCookies struct{ *cdnsign.Signer }

func (noCookies) Cookies(string, time.Time) (map[string]string, error) {
	return nil, errors.New("no cookies today")
}

// One catalogue, many regions: a media is held by the region whose API received it, and
// every other region's API hands out that region's CDN URLs, signed for the key pair its
// distribution trusts, and leaves the files to it.
func TestMediaOfAnotherRegionIsServedByItsCDN(t *testing.T) {
	t.Parallel()
	home, key := signedEnv(t)
	const otherCDN, otherKeyPair = "https://d222222abcdef8.cloudfront.net", "KOTHERREGION"
	other := newEnv(t, func(c *api.Config, d *api.Deps) {
		d.Store = home.store // the catalogue is one
		signer, err := cdnsign.New(otherKeyPair, key)
		require.NoError(t, err)
		d.Signer, c.CDNKeyPairID, c.CDNBaseURL, c.Region = signer, otherKeyPair, otherCDN, "eu-west-1"
		c.HomeRegion = home.cfg.Region
	})
	owner := uuid.NewString()
	id := makeReady(t, home, owner)

	r := other.do(http.MethodGet, "/v1/media/"+id, owner, nil)
	require.Equal(t, http.StatusOK, r.Status, "body: %s", r.Body)
	var m api.MediaResponse
	r.JSON(t, &m)
	assert.Equal(t, home.cfg.Region, m.Region, "held where it was uploaded")
	require.NotNil(t, m.HLSURL)
	assert.True(t, strings.HasPrefix(*m.HLSURL, home.cfg.CDNBaseURL+"/"), "served by the holding region's CDN: %s", *m.HLSURL)
	require.NoError(t, cdnsign.Verify(*m.HLSURL, &key.PublicKey, "KTESTKEYPAIR", time.Now()), "signed for the holding distribution's key pair")
	hls, _, _ := strings.Cut(*m.HLSURL, "?")
	assert.NoError(t, cdnsign.VerifyCookies(m.CDNCookies, hls, &key.PublicKey, "KTESTKEYPAIR", time.Now()))

	r = other.do(http.MethodDelete, "/v1/media/"+id, owner, nil)
	require.Equal(t, http.StatusConflict, r.Status, "body: %s", r.Body)
	msg, _ := r.Error(t)
	assert.Contains(t, msg, "held in region "+home.cfg.Region)
	r = home.do(http.MethodGet, "/v1/media/"+id, owner, nil)
	require.Equal(t, http.StatusOK, r.Status, "a refused delete deletes nothing")

	created := other.createUpload(owner, "other.mp4", 100).MediaID
	r = home.do(http.MethodGet, "/v1/media/"+created, owner, nil)
	require.Equal(t, http.StatusOK, r.Status, "body: %s", r.Body)
	r.JSON(t, &m)
	assert.Equal(t, "eu-west-1", m.Region, "held by the region that received it")
	r = home.do(http.MethodPost, "/v1/uploads/"+created+"/complete", owner, map[string]any{
		"upload_id": "x", "parts": []map[string]any{{"part_number": 1, "etag": "e"}},
	})
	assert.Equal(t, http.StatusConflict, r.Status, "only the holding region completes its upload: %s", r.Body)

	r = home.do(http.MethodDelete, "/v1/media/"+id, owner, nil)
	assert.Equal(t, http.StatusNoContent, r.Status, "body: %s", r.Body)
	r = other.do(http.MethodDelete, "/v1/media/"+id, owner, nil)
	assert.Equal(t, http.StatusConflict, r.Status, "a repeated deletion is the holding region's too: %s", r.Body)

	// Media recorded before rows said where they are held are the home region's.
	legacy := uuid.NewString()
	require.NoError(t, home.store.Create(context.Background(), store.Media{ID: legacy, Owner: owner, OriginalKey: api.OriginalKey(owner, legacy)}))
	r = other.do(http.MethodGet, "/v1/media/"+legacy, owner, nil)
	require.Equal(t, http.StatusOK, r.Status, "body: %s", r.Body)
	r.JSON(t, &m)
	assert.Equal(t, home.cfg.Region, m.Region)
	r = other.do(http.MethodDelete, "/v1/media/"+legacy, owner, nil)
	assert.Equal(t, http.StatusConflict, r.Status, "body: %s", r.Body)
}

func rawField(t *testing.T, r response, name string) json.RawMessage {
	t.Helper()
	var fields map[string]json.RawMessage
	r.JSON(t, &fields)
	v, ok := fields[name]
	require.True(t, ok, "%s is part of the response", name)
	return v
}

func makeReady(t *testing.T, e *env, owner string) string {
	t.Helper()
	ctx := context.Background()
	id := e.createUpload(owner, "ready.mp4", 100).MediaID
	claim, err := e.store.Claim(ctx, store.ClaimRequest{ID: id, Owner: owner, OriginalKey: api.OriginalKey(owner, id), SizeBytes: 100}, time.Minute)
	require.NoError(t, err)
	_, err = e.store.MarkReady(ctx, claim, store.Result{
		DurationS: 12.5, Width: 1920, Height: 1080,
		Renditions: []store.Rendition{
			{Height: 1080, Width: 1920, Key: id + "/1080p.mp4", Bytes: 2_000_000},
			{Height: 720, Width: 1280, Key: id + "/720p.mp4", Bytes: 1_000_000},
		},
		HLSKey: id + "/hls/master.m3u8", PosterKey: id + "/poster.jpg",
		Thumbnails: &store.Thumbnails{TrackKey: id + "/thumbnails/thumbnails.vtt", SpriteKeys: []string{id + "/thumbnails/sprite_1.jpg", id + "/thumbnails/sprite_2.jpg"},
			IntervalS: 5, TileWidth: 160, TileHeight: 90},
	})
	require.NoError(t, err)
	return id
}

func TestUnauthenticatedRequestsGet401(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	expired := e.issuer.Claims("u")
	expired["exp"] = time.Now().Add(-time.Hour).Unix()
	wrongAud := e.issuer.Claims("u")
	wrongAud["aud"] = "someone-else"
	cases := []struct {
		name, token, challenge, msg string
	}{
		{"no token", "", `Bearer realm="mediastack"`, "missing bearer token"},
		{"garbage", "abc", `Bearer realm="mediastack", error="invalid_token"`, "invalid"},
		{"expired", e.issuer.Sign(t, expired), `error="invalid_token", error_description="token has expired"`, "token has expired"},
		{"wrong audience", e.issuer.Sign(t, wrongAud), `error="invalid_token"`, "audience"},
		{"another issuer's key", authtest.NewIssuer(t).IDToken(t, "u"), `error="invalid_token"`, "signature or format is invalid"},
	}
	for _, tc := range cases {
		id := uuid.NewString()
		for _, route := range []struct {
			method, path string
			anyone       bool // open to anonymous clients: only a bad token is refused
		}{
			{http.MethodPost, "/v1/uploads", false}, {http.MethodGet, "/v1/media", false},
			{http.MethodPost, "/v1/uploads/" + id + "/complete", false},
			{http.MethodPatch, "/v1/media/" + id, false},
			{http.MethodPut, "/v1/media/" + id + "/like", false}, {http.MethodDelete, "/v1/media/" + id + "/like", false},
			{http.MethodPost, "/v1/media/" + id + "/comments", false},
			{http.MethodDelete, "/v1/media/" + id + "/comments/" + uuid.NewString(), false},
			{http.MethodGet, "/v1/media/" + id, true}, {http.MethodGet, "/v1/feed", true},
			{http.MethodGet, "/v1/media/" + id + "/comments", true},
		} {
			r := e.doToken(route.method, route.path, tc.token, map[string]any{"filename": "a.mp4"}, nil)
			if route.anyone && tc.token == "" {
				assert.NotEqual(t, http.StatusUnauthorized, r.Status, "%s %s is open to anonymous clients", route.method, route.path)
				continue
			}
			assert.Equal(t, http.StatusUnauthorized, r.Status, "%s %s %s", tc.name, route.method, route.path)
			assert.Contains(t, r.Header.Get("WWW-Authenticate"), tc.challenge, tc.name)
			msg, _ := r.Error(t)
			assert.Contains(t, msg, tc.msg, tc.name)
		}
	}
	for _, tc := range cases[2:] {
		assert.NotContains(t, e.logs.String(), strings.Split(tc.token, ".")[2], "tokens are never logged")
	}

	fresh := newEnv(t)
	fresh.issuer.SetDown(true)
	r := fresh.do(http.MethodGet, "/v1/media", "u", nil)
	assert.Equal(t, http.StatusServiceUnavailable, r.Status, "keys that cannot be fetched are the API's problem, not the caller's")
	assert.Equal(t, "5", r.Header.Get("Retry-After"))
}

func TestHealthReadinessAndFallbacks(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	r := e.do(http.MethodGet, "/healthz", "", nil)
	assert.Equal(t, http.StatusOK, r.Status)
	assert.JSONEq(t, `{"status":"ok"}`, string(r.Body))

	r = e.do(http.MethodGet, "/readyz", "", nil)
	assert.Equal(t, http.StatusOK, r.Status, "body: %s", r.Body)
	assert.JSONEq(t, `{"status":"ready","checks":{"database":"ok","originals_bucket":"ok"}}`, string(r.Body))

	r = e.do(http.MethodGet, "/v2/nothing", "", nil)
	assert.Equal(t, http.StatusNotFound, r.Status)
	msg, _ := r.Error(t)
	assert.Contains(t, msg, "no such route")
	r = e.do(http.MethodDelete, "/v1/uploads", "", nil)
	assert.Equal(t, http.StatusMethodNotAllowed, r.Status)
	assert.Contains(t, r.Header.Get("Allow"), http.MethodPost)
	msg, _ = r.Error(t)
	assert.Contains(t, msg, "not allowed")

	// A bucket that is not there makes the instance unready.
	missing := newEnv(t, func(c *api.Config, _ *api.Deps) { c.OriginalsBucket += "-missing" })
	r = missing.do(http.MethodGet, "/readyz", "", nil)
	assert.Equal(t, http.StatusServiceUnavailable, r.Status)
	var body struct {
		Status string            `json:"status"`
		Checks map[string]string `json:"checks"`
	}
	r.JSON(t, &body)
	assert.Equal(t, "unavailable", body.Status)
	assert.Equal(t, "ok", body.Checks["database"])
	assert.Equal(t, "unavailable", body.Checks["originals_bucket"])
}

// TestReadyzFailsWhenTheDatabaseIsDown stops a PostgreSQL server of its own under the API.
func TestReadyzFailsWhenTheDatabaseIsDown(t *testing.T) {
	t.Parallel()
	pg := postgres.StartT(t)
	st := openStore(t, pg.DatabaseT(t))
	e := newEnv(t, func(_ *api.Config, d *api.Deps) { d.Store = st })

	r := e.do(http.MethodGet, "/readyz", "", nil)
	require.Equal(t, http.StatusOK, r.Status, "body: %s", r.Body)
	require.NoError(t, pg.Stop())
	r = e.do(http.MethodGet, "/readyz", "", nil)
	assert.Equal(t, http.StatusServiceUnavailable, r.Status)
	var body struct {
		Status string            `json:"status"`
		Checks map[string]string `json:"checks"`
	}
	r.JSON(t, &body)
	assert.Equal(t, "unavailable", body.Status)
	assert.Equal(t, "unavailable", body.Checks["database"])
	assert.Equal(t, "ok", body.Checks["originals_bucket"])
	assert.Contains(t, e.logs.String(), `"msg":"not ready"`)
	assert.Contains(t, e.logs.String(), "ping database", "the cause is in the log")

	r = e.do(http.MethodGet, "/healthz", "", nil)
	assert.Equal(t, http.StatusOK, r.Status, "the process is still up")
	r = e.do(http.MethodGet, "/v1/media", "u", nil)
	assert.Equal(t, http.StatusServiceUnavailable, r.Status, "a database that is down is a 503 to retry, not a 500")
	assert.Equal(t, "3", r.Header.Get("Retry-After"))
	msg, _ := r.Error(t)
	assert.Equal(t, "could not list the media: the service is briefly unavailable, retry in a few seconds", msg, "no internals leak to the caller")
}

func TestRequestIDsAndLogs(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	owner := uuid.NewString()
	r := e.doToken(http.MethodGet, "/v1/media/"+uuid.NewString(), e.issuer.IDToken(t, owner), nil, http.Header{"X-Request-Id": {"trace-123.abc"}})
	assert.Equal(t, "trace-123.abc", r.Header.Get("X-Request-Id"), "a caller's id is kept")
	_, id := r.Error(t)
	assert.Equal(t, "trace-123.abc", id)

	r = e.doToken(http.MethodGet, "/healthz", "", nil, http.Header{"X-Request-Id": {"bad id\" injected"}})
	_, err := uuid.Parse(r.Header.Get("X-Request-Id"))
	assert.NoError(t, err, "an unsafe id is replaced by a fresh one")

	var line map[string]any
	for _, l := range strings.Split(strings.TrimSpace(e.logs.String()), "\n") {
		require.NoError(t, json.Unmarshal([]byte(l), &line), "every log line is JSON: %s", l)
		if line["request_id"] == "trace-123.abc" {
			break
		}
	}
	assert.Equal(t, "request", line["msg"])
	assert.Equal(t, "trace-123.abc", line["request_id"])
	assert.Equal(t, float64(http.StatusNotFound), line["status"])
	assert.Equal(t, owner, line["owner"])
	assert.Equal(t, http.MethodGet, line["method"])
	assert.Contains(t, line, "duration_ms")
}

func TestConfigFromEnvironment(t *testing.T) {
	t.Parallel()
	base := map[string]string{
		"AWS_REGION": "eu-west-1", "ORIGINALS_BUCKET": "media-originals", "DERIVATIVES_BUCKET": "media-derivatives", "DB_SECRET_ARN": "arn:aws:secretsmanager:eu-west-1:1:secret:db",
		"DB_HOST": "db.internal", "DB_NAME": "media", "CDN_BASE_URL": "https://d1.cloudfront.net/", "JWT_ISSUER": "https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_abc",
		"JWT_AUDIENCE": "client-a, client-b",
	}
	load := func(change map[string]string) (api.Config, error) {
		env := map[string]string{}
		for k, v := range base {
			env[k] = v
		}
		for k, v := range change {
			env[k] = v
		}
		return api.LoadConfig(func(k string) string { return env[k] })
	}
	c, err := load(nil)
	require.NoError(t, err)
	assert.Equal(t, ":8080", c.ListenAddr)
	assert.Equal(t, 5432, c.DBPort)
	assert.Equal(t, "https://d1.cloudfront.net", c.CDNBaseURL)
	assert.Equal(t, []string{"client-a", "client-b"}, c.JWTAudiences)
	assert.Contains(t, c.AllowedContentTypes, "video/mp4")
	assert.False(t, c.SignsCDNURLs())
	assert.False(t, c.S3PathStyle)
	assert.Equal(t, int64(api.DefaultMultipartThreshold), c.MultipartThreshold)

	c, err = load(map[string]string{"CDN_KEY_PAIR_ID": "K1", "CDN_PRIVATE_KEY_SECRET_ARN": "arn:x", "DB_PORT": "6432", "UPLOAD_URL_TTL": "5m",
		"ALLOWED_CONTENT_TYPES": "video/mp4, Video/WebM", "AWS_ENDPOINT_URL": "https://127.0.0.1:4566", "LISTEN_ADDR": "127.0.0.1:9000"})
	require.NoError(t, err)
	assert.True(t, c.SignsCDNURLs())
	assert.Equal(t, 6432, c.DBPort)
	assert.Equal(t, 5*time.Minute, c.UploadURLTTL)
	assert.Equal(t, []string{"video/mp4", "video/webm"}, c.AllowedContentTypes)
	assert.True(t, c.S3PathStyle)

	for _, tc := range []struct {
		change map[string]string
		msgs   []string
	}{
		{map[string]string{"AWS_REGION": "", "DB_NAME": ""}, []string{"AWS_REGION: is required", "DB_NAME: is required"}},
		{map[string]string{"JWT_AUDIENCE": ""}, []string{"JWT_AUDIENCE: is required"}},
		{map[string]string{"DB_PORT": "70000"}, []string{"DB_PORT: must be an integer from 1 to 65535"}},
		{map[string]string{"CDN_BASE_URL": "d1.cloudfront.net"}, []string{"CDN_BASE_URL: must be an absolute http(s) URL"}},
		{map[string]string{"JWT_ISSUER": "ftp://x"}, []string{"JWT_ISSUER: must be an absolute http(s) URL"}},
		{map[string]string{"CDN_KEY_PAIR_ID": "K1"}, []string{"CDN_KEY_PAIR_ID: and CDN_PRIVATE_KEY_SECRET_ARN must be set together"}},
		{map[string]string{"ALLOWED_CONTENT_TYPES": "video/mp4,image/png"}, []string{`ALLOWED_CONTENT_TYPES: must list video/* media types such as video/mp4, got "image/png"`}},
		{map[string]string{"UPLOAD_URL_TTL": "forever"}, []string{"UPLOAD_URL_TTL: must be a duration"}},
		{map[string]string{"DERIVATIVES_BUCKET": ""}, []string{"DERIVATIVES_BUCKET: is required"}},
		{map[string]string{"DEFAULT_VISIBILITY": "friends"}, []string{`DEFAULT_VISIBILITY: must be private, unlisted or public, got "friends"`}},
		{map[string]string{"UPLOADS_PER_DAY": "-1", "COMMENTS_PER_MINUTE": "x"}, []string{"UPLOADS_PER_DAY: must be an integer from 0", "COMMENTS_PER_MINUTE: must be an integer from 0"}},
		{map[string]string{"PUBLIC_MAX_AGE": "2h"}, []string{"PUBLIC_MAX_AGE: must be a duration such as 15m from 1s to 1h0m0s"}},
		{map[string]string{"MULTIPART_PART_SIZE_BYTES": "1000"}, []string{"MULTIPART_PART_SIZE_BYTES: must be an integer from 5242880"}},
		{map[string]string{"MAX_UPLOAD_BYTES": "107374182400", "MULTIPART_PART_SIZE_BYTES": "5242880"}, []string{"need more than 10000 parts"}},
	} {
		_, err := load(tc.change)
		require.Error(t, err, "%v", tc.change)
		for _, m := range tc.msgs {
			assert.Contains(t, err.Error(), m)
		}
	}
}

// signedEnv is an environment whose server signs CDN URLs with key pair KTESTKEYPAIR,
// whose private key it returns.
func signedEnv(t *testing.T) (*env, *rsa.PrivateKey) {
	t.Helper()
	key := authtest.NewKey(t)
	signer, err := cdnsign.New("KTESTKEYPAIR", key)
	require.NoError(t, err)
	return newEnv(t, func(c *api.Config, d *api.Deps) { d.Signer = signer; c.CDNKeyPairID = "KTESTKEYPAIR" }), key
}
