package emulator_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/cloudfront"
	cftypes "github.com/aws/aws-sdk-go-v2/service/cloudfront/types"
	cip "github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider"
	ciptypes "github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider/types"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	iamtypes "github.com/aws/aws-sdk-go-v2/service/iam/types"
	"github.com/aws/aws-sdk-go-v2/service/rds"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/aws-sdk-go-v2/service/sesv2"
	sestypes "github.com/aws/aws-sdk-go-v2/service/sesv2/types"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/aws/smithy-go"
	"github.com/aws/smithy-go/middleware"
	smithyhttp "github.com/aws/smithy-go/transport/http"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mediastack/terraform-aws-mediastack/test/emulator"
)

func TestMain(m *testing.M) { os.Exit(emulator.RunMain(m)) }

func TestNamespacesAreIsolatedAccounts(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	e := emulator.Shared(t)
	a, b := e.NamespaceT(t), e.NamespaceT(t)
	require.NotEqual(t, a.ID, b.ID)
	require.NotEqual(t, a.AccountID, b.AccountID)
	assert.Regexp(t, `^t[0-9a-f]{8}$`, a.ID, "IDs must be usable in any AWS name, S3 buckets included")

	cfgA, err := a.AWSConfig(ctx)
	require.NoError(t, err)
	cfgB, err := b.AWSConfig(ctx)
	require.NoError(t, err)

	who, err := sts.NewFromConfig(cfgA).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
	require.NoError(t, err)
	assert.Equal(t, a.AccountID, aws.ToString(who.Account))

	_, err = sqs.NewFromConfig(cfgA).CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: aws.String(a.ID + "-jobs")})
	require.NoError(t, err)
	s3a, err := a.S3Client(ctx)
	require.NoError(t, err)
	_, err = s3a.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String(a.ID + "-media")})
	require.NoError(t, err)

	queuesB, err := sqs.NewFromConfig(cfgB).ListQueues(ctx, &sqs.ListQueuesInput{})
	require.NoError(t, err)
	assert.Empty(t, queuesB.QueueUrls, "a namespace must not see another's queues")
	s3b, err := b.S3Client(ctx)
	require.NoError(t, err)
	bucketsB, err := s3b.ListBuckets(ctx, &s3.ListBucketsInput{})
	require.NoError(t, err)
	assert.Empty(t, bucketsB.Buckets, "a namespace must not see another's buckets")
}

