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
	vars := []tfexec.ApplyOption{tfexec.Var("name_prefix=" + tg.RunID), tfexec.Var("force_destroy=true"), tfexec.Parallelism(20)}

	if err := stage("terraform apply (the root stack)", func() error {
		if err := tf.Init(ctx, tfexec.Backend(false)); err != nil {
			return err
		}
		return tf.Apply(ctx, vars...)
	}); err != nil {
		return err
	}
	defer func() {
		destroyErr := stage("terraform destroy", func() error {
			return tf.Destroy(context.WithoutCancel(ctx), tfexec.Var("name_prefix="+tg.RunID), tfexec.Var("force_destroy=true"))
		})
		err = errors.Join(err, destroyErr)
	}()

	outputs, err := tf.Output(ctx)
	if err != nil {
		return err
	}
	var originals, derivatives string
	if err := errors.Join(json.Unmarshal(outputs["originals_bucket_id"].Value, &originals),
		json.Unmarshal(outputs["derivatives_bucket_id"].Value, &derivatives)); err != nil {
		return fmt.Errorf("read outputs: %w", err)
	}
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
