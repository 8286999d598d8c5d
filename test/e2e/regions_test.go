package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/autoscaling"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mediastack/terraform-aws-mediastack/stamp"
	"github.com/mediastack/terraform-aws-mediastack/test/emulator"
	"github.com/mediastack/terraform-aws-mediastack/test/localcloud"
	r53dns "github.com/mediastack/terraform-aws-mediastack/test/localcloud/dns"
	"github.com/mediastack/terraform-aws-mediastack/test/localdeploy"
	"github.com/mediastack/terraform-aws-mediastack/test/mediaclient"
	"github.com/mediastack/terraform-aws-mediastack/test/procs"
	"github.com/mediastack/terraform-aws-mediastack/test/target"
)

// The regions of the multi-region flows, the home first.
var stampedRegions = []string{"us-east-1", "eu-west-1", "ap-southeast-1"}

// regionClient is the address of a client in the i-th region, placed as make up places them.
func regionClient(i int) netip.Addr { return localdeploy.ClientRegionPrefix(i).Addr().Next() }

// regions is examples/multi-region stamped in three regions with the local cloud running
// all of them.
type regions struct {
	cfg     stamp.Config
	out     stamp.Outputs
	tg      *target.Target
	cloud   *localcloud.Cloud
	http    *http.Client // the APIs, presigned URLs and CDN URLs, by their AWS names
	abroad  *http.Client // through the proxy from a country the platform does not serve
	apiFQDN string
}