func TestIAMEnforcement(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	e := emulator.StartT(t, emulator.Options{EnforceIAM: true})
	ns := e.NamespaceT(t)
	admin, ok := e.AdminCredentials()
	require.True(t, ok)
	assert.Equal(t, admin, ns.Credentials, "with enforcement, namespaces act as the admin")

	cfg, err := ns.AWSConfig(ctx)
	require.NoError(t, err)
	_, err = sqs.NewFromConfig(cfg).CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: aws.String(ns.ID + "-allowed")})
	require.NoError(t, err, "the admin may do everything")

	// A user without any policy is refused, as IAM would refuse it.
	iamc := iam.NewFromConfig(cfg)
	createUser(t, iamc, ns.ID+"-nobody")
	key, err := iamc.CreateAccessKey(ctx, &iam.CreateAccessKeyInput{UserName: aws.String(ns.ID + "-nobody")})
	require.NoError(t, err)
	nobody := cfg.Copy()
	nobody.Credentials = credentials.NewStaticCredentialsProvider(aws.ToString(key.AccessKey.AccessKeyId), aws.ToString(key.AccessKey.SecretAccessKey), "")
	_, err = s3.NewFromConfig(nobody, pathStyle).CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String(ns.ID + "-denied")})
	assert.Equal(t, "AccessDenied", apiErrorCode(err), "a user without a policy must be denied, got %v", err)

	// A least-privilege statement naming a resource's ARN applies to calls on that resource
	// and on no other (moto authorised most services against "*").
	sm := secretsmanager.NewFromConfig(cfg)
	mine, err := sm.CreateSecret(ctx, &secretsmanager.CreateSecretInput{Name: aws.String(ns.ID + "-mine"), SecretString: aws.String("s1")})
	require.NoError(t, err)
	theirs, err := sm.CreateSecret(ctx, &secretsmanager.CreateSecretInput{Name: aws.String(ns.ID + "-theirs"), SecretString: aws.String("s2")})
	require.NoError(t, err)
	_, err = iamc.PutUserPolicy(ctx, &iam.PutUserPolicyInput{UserName: aws.String(ns.ID + "-nobody"), PolicyName: aws.String("one-secret"),
		PolicyDocument: aws.String(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"secretsmanager:GetSecretValue","Resource":"` + aws.ToString(mine.ARN) + `"}]}`)})
	require.NoError(t, err)
	reader := secretsmanager.NewFromConfig(nobody)
	got, err := reader.GetSecretValue(ctx, &secretsmanager.GetSecretValueInput{SecretId: mine.ARN})
	require.NoError(t, err, "the statement names this secret")
	assert.Equal(t, "s1", aws.ToString(got.SecretString))
	_, err = reader.GetSecretValue(ctx, &secretsmanager.GetSecretValueInput{SecretId: theirs.ARN})
	assert.Error(t, err, "another secret is not in the statement")

	// HeadBucket is authorised as s3:ListBucket, as S3 does.
	bucket := ns.ID + "-listed"
	_, err = s3.NewFromConfig(cfg, pathStyle).CreateBucket(ctx, &s3.CreateBucketInput{Bucket: &bucket})
	require.NoError(t, err)
	_, err = s3.NewFromConfig(nobody, pathStyle).HeadBucket(ctx, &s3.HeadBucketInput{Bucket: &bucket})
	assert.Error(t, err, "no statement lists the bucket yet")
	_, err = iamc.PutUserPolicy(ctx, &iam.PutUserPolicyInput{UserName: aws.String(ns.ID + "-nobody"), PolicyName: aws.String("list"),
		PolicyDocument: aws.String(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:ListBucket","Resource":"arn:aws:s3:::` + bucket + `"}]}`)})
	require.NoError(t, err)
	_, err = s3.NewFromConfig(nobody, pathStyle).HeadBucket(ctx, &s3.HeadBucketInput{Bucket: &bucket})
	assert.NoError(t, err, "s3:ListBucket allows HeadBucket")

	// SQS authorises a batch as the action on one message: sqs:SendMessage allows
	// SendMessageBatch.
	jobs, err := sqs.NewFromConfig(cfg).CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: aws.String(ns.ID + "-jobs")})
	require.NoError(t, err)
	jobsAttrs, err := sqs.NewFromConfig(cfg).GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{QueueUrl: jobs.QueueUrl,
		AttributeNames: []sqstypes.QueueAttributeName{sqstypes.QueueAttributeNameQueueArn}})
	require.NoError(t, err)
	batch := &sqs.SendMessageBatchInput{QueueUrl: jobs.QueueUrl, Entries: []sqstypes.SendMessageBatchRequestEntry{{Id: aws.String("1"), MessageBody: aws.String("a")}}}
	_, err = sqs.NewFromConfig(nobody).SendMessageBatch(ctx, batch)
	assert.Error(t, err, "no statement lets the user send yet")
	_, err = iamc.PutUserPolicy(ctx, &iam.PutUserPolicyInput{UserName: aws.String(ns.ID + "-nobody"), PolicyName: aws.String("send"),
		PolicyDocument: aws.String(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"sqs:SendMessage","Resource":"` + jobsAttrs.Attributes["QueueArn"] + `"}]}`)})
	require.NoError(t, err)
	sent, err := sqs.NewFromConfig(nobody).SendMessageBatch(ctx, batch)
	require.NoError(t, err, "sqs:SendMessage allows SendMessageBatch")
	assert.Len(t, sent.Successful, 1)

	// Conditions on what an S3 request carries apply to identity policies too. As on S3, a
	// statement requiring the storage-class header refuses a multipart upload's parts, which
	// carry none; one that checks the header only where it exists takes them.
	classBucket := ns.ID + "-classes"
	_, err = s3.NewFromConfig(cfg, pathStyle).CreateBucket(ctx, &s3.CreateBucketInput{Bucket: &classBucket})
	require.NoError(t, err)
	writer := s3.NewFromConfig(nobody, pathStyle)
	for _, operator := range []string{"StringEquals", "StringEqualsIfExists"} {
		_, err = iamc.PutUserPolicy(ctx, &iam.PutUserPolicyInput{UserName: aws.String(ns.ID + "-nobody"), PolicyName: aws.String("write-rrs"),
			PolicyDocument: aws.String(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:PutObject","Resource":"arn:aws:s3:::` + classBucket +
				`/*","Condition":{"` + operator + `":{"s3:x-amz-storage-class":"REDUCED_REDUNDANCY"}}}]}`)})
		require.NoError(t, err)
		_, err = writer.PutObject(ctx, &s3.PutObjectInput{Bucket: &classBucket, Key: aws.String("rrs"), Body: strings.NewReader("x"), StorageClass: s3types.StorageClassReducedRedundancy})
		assert.NoError(t, err, "%s: the class the statement names", operator)
		_, err = writer.PutObject(ctx, &s3.PutObjectInput{Bucket: &classBucket, Key: aws.String("standard"), Body: strings.NewReader("x"), StorageClass: s3types.StorageClassStandard})
		assert.Equal(t, "AccessDenied", apiErrorCode(err), "%s: another class is refused, got %v", operator, err)
		created, err := writer.CreateMultipartUpload(ctx, &s3.CreateMultipartUploadInput{Bucket: &classBucket, Key: aws.String("parts"), StorageClass: s3types.StorageClassReducedRedundancy})
		require.NoError(t, err, "%s: a multipart upload in the class the statement names", operator)
		_, err = writer.UploadPart(ctx, &s3.UploadPartInput{Bucket: &classBucket, Key: aws.String("parts"), UploadId: created.UploadId, PartNumber: aws.Int32(1), Body: strings.NewReader("part")})
		if operator == "StringEquals" {
			assert.Equal(t, "AccessDenied", apiErrorCode(err), "a part carries no storage-class header, so StringEquals refuses it, got %v", err)
		} else {
			assert.NoError(t, err, "IfExists takes a part without the header")
		}
	}

	// DeleteObjects is authorised for each object it names, not against the bucket.
	_, err = s3.NewFromConfig(cfg, pathStyle).PutObject(ctx, &s3.PutObjectInput{Bucket: &classBucket, Key: aws.String("mine/a"), Body: strings.NewReader("x")})
	require.NoError(t, err)
	_, err = iamc.PutUserPolicy(ctx, &iam.PutUserPolicyInput{UserName: aws.String(ns.ID + "-nobody"), PolicyName: aws.String("delete-mine"),
		PolicyDocument: aws.String(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["s3:DeleteObject","s3:DeleteObjectVersion"],"Resource":"arn:aws:s3:::` + classBucket + `/mine/*"}]}`)})
	require.NoError(t, err)
	deleteKeys := func(keys ...string) *s3.DeleteObjectsOutput {
		ids := make([]s3types.ObjectIdentifier, len(keys))
		for i, k := range keys {
			ids[i] = s3types.ObjectIdentifier{Key: aws.String(k)}
		}
		out, err := writer.DeleteObjects(ctx, &s3.DeleteObjectsInput{Bucket: &classBucket, Delete: &s3types.Delete{Objects: ids}})
		require.NoError(t, err)
		return out
	}
	assert.Empty(t, deleteKeys("mine/a").Errors, "objects under the granted prefix may be deleted")
	assert.NotEmpty(t, deleteKeys("rrs").Errors, "others may not")

	// CloudFront names distributions by id; a statement naming the distribution's ARN
	// applies to CreateInvalidation on it, and to no other distribution.
	cf := cloudfront.NewFromConfig(cfg)
	distribution := func(ref string) string {
		out, err := cf.CreateDistribution(ctx, &cloudfront.CreateDistributionInput{DistributionConfig: &cftypes.DistributionConfig{
			CallerReference: aws.String(ns.ID + ref), Comment: aws.String(ref), Enabled: aws.Bool(true),
			Origins: &cftypes.Origins{Quantity: aws.Int32(1), Items: []cftypes.Origin{{
				Id: aws.String("s3"), DomainName: aws.String(bucket + ".s3.amazonaws.com"), S3OriginConfig: &cftypes.S3OriginConfig{OriginAccessIdentity: aws.String("")},
			}}},
			DefaultCacheBehavior: &cftypes.DefaultCacheBehavior{TargetOriginId: aws.String("s3"), ViewerProtocolPolicy: cftypes.ViewerProtocolPolicyRedirectToHttps},
		}})
		require.NoError(t, err)
		return aws.ToString(out.Distribution.Id)
	}
	myDist, theirDist := distribution("mine"), distribution("theirs")
	_, err = iamc.PutUserPolicy(ctx, &iam.PutUserPolicyInput{UserName: aws.String(ns.ID + "-nobody"), PolicyName: aws.String("invalidate"),
		PolicyDocument: aws.String(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"cloudfront:CreateInvalidation","Resource":"arn:aws:cloudfront::` + ns.AccountID + `:distribution/` + myDist + `"}]}`)})
	require.NoError(t, err)
	invalidate := func(id string) error {
		_, err := cloudfront.NewFromConfig(nobody).CreateInvalidation(ctx, &cloudfront.CreateInvalidationInput{DistributionId: &id,
			InvalidationBatch: &cftypes.InvalidationBatch{CallerReference: aws.String(ns.ID), Paths: &cftypes.Paths{Quantity: aws.Int32(1), Items: []string{"/m/*"}}}})
		return err
	}
	assert.NoError(t, invalidate(myDist), "the statement names this distribution")
	assert.Error(t, invalidate(theirDist), "not that one")

	// SES authorises SendEmail on the sending identity.
	ses := sesv2.NewFromConfig(cfg)
	for _, identity := range []string{"media@example.com", "other@example.com"} {
		_, err = ses.CreateEmailIdentity(ctx, &sesv2.CreateEmailIdentityInput{EmailIdentity: aws.String(identity)})
		require.NoError(t, err)
	}
	_, err = iamc.PutUserPolicy(ctx, &iam.PutUserPolicyInput{UserName: aws.String(ns.ID + "-nobody"), PolicyName: aws.String("email"),
		PolicyDocument: aws.String(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"ses:SendEmail","Resource":"arn:aws:ses:` + ns.Region + `:` + ns.AccountID + `:identity/media@example.com"}]}`)})
	require.NoError(t, err)
	send := func(from string) error {
		_, err := sesv2.NewFromConfig(nobody).SendEmail(ctx, &sesv2.SendEmailInput{FromEmailAddress: aws.String(from),
			Destination: &sestypes.Destination{ToAddresses: []string{"someone@example.com"}},
			Content:     &sestypes.EmailContent{Simple: &sestypes.Message{Subject: &sestypes.Content{Data: aws.String("hi")}, Body: &sestypes.Body{Text: &sestypes.Content{Data: aws.String("hi")}}}}})
		return err
	}
	assert.NoError(t, send("Media <media@example.com>"), "the statement names this sender's identity")
	assert.Error(t, send("other@example.com"), "not that one")

	// Unknown keys are not accepted at all.
	stranger := cfg.Copy()
	stranger.Credentials = credentials.NewStaticCredentialsProvider("AKIAUNKNOWNUNKNOWN00", "secret", "")
	_, err = s3.NewFromConfig(stranger, pathStyle).ListBuckets(ctx, &s3.ListBucketsInput{})
	assert.Equal(t, "InvalidAccessKeyId", apiErrorCode(err), "unknown keys must be refused, got %v", err)
}

func pathStyle(o *s3.Options) { o.UsePathStyle = true }

// createUser creates an IAM user. CreateUser is not idempotent: when the SDK retries it
// after a dropped connection (the emulator on a loaded machine), the retry finds the user
// the first attempt made, and that is success.
func createUser(t *testing.T, iamc *iam.Client, name string) {
	t.Helper()
	_, err := iamc.CreateUser(context.Background(), &iam.CreateUserInput{UserName: &name})
	var exists *iamtypes.EntityAlreadyExistsException
	if errors.As(err, &exists) {
		t.Logf("CreateUser %s: a retry found the user the first attempt created", name)
		return
	}
	require.NoError(t, err)
}

func apiErrorCode(err error) string {
	var apiErr smithy.APIError
	if errors.As(err, &apiErr) {
		return apiErr.ErrorCode()
	}
	return ""
}

// TestBucketPoliciesSeeTheRequest checks the emulator's fix to moto: conditions of bucket
// policies are evaluated against the request, so a TLS-only bucket serves HTTPS requests and
// a storage-class rule refuses other classes, as on S3.
func TestBucketPoliciesSeeTheRequest(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	ns := emulator.Shared(t).NamespaceT(t)
	client, err := ns.S3Client(ctx)
	require.NoError(t, err)
	bucket := ns.ID + "-policy"
	_, err = client.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: &bucket})
	require.NoError(t, err)
	policy := `{"Version":"2012-10-17","Statement":[
	  {"Sid":"TLSOnly","Effect":"Deny","Principal":"*","Action":"s3:*","Resource":["arn:aws:s3:::B","arn:aws:s3:::B/*"],
	   "Condition":{"Bool":{"aws:SecureTransport":"false"}}},
	  {"Sid":"OneClass","Effect":"Deny","Principal":"*","Action":"s3:PutObject","Resource":"arn:aws:s3:::B/*",
	   "Condition":{"StringNotEquals":{"s3:x-amz-storage-class":"REDUCED_REDUNDANCY"}}}]}`
	_, err = client.PutBucketPolicy(ctx, &s3.PutBucketPolicyInput{Bucket: &bucket, Policy: aws.String(strings.ReplaceAll(policy, ":::B", ":::"+bucket))})
	require.NoError(t, err)

	_, err = client.PutObject(ctx, &s3.PutObjectInput{Bucket: &bucket, Key: aws.String("ok"), Body: strings.NewReader("x"), StorageClass: s3types.StorageClassReducedRedundancy})
	require.NoError(t, err, "an HTTPS request in the required class must pass the TLS-only rule")
	_, err = client.GetObject(ctx, &s3.GetObjectInput{Bucket: &bucket, Key: aws.String("ok")})
	require.NoError(t, err)

	_, err = client.PutObject(ctx, &s3.PutObjectInput{Bucket: &bucket, Key: aws.String("standard"), Body: strings.NewReader("x")})
	assert.Error(t, err, "a PUT without the required storage class must be refused")
	_, err = client.PutObject(ctx, &s3.PutObjectInput{Bucket: &bucket, Key: aws.String("ia"), Body: strings.NewReader("x"), StorageClass: s3types.StorageClassStandardIa})
	assert.Error(t, err, "a PUT in another storage class must be refused")
	_, err = client.CreateMultipartUpload(ctx, &s3.CreateMultipartUploadInput{Bucket: &bucket, Key: aws.String("ia-parts"), StorageClass: s3types.StorageClassStandardIa})
	assert.Error(t, err, "CreateMultipartUpload is s3:PutObject to S3: another class must be refused")
}

// TestServicePrincipalsReachBucketsThroughTheirPolicy checks the emulator's stand-in for
// AWS service principals: a request signed as CloudFront for one distribution reads a bucket
// whose policy allows that distribution, and nothing else does it as CloudFront.
func TestServicePrincipalsReachBucketsThroughTheirPolicy(t *testing.T) {
	t.Parallel()
	t.Run("without IAM enforcement", func(t *testing.T) {
		t.Parallel()
		servicePrincipalsReachBuckets(t, emulator.Shared(t))
	})
	t.Run("with IAM enforcement", func(t *testing.T) {
		t.Parallel()
		servicePrincipalsReachBuckets(t, emulator.StartT(t, emulator.Options{EnforceIAM: true}))
	})
}

func servicePrincipalsReachBuckets(t *testing.T, e *emulator.Emulator) {
	ctx := context.Background()
	ns := e.NamespaceT(t)
	owner, err := ns.S3Client(ctx)
	require.NoError(t, err)
	bucket := ns.ID + "-oac"
	_, err = owner.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: &bucket})
	require.NoError(t, err)
	_, err = owner.PutObject(ctx, &s3.PutObjectInput{Bucket: &bucket, Key: aws.String("m/720p.mp4"), Body: strings.NewReader("rendition")})
	require.NoError(t, err)
	distribution := "arn:aws:cloudfront::" + ns.AccountID + ":distribution/E2EXAMPLE"
	policy := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"cloudfront.amazonaws.com"},
	  "Action":"s3:GetObject","Resource":"arn:aws:s3:::B/*","Condition":{"StringEquals":{"AWS:SourceArn":"D"}}}]}`
	policy = strings.NewReplacer(":::B", ":::"+bucket, `"D"`, `"`+distribution+`"`).Replace(policy)
	_, err = owner.PutBucketPolicy(ctx, &s3.PutBucketPolicyInput{Bucket: &bucket, Policy: &policy})
	require.NoError(t, err)

	creds, ok := emulator.ServiceCredentials("cloudfront.amazonaws.com")
	require.True(t, ok)
	cfg, err := ns.AWSConfig(ctx)
	require.NoError(t, err)
	asCloudFront := func(sourceARN string) *s3.Client {
		return s3.NewFromConfig(cfg, pathStyle, func(o *s3.Options) {
			o.Credentials = credentials.NewStaticCredentialsProvider(creds.AccessKeyID, creds.SecretAccessKey, "")
			o.APIOptions = append(o.APIOptions, func(stack *middleware.Stack) error {
				// Added before signing, so the header is signed as CloudFront signs it.
				return stack.Build.Add(middleware.BuildMiddlewareFunc("SourceArn", func(ctx context.Context, in middleware.BuildInput, next middleware.BuildHandler) (middleware.BuildOutput, middleware.Metadata, error) {
					if req, ok := in.Request.(*smithyhttp.Request); ok && sourceARN != "" {
						req.Header.Set("X-Amz-Source-Arn", sourceARN)
					}
					return next.HandleBuild(ctx, in)
				}), middleware.After)
			})
		})
	}
	_, err = asCloudFront(distribution).GetObject(ctx, &s3.GetObjectInput{Bucket: &bucket, Key: aws.String("m/720p.mp4")})
	assert.NoError(t, err, "the distribution the policy names may read")
	_, err = asCloudFront(distribution+"OTHER").GetObject(ctx, &s3.GetObjectInput{Bucket: &bucket, Key: aws.String("m/720p.mp4")})
	assert.Error(t, err, "another distribution may not")
	_, err = asCloudFront("").GetObject(ctx, &s3.GetObjectInput{Bucket: &bucket, Key: aws.String("m/720p.mp4")})
	assert.Error(t, err, "CloudFront without a source ARN may not")
	_, err = owner.GetObject(ctx, &s3.GetObjectInput{Bucket: &bucket, Key: aws.String("m/720p.mp4")})
	assert.NoError(t, err, "the owner's own access is unchanged")
}

