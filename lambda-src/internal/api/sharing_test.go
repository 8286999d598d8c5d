package api_test

import (
	"context"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudfront"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	"github.com/google/uuid"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mediastack/terraform-aws-mediastack/lambda-src/internal/api"
	"github.com/mediastack/terraform-aws-mediastack/lambda-src/internal/store"
)

// share uploads a media of owner with visibility through the API and, as the transcoder
// would, makes it ready.
func share(t *testing.T, e *env, owner, visibility string) string {
	t.Helper()
	ctx := context.Background()
	r := e.do(http.MethodPost, "/v1/uploads", owner, map[string]any{
		"filename": "clip.mp4", "content_type": "video/mp4", "size_bytes": 100, "title": visibility + " clip",
		"description": "what " + owner + " filmed", "visibility": visibility,
	})
	require.Equal(t, http.StatusCreated, r.Status, "body: %s", r.Body)
	var up api.CreateUploadResponse
	r.JSON(t, &up)
	claim, err := e.store.Claim(ctx, store.ClaimRequest{ID: up.MediaID, Owner: owner, OriginalKey: api.OriginalKey(owner, up.MediaID), SizeBytes: 100}, time.Minute)
	require.NoError(t, err)
	_, err = e.store.MarkReady(ctx, claim, store.Result{DurationS: 3, Width: 854, Height: 480,
		Renditions: []store.Rendition{{Height: 480, Width: 854, Key: up.MediaID + "/480p.mp4", Bytes: 1000}},
		HLSKey:     up.MediaID + "/hls/master.m3u8", PosterKey: up.MediaID + "/poster.jpg"})
	require.NoError(t, err)
	require.NoError(t, e.store.MarkNotified(ctx, claim))
	return up.MediaID
}

func TestViewersSeeReadySharedMedia(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	alice, bob := uuid.NewString(), uuid.NewString()
	public, unlisted, private := share(t, e, alice, "public"), share(t, e, alice, "unlisted"), share(t, e, alice, "private")
	pending := e.createUpload(alice, "later.mp4", 100).MediaID

	for _, viewer := range []string{bob, ""} {
		for _, id := range []string{public, unlisted} {
			r := e.do(http.MethodGet, "/v1/media/"+id, viewer, nil)
			require.Equal(t, http.StatusOK, r.Status, "body: %s", r.Body)
			var v api.ViewResponse
			r.JSON(t, &v)
			assert.Equal(t, id, v.MediaID)
			assert.Equal(t, "what "+alice+" filmed", v.Description)
			assert.Len(t, v.Renditions, 1)
			require.NotNil(t, v.HLSURL)
			for _, ownerOnly := range []string{"error", "filename", "status", "uploader_email", "size_bytes"} {
				assert.NotContains(t, string(r.Body), `"`+ownerOnly+`"`, "a viewer view has no %s", ownerOnly)
			}
			assert.Contains(t, r.Header.Values("Vary"), "Authorization")
			if viewer == "" {
				assert.Equal(t, "public, max-age=30", r.Header.Get("Cache-Control"), "anonymous reads are cacheable at the edge")
			} else {
				assert.Equal(t, "private, no-store", r.Header.Get("Cache-Control"), "a token holder's answer is never stored")
			}
		}
		missing := uuid.NewString()
		none := e.do(http.MethodGet, "/v1/media/"+missing, viewer, nil)
		noneMsg, _ := none.Error(t)
		for _, id := range []string{private, pending} {
			r := e.do(http.MethodGet, "/v1/media/"+id, viewer, nil)
			assert.Equal(t, http.StatusNotFound, r.Status)
			msg, _ := r.Error(t)
			assert.Equal(t, strings.Replace(noneMsg, missing, id, 1), msg, "a private or unready media looks like none")
		}
	}

	r := e.do(http.MethodGet, "/v1/media/"+private, alice, nil)
	require.Equal(t, http.StatusOK, r.Status)
	var own api.MediaResponse
	r.JSON(t, &own)
	assert.Equal(t, store.StatusReady, own.Status, "the owner sees everything")
	assert.Equal(t, store.VisibilityPrivate, own.Visibility)
	assert.Equal(t, "clip.mp4", own.Filename)
	assert.Nil(t, own.PublishedAt, "never in the feed")

	claims := e.issuer.Claims(alice)
	claims["email"] = "alice@example.com"
	token := e.issuer.Sign(t, claims)
	r = e.doToken(http.MethodPost, "/v1/uploads", token, map[string]any{"filename": "b.mp4", "content_type": "video/mp4", "size_bytes": 100}, nil)
	require.Equal(t, http.StatusCreated, r.Status, "body: %s", r.Body)
	var up struct {
		MediaID string `json:"media_id"`
	}
	r.JSON(t, &up)
	r = e.doToken(http.MethodGet, "/v1/media/"+up.MediaID, token, nil, nil)
	r.JSON(t, &own)
	assert.Equal(t, "alice@example.com", own.UploaderEmail, "the owner sees where outcome emails go: the address in the token at upload")
}

