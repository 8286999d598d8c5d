// Package notify tells an uploader by email, through SES, that their media is ready or
// failed. The address is the one their token carried at upload.
package notify

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"unicode"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sesv2"
	sestypes "github.com/aws/aws-sdk-go-v2/service/sesv2/types"
	"github.com/aws/smithy-go"

	"github.com/mediastack/terraform-aws-mediastack/lambda-src/internal/store"
)

// MediaIDPlaceholder is replaced by the media's id in a link template.
const MediaIDPlaceholder = "{media_id}"

// Sender is the part of the SES v2 client that sends email.
type Sender interface {
	SendEmail(ctx context.Context, in *sesv2.SendEmailInput, optFns ...func(*sesv2.Options)) (*sesv2.SendEmailOutput, error)
}

// Email sends the outcome emails.
type Email struct {
	SES  Sender
	From string // a verified SES identity
	Link string // a URL template holding MediaIDPlaceholder: where the media is seen
}

// ErrRefused wraps a send that SES refused for good (a client fault: the sender not
// verified, the recipient rejected, sending paused): trying again changes nothing.
var ErrRefused = errors.New("email refused")

// CheckLink says what is wrong with a link template, or nil.
func CheckLink(template string) error {
	if !strings.Contains(template, MediaIDPlaceholder) {
		return fmt.Errorf("%q has no %s for the media's id", template, MediaIDPlaceholder)
	}
	u, err := url.Parse(strings.ReplaceAll(template, MediaIDPlaceholder, "id"))
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return fmt.Errorf("%q is not an http(s) URL", template)
	}
	return nil
}

// Message is the subject and text of the email about m's outcome.
func (e *Email) Message(m store.Media) (subject, text string) {
	name := "Your video"
	if t := strings.TrimSpace(oneLine(m.Title)); t != "" {
		name = fmt.Sprintf("Your video %q", t)
	}
	link := strings.ReplaceAll(e.Link, MediaIDPlaceholder, url.PathEscape(m.ID))
	if m.Status == store.StatusReady {
		return name + " is ready", fmt.Sprintf("Hello,\n\n%s is ready to watch and share:\n%s\n", name, link)
	}
	return name + " could not be published", fmt.Sprintf(
		"Hello,\n\n%s could not be published: %s\n\n%s\n\nUploading the file again, or another export of it, usually fixes this.\n",
		name, oneLine(m.Error), link)
}

// Send emails m's uploader about its outcome: nothing when m has no uploader address or is
// neither ready nor failed. An error wrapping ErrRefused will fail again.
func (e *Email) Send(ctx context.Context, m store.Media) error {
	if m.UploaderEmail == "" || m.Status != store.StatusReady && m.Status != store.StatusFailed {
		return nil
	}
	subject, text := e.Message(m)
	_, err := e.SES.SendEmail(ctx, &sesv2.SendEmailInput{
		FromEmailAddress: aws.String(e.From),
		Destination:      &sestypes.Destination{ToAddresses: []string{m.UploaderEmail}},
		Content: &sestypes.EmailContent{Simple: &sestypes.Message{
			Subject: &sestypes.Content{Data: aws.String(subject), Charset: aws.String("UTF-8")},
			Body:    &sestypes.Body{Text: &sestypes.Content{Data: aws.String(text), Charset: aws.String("UTF-8")}},
		}},
	})
	var apiErr smithy.APIError
	if errors.As(err, &apiErr) && apiErr.ErrorFault() == smithy.FaultClient && apiErr.ErrorCode() != "TooManyRequestsException" {
		return fmt.Errorf("%w: %w", ErrRefused, err)
	}
	return err
}

// oneLine keeps text on one line: a title or an error never breaks a header or the layout.
func oneLine(s string) string {
	return strings.Join(strings.FieldsFunc(s, func(r rune) bool { return unicode.IsControl(r) }), " ")
}