// TestKeyGroupsCanBeDeleted: moto lacks DeleteKeyGroup; without it a distribution that
// requires signed URLs could not be destroyed.
func TestKeyGroupsCanBeDeleted(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	ns := emulator.Shared(t).NamespaceT(t)
	cfg, err := ns.AWSConfig(ctx)
	require.NoError(t, err)
	cf := cloudfront.NewFromConfig(cfg)
	key, err := cf.CreatePublicKey(ctx, &cloudfront.CreatePublicKeyInput{PublicKeyConfig: &cftypes.PublicKeyConfig{
		CallerReference: aws.String(ns.ID), Name: aws.String(ns.ID + "-key"),
		EncodedKey: aws.String("-----BEGIN PUBLIC KEY-----\nMFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAE\n-----END PUBLIC KEY-----\n"),
	}})
	require.NoError(t, err)
	group, err := cf.CreateKeyGroup(ctx, &cloudfront.CreateKeyGroupInput{KeyGroupConfig: &cftypes.KeyGroupConfig{
		Name: aws.String(ns.ID + "-group"), Items: []string{aws.ToString(key.PublicKey.Id)},
	}})
	require.NoError(t, err)

	_, err = cf.DeleteKeyGroup(ctx, &cloudfront.DeleteKeyGroupInput{Id: group.KeyGroup.Id, IfMatch: group.ETag})
	require.NoError(t, err)
	groups, err := cf.ListKeyGroups(ctx, &cloudfront.ListKeyGroupsInput{})
	require.NoError(t, err)
	for _, g := range groups.KeyGroupList.Items {
		assert.NotEqual(t, aws.ToString(group.KeyGroup.Id), aws.ToString(g.KeyGroup.Id), "the key group is gone")
	}
}

