package fleet

import (
	"bufio"
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	astypes "github.com/aws/aws-sdk-go-v2/service/autoscaling/types"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/mediastack/terraform-aws-mediastack/test/localcloud/roles"
	"github.com/mediastack/terraform-aws-mediastack/test/localcloud/unpack"
	"github.com/mediastack/terraform-aws-mediastack/test/procs"
)

// Service is what a launch template's user data installs, from the line modules/asg writes
// as its second line: `# mediastack-service: {"name":…,"port":…,"artifact":"s3://…","environment":{…}}`.
type Service struct {
	Name        string            `json:"name"`
	Port        int               `json:"port"`
	Artifact    string            `json:"artifact"`
	Environment map[string]string `json:"environment"`
	// StopTimeoutSeconds is the unit's TimeoutStopSec: how long a terminated instance's
	// service has between SIGTERM and SIGKILL. procs.StopTimeout when 0.
	StopTimeoutSeconds int `json:"stop_timeout_seconds,omitempty"`
}

const serviceMarker = "# mediastack-service: "

// ParseUserData finds the service line in decoded user data.
func ParseUserData(userData []byte) (Service, error) {
	sc := bufio.NewScanner(bytes.NewReader(userData))
	sc.Buffer(nil, len(userData)+1)
	for sc.Scan() {
		if rest, ok := strings.CutPrefix(sc.Text(), serviceMarker); ok {
			var s Service
			if err := json.Unmarshal([]byte(rest), &s); err != nil {
				return Service{}, fmt.Errorf("service line of the user data: %w", err)
			}
			if s.Name == "" || s.Artifact == "" || s.Port <= 0 {
				return Service{}, fmt.Errorf("service line of the user data lacks name, port or artifact: %s", rest)
			}
			return s, nil
		}
	}
	return Service{}, fmt.Errorf("user data has no %q line", strings.TrimSpace(serviceMarker))
}

// launchConfig is what a group launches an instance with: the service and the role of the
// instance profile.
type launchConfig struct {
	service Service
	roleARN string
}

// launchConfigOf reads the group's launch template version (the group's own choice, e.g.
// the number Terraform passes as latest_version; $Default when it names none).
func (f *Fleet) launchConfigOf(ctx context.Context, g astypes.AutoScalingGroup) (launchConfig, error) {
	spec := g.LaunchTemplate
	if spec == nil && g.MixedInstancesPolicy != nil && g.MixedInstancesPolicy.LaunchTemplate != nil {
		spec = g.MixedInstancesPolicy.LaunchTemplate.LaunchTemplateSpecification
	}
	if spec == nil {
		return launchConfig{}, errors.New("the group has no launch template")
	}
	in := &ec2.DescribeLaunchTemplateVersionsInput{Versions: []string{"$Default"}}
	if v := aws.ToString(spec.Version); v != "" {
		in.Versions = []string{v}
	}
	if id := aws.ToString(spec.LaunchTemplateId); id != "" {
		in.LaunchTemplateId = &id
	} else {
		in.LaunchTemplateName = spec.LaunchTemplateName
	}
	out, err := f.ec2.DescribeLaunchTemplateVersions(ctx, in)
	if err != nil {
		return launchConfig{}, fmt.Errorf("describe launch template: %w", err)
	}
	if len(out.LaunchTemplateVersions) != 1 || out.LaunchTemplateVersions[0].LaunchTemplateData == nil {
		return launchConfig{}, fmt.Errorf("launch template version %v not found", in.Versions)
	}
	data := out.LaunchTemplateVersions[0].LaunchTemplateData
	userData, err := base64.StdEncoding.DecodeString(aws.ToString(data.UserData))
	if err != nil {
		return launchConfig{}, fmt.Errorf("launch template user data: %w", err)
	}
	svc, err := ParseUserData(userData)
	if err != nil {
		return launchConfig{}, err
	}
	if data.IamInstanceProfile == nil {
		return launchConfig{}, errors.New("the launch template has no instance profile")
	}
	profile := aws.ToString(data.IamInstanceProfile.Name)
	if a := aws.ToString(data.IamInstanceProfile.Arn); a != "" {
		profile = a[strings.LastIndex(a, "/")+1:]
	}
	ip, err := f.iam.GetInstanceProfile(ctx, &iam.GetInstanceProfileInput{InstanceProfileName: &profile})
	if err != nil {
		return launchConfig{}, fmt.Errorf("instance profile %s: %w", profile, err)
	}
	if len(ip.InstanceProfile.Roles) == 0 {
		return launchConfig{}, fmt.Errorf("instance profile %s has no role", profile)
	}
	return launchConfig{service: svc, roleARN: aws.ToString(ip.InstanceProfile.Roles[0].Arn)}, nil
}

// instance is one running copy of a group's service.
type instance struct {
	id, group string
	addr      string // 127.0.0.1:port the service listens on
	dir       string // where the artifact was unpacked, the process's working directory
	proc      *procs.Process
	removeDir func() error
	revoke    func() // ends the instance's access to its role's credentials
	// stopTimeout is the service's grace between SIGTERM and SIGKILL when the group
	// terminates the instance.
	stopTimeout time.Duration
}