func TestUploadsTakeVisibilityAndDescription(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	owner := uuid.NewString()
	base := map[string]any{"filename": "a.mp4", "content_type": "video/mp4", "size_bytes": 100}
	with := func(k string, v any) map[string]any {
		m := map[string]any{k: v}
		for kk, vv := range base {
			m[kk] = vv
		}
		return m
	}
	for name, tc := range map[string]struct {
		body map[string]any
		msg  string
	}{
		"unknown visibility":   {with("visibility", "friends"), `visibility must be private, unlisted or public, got "friends"`},
		"too long description": {with("description", strings.Repeat("é", 5001)), "description must be 0 to 5000 characters, got 5001"},
		"control characters":   {with("description", "bell\a"), "description must not hold control characters"},
	} {
		r := e.do(http.MethodPost, "/v1/uploads", owner, tc.body)
		assert.Equal(t, http.StatusBadRequest, r.Status, name)
		msg, _ := r.Error(t)
		assert.Contains(t, msg, tc.msg, name)
	}
	r := e.do(http.MethodPost, "/v1/uploads", owner, with("description", "line one\nline two"))
	require.Equal(t, http.StatusCreated, r.Status, "body: %s", r.Body)
	var up api.CreateUploadResponse
	r.JSON(t, &up)
	m, err := e.store.GetForOwner(context.Background(), owner, up.MediaID)
	require.NoError(t, err)
	assert.Equal(t, store.VisibilityPrivate, m.Visibility, "private unless asked")
	assert.Equal(t, "line one\nline two", m.Description)
}

func TestFeedListsPublicMediaNewestFirst(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	alice, bob := uuid.NewString(), uuid.NewString()
	var want []string
	for range 3 {
		want = append([]string{share(t, e, alice, "public")}, want...)
	}
	share(t, e, alice, "unlisted")
	share(t, e, alice, "private")
	require.Equal(t, http.StatusNoContent, e.do(http.MethodPut, "/v1/media/"+want[0]+"/like", bob, nil).Status)

	var got []string
	cursor := ""
	for pages := 0; ; pages++ {
		require.Less(t, pages, 5)
		r := e.do(http.MethodGet, "/v1/feed?limit=2&cursor="+cursor, "", nil)
		require.Equal(t, http.StatusOK, r.Status, "body: %s", r.Body)
		assert.Equal(t, "public, max-age=30", r.Header.Get("Cache-Control"))
		var page api.FeedResponse
		r.JSON(t, &page)
		for _, it := range page.Items {
			got = append(got, it.MediaID)
			assert.Nil(t, it.LikedByMe, "no liked_by_me without a token")
		}
		if page.NextCursor == nil {
			break
		}
		cursor = *page.NextCursor
	}
	assert.Equal(t, want, got)

	r := e.do(http.MethodGet, "/v1/feed", bob, nil)
	require.Equal(t, http.StatusOK, r.Status)
	var page api.FeedResponse
	r.JSON(t, &page)
	require.Len(t, page.Items, 3)
	require.NotNil(t, page.Items[0].LikedByMe)
	assert.True(t, *page.Items[0].LikedByMe)
	assert.Equal(t, 1, page.Items[0].Likes)
	assert.False(t, *page.Items[1].LikedByMe)

	for _, q := range []string{"limit=0", "limit=101", "limit=x", "cursor=nope"} {
		r := e.do(http.MethodGet, "/v1/feed?"+q, "", nil)
		assert.Equal(t, http.StatusBadRequest, r.Status, q)
	}
}

