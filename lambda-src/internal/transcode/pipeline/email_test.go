package pipeline

import (
	"context"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sesv2"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mediastack/terraform-aws-mediastack/lambda-src/internal/notify"
	"github.com/mediastack/terraform-aws-mediastack/lambda-src/internal/store"
	"github.com/mediastack/terraform-aws-mediastack/test/emulator"
)

// emailsTo returns what the emulator's SES sent to address from the stack's account.
func (st *stack) emailsTo(t *testing.T, address string) []emulator.SentEmail {
	t.Helper()
	sent, err := emulator.Shared(t).SentEmails(context.Background())
	require.NoError(t, err)
	creds, err := st.awsCfg.Credentials.Retrieve(context.Background())
	require.NoError(t, err)
	var out []emulator.SentEmail
	for _, m := range sent {
		if m.Account == creds.AccountID || creds.AccountID == "" {
			for _, to := range m.To() {
				if to == address {
					out = append(out, m)
				}
			}
		}
	}
	return out
}

func TestUploaderIsEmailedTheOutcome(t *testing.T) {
	st := newStack(t)
	ctx := context.Background()
	ses := sesv2.NewFromConfig(st.awsCfg)
	_, err := ses.CreateEmailIdentity(ctx, &sesv2.CreateEmailIdentityInput{EmailIdentity: aws.String("media@example.com")})
	require.NoError(t, err)
	st.proc.Email = &notify.Email{SES: ses, From: "media@example.com", Link: "https://app.example.com/watch/{media_id}"}
	alice := "alice-" + st.cfg.OriginalsBucket + "@example.com"

	ready, body := st.uploadRecorded(t, store.Media{Owner: "alice", Title: "Sunset", UploaderEmail: alice}, "landscape1080.mp4")
	require.NoError(t, st.proc.Handle(ctx, body))
	failed, body := st.uploadRecorded(t, store.Media{Owner: "alice", Title: "Broken", UploaderEmail: alice}, "notavideo")
	require.NoError(t, st.proc.Handle(ctx, body))

	sent := st.emailsTo(t, alice)
	require.Len(t, sent, 2, "one email per outcome")
	assert.Equal(t, "media@example.com", sent[0].Source)
	assert.Equal(t, `Your video "Sunset" is ready`, sent[0].Subject)
	assert.Contains(t, sent[0].Body, "https://app.example.com/watch/"+ready)
	assert.Equal(t, `Your video "Broken" could not be published`, sent[1].Subject)
	assert.Contains(t, sent[1].Body, "https://app.example.com/watch/"+failed)
	assert.Contains(t, sent[1].Body, "not a decodable video", "the reason is the uploader's to know")
	assert.Len(t, st.mediaEvents(t), 2, "the media events go out as well")

	require.NoError(t, st.proc.Handle(ctx, body), "a redelivery")
	assert.Len(t, st.emailsTo(t, alice), 2, "sends no second email")
}

func TestRefusedEmailHoldsNothingBack(t *testing.T) {
	st := newStack(t)
	ctx := context.Background()
	// Never verified: SES refuses to send from it, for good.
	st.proc.Email = &notify.Email{SES: sesv2.NewFromConfig(st.awsCfg), From: "unverified@example.com", Link: "https://app.example.com/watch/{media_id}"}
	bob := "bob-" + st.cfg.OriginalsBucket + "@example.com"

	id, body := st.uploadRecorded(t, store.Media{Owner: "bob", UploaderEmail: bob}, "landscape1080.mp4")
	require.NoError(t, st.proc.Handle(ctx, body), "the message is done with")
	m, err := st.proc.Store.Get(ctx, id)
	require.NoError(t, err)
	assert.Equal(t, store.StatusReady, m.Status)
	assert.Len(t, st.mediaEvents(t), 1, "the event is published")
	assert.Empty(t, st.emailsTo(t, bob))
}