// launch does locally what the user data does on EC2, as the instance's role: download the
// artifact, unpack it and run its bootstrap.
func (f *Fleet) launch(ctx context.Context, group, id string, lc launchConfig) (_ *instance, err error) {
	creds := roles.Credentials(f.cfg, lc.roleARN, id)
	if _, err := creds.Retrieve(ctx); err != nil {
		return nil, fmt.Errorf("assume the instance role %s: %w", lc.roleARN, err)
	}
	dir, removeDir, err := procs.MkdirTemp("mediastack-fleet-" + id + "-*")
	if err != nil {
		return nil, err
	}
	defer func() {
		if err != nil {
			_ = removeDir()
		}
	}()
	if err := f.install(ctx, lc.service.Artifact, creds, dir); err != nil {
		return nil, err
	}
	port, err := procs.FreePort()
	if err != nil {
		return nil, err
	}
	addr := "127.0.0.1:" + strconv.Itoa(port)
	metadata, revoke := f.metadata.Grant(creds)
	p, err := procs.Start(procs.Spec{
		Name: group + "-" + id,
		Path: filepath.Join(dir, "bootstrap"),
		Env:  f.instanceEnv(group, lc.service, port, metadata),
		Dir:  dir,
	})
	if err != nil {
		revoke()
		return nil, err
	}
	stopTimeout := procs.StopTimeout
	if lc.service.StopTimeoutSeconds > 0 {
		stopTimeout = time.Duration(lc.service.StopTimeoutSeconds) * time.Second
	}
	return &instance{id: id, group: group, addr: addr, dir: dir, proc: p, removeDir: removeDir, revoke: revoke, stopTimeout: stopTimeout}, nil
}

// install downloads the s3:// artifact with the role's credentials and unpacks it into dir.
func (f *Fleet) install(ctx context.Context, artifact string, creds aws.CredentialsProvider, dir string) error {
	bucket, key, ok := strings.Cut(strings.TrimPrefix(artifact, "s3://"), "/")
	if !ok || !strings.HasPrefix(artifact, "s3://") || key == "" {
		return fmt.Errorf("artifact %q is not s3://bucket/key", artifact)
	}
	client := s3.NewFromConfig(f.cfg, func(o *s3.Options) {
		o.Credentials = creds
		o.UsePathStyle = true // moto serves buckets by path
		// A multipart upload's composite checksum cannot be validated on a whole-object GET;
		// the SDK says so on stderr for every instance, which is noise in the demo.
		o.DisableLogOutputChecksumValidationSkipped = true
	})
	obj, err := client.GetObject(ctx, &s3.GetObjectInput{Bucket: &bucket, Key: &key})
	if err != nil {
		return fmt.Errorf("download %s as the instance role: %w", artifact, err)
	}
	defer obj.Body.Close()
	data, err := io.ReadAll(obj.Body)
	if err != nil {
		return fmt.Errorf("download %s: %w", artifact, err)
	}
	if err := unpack.Zip(bytes.NewReader(data), int64(len(data)), dir); err != nil {
		return fmt.Errorf("unpack %s: %w", artifact, err)
	}
	// As the user data does: the artifact must carry a bootstrap, which is made executable.
	if err := os.Chmod(filepath.Join(dir, "bootstrap"), 0o755); err != nil {
		return fmt.Errorf("the artifact %s has no bootstrap: %w", artifact, err)
	}
	return nil
}

// instanceEnv is the service's environment as the user data's EnvironmentFile gives it,
// with these local changes:
//   - LISTEN_ADDR and PORT name the instance's own loopback port: every instance of every
//     group shares one host, so the service's port (what the target group expects) is mapped
//     to a free port per instance; the load balancer and health checks use that port;
//   - the region and the role's credentials, which an SDK on EC2 gets from the instance
//     metadata: here from the fleet's credentials endpoint (metadata holds its variables);
//   - AWS_* variables of this process that are not set here are blanked, as a systemd
//     service would not inherit them;
//   - last, what the caller's Env hook adds (endpoint, CA bundle, proxy, host names).
func (f *Fleet) instanceEnv(group string, svc Service, port int, metadata map[string]string) []string {
	set := map[string]string{}
	maps.Copy(set, svc.Environment)
	maps.Copy(set, map[string]string{
		"LISTEN_ADDR":               "127.0.0.1:" + strconv.Itoa(port),
		"PORT":                      strconv.Itoa(port),
		"AWS_REGION":                f.cfg.Region,
		"AWS_DEFAULT_REGION":        f.cfg.Region,
		"AWS_EC2_METADATA_DISABLED": "true",
	})
	maps.Copy(set, metadata)
	var env []string
	for _, kv := range os.Environ() {
		k, _, _ := strings.Cut(kv, "=")
		if _, ok := set[k]; !ok && strings.HasPrefix(k, "AWS_") {
			env = append(env, k+"=")
		}
	}
	for _, k := range slices.Sorted(maps.Keys(set)) {
		env = append(env, k+"="+set[k])
	}
	if f.opts.Env != nil {
		env = append(env, f.opts.Env(group, svc)...)
	}
	return env
}
