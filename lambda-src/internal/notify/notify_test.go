package notify

import (
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/mediastack/terraform-aws-mediastack/lambda-src/internal/store"
)

func TestMessage(t *testing.T) {
	e := &Email{Link: "https://app.example.com/watch/{media_id}?from=email"}
	subject, text := e.Message(store.Media{ID: "m1", Title: "Line\r\nBcc: evil@example.com", Status: store.StatusReady})
	assert.Equal(t, `Your video "Line Bcc: evil@example.com" is ready`, subject, "a title never breaks the subject's line")
	assert.Contains(t, text, "https://app.example.com/watch/m1?from=email")

	subject, text = e.Message(store.Media{ID: "m2", Status: store.StatusFailed, Error: "not a decodable video"})
	assert.Equal(t, "Your video could not be published", subject, "an untitled media")
	assert.Contains(t, text, "could not be published: not a decodable video")
	assert.Contains(t, text, "https://app.example.com/watch/m2")
}

func TestCheckLink(t *testing.T) {
	assert.NoError(t, CheckLink("https://app.example.com/watch/{media_id}"))
	assert.ErrorContains(t, CheckLink("https://app.example.com/watch"), "no {media_id}")
	assert.ErrorContains(t, CheckLink("ftp://x/{media_id}"), "not an http(s) URL")
}