// TestThreeRegions stamps one platform across three regions, one deployment shared by the
// flows: latency routing, one identity, one catalogue, media held where it was uploaded,
// failover when a region's fleet stops, and country rules.
func TestThreeRegions(t *testing.T) {
	t.Parallel()
	if name, err := target.FromEnv(); err != nil || name != target.Local {
		t.Skip("the flows place clients in regions and stop a fleet: the local cloud's DNS and fleet")
	}
	p := deployRegions(t)
	ctx := context.Background()

	var token string
	clients := map[string]*mediaclient.Client{}
	t.Run("one sign-in is trusted by every region", func(t *testing.T) {
		var err error
		token, err = p.cloud.SignIn(ctx, "traveller@example.com", "Traveller-password-1!")
		require.NoError(t, err)
		for _, r := range stampedRegions {
			clients[r] = p.client(t, r, token)
			_, err := clients[r].Feed(ctx)
			require.NoError(t, err, "%s accepts the home pool's token", r)
		}
	})
	require.Len(t, clients, len(stampedRegions))

	t.Run("each client resolves the API to its own region", func(t *testing.T) {
		for i, r := range stampedRegions {
			assert.Equal(t, r, p.resolveRegion(t, i), "a client in %s", r)
		}
	})

	media := map[string]string{} // region -> media uploaded there
	t.Run("uploads in every region are ready and held where they were uploaded", func(t *testing.T) {
		clip := makeVideo(t, 2)
		// The writer reads its own write at once, whatever the replica's lag (its own media
		// come from the primary): proven with the replicas' replay paused meanwhile.
		for _, r := range stampedRegions[1:] {
			p.pauseReplica(t, r, true)
		}
		for _, r := range stampedRegions {
			up, err := clients[r].CreateSharedUpload(ctx, clip, "video/mp4", "from "+r, "public")
			require.NoError(t, err)
			m, err := clients[r].Media(ctx, up.MediaID)
			require.NoError(t, err, "%s: the writer sees its media right after creating it, its replica paused", r)
			assert.Equal(t, r, m.Region)
			require.NoError(t, clients[r].PutFile(ctx, up, clip))
			media[r] = up.MediaID
		}
		for _, r := range stampedRegions[1:] {
			p.pauseReplica(t, r, false)
		}
		for _, r := range stampedRegions {
			fctx, cancel := context.WithTimeout(ctx, 4*time.Minute)
			m, err := clients[r].Follow(fctx, media[r], time.Second, nil)
			cancel()
			require.NoError(t, err)
			require.Equal(t, "ready", m.Status, "%s: %v", r, m.Error)
		}
	})

	t.Run("the home region's originals are replicated into its replica bucket in another region", func(t *testing.T) {
		cfg := p.tg.AWSConfig()
		cfg.Region = stampedRegions[1]
		replicas := s3.NewFromConfig(cfg, func(o *s3.Options) { o.UsePathStyle = true })
		bucket := p.output(t, stampedRegions[0], "originals_replica_bucket_id")
		var found *s3types.Object
		require.Eventually(t, func() bool {
			out, err := replicas.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: &bucket})
			if err != nil {
				return false
			}
			for _, o := range out.Contents {
				if strings.Contains(aws.ToString(o.Key), media[stampedRegions[0]]) {
					found = &o
					return true
				}
			}
			return false
		}, time.Minute, time.Second, "the original uploaded in %s is copied into %s", stampedRegions[0], bucket)
		assert.Equal(t, s3types.ObjectStorageClassStandardIa, found.StorageClass)
		assert.Positive(t, aws.ToInt64(found.Size))
	})

	t.Run("the feed of every region lists every region's media on its own CDN", func(t *testing.T) {
		for _, reader := range stampedRegions {
			seen := map[string]mediaclient.Media{}
			require.Eventually(t, func() bool {
				feed, err := clients[reader].Feed(ctx)
				if err != nil {
					return false
				}
				for _, m := range feed.Items {
					seen[m.MediaID] = m
				}
				for _, id := range media {
					if _, ok := seen[id]; !ok {
						return false
					}
				}
				return true
			}, time.Minute, 500*time.Millisecond, "%s's feed lists the media of every region within the replication lag", reader)
			for holder, id := range media {
				m := seen[id]
				assert.Equal(t, holder, m.Region)
				require.NotNil(t, m.HLSURL)
				assert.True(t, strings.HasPrefix(*m.HLSURL, p.cdnBase(t, holder)+"/"), "%s lists %s's media on %s's CDN: %s", reader, holder, holder, *m.HLSURL)
			}
		}
		for holder, id := range media {
			m, err := clients[stampedRegions[0]].Media(ctx, id)
			require.NoError(t, err)
			resp, err := p.http.Get(*m.HLSURL)
			require.NoError(t, err)
			resp.Body.Close()
			assert.Equal(t, http.StatusOK, resp.StatusCode, "%s's playlist through its CDN", holder)
		}
	})

	t.Run("only the holding region deletes", func(t *testing.T) {
		err := clients[stampedRegions[0]].Delete(ctx, media[stampedRegions[2]])
		var status *mediaclient.StatusError
		require.ErrorAs(t, err, &status)
		assert.Equal(t, http.StatusConflict, status.Code)
		assert.Contains(t, status.Error(), "held in region "+stampedRegions[2])
		require.NoError(t, clients[stampedRegions[2]].Delete(ctx, media[stampedRegions[2]]))
	})

	t.Run("a client from a country outside allowed_countries is refused at the edge and the API", func(t *testing.T) {
		for _, u := range []string{p.cdnBase(t, stampedRegions[1]) + "/" + media[stampedRegions[1]] + "/stream/master.m3u8", p.apiURL(t, stampedRegions[1]) + "/v1/feed"} {
			resp, err := p.abroad.Get(u)
			require.NoError(t, err)
			resp.Body.Close()
			assert.Equal(t, http.StatusForbidden, resp.StatusCode, u)
		}
	})

	t.Run("a region whose fleet stops hands its clients to another region, and gets them back", func(t *testing.T) {
		down := stampedRegions[1]
		p.setFleet(t, down, 0)
		stopped := time.Now()
		var other string
		require.Eventually(t, func() bool {
			other = p.resolveRegion(t, 1)
			return other != down
		}, 3*time.Minute, time.Second, "the DNS answers %s's clients with another region", down)
		t.Logf("measured: %s's clients answered by %s %.1f s after its fleet stopped", down, other, time.Since(stopped).Seconds())
		// Sign-in, upload and the feed work where they are sent now.
		again, err := p.cloud.SignIn(ctx, "traveller@example.com", "Traveller-password-1!")
		require.NoError(t, err)
		c := p.client(t, other, again)
		id := upload(t, c, makeVideo(t, 1))
		fctx, cancel := context.WithTimeout(ctx, 4*time.Minute)
		defer cancel()
		m, err := c.Follow(fctx, id, time.Second, nil)
		require.NoError(t, err)
		assert.Equal(t, "ready", m.Status)
		_, err = c.Feed(ctx)
		require.NoError(t, err)

		p.setFleet(t, down, 1)
		require.Eventually(t, func() bool { return p.resolveRegion(t, 1) == down }, 3*time.Minute, time.Second,
			"routing returns to %s once its fleet is back", down)
	})

	t.Run("planning again changes no state", func(t *testing.T) {
		plans, err := stamp.Plan(ctx, p.cfg)
		require.NoError(t, err)
		require.Len(t, plans, len(stampedRegions)+1)
		for state, plan := range plans {
			assert.Empty(t, target.UnexpectedChanges(plan, p.tg.AllowedDrift()), "%s", state)
		}
	})
}