func TestOwnersEditTheirMedia(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	alice, bob := uuid.NewString(), uuid.NewString()
	id := share(t, e, alice, "private")

	r := e.do(http.MethodPatch, "/v1/media/"+id, alice, map[string]any{"title": "Sunset", "description": "From the pier.", "visibility": "public"})
	require.Equal(t, http.StatusOK, r.Status, "body: %s", r.Body)
	var m api.MediaResponse
	r.JSON(t, &m)
	assert.Equal(t, "Sunset", m.Title)
	assert.Equal(t, "From the pier.", m.Description)
	assert.Equal(t, store.VisibilityPublic, m.Visibility)
	r = e.do(http.MethodGet, "/v1/feed", "", nil)
	var feed api.FeedResponse
	r.JSON(t, &feed)
	require.Len(t, feed.Items, 1, "made public, it is in the feed")
	assert.Equal(t, id, feed.Items[0].MediaID)

	for name, tc := range map[string]struct {
		body any
		msg  string
	}{
		"bad visibility": {map[string]any{"visibility": "everyone"}, "visibility must be"},
		"empty title":    {map[string]any{"title": "  "}, "title must be 1 to 200 characters"},
		"long title":     {map[string]any{"title": strings.Repeat("a", 201)}, "title must be 1 to 200 characters"},
		"long text":      {map[string]any{"description": strings.Repeat("a", 5001)}, "description must be 0 to 5000"},
		"nothing":        {map[string]any{}, "send at least one of title, description and visibility"},
		"wrong type":     {map[string]any{"title": 5}, `field "title" must be a string`},
	} {
		r := e.do(http.MethodPatch, "/v1/media/"+id, alice, tc.body)
		assert.Equal(t, http.StatusBadRequest, r.Status, name)
		msg, _ := r.Error(t)
		assert.Contains(t, msg, tc.msg, name)
	}
	r = e.do(http.MethodPatch, "/v1/media/"+id, bob, map[string]any{"title": "mine now"})
	assert.Equal(t, http.StatusNotFound, r.Status, "only the owner edits")
}

func TestLikesAreOnePerUserUnderConcurrency(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	alice := uuid.NewString()
	id := share(t, e, alice, "unlisted")
	users := []string{uuid.NewString(), uuid.NewString(), uuid.NewString(), uuid.NewString(), uuid.NewString()}
	var wg sync.WaitGroup
	statuses := make([]int, 15)
	for i := range statuses {
		wg.Go(func() { statuses[i] = e.do(http.MethodPut, "/v1/media/"+id+"/like", users[i%len(users)], nil).Status })
	}
	wg.Wait()
	for _, st := range statuses {
		assert.Equal(t, http.StatusNoContent, st)
	}
	likes := func() int {
		var v api.ViewResponse
		e.do(http.MethodGet, "/v1/media/"+id, "", nil).JSON(t, &v)
		return v.Likes
	}
	assert.Equal(t, 5, likes(), "five users, three likes each: five likes")
	assert.Equal(t, http.StatusNoContent, e.do(http.MethodDelete, "/v1/media/"+id+"/like", users[0], nil).Status)
	assert.Equal(t, http.StatusNoContent, e.do(http.MethodDelete, "/v1/media/"+id+"/like", users[0], nil).Status, "idempotent")
	assert.Equal(t, 4, likes())

	private := share(t, e, alice, "private")
	assert.Equal(t, http.StatusNotFound, e.do(http.MethodPut, "/v1/media/"+private+"/like", users[0], nil).Status)
}

