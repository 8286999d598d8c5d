package transcode

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"sync"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/s3/transfermanager"
	tmtypes "github.com/aws/aws-sdk-go-v2/feature/s3/transfermanager/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"
	"golang.org/x/sync/errgroup"

	"github.com/mediastack/terraform-aws-mediastack/lambda-src/internal/objects"
)

// Transcoder turns an original in S3 into derivatives in S3. Files go through the local
// temp dir, streamed by the transfer manager, never held in memory whole.
type Transcoder struct {
	Transfer          *transfermanager.Client
	S3                S3API // removes and lists derivatives
	OriginalsBucket   string
	DerivativesBucket string
	StorageClass      string // of every derivative
	Options           Options
	TempDir           string // parent of each job's work dir; os.TempDir() when empty
}

// S3API is the part of the S3 client that removes and lists objects.
type S3API interface {
	objects.Client
	ListObjectsV2(ctx context.Context, in *s3.ListObjectsV2Input, optFns ...func(*s3.Options)) (*s3.ListObjectsV2Output, error)
}

// Job is one original to transcode.
type Job struct {
	MediaID   string
	Key       string // in the originals bucket
	SizeBytes int64  // as the upload notification says; 0 when unknown
}

// Rendition is an uploaded MP4.
type Rendition struct {
	Height, Width int
	Key           string
	Bytes         int64
}

// Result describes the uploaded derivatives; keys are in the derivatives bucket.
type Result struct {
	DurationS     float64
	Width, Height int // of the original as displayed
	Renditions    []Rendition
	HLSKey        string
	DASHKey       string
	PosterKey     string
	Thumbnails    ThumbnailKeys // zero when none were made
	Keys          []string      // every object written
	Warnings      []string      // what is missing from a result published all the same
}

// ThumbnailKeys are the uploaded scrubbing thumbnails.
type ThumbnailKeys struct {
	ThumbnailPlan
	TrackKey   string
	SpriteKeys []string
}

// Run downloads the original, encodes it in one pass and uploads the derivatives under
// "<media id>/". Its work dir is removed on every path.
func (t *Transcoder) Run(ctx context.Context, job Job) (Result, error) {
	d, err := t.Download(ctx, job)
	if err != nil {
		return Result{}, err
	}
	defer d.Close()
	return t.Encode(ctx, job, d)
}

// Original is a downloaded original in a work dir of its own, probed and planned.
type Original struct {
	Dir, Path string
	Plan      Plan
}

// Close removes the work dir.
func (o *Original) Close() { os.RemoveAll(o.Dir) }

// Download fetches the job's original into a new work dir and plans its encoding. Close it.
func (t *Transcoder) Download(ctx context.Context, job Job) (*Original, error) {
	if err := t.Options.Limits.CheckSize(job.SizeBytes); err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp(t.TempDir, "transcode-*")
	if err != nil {
		return nil, transient(fmt.Errorf("work dir: %w", err))
	}
	o := &Original{Dir: dir, Path: filepath.Join(dir, "original")}
	if err := t.download(ctx, job.Key, o.Path); err != nil {
		o.Close()
		return nil, err
	}
	if o.Plan, err = t.Options.PlanFile(ctx, o.Path); err != nil {
		o.Close()
		return nil, err
	}
	return o, nil
}

// Encode encodes a downloaded original in one pass and uploads every derivative.
func (t *Transcoder) Encode(ctx context.Context, job Job, orig *Original) (Result, error) {
	outDir := filepath.Join(orig.Dir, "out")
	part, err := t.Options.EncodeSpan(ctx, orig.Path, outDir, orig.Plan, orig.Plan.Whole(), true)
	if err != nil {
		return Result{}, inFullFolder(orig.Dir, err)
	}
	// The original is no longer needed; free its space before the uploads.
	os.Remove(orig.Path)
	out, err := t.Options.Assemble(ctx, outDir, orig.Plan, []Part{part})
	if err != nil {
		return Result{}, inFullFolder(orig.Dir, err)
	}
	prefix := job.MediaID + "/"
	if err := t.Upload(ctx, outDir, prefix, out.Files); err != nil {
		return Result{}, err
	}
	return result(prefix, out), nil
}