// TestMultipartUploadsAsOnS3 checks two fixes to moto: parts (and objects) are taken whatever
// their Content-Type, form types included, and a completed multipart upload is announced
// once, as ObjectCreated:CompleteMultipartUpload.
func TestMultipartUploadsAsOnS3(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	e := emulator.Shared(t)
	ns := e.NamespaceT(t)
	cfg, err := ns.AWSConfig(ctx)
	require.NoError(t, err)
	client, err := ns.S3Client(ctx)
	require.NoError(t, err)
	sqsc := sqs.NewFromConfig(cfg)
	hc := e.CA().HTTPClient()
	bucket := ns.ID + "-multipart"
	_, err = client.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: &bucket})
	require.NoError(t, err)
	queue, err := sqsc.CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: aws.String(ns.ID + "-created")})
	require.NoError(t, err)
	attrs, err := sqsc.GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{QueueUrl: queue.QueueUrl, AttributeNames: []sqstypes.QueueAttributeName{sqstypes.QueueAttributeNameQueueArn}})
	require.NoError(t, err)
	_, err = client.PutBucketNotificationConfiguration(ctx, &s3.PutBucketNotificationConfigurationInput{Bucket: &bucket,
		NotificationConfiguration: &s3types.NotificationConfiguration{QueueConfigurations: []s3types.QueueConfiguration{{
			QueueArn: aws.String(attrs.Attributes[string(sqstypes.QueueAttributeNameQueueArn)]), Events: []s3types.Event{"s3:ObjectCreated:*"},
		}}}})
	require.NoError(t, err)

	// Binary, not UTF-8, and larger than werkzeug's 500 KB form limit.
	body := make([]byte, 5<<20+1)
	for i := range body {
		body[i] = byte(i*7 + 0x80)
	}
	key := "uploads/big"
	created, err := client.CreateMultipartUpload(ctx, &s3.CreateMultipartUploadInput{Bucket: &bucket, Key: &key})
	require.NoError(t, err)
	presigner := s3.NewPresignClient(client)
	var parts []s3types.CompletedPart
	for n, chunk := range [][]byte{body[:5<<20], body[5<<20:]} {
		part, err := presigner.PresignUploadPart(ctx, &s3.UploadPartInput{Bucket: &bucket, Key: &key, UploadId: created.UploadId,
			PartNumber: aws.Int32(int32(n + 1)), ContentLength: aws.Int64(int64(len(chunk)))})
		require.NoError(t, err)
		etag := putWithFormType(t, hc, part.URL, chunk)
		parts = append(parts, s3types.CompletedPart{PartNumber: aws.Int32(int32(n + 1)), ETag: &etag})
	}
	_, err = client.CompleteMultipartUpload(ctx, &s3.CompleteMultipartUploadInput{Bucket: &bucket, Key: &key, UploadId: created.UploadId,
		MultipartUpload: &s3types.CompletedMultipartUpload{Parts: parts}})
	require.NoError(t, err)
	got, err := client.GetObject(ctx, &s3.GetObjectInput{Bucket: &bucket, Key: &key})
	require.NoError(t, err)
	data, err := io.ReadAll(got.Body)
	got.Body.Close()
	require.NoError(t, err)
	assert.True(t, bytes.Equal(body, data), "the parts' bytes are the object's, as sent")

	// A single presigned PUT with a form type keeps its bytes and its type.
	single, err := presigner.PresignPutObject(ctx, &s3.PutObjectInput{Bucket: &bucket, Key: aws.String("uploads/small")})
	require.NoError(t, err)
	putWithFormType(t, hc, single.URL, body[:1<<20])
	head, err := client.HeadObject(ctx, &s3.HeadObjectInput{Bucket: &bucket, Key: aws.String("uploads/small")})
	require.NoError(t, err)
	assert.Equal(t, int64(1<<20), aws.ToInt64(head.ContentLength))
	assert.Equal(t, "application/x-www-form-urlencoded", aws.ToString(head.ContentType))

	var events []string
	for range 3 { // until the queue stays empty
		out, err := sqsc.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{QueueUrl: queue.QueueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 1})
		require.NoError(t, err)
		for _, m := range out.Messages {
			var n struct{ Records []struct{ EventName string } }
			require.NoError(t, json.Unmarshal([]byte(aws.ToString(m.Body)), &n))
			for _, r := range n.Records {
				events = append(events, r.EventName)
			}
		}
	}
	assert.ElementsMatch(t, []string{"ObjectCreated:CompleteMultipartUpload", "ObjectCreated:Put"}, events,
		"one event for the multipart upload, one for the single PUT")
}