func TestComments(t *testing.T) {
	t.Parallel()
	e := newEnv(t, func(c *api.Config, _ *api.Deps) { c.CommentsPerMinute = 3 })
	alice, bob, carol := uuid.NewString(), uuid.NewString(), uuid.NewString()
	id := share(t, e, alice, "public")

	var made []api.CommentResponse
	for i, author := range []string{bob, bob, carol} {
		r := e.do(http.MethodPost, "/v1/media/"+id+"/comments", author, map[string]any{"text": "comment " + strconv.Itoa(i)})
		require.Equal(t, http.StatusCreated, r.Status, "body: %s", r.Body)
		var c api.CommentResponse
		r.JSON(t, &c)
		assert.Equal(t, id, c.MediaID)
		assert.Equal(t, author, c.Author)
		assert.Equal(t, "comment "+strconv.Itoa(i), c.Text)
		assert.WithinDuration(t, time.Now(), c.CreatedAt, time.Minute)
		made = append(made, c)
	}
	for name, text := range map[string]string{"empty": "", "too long": strings.Repeat("x", 2001), "control": "null\x00"} {
		r := e.do(http.MethodPost, "/v1/media/"+id+"/comments", carol, map[string]any{"text": text})
		assert.Equal(t, http.StatusBadRequest, r.Status, name)
	}

	r := e.do(http.MethodGet, "/v1/media/"+id+"/comments?limit=2", "", nil)
	require.Equal(t, http.StatusOK, r.Status)
	var page api.CommentListResponse
	r.JSON(t, &page)
	require.Len(t, page.Items, 2)
	assert.Equal(t, made[0].ID, page.Items[0].ID, "oldest first")
	require.NotNil(t, page.NextCursor)

	assert.Equal(t, http.StatusNotFound, e.do(http.MethodDelete, "/v1/media/"+id+"/comments/"+made[0].ID, carol, nil).Status, "not carol's")
	assert.Equal(t, http.StatusNoContent, e.do(http.MethodDelete, "/v1/media/"+id+"/comments/"+made[0].ID, bob, nil).Status, "the author")
	assert.Equal(t, http.StatusNoContent, e.do(http.MethodDelete, "/v1/media/"+id+"/comments/"+made[2].ID, alice, nil).Status, "the owner")
	assert.Equal(t, http.StatusNotFound, e.do(http.MethodDelete, "/v1/media/"+id+"/comments/"+made[2].ID, alice, nil).Status, "gone")

	// Bob wrote two in the last minute, one of them deleted; carol's limit is full.
	r = e.do(http.MethodPost, "/v1/media/"+id+"/comments", bob, map[string]any{"text": "again"})
	assert.Equal(t, http.StatusCreated, r.Status, "a deleted comment gives its place back")
	r = e.do(http.MethodPost, "/v1/media/"+id+"/comments", bob, map[string]any{"text": "and again"})
	assert.Equal(t, http.StatusCreated, r.Status)
	r = e.do(http.MethodPost, "/v1/media/"+id+"/comments", bob, map[string]any{"text": "one too many"})
	assert.Equal(t, http.StatusTooManyRequests, r.Status)
	msg, _ := r.Error(t)
	assert.Contains(t, msg, "limit of 3 comments per minute")
	wait, err := strconv.Atoi(r.Header.Get("Retry-After"))
	require.NoError(t, err)
	assert.True(t, wait >= 1 && wait <= 60, "Retry-After %d s: when the oldest leaves the minute", wait)

	private := share(t, e, alice, "private")
	assert.Equal(t, http.StatusNotFound, e.do(http.MethodPost, "/v1/media/"+private+"/comments", carol, map[string]any{"text": "hi"}).Status)
	assert.Equal(t, http.StatusNotFound, e.do(http.MethodGet, "/v1/media/"+private+"/comments", carol, nil).Status)
}

func TestUploadsPerDayAreLimited(t *testing.T) {
	t.Parallel()
	e := newEnv(t, func(c *api.Config, _ *api.Deps) { c.UploadsPerDay = 2 })
	owner := uuid.NewString()
	e.createUpload(owner, "a.mp4", 100)
	e.createUpload(owner, "b.mp4", 100)
	r := e.do(http.MethodPost, "/v1/uploads", owner, map[string]any{"filename": "c.mp4", "content_type": "video/mp4", "size_bytes": 100})
	assert.Equal(t, http.StatusTooManyRequests, r.Status)
	msg, _ := r.Error(t)
	assert.Contains(t, msg, "limit of 2 uploads per day")
	wait, err := strconv.Atoi(r.Header.Get("Retry-After"))
	require.NoError(t, err)
	assert.InDelta(t, (24 * time.Hour).Seconds(), float64(wait), 120)
	e.createUpload(uuid.NewString(), "d.mp4", 100) // another user is not limited by it
}

// recorder keeps the CloudFront invalidations and SNS messages the API sends.
type recorder struct {
	mu            sync.Mutex
	invalidations []*cloudfront.CreateInvalidationInput
	published     []*sns.PublishInput
}

func (r *recorder) CreateInvalidation(_ context.Context, in *cloudfront.CreateInvalidationInput, _ ...func(*cloudfront.Options)) (*cloudfront.CreateInvalidationOutput, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.invalidations = append(r.invalidations, in)
	return &cloudfront.CreateInvalidationOutput{}, nil
}