// EncodeChunk encodes one span of a downloaded original (the first with the whole audio)
// and uploads what it wrote under "<media id>/": its segments, which are the published
// ones, and its thumbnail tiles and poster, which the assembly uses.
func (t *Transcoder) EncodeChunk(ctx context.Context, job Job, orig *Original, span Span) (Part, error) {
	outDir := filepath.Join(orig.Dir, "out")
	part, err := t.Options.EncodeSpan(ctx, orig.Path, outDir, orig.Plan, span, span.Index == 0)
	if err != nil {
		return Part{}, inFullFolder(orig.Dir, err)
	}
	os.Remove(orig.Path)
	files := part.Files()
	if err := t.uploadAll(ctx, outDir, job.MediaID+"/", files); err != nil {
		return Part{}, err
	}
	return part, nil
}

// AssembleChunks joins the uploaded parts of a media's chunks: it downloads them, assembles
// them as a single pass would (playlists, MP4s by stream copy, sprite sheets) and uploads
// what assembly made, the master playlist last. The tiles stay for an assembly that must be
// done again; RemoveTiles removes them once the media is published.
func (t *Transcoder) AssembleChunks(ctx context.Context, job Job, parts []Part) (Result, error) {
	if len(parts) == 0 {
		return Result{}, fmt.Errorf("assemble: no chunk was encoded")
	}
	plan, err := t.Options.Plan(parts[0].Probe)
	if err != nil {
		return Result{}, err
	}
	dir, err := os.MkdirTemp(t.TempDir, "assemble-*")
	if err != nil {
		return Result{}, transient(fmt.Errorf("work dir: %w", err))
	}
	defer os.RemoveAll(dir)
	prefix := job.MediaID + "/"
	var chunkFiles []string
	for _, p := range parts {
		chunkFiles = append(chunkFiles, p.Files()...)
	}
	// Every chunk writes the same init segments: each is fetched once.
	slices.Sort(chunkFiles)
	chunkFiles = slices.Compact(chunkFiles)
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(8)
	for _, name := range chunkFiles {
		g.Go(func() error {
			_, err := t.getObject(gctx, t.DerivativesBucket, prefix+name, filepath.Join(dir, filepath.FromSlash(name)), prefix+name)
			return err
		})
	}
	if err := g.Wait(); err != nil {
		return Result{}, err
	}
	out, err := t.Options.Assemble(ctx, dir, plan, parts)
	if err != nil {
		return Result{}, inFullFolder(dir, err)
	}
	uploaded := map[string]bool{}
	for _, f := range chunkFiles {
		uploaded[f] = true
	}
	var made []string
	for _, f := range out.Files {
		if !uploaded[f] {
			made = append(made, f)
		}
	}
	if err := t.Upload(ctx, dir, prefix, made); err != nil {
		return Result{}, err
	}
	res := result(prefix, out)
	// The tiles were laid out on the sprite sheets and go once the media is published.
	res.Keys = slices.DeleteFunc(res.Keys, func(k string) bool { return strings.HasPrefix(k, prefix+thumbnailTiles+"/") })
	return res, nil
}

// RemoveTiles removes the thumbnail tiles that a media's chunks uploaded for its assembly.
func (t *Transcoder) RemoveTiles(ctx context.Context, mediaID string) error {
	if _, err := objects.Purge(ctx, t.S3, t.DerivativesBucket, mediaID+"/"+thumbnailTiles+"/", nil); err != nil {
		return fmt.Errorf("remove the thumbnail tiles: %w", err)
	}
	return nil
}

// Derivatives is what a check of a media's derivatives found: the objects under its prefix,
// and those of the named keys that are missing.
type Derivatives struct {
	Count   int
	Missing []string
}

