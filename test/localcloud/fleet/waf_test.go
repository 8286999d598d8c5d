package fleet

import (
	"net/http"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	waftypes "github.com/aws/aws-sdk-go-v2/service/wafv2/types"
	"github.com/stretchr/testify/assert"
)

func geo(codes ...waftypes.CountryCode) *waftypes.Statement {
	return &waftypes.Statement{GeoMatchStatement: &waftypes.GeoMatchStatement{CountryCodes: codes}}
}

// The web ACL region-stack makes for allowed_countries: block what is not in the list, with a
// custom 403 saying why.
func allowedCountriesACL() *webACL {
	return &webACL{
		name: "media-countries",
		rules: []waftypes.Rule{
			{Name: aws.String("count-everything"), Priority: 0, Statement: geo("US"), Action: &waftypes.RuleAction{Count: &waftypes.CountAction{}}},
			{Name: aws.String("outside-allowed-countries"), Priority: 1, Statement: &waftypes.Statement{NotStatement: &waftypes.NotStatement{Statement: geo("US", "CA")}},
				Action: &waftypes.RuleAction{Block: &waftypes.BlockAction{CustomResponse: &waftypes.CustomResponse{ResponseCode: aws.Int32(403), CustomResponseBodyKey: aws.String("country")}}}},
		},
		bodies: map[string]waftypes.CustomResponseBody{"country": {ContentType: waftypes.ResponseContentTypeApplicationJson, Content: aws.String(`{"error":"not available in your country"}`)}},
	}
}

func TestWebACLBlocksOutsideAllowedCountries(t *testing.T) {
	acl := allowedCountriesACL()
	assert.False(t, acl.decide("US").blocked)
	assert.False(t, acl.decide("ca").blocked, "country codes match in any case")
	d := acl.decide("FR")
	assert.True(t, d.blocked)
	assert.Equal(t, "outside-allowed-countries", d.rule)
	assert.Equal(t, http.StatusForbidden, d.status)
	assert.Equal(t, "application/json", d.contentType)
	assert.Contains(t, d.body, "not available in your country")
	assert.True(t, acl.decide("").blocked, "an address WAF cannot place is in no allowed country")

	acl.defaultBlock = &waftypes.BlockAction{}
	acl.rules = []waftypes.Rule{{Name: aws.String("allow-us"), Statement: &waftypes.Statement{OrStatement: &waftypes.OrStatement{Statements: []waftypes.Statement{*geo("US"), *geo("MX")}}}, Action: &waftypes.RuleAction{Allow: &waftypes.AllowAction{}}}}
	assert.False(t, acl.decide("MX").blocked)
	blocked := acl.decide("DE")
	assert.True(t, blocked.blocked, "the default action decides what no rule does")
	assert.Equal(t, "", blocked.rule)
	assert.Contains(t, blocked.body, "403 Forbidden")
}

func TestStatementsNotEvaluatedLocally(t *testing.T) {
	_, known := statementMatches(&waftypes.Statement{ByteMatchStatement: &waftypes.ByteMatchStatement{}}, "US")
	assert.False(t, known)
	_, known = statementMatches(&waftypes.Statement{AndStatement: &waftypes.AndStatement{Statements: []waftypes.Statement{*geo("US"), {RateBasedStatement: &waftypes.RateBasedStatement{}}}}}, "US")
	assert.False(t, known, "an And with a statement not evaluated is not evaluated")
}
