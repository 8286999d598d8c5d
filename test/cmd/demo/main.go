// Command demo deploys the root stack on the local emulator and follows an upload through
// it, printing each stage with its timing; then it tears everything down, or with -keep
// waits for Ctrl-C first. It is what `make demo` runs.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"syscall"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/hashicorp/terraform-exec/tfexec"

	"github.com/mediastack/terraform-aws-mediastack/test/emulator"
	"github.com/mediastack/terraform-aws-mediastack/test/procs"
	"github.com/mediastack/terraform-aws-mediastack/test/target"
)

func main() {
	keep := flag.Bool("keep", false, "keep the stack up until Ctrl-C instead of tearing it down at once")
	flag.Parse()

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, *keep); err != nil {
		fmt.Fprintf(os.Stderr, "demo: %v\n", err)
		os.Exit(1)
	}
}

// stackVars are the root stack's variables on the local target: the built artifacts, and
// plain HTTP at the load balancer, since the local cloud has no certificate authority AWS
// trusts.
func stackVars(root, dir string, tg *target.Target) ([]*tfexec.VarOption, error) {
	extra := map[string]any{"allow_plain_http": true}
	for variable, artifact := range map[string]string{"upload_api_zip_path": "upload-api.zip", "transcoder_zip_path": "transcoder.zip"} {
		path := filepath.Join(root, "build", artifact)
		if _, err := os.Stat(path); err != nil {
			return nil, fmt.Errorf("%s is missing: run scripts/setup (or make setup) to build it", path)
		}
		extra[variable] = path
	}
	vars, err := tg.Vars(dir, extra)
	if err != nil {
		return nil, err
	}
	return target.VarOptions(vars)
}

// stage prints a stage's name, runs it, and prints how long it took.
func stage(name string, fn func() error) error {
	fmt.Printf("==> %s\n", name)
	start := time.Now()
	if err := fn(); err != nil {
		return fmt.Errorf("%s: %w", name, err)
	}
	fmt.Printf("    done in %s\n", time.Since(start).Round(100*time.Millisecond))
	return nil
}

func run(ctx context.Context, keep bool) (err error) {
	root, err := target.RepoRoot()
	if err != nil {
		return err
	}
	cliConfig, err := target.CLIConfigFile(root)
	if err != nil {
		return err
	}

	var emu *emulator.Emulator
	if err := stage("start the local AWS emulator", func() error {
		emu, err = emulator.Start(ctx, emulator.Options{})
		return err
	}); err != nil {
		return err
	}
	defer func() { err = errors.Join(err, emu.Stop()) }()
	fmt.Printf("    %s\n", emu.URL())

	ns, err := emu.NewNamespace(ctx)
	if err != nil {
		return err
	}
	tg, err := target.NewLocal(ctx, ns)
	if err != nil {
		return err
	}
	work, removeWork, err := procs.MkdirTemp("mediastack-demo-*")
	if err != nil {
		return err
	}
	defer func() { err = errors.Join(err, removeWork()) }()
	dir, err := tg.PrepareFolder(root, work, ".")
	if err != nil {
		return err
	}
	tf, err := tg.TfexecIn(dir, cliConfig)
	if err != nil {
		return err
	}
	vars, err := stackVars(root, dir, tg)
	if err != nil {
		return err
	}
	applyOpts := []tfexec.ApplyOption{tfexec.Parallelism(20)}
	destroyOpts := []tfexec.DestroyOption{tfexec.Parallelism(20)}
	for _, v := range vars {
		applyOpts = append(applyOpts, v)
		destroyOpts = append(destroyOpts, v)
	}

	if err := stage("terraform apply (the root stack)", func() error {
		if err := tf.Init(ctx, tfexec.Backend(false)); err != nil {
			return err
		}
		return tf.Apply(ctx, applyOpts...)
	}); err != nil {
		return err
	}
	defer func() {
		destroyErr := stage("terraform destroy", func() error {
			return tf.Destroy(context.WithoutCancel(ctx), destroyOpts...)
		})
		err = errors.Join(err, destroyErr)
	}()

	outputs, err := tf.Output(ctx)
	if err != nil {
		return err
	}
	var regions map[string]struct {
		OriginalsBucketID   string `json:"originals_bucket_id"`
		DerivativesBucketID string `json:"derivatives_bucket_id"`
	}
	if err := json.Unmarshal(outputs["regions"].Value, &regions); err != nil {
		return fmt.Errorf("read outputs: %w", err)
	}
	originals, derivatives := regions[tg.Region].OriginalsBucketID, regions[tg.Region].DerivativesBucketID
	fmt.Printf("    originals:   s3://%s\n    derivatives: s3://%s\n", originals, derivatives)

	clip := filepath.Join(work, "clip.mp4")
	if err := stage("make a 3-second test video with ffmpeg", func() error {
		out, err := exec.CommandContext(ctx, "ffmpeg", "-hide_banner", "-loglevel", "error", "-f", "lavfi",
			"-i", "testsrc2=size=1280x720:rate=30:duration=3", "-f", "lavfi", "-i", "sine=frequency=440:duration=3",
			"-c:v", "libx264", "-pix_fmt", "yuv420p", "-c:a", "aac", "-shortest", "-y", clip).CombinedOutput()
		if err != nil {
			return fmt.Errorf("%w: %s", err, out)
		}
		return nil
	}); err != nil {
		return err
	}

	key := "uploads/demo-user/" + tg.RunID + "/clip.mp4"
	client := tg.S3Client()
	if err := stage("upload it to the originals bucket", func() error {
		f, err := os.Open(clip)
		if err != nil {
			return err
		}
		defer f.Close()
		_, err = client.PutObject(ctx, &s3.PutObjectInput{Bucket: &originals, Key: &key, Body: f, ContentType: aws.String("video/mp4")})
		return err
	}); err != nil {
		return err
	}
	head, err := client.HeadObject(ctx, &s3.HeadObjectInput{Bucket: &originals, Key: &key})
	if err != nil {
		return err
	}
	class := string(head.StorageClass)
	if class == "" {
		class = "STANDARD"
	}
	fmt.Printf("    s3://%s/%s: %d bytes, %s, encryption %s, version %s\n",
		originals, key, aws.ToInt64(head.ContentLength), class, head.ServerSideEncryption, aws.ToString(head.VersionId))

	if keep {
		fmt.Printf("\nThe stack is up. Emulator: %s (CA: %s)\nPress Ctrl-C to tear it down.\n", emu.URL(), emu.CABundle())
		<-ctx.Done()
	}
	return nil
}