// CheckDerivatives lists what the derivatives bucket holds of a media and which of named
// (the keys its record names: playlists, manifest, poster, renditions, thumbnails) are
// missing; the thumbnail tiles of a chunked transcode in flight are not counted.
func (t *Transcoder) CheckDerivatives(ctx context.Context, mediaID string, named []string) (Derivatives, error) {
	prefix := mediaID + "/"
	found := map[string]bool{}
	pages := s3.NewListObjectsV2Paginator(t.S3, &s3.ListObjectsV2Input{Bucket: &t.DerivativesBucket, Prefix: &prefix})
	for pages.HasMorePages() {
		page, err := pages.NextPage(ctx)
		if err != nil {
			return Derivatives{}, transient(fmt.Errorf("list the derivatives of %s: %w", mediaID, err))
		}
		for _, o := range page.Contents {
			if key := aws.ToString(o.Key); !strings.HasPrefix(key, prefix+thumbnailTiles+"/") {
				found[key] = true
			}
		}
	}
	d := Derivatives{Count: len(found)}
	for _, k := range named {
		if k != "" && !found[k] {
			d.Missing = append(d.Missing, k)
		}
	}
	return d, nil
}

// result describes what out published under prefix.
func result(prefix string, out Output) Result {
	res := Result{
		DurationS: out.Plan.Probe.DurationS,
		Width:     out.Plan.Probe.Width,
		Height:    out.Plan.Probe.Height,
		HLSKey:    prefix + MasterPlaylist,
		DASHKey:   prefix + DASHManifest,
		PosterKey: prefix + PosterName,
		Warnings:  out.Warnings,
	}
	if out.Thumbnails.Track != "" {
		res.Thumbnails = ThumbnailKeys{ThumbnailPlan: out.Thumbnails.ThumbnailPlan, TrackKey: prefix + out.Thumbnails.Track}
	}
	for _, s := range out.Thumbnails.Sprites {
		res.Thumbnails.SpriteKeys = append(res.Thumbnails.SpriteKeys, prefix+s)
	}
	for _, r := range out.Renditions {
		res.Renditions = append(res.Renditions, Rendition{Height: r.Height, Width: r.Width, Key: prefix + r.Name, Bytes: r.Bytes})
	}
	for _, f := range out.Files {
		res.Keys = append(res.Keys, prefix+f)
	}
	return res
}

func (t *Transcoder) download(ctx context.Context, key, dst string) error {
	size, err := t.getObject(ctx, t.OriginalsBucket, key, dst, "original")
	var noKey *s3types.NoSuchKey
	if errors.As(err, &noKey) {
		return permanentf("original %s no longer exists", key)
	}
	if err != nil {
		return err
	}
	return t.Options.Limits.CheckSize(size)
}

// Upload puts files (relative to dir) under prefix, all but the last concurrently, then the
// last: the master playlist, so that it never names what is not there yet.
func (t *Transcoder) Upload(ctx context.Context, dir, prefix string, files []string) error {
	if err := t.uploadAll(ctx, dir, prefix, files[:len(files)-1]); err != nil {
		return err
	}
	return t.put(ctx, dir, prefix, files[len(files)-1])
}

// uploadAll puts files (relative to dir) under prefix, concurrently.
func (t *Transcoder) uploadAll(ctx context.Context, dir, prefix string, files []string) error {
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(4)
	for _, name := range files {
		g.Go(func() error { return t.put(gctx, dir, prefix, name) })
	}
	return g.Wait()
}