func (r *recorder) Publish(_ context.Context, in *sns.PublishInput, _ ...func(*sns.Options)) (*sns.PublishOutput, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.published = append(r.published, in)
	return &sns.PublishOutput{}, nil
}

func TestDeleteRemovesEverything(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	rec := &recorder{}
	e := newEnv(t, func(c *api.Config, d *api.Deps) {
		c.CDNDistributionID, c.TopicARN = "E2EXAMPLE", "arn:aws:sns:us-east-1:123456789012:media-events"
		d.CDN, d.Events = rec, rec
	})
	alice, bob := uuid.NewString(), uuid.NewString()
	id := share(t, e, alice, "public")
	key := api.OriginalKey(alice, id)
	for _, body := range []string{"first", "second"} { // two versions of the original
		_, err := e.s3.PutObject(ctx, &s3.PutObjectInput{Bucket: &e.cfg.OriginalsBucket, Key: &key, Body: strings.NewReader(body)})
		require.NoError(t, err)
	}
	for _, name := range []string{"480p.mp4", "hls/master.m3u8", "poster.jpg"} {
		_, err := e.s3.PutObject(ctx, &s3.PutObjectInput{Bucket: &e.cfg.DerivativesBucket, Key: aws.String(id + "/" + name), Body: strings.NewReader(name)})
		require.NoError(t, err)
	}
	_, err := e.s3.CreateMultipartUpload(ctx, &s3.CreateMultipartUploadInput{Bucket: &e.cfg.OriginalsBucket, Key: &key})
	require.NoError(t, err, "an upload still in progress")
	other := share(t, e, alice, "public") // untouched by the deletion
	_, err = e.s3.PutObject(ctx, &s3.PutObjectInput{Bucket: &e.cfg.DerivativesBucket, Key: aws.String(other + "/480p.mp4"), Body: strings.NewReader("x")})
	require.NoError(t, err)
	require.Equal(t, http.StatusNoContent, e.do(http.MethodPut, "/v1/media/"+id+"/like", bob, nil).Status)
	require.Equal(t, http.StatusCreated, e.do(http.MethodPost, "/v1/media/"+id+"/comments", bob, map[string]any{"text": "nice"}).Status)

	assert.Equal(t, http.StatusNotFound, e.do(http.MethodDelete, "/v1/media/"+id, bob, nil).Status, "only the owner deletes")
	r := e.do(http.MethodDelete, "/v1/media/"+id, alice, nil)
	require.Equal(t, http.StatusNoContent, r.Status, "body: %s", r.Body)

	versions, err := e.s3.ListObjectVersions(ctx, &s3.ListObjectVersionsInput{Bucket: &e.cfg.OriginalsBucket, Prefix: &key})
	require.NoError(t, err)
	assert.Empty(t, versions.Versions, "no version of the original is left")
	assert.Empty(t, versions.DeleteMarkers)
	uploads, err := e.s3.ListMultipartUploads(ctx, &s3.ListMultipartUploadsInput{Bucket: &e.cfg.OriginalsBucket, Prefix: &key})
	require.NoError(t, err)
	assert.Empty(t, uploads.Uploads, "nor an upload in progress that could bring it back")
	left, err := e.s3.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: &e.cfg.DerivativesBucket})
	require.NoError(t, err)
	require.Len(t, left.Contents, 1, "only the other media's derivative is left")
	assert.Equal(t, other+"/480p.mp4", aws.ToString(left.Contents[0].Key))
	require.Len(t, rec.invalidations, 1)
	assert.Equal(t, "E2EXAMPLE", aws.ToString(rec.invalidations[0].DistributionId))
	assert.Equal(t, []string{"/" + id + "/*"}, rec.invalidations[0].InvalidationBatch.Paths.Items)
	require.Len(t, rec.published, 1)
	assert.JSONEq(t, `{"media_id":"`+id+`","owner":"`+alice+`","status":"deleted"}`, aws.ToString(rec.published[0].Message))
	assert.Equal(t, "deleted", aws.ToString(rec.published[0].MessageAttributes["status"].StringValue))

	for _, viewer := range []string{alice, bob, ""} {
		assert.Equal(t, http.StatusNotFound, e.do(http.MethodGet, "/v1/media/"+id, viewer, nil).Status)
	}
	var feed api.FeedResponse
	e.do(http.MethodGet, "/v1/feed", "", nil).JSON(t, &feed)
	require.Len(t, feed.Items, 1)
	assert.Equal(t, other, feed.Items[0].MediaID)

	r = e.do(http.MethodDelete, "/v1/media/"+id, alice, nil)
	assert.Equal(t, http.StatusNoContent, r.Status, "idempotent")
	assert.Len(t, rec.published, 1, "announced once")
	assert.Len(t, rec.invalidations, 2, "the cleanup runs again")
	assert.Equal(t, http.StatusNotFound, e.do(http.MethodDelete, "/v1/media/"+uuid.NewString(), alice, nil).Status)
}

