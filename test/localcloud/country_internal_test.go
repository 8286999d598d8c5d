package localcloud

import (
	"net/http"
	"net/http/httptest"
	"net/netip"
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestClientCountryByLongestPrefix(t *testing.T) {
	c := &Cloud{opts: Options{
		ClientCountries: []ClientCountry{
			{Prefix: netip.MustParsePrefix("127.0.0.0/8"), Country: "US"},
			{Prefix: netip.MustParsePrefix("127.0.3.0/24"), Country: "FR"},
		},
		DefaultCountry: "CA",
	}}
	at := func(remote, xff string) string {
		r := httptest.NewRequest(http.MethodGet, "/", nil)
		r.RemoteAddr = remote
		if xff != "" {
			r.Header.Set("X-Forwarded-For", xff)
		}
		return c.clientCountry(r)
	}
	assert.Equal(t, "US", at("127.0.0.1:5000", ""))
	assert.Equal(t, "FR", at("127.0.3.9:5000", ""), "the longest prefix wins")
	assert.Equal(t, "FR", at("127.0.0.1:5000", "127.0.3.9, 127.0.0.1"), "the first forwarded hop is the client, behind the proxy or the edge")
	assert.Equal(t, "CA", at("[::1]:5000", ""), "a client no entry places is in the default country")
}