// getObject downloads an object to dst, making its folder if need be, and returns its size;
// what names it in errors, which are all transient.
func (t *Transcoder) getObject(ctx context.Context, bucket, key, dst, what string) (int64, error) {
	if err := os.MkdirAll(filepath.Dir(dst), 0o750); err != nil {
		return 0, transient(err)
	}
	f, err := os.Create(dst) //nolint:gosec // a file of the job's own work directory
	if err != nil {
		return 0, transient(fmt.Errorf("create %s: %w", filepath.Base(dst), err))
	}
	defer f.Close()
	w := &firstWriteError{f: f}
	out, err := t.Transfer.DownloadObject(ctx, &transfermanager.DownloadObjectInput{Bucket: &bucket, Key: &key, WriterAt: w})
	if err != nil {
		if werr := w.first(); werr != nil { // the file's own error: the transfer manager keeps only its text
			err = werr
		}
		return 0, transient(fmt.Errorf("download %s: %w", what, err))
	}
	if err := f.Close(); err != nil {
		return 0, transient(fmt.Errorf("write %s: %w", what, err))
	}
	return aws.ToInt64(out.ContentLength), nil
}

// firstWriteError is a file that remembers its first failed write (a full disk), which the
// transfer manager reports as text only.
type firstWriteError struct {
	f   *os.File
	mu  sync.Mutex
	err error
}

func (w *firstWriteError) WriteAt(p []byte, off int64) (int, error) {
	n, err := w.f.WriteAt(p, off)
	if err != nil {
		w.mu.Lock()
		if w.err == nil {
			w.err = err
		}
		w.mu.Unlock()
	}
	return n, err
}

func (w *firstWriteError) first() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.err
}

func (t *Transcoder) put(ctx context.Context, dir, prefix, name string) error {
	f, err := os.Open(filepath.Join(dir, filepath.FromSlash(name))) //nolint:gosec // a file of the job's own work directory
	if err != nil {
		return transient(err)
	}
	defer f.Close()
	contentType, cacheControl := objectHeaders(name)
	key := prefix + name
	_, err = t.Transfer.UploadObject(ctx, &transfermanager.UploadObjectInput{
		Bucket:       &t.DerivativesBucket,
		Key:          &key,
		Body:         f,
		ContentType:  &contentType,
		CacheControl: &cacheControl,
		StorageClass: tmtypes.StorageClass(t.StorageClass),
	})
	if err != nil {
		return transient(fmt.Errorf("upload %s: %w", key, err))
	}
	return nil
}

// RemoveMedia deletes every derivative of a media (one deleted while it was transcoded):
// everything under "<media id>/", so that a retry after a partial failure finishes the job.
func (t *Transcoder) RemoveMedia(ctx context.Context, mediaID string) error {
	if _, err := objects.Purge(ctx, t.S3, t.DerivativesBucket, mediaID+"/", nil); err != nil {
		return transient(fmt.Errorf("remove derivatives: %w", err))
	}
	return nil
}

// RemoveOriginal deletes every version of an original (of a media deleted before its
// upload arrived).
func (t *Transcoder) RemoveOriginal(ctx context.Context, key string) error {
	if _, err := objects.PurgeKey(ctx, t.S3, t.OriginalsBucket, key); err != nil {
		return transient(fmt.Errorf("remove the original: %w", err))
	}
	return nil
}

// Cache lifetimes: a derivative never changes under its media id, so media files are
// immutable; playlists get a short lifetime, so that a corrected one reaches players.
const (
	cacheImmutable = "public, max-age=31536000, immutable"
	cachePlaylist  = "public, max-age=300"
)

// objectHeaders returns the Content-Type and Cache-Control of a derivative. Explicit, not
// from the system's MIME table, which calls .ts a translation file on some systems.
func objectHeaders(name string) (contentType, cacheControl string) {
	switch strings.ToLower(path.Ext(name)) {
	case ".mp4":
		return "video/mp4", cacheImmutable
	case ".m4s":
		return "video/iso.segment", cacheImmutable // RFC 8216's CMAF segment type
	case ".m3u8":
		return "application/vnd.apple.mpegurl", cachePlaylist
	case ".mpd":
		return "application/dash+xml", cachePlaylist
	case ".jpg", ".jpeg":
		return "image/jpeg", cacheImmutable
	case ".vtt":
		return "text/vtt", cacheImmutable
	}
	return "application/octet-stream", cacheImmutable
}
