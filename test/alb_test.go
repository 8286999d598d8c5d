package test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/acm"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	elb "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	elbtypes "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2/types"
	"github.com/gruntwork-io/terratest/modules/terraform"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mediastack/terraform-aws-mediastack/test/target/targettest"
)

// TestALB deploys examples/alb with an imported self-signed certificate and checks through
// the ELB and EC2 APIs: HTTPS on 443 under the TLS 1.3 policy forwarding to the target group,
// port 80 redirecting to it, invalid headers dropped, the health check as configured, and a
// security group open on 80 and 443 only.
func TestALB(t *testing.T) {
	t.Parallel()
	tg := targettest.New(t)
	ctx := context.Background()
	cfg := tg.AWSConfig()
	certARN := importSelfSignedCertificate(t, acm.NewFromConfig(cfg), "api.mediastack.test")

	opts := targettest.Deploy(t, tg, "examples/alb", map[string]any{"certificate_arn": certARN})
	client := elb.NewFromConfig(cfg)
	tgARN := terraform.OutputContext(t, context.Background(), opts, "target_group_arn")
	httpsARN := terraform.OutputContext(t, context.Background(), opts, "https_listener_arn")
	httpARN := terraform.OutputContext(t, context.Background(), opts, "http_listener_arn")
	assert.Regexp(t, `^https://`, terraform.OutputContext(t, context.Background(), opts, "url"))

	listeners, err := client.DescribeListeners(ctx, &elb.DescribeListenersInput{ListenerArns: []string{httpsARN, httpARN}})
	require.NoError(t, err)
	require.Len(t, listeners.Listeners, 2)
	var lbARN string
	for _, l := range listeners.Listeners {
		lbARN = aws.ToString(l.LoadBalancerArn)
		require.Len(t, l.DefaultActions, 1)
		action := l.DefaultActions[0]
		switch aws.ToInt32(l.Port) {
		case 443:
			assert.Equal(t, elbtypes.ProtocolEnumHttps, l.Protocol)
			assert.Equal(t, "ELBSecurityPolicy-TLS13-1-2-2021-06", aws.ToString(l.SslPolicy))
			require.Len(t, l.Certificates, 1)
			assert.Equal(t, certARN, aws.ToString(l.Certificates[0].CertificateArn))
			assert.Equal(t, elbtypes.ActionTypeEnumForward, action.Type)
			assert.Equal(t, tgARN, aws.ToString(action.TargetGroupArn))
		case 80:
			assert.Equal(t, elbtypes.ProtocolEnumHttp, l.Protocol)
			assert.Equal(t, elbtypes.ActionTypeEnumRedirect, action.Type, "port 80 only redirects when there is a certificate")
			require.NotNil(t, action.RedirectConfig)
			assert.Equal(t, "HTTPS", aws.ToString(action.RedirectConfig.Protocol))
			assert.Equal(t, "443", aws.ToString(action.RedirectConfig.Port))
			assert.Equal(t, elbtypes.RedirectActionStatusCodeEnumHttp301, action.RedirectConfig.StatusCode)
		default:
			t.Errorf("unexpected listener on port %d", aws.ToInt32(l.Port))
		}
	}

	lbs, err := client.DescribeLoadBalancers(ctx, &elb.DescribeLoadBalancersInput{LoadBalancerArns: []string{lbARN}})
	require.NoError(t, err)
	require.Len(t, lbs.LoadBalancers, 1)
	lb := lbs.LoadBalancers[0]
	// The emulator leaves Scheme empty for an internet-facing load balancer; AWS fills it.
	assert.NotEqual(t, elbtypes.LoadBalancerSchemeEnumInternal, lb.Scheme, "internet-facing")
	assert.Len(t, lb.AvailabilityZones, 2, "the load balancer spans two zones")
	assert.Equal(t, terraform.OutputContext(t, context.Background(), opts, "dns_name"), aws.ToString(lb.DNSName))
	attrs, err := client.DescribeLoadBalancerAttributes(ctx, &elb.DescribeLoadBalancerAttributesInput{LoadBalancerArn: &lbARN})
	require.NoError(t, err)
	attr := map[string]string{}
	for _, a := range attrs.Attributes {
		attr[aws.ToString(a.Key)] = aws.ToString(a.Value)
	}
	assert.Equal(t, "true", attr["routing.http.drop_invalid_header_fields.enabled"])

	groups, err := client.DescribeTargetGroups(ctx, &elb.DescribeTargetGroupsInput{TargetGroupArns: []string{tgARN}})
	require.NoError(t, err)
	require.Len(t, groups.TargetGroups, 1)
	group := groups.TargetGroups[0]
	assert.Equal(t, elbtypes.TargetTypeEnumInstance, group.TargetType)
	assert.Equal(t, elbtypes.ProtocolEnumHttp, group.Protocol)
	assert.Equal(t, int32(8080), aws.ToInt32(group.Port))
	assert.Equal(t, "/healthz", aws.ToString(group.HealthCheckPath))
	require.NotNil(t, group.Matcher)
	assert.Equal(t, "200", aws.ToString(group.Matcher.HttpCode))

	sgID := terraform.OutputContext(t, context.Background(), opts, "security_group_id")
	sgs, err := ec2.NewFromConfig(cfg).DescribeSecurityGroups(ctx, &ec2.DescribeSecurityGroupsInput{GroupIds: []string{sgID}})
	require.NoError(t, err)
	require.Len(t, sgs.SecurityGroups, 1)
	var ports []int32
	for _, p := range sgs.SecurityGroups[0].IpPermissions {
		ports = append(ports, aws.ToInt32(p.FromPort))
	}
	assert.ElementsMatch(t, []int32{80, 443}, ports, "only the listeners' ports are open")
	require.Len(t, sgs.SecurityGroups[0].IpPermissionsEgress, 1)
	egress := sgs.SecurityGroups[0].IpPermissionsEgress[0]
	assert.Equal(t, int32(8080), aws.ToInt32(egress.FromPort), "the load balancer reaches the targets' port only")
	require.Len(t, egress.IpRanges, 1)
	assert.Equal(t, "10.41.0.0/16", aws.ToString(egress.IpRanges[0].CidrIp), "and only inside the VPC")
}

// importSelfSignedCertificate imports a fresh self-signed certificate for name into ACM
// (which works on every target, unlike a requested one that waits for validation) and
// deletes it when the test ends, after the stack that uses it is destroyed.
func importSelfSignedCertificate(t *testing.T, client *acm.Client, name string) string {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	template := &x509.Certificate{
		SerialNumber: big.NewInt(time.Now().UnixNano()),
		Subject:      pkix.Name{CommonName: name},
		DNSNames:     []string{name},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(24 * time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, template, template, &key.PublicKey, key)
	require.NoError(t, err)
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	require.NoError(t, err)
	out, err := client.ImportCertificate(context.Background(), &acm.ImportCertificateInput{
		Certificate: pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}),
		PrivateKey:  pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER}),
	})
	require.NoError(t, err)
	arn := aws.ToString(out.CertificateArn)
	t.Cleanup(func() {
		_, err := client.DeleteCertificate(context.Background(), &acm.DeleteCertificateInput{CertificateArn: &arn})
		assert.NoError(t, err, "delete the test certificate")
	})
	return arn
}