// putWithFormType PUTs body to a presigned URL as curl --data-binary does, with a form
// Content-Type, and returns the ETag.
func putWithFormType(t *testing.T, hc *http.Client, url string, body []byte) string {
	t.Helper()
	req, err := http.NewRequest(http.MethodPut, url, bytes.NewReader(body))
	require.NoError(t, err)
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, err := hc.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	msg, _ := io.ReadAll(resp.Body)
	require.Equal(t, http.StatusOK, resp.StatusCode, "%s", msg)
	return resp.Header.Get("ETag")
}

// TestCrossRegionReadReplicasLiveInTheirRegion checks a fix to moto: a read replica created in
// another region than its source (the source named by ARN) takes that region's subnet group
// and is an instance of that region.
func TestCrossRegionReadReplicasLiveInTheirRegion(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	ns := emulator.Shared(t).NamespaceT(t)
	home, err := ns.AWSConfig(ctx)
	require.NoError(t, err)
	away := home.Copy()
	away.Region = "eu-west-1"

	subnetGroup := func(cfg aws.Config, cidr string) string {
		vpc, err := ec2.NewFromConfig(cfg).CreateVpc(ctx, &ec2.CreateVpcInput{CidrBlock: aws.String(cidr)})
		require.NoError(t, err)
		var ids []string
		for i, az := range []string{"a", "b"} {
			sn, err := ec2.NewFromConfig(cfg).CreateSubnet(ctx, &ec2.CreateSubnetInput{VpcId: vpc.Vpc.VpcId,
				CidrBlock: aws.String(strings.Replace(cidr, ".0.0/16", fmt.Sprintf(".%d.0/24", i), 1)), AvailabilityZone: aws.String(cfg.Region + az)})
			require.NoError(t, err)
			ids = append(ids, aws.ToString(sn.Subnet.SubnetId))
		}
		name := ns.ID + "-" + cfg.Region
		_, err = rds.NewFromConfig(cfg).CreateDBSubnetGroup(ctx, &rds.CreateDBSubnetGroupInput{
			DBSubnetGroupName: &name, DBSubnetGroupDescription: aws.String("test"), SubnetIds: ids})
		require.NoError(t, err)
		return name
	}
	primary, err := rds.NewFromConfig(home).CreateDBInstance(ctx, &rds.CreateDBInstanceInput{
		DBInstanceIdentifier: aws.String(ns.ID + "-primary"), DBInstanceClass: aws.String("db.t4g.micro"), Engine: aws.String("postgres"),
		AllocatedStorage: aws.Int32(20), MasterUsername: aws.String("media"), MasterUserPassword: aws.String("password-1234"),
		DBSubnetGroupName: aws.String(subnetGroup(home, "10.0.0.0/16")),
	})
	require.NoError(t, err)

	awaySubnets := subnetGroup(away, "10.1.0.0/16")
	replica, err := rds.NewFromConfig(away).CreateDBInstanceReadReplica(ctx, &rds.CreateDBInstanceReadReplicaInput{
		DBInstanceIdentifier: aws.String(ns.ID + "-replica"), SourceDBInstanceIdentifier: primary.DBInstance.DBInstanceArn,
		DBSubnetGroupName: &awaySubnets,
	})
	require.NoError(t, err, "the replica takes the subnet group of its own region")
	assert.Contains(t, aws.ToString(replica.DBInstance.DBInstanceArn), ":eu-west-1:")
	assert.Equal(t, awaySubnets, aws.ToString(replica.DBInstance.DBSubnetGroup.DBSubnetGroupName))
	assert.Equal(t, aws.ToString(primary.DBInstance.DBInstanceArn), aws.ToString(replica.DBInstance.ReadReplicaSourceDBInstanceIdentifier))
	got, err := rds.NewFromConfig(away).DescribeDBInstances(ctx, &rds.DescribeDBInstancesInput{DBInstanceIdentifier: aws.String(ns.ID + "-replica")})
	require.NoError(t, err)
	require.Len(t, got.DBInstances, 1)
	assert.Contains(t, aws.ToString(got.DBInstances[0].Endpoint.Address), ".eu-west-1.", "an endpoint of its own region")
}