func TestOpenAPIDocumentIsServed(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	r := e.do(http.MethodGet, "/v1/openapi.json", "", nil)
	require.Equal(t, http.StatusOK, r.Status)
	assert.Equal(t, api.OpenAPI, r.Body, "the document the tests validate against, as kept in the repository")
	var doc struct {
		OpenAPI string                    `json:"openapi"`
		Paths   map[string]map[string]any `json:"paths"`
	}
	r.JSON(t, &doc)
	assert.Equal(t, "3.1.0", doc.OpenAPI)
	for path, methods := range map[string][]string{
		"/v1/uploads": {"post"}, "/v1/uploads/{id}/complete": {"post"}, "/v1/media": {"get"},
		"/v1/media/{id}": {"get", "patch", "delete"}, "/v1/media/{id}/like": {"put", "delete"},
		"/v1/media/{id}/comments": {"get", "post"}, "/v1/media/{id}/comments/{comment_id}": {"delete"}, "/v1/feed": {"get"},
	} {
		for _, m := range methods {
			assert.Contains(t, doc.Paths[path], m, "%s %s is documented", m, path)
		}
	}
}

func TestCORSForConfiguredOrigins(t *testing.T) {
	t.Parallel()
	e := newEnv(t, func(c *api.Config, _ *api.Deps) { c.CORSAllowedOrigins = []string{"https://app.example.com"} })
	preflight := func(origin string) response {
		return e.doToken(http.MethodOptions, "/v1/media/"+uuid.NewString(), "", nil, http.Header{
			"Origin": {origin}, "Access-Control-Request-Method": {"PATCH"}, "Access-Control-Request-Headers": {"authorization, content-type"},
		})
	}
	r := preflight("https://app.example.com")
	assert.Equal(t, http.StatusNoContent, r.Status)
	assert.Equal(t, "https://app.example.com", r.Header.Get("Access-Control-Allow-Origin"), "the origin is named, never *")
	assert.Contains(t, r.Header.Get("Access-Control-Allow-Headers"), "Authorization")
	assert.Contains(t, r.Header.Get("Access-Control-Allow-Methods"), "PATCH")
	assert.Empty(t, r.Header.Get("Access-Control-Allow-Credentials"), "tokens are headers, not cookies")

	r = preflight("https://evil.example.com")
	assert.Equal(t, http.StatusForbidden, r.Status)
	assert.Empty(t, r.Header.Get("Access-Control-Allow-Origin"))

	r = e.doToken(http.MethodGet, "/v1/feed", "", nil, http.Header{"Origin": {"https://app.example.com"}})
	assert.Equal(t, http.StatusOK, r.Status)
	assert.Equal(t, "https://app.example.com", r.Header.Get("Access-Control-Allow-Origin"))
	assert.Contains(t, r.Header.Get("Access-Control-Expose-Headers"), "X-Request-Id")
	assert.Contains(t, r.Header.Values("Vary"), "Origin")
	r = e.doToken(http.MethodGet, "/v1/feed", "", nil, http.Header{"Origin": {"https://evil.example.com"}})
	assert.Empty(t, r.Header.Get("Access-Control-Allow-Origin"), "another origin's page cannot read the answer")

	_, err := api.LoadConfig(func(k string) string {
		return map[string]string{"AWS_REGION": "r", "ORIGINALS_BUCKET": "o", "DERIVATIVES_BUCKET": "d", "DB_SECRET_ARN": "s", "DB_HOST": "h",
			"DB_NAME": "n", "CDN_BASE_URL": "https://c", "JWT_ISSUER": "https://i", "JWT_AUDIENCE": "a", "CORS_ALLOWED_ORIGINS": "https://ok.example.com, *"}[k]
	})
	assert.ErrorContains(t, err, `CORS_ALLOWED_ORIGINS: must list origins such as https://app.example.com (scheme and host, no path; never *), got "*"`)
}
