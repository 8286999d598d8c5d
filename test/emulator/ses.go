package emulator

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
)

// SentEmail is an email the emulator's SES accepted.
type SentEmail struct {
	Account      string              `json:"account"`
	Region       string              `json:"region"`
	ID           string              `json:"id"`
	Source       string              `json:"source"`
	Destinations map[string][]string `json:"destinations"` // ToAddresses, CcAddresses, BccAddresses
	Subject      string              `json:"subject"`
	Body         string              `json:"body"`
}

// To is the email's ToAddresses.
func (m SentEmail) To() []string { return m.Destinations["ToAddresses"] }

// SentEmails lists every email the emulator's SES accepted, oldest first: SES offers no API
// to read them back, so the emulator's wrapper lists them (see moto_server.py).
func (e *Emulator) SentEmails(ctx context.Context) ([]SentEmail, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, e.url+"/moto-api/mediastack/ses/sent-messages", nil)
	if err != nil {
		return nil, err
	}
	resp, err := e.ca.HTTPClient().Do(req)
	if err != nil {
		return nil, fmt.Errorf("sent emails: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("sent emails: %s", resp.Status)
	}
	var out struct {
		Messages []SentEmail `json:"messages"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
		return nil, fmt.Errorf("sent emails: %w", err)
	}
	return out.Messages, nil
}