// deployRegions stamps examples/multi-region in stampedRegions on an emulator namespace of
// its own and starts the local cloud over them; both go at cleanup.
func deployRegions(t *testing.T) *regions {
	t.Helper()
	ctx := context.Background()
	root, err := target.RepoRoot()
	require.NoError(t, err)
	emu := emulator.Shared(t)
	ns := emu.NamespaceT(t)
	p := &regions{}
	p.tg, err = target.NewLocal(ctx, ns)
	require.NoError(t, err)
	p.cfg, err = p.tg.Stamp(root, procs.TempDir(t, "mediastack-regions-*"), stampedRegions, map[string]any{
		"upload_api_zip_path": filepath.Join(root, "build", "upload-api.zip"),
		"transcoder_zip_path": filepath.Join(root, "build", "transcoder.zip"),
		"identity":            map[string]any{"allow_password_auth": true},
		"allowed_countries":   []string{homeCountry},
		"zone_name":           p.tg.RunID + ".media.example.com",
		// Failover within seconds: Route 53's fast interval, two failures in a row.
		"health_check": map[string]any{"request_interval": 10, "failure_threshold": 2},
	})
	require.NoError(t, err)
	// The home region keeps copies of its originals in the second region.
	p.cfg.RegionVars[stampedRegions[0]]["originals_replica_region"] = stampedRegions[1]
	p.cfg.Logf = t.Logf
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 15*time.Minute)
		defer cancel()
		start := time.Now()
		assert.NoError(t, stamp.Destroy(ctx, p.cfg), "destroy the stamped regions")
		t.Logf("measured: destroy of %d regions %.0f s", len(stampedRegions), time.Since(start).Seconds())
	})
	start := time.Now()
	p.out, err = stamp.Apply(ctx, p.cfg)
	require.NoError(t, err)
	t.Logf("measured: apply of %d regions %.0f s", len(stampedRegions), time.Since(start).Seconds())
	require.NoError(t, json.Unmarshal(p.out.Edge["api_fqdn"], &p.apiFQDN))

	var placed []r53dns.ClientRegion
	for i, r := range stampedRegions {
		placed = append(placed, r53dns.ClientRegion{Prefix: localdeploy.ClientRegionPrefix(i), Region: r})
	}
	p.cloud = localcloud.StartT(t, localcloud.Options{Emulator: emu, Namespace: ns, Regions: stampedRegions,
		ClientRegions:   placed,
		DefaultCountry:  homeCountry,
		ClientCountries: []localcloud.ClientCountry{{Prefix: netip.PrefixFrom(abroad, 32), Country: "FR"}},
	})
	p.http = p.cloud.HTTPClient()
	p.abroad = proxiedClient(t, p.cloud, emu, abroad)
	return p
}

func (p *regions) output(t *testing.T, region, name string) string {
	t.Helper()
	var v string
	require.NoError(t, json.Unmarshal(p.out.Regions[region][name], &v), "output %s of %s", name, region)
	return v
}

func (p *regions) apiURL(t *testing.T, region string) string { return p.output(t, region, "api_url") }
func (p *regions) cdnBase(t *testing.T, region string) string {
	return p.output(t, region, "cdn_base_url")
}

// client is an API client of region's load balancer acting with token.
func (p *regions) client(t *testing.T, region, token string) *mediaclient.Client {
	return &mediaclient.Client{BaseURL: p.apiURL(t, region), Token: token, API: p.http, Storage: p.http}
}

// resolveRegion asks the local DNS for the API's latency name as a client in the i-th region
// does and returns the region whose load balancer the answer is.
func (p *regions) resolveRegion(t *testing.T, i int) string {
	t.Helper()
	resolver := &net.Resolver{PreferGo: true, Dial: func(ctx context.Context, network, _ string) (net.Conn, error) {
		d := net.Dialer{LocalAddr: &net.UDPAddr{IP: regionClient(i).AsSlice()}, Timeout: 3 * time.Second}
		return d.DialContext(ctx, "udp", p.cloud.DNSAddr())
	}}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	addrs, err := resolver.LookupNetIP(ctx, "ip4", p.apiFQDN)
	require.NoError(t, err)
	require.Len(t, addrs, 1, "one region answers")
	for _, r := range stampedRegions {
		var e struct {
			ALBDNSName string `json:"alb_dns_name"`
		}
		require.NoError(t, json.Unmarshal(p.out.Regions[r]["endpoint"], &e))
		if ip, ok := p.cloud.Resolver().IP(e.ALBDNSName); ok && ip == addrs[0] {
			return r
		}
	}
	return fmt.Sprintf("no region (%s)", addrs[0])
}

// pauseReplica pauses (or resumes) the replay of region's read replica of the catalogue, as a
// replica far behind its primary would be; a paused replica is resumed at cleanup.
func (p *regions) pauseReplica(t *testing.T, region string, paused bool) {
	t.Helper()
	dbs := p.cloud.Databases()
	for _, inst := range dbs.Instances() {
		if inst.Region == region && inst.Source != "" {
			require.NoError(t, dbs.PauseReplay(context.Background(), inst.Identifier, paused))
			if paused {
				t.Cleanup(func() { _ = dbs.PauseReplay(context.Background(), inst.Identifier, false) })
			}
			return
		}
	}
	require.FailNow(t, "no read replica", "no read replica is served in %s", region)
}

// setFleet sets the size of region's upload API fleet, as an operator would through the
// Auto Scaling API.
func (p *regions) setFleet(t *testing.T, region string, size int32) {
	t.Helper()
	cfg := p.tg.AWSConfig()
	cfg.Region = region
	_, err := autoscaling.NewFromConfig(cfg).UpdateAutoScalingGroup(context.Background(), &autoscaling.UpdateAutoScalingGroupInput{
		AutoScalingGroupName: aws.String(p.output(t, region, "upload_api_asg_name")),
		MinSize:              aws.Int32(size), DesiredCapacity: aws.Int32(size),
	})
	require.NoError(t, err)
}
