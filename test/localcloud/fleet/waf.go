package fleet

import (
	"context"
	"errors"
	"net/http"
	"slices"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/wafv2"
	waftypes "github.com/aws/aws-sdk-go-v2/service/wafv2/types"
)

// webACL is what a load balancer enforces of the WAFv2 web ACL associated with it, with AWS
// WAF's semantics: rules in priority order, the first whose statement matches and whose
// action is Allow or Block decides (Count only counts), else the default action. Statements
// on the client's country (GeoMatch, combined with Not, And and Or) are evaluated; a rule
// with another statement is left out (never matches here), and the log says so.
type webACL struct {
	name         string
	defaultBlock *waftypes.BlockAction // nil: allow
	rules        []waftypes.Rule       // by priority
	bodies       map[string]waftypes.CustomResponseBody
}

// webACLFor reads the web ACL associated with a load balancer; nil when there is none.
// unevaluated hears each rule left out because its statement is not one evaluated here.
func webACLFor(ctx context.Context, client *wafv2.Client, lbARN string, unevaluated func(acl, rule string)) (*webACL, error) {
	out, err := client.GetWebACLForResource(ctx, &wafv2.GetWebACLForResourceInput{ResourceArn: aws.String(lbARN)})
	var missing *waftypes.WAFNonexistentItemException
	if errors.As(err, &missing) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	if out.WebACL == nil {
		return nil, nil
	}
	w := out.WebACL
	a := &webACL{name: aws.ToString(w.Name), bodies: w.CustomResponseBodies}
	for _, r := range w.Rules {
		if r.Statement == nil {
			continue
		}
		if _, known := statementMatches(r.Statement, ""); !known {
			unevaluated(a.name, aws.ToString(r.Name))
			continue
		}
		a.rules = append(a.rules, r)
	}
	if w.DefaultAction != nil {
		a.defaultBlock = w.DefaultAction.Block
	}
	slices.SortStableFunc(a.rules, func(x, y waftypes.Rule) int { return int(x.Priority - y.Priority) })
	return a, nil
}

// decision is how a web ACL answers a request: allowed, or blocked with the response to send.
type decision struct {
	blocked     bool
	rule        string // "" for the default action
	status      int
	contentType string
	body        string
}

func (a *webACL) decide(country string) decision {
	for _, r := range a.rules {
		if r.Action == nil || r.Action.Count != nil {
			continue
		}
		if match, _ := statementMatches(r.Statement, country); !match {
			continue
		}
		if r.Action.Block != nil {
			return a.block(aws.ToString(r.Name), r.Action.Block)
		}
		return decision{rule: aws.ToString(r.Name)}
	}
	if a.defaultBlock != nil {
		return a.block("", a.defaultBlock)
	}
	return decision{}
}

// block is AWS WAF's answer to a blocked request: 403 "Forbidden", or the action's custom
// response with its body from the web ACL's custom response bodies.
func (a *webACL) block(rule string, b *waftypes.BlockAction) decision {
	d := decision{blocked: true, rule: rule, status: http.StatusForbidden, contentType: "text/html", body: "<html><body><h1>403 Forbidden</h1></body></html>\n"}
	if c := b.CustomResponse; c != nil {
		d.status = int(aws.ToInt32(c.ResponseCode))
		if body, ok := a.bodies[aws.ToString(c.CustomResponseBodyKey)]; ok {
			d.body = aws.ToString(body.Content)
			switch body.ContentType {
			case waftypes.ResponseContentTypeApplicationJson:
				d.contentType = "application/json"
			case waftypes.ResponseContentTypeTextPlain:
				d.contentType = "text/plain"
			}
		}
	}
	return d
}

// statementMatches evaluates a statement on the client's country (ISO 3166 alpha-2; "" when
// unknown, which no GeoMatch holds, as AWS WAF treats addresses it cannot place).
func statementMatches(s *waftypes.Statement, country string) (match, known bool) {
	switch {
	case s.GeoMatchStatement != nil:
		for _, c := range s.GeoMatchStatement.CountryCodes {
			if strings.EqualFold(string(c), country) {
				return true, true
			}
		}
		return false, true
	case s.NotStatement != nil && s.NotStatement.Statement != nil:
		m, ok := statementMatches(s.NotStatement.Statement, country)
		return !m, ok
	case s.AndStatement != nil:
		for i := range s.AndStatement.Statements {
			m, ok := statementMatches(&s.AndStatement.Statements[i], country)
			if !ok || !m {
				return false, ok
			}
		}
		return true, true
	case s.OrStatement != nil:
		for i := range s.OrStatement.Statements {
			m, ok := statementMatches(&s.OrStatement.Statements[i], country)
			if !ok {
				return false, false
			}
			if m {
				return true, true
			}
		}
		return false, true
	}
	return false, false
}