func TestResponseHeadersPolicies(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	ns := emulator.Shared(t).NamespaceT(t)
	cfg, err := ns.AWSConfig(ctx)
	require.NoError(t, err)
	cf := cloudfront.NewFromConfig(cfg)
	config := &cftypes.ResponseHeadersPolicyConfig{
		Name: aws.String(ns.ID + "-app"),
		SecurityHeadersConfig: &cftypes.ResponseHeadersPolicySecurityHeadersConfig{
			ContentSecurityPolicy: &cftypes.ResponseHeadersPolicyContentSecurityPolicy{ContentSecurityPolicy: aws.String("default-src 'none'"), Override: aws.Bool(true)},
		},
	}
	created, err := cf.CreateResponseHeadersPolicy(ctx, &cloudfront.CreateResponseHeadersPolicyInput{ResponseHeadersPolicyConfig: config})
	require.NoError(t, err)
	id := created.ResponseHeadersPolicy.Id
	_, err = cf.CreateResponseHeadersPolicy(ctx, &cloudfront.CreateResponseHeadersPolicyInput{ResponseHeadersPolicyConfig: config})
	var exists *cftypes.ResponseHeadersPolicyAlreadyExists
	assert.ErrorAs(t, err, &exists, "names are unique")

	got, err := cf.GetResponseHeadersPolicy(ctx, &cloudfront.GetResponseHeadersPolicyInput{Id: id})
	require.NoError(t, err)
	assert.Equal(t, "default-src 'none'", aws.ToString(got.ResponseHeadersPolicy.ResponseHeadersPolicyConfig.SecurityHeadersConfig.ContentSecurityPolicy.ContentSecurityPolicy))

	config.Comment = aws.String("changed")
	_, err = cf.UpdateResponseHeadersPolicy(ctx, &cloudfront.UpdateResponseHeadersPolicyInput{Id: id, IfMatch: aws.String("stale"), ResponseHeadersPolicyConfig: config})
	var stale *cftypes.PreconditionFailed
	assert.ErrorAs(t, err, &stale, "an update needs the current ETag")
	updated, err := cf.UpdateResponseHeadersPolicy(ctx, &cloudfront.UpdateResponseHeadersPolicyInput{Id: id, IfMatch: got.ETag, ResponseHeadersPolicyConfig: config})
	require.NoError(t, err)
	assert.Equal(t, "changed", aws.ToString(updated.ResponseHeadersPolicy.ResponseHeadersPolicyConfig.Comment))

	_, err = cf.DeleteResponseHeadersPolicy(ctx, &cloudfront.DeleteResponseHeadersPolicyInput{Id: id, IfMatch: updated.ETag})
	require.NoError(t, err)
	_, err = cf.GetResponseHeadersPolicy(ctx, &cloudfront.GetResponseHeadersPolicyInput{Id: id})
	var missing *cftypes.NoSuchResponseHeadersPolicy
	assert.ErrorAs(t, err, &missing)
}

// TestBrowserSignsInWithSRP is a browser's sign-in under IAM enforcement: no AWS credentials,
// a CORS preflight first, SRP, and an ID token whose email claim is the user's address (the
// API emails it), whichever flow signed them in.
func TestBrowserSignsInWithSRP(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	e := emulator.StartT(t, emulator.Options{EnforceIAM: true})
	ns := e.NamespaceT(t)
	admin, err := ns.AWSConfig(ctx)
	require.NoError(t, err)
	cfg := admin.Copy()
	cfg.Credentials = aws.AnonymousCredentials{}
	c := cip.NewFromConfig(cfg)

	preflight, err := http.NewRequest(http.MethodOptions, e.URL()+"/", nil)
	require.NoError(t, err)
	preflight.Header.Set("Origin", "https://d111111abcdef8.cloudfront.net")
	preflight.Header.Set("Access-Control-Request-Method", "POST")
	preflight.Header.Set("Access-Control-Request-Headers", "content-type,x-amz-target,x-amz-user-agent")
	resp, err := admin.HTTPClient.Do(preflight)
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, http.StatusOK, resp.StatusCode, "a preflight needs no credentials")
	assert.Equal(t, "https://d111111abcdef8.cloudfront.net", resp.Header.Get("Access-Control-Allow-Origin"))

	pool, err := cip.NewFromConfig(admin).CreateUserPool(ctx, &cip.CreateUserPoolInput{PoolName: aws.String(ns.ID), UsernameAttributes: []ciptypes.UsernameAttributeType{ciptypes.UsernameAttributeTypeEmail}})
	require.NoError(t, err)
	client, err := cip.NewFromConfig(admin).CreateUserPoolClient(ctx, &cip.CreateUserPoolClientInput{UserPoolId: pool.UserPool.Id, ClientName: aws.String("app"),
		ExplicitAuthFlows: []ciptypes.ExplicitAuthFlowsType{ciptypes.ExplicitAuthFlowsTypeAllowUserSrpAuth, ciptypes.ExplicitAuthFlowsTypeAllowRefreshTokenAuth}})
	require.NoError(t, err)
	clientID := client.UserPoolClient.ClientId
	const email = "browser@example.com"
	_, err = c.SignUp(ctx, &cip.SignUpInput{ClientId: clientID, Username: aws.String(email), Password: aws.String("Browser-password-1!"),
		UserAttributes: []ciptypes.AttributeType{{Name: aws.String("email"), Value: aws.String(email)}}})
	require.NoError(t, err)
	_, err = c.ConfirmSignUp(ctx, &cip.ConfirmSignUpInput{ClientId: clientID, Username: aws.String(email), ConfirmationCode: aws.String("123456")})
	require.NoError(t, err)

	start, err := c.InitiateAuth(ctx, &cip.InitiateAuthInput{ClientId: clientID, AuthFlow: ciptypes.AuthFlowTypeUserSrpAuth,
		AuthParameters: map[string]string{"USERNAME": email, "SRP_A": "1a2b3c"}})
	require.NoError(t, err)
	require.Equal(t, ciptypes.ChallengeNameTypePasswordVerifier, start.ChallengeName)
	p := start.ChallengeParameters
	done, err := c.RespondToAuthChallenge(ctx, &cip.RespondToAuthChallengeInput{ClientId: clientID, ChallengeName: start.ChallengeName, Session: start.Session,
		ChallengeResponses: map[string]string{"USERNAME": p["USER_ID_FOR_SRP"], "PASSWORD_CLAIM_SECRET_BLOCK": p["SECRET_BLOCK"],
			"PASSWORD_CLAIM_SIGNATURE": "c2lnbmF0dXJl", "TIMESTAMP": "Wed Dec 2 02:00:00 UTC 2026"}})
	require.NoError(t, err)
	claims := jwtClaims(t, aws.ToString(done.AuthenticationResult.IdToken))
	assert.Equal(t, email, claims["email"], "the user's address, not their sub")
	assert.Equal(t, p["USER_ID_FOR_SRP"], claims["cognito:username"])

	refreshed, err := c.InitiateAuth(ctx, &cip.InitiateAuthInput{ClientId: clientID, AuthFlow: ciptypes.AuthFlowTypeRefreshTokenAuth,
		AuthParameters: map[string]string{"REFRESH_TOKEN": aws.ToString(done.AuthenticationResult.RefreshToken)}})
	require.NoError(t, err)
	assert.Equal(t, email, jwtClaims(t, aws.ToString(refreshed.AuthenticationResult.IdToken))["email"], "after a refresh too")
}

func jwtClaims(t *testing.T, token string) map[string]any {
	t.Helper()
	parts := strings.Split(token, ".")
	require.Len(t, parts, 3)
	payload, err := base64.RawURLEncoding.DecodeString(parts[1])
	require.NoError(t, err)
	var claims map[string]any
	require.NoError(t, json.Unmarshal(payload, &claims))
	return claims
}
