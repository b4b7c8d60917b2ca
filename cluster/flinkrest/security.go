package flinkrest

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
)

// deniedMessage says who refused whom: Flink itself has no
// authentication, so a 401/403 comes from a proxy in front of it (or from
// `ckpt serve`'s token check), and the message says which credentials
// were sent — never their values.
func (c *Client) deniedMessage(resp *http.Response, data []byte) string {
	sent := "no credentials"
	switch {
	case c.user != "":
		sent = fmt.Sprintf("basic authentication as %q", c.user)
	case c.token != "":
		sent = "a bearer token"
	}
	what := "refused the credentials"
	if resp.StatusCode == http.StatusForbidden {
		what = "denied access"
	}
	msg := fmt.Sprintf("%s %s (ckpt sent %s)", c.base.Host, what, sent)
	if ch := resp.Header.Get("WWW-Authenticate"); ch != "" {
		scheme, _, _ := strings.Cut(ch, " ")
		msg += "; it asks for " + scheme + " authentication"
	}
	if body := errorMessage(data); body != "" && body != "Internal server error." {
		msg += ": " + body
	}
	return msg
}

// isTLSError reports a failed TLS handshake: an unknown authority, a
// certificate for another name, a pinned fingerprint that did not match,
// a server that wants a client certificate, or plain http spoken to a TLS
// port (and the other way round).
func isTLSError(err error) bool {
	var (
		ua  x509.UnknownAuthorityError
		hn  x509.HostnameError
		ci  x509.CertificateInvalidError
		rec tls.RecordHeaderError
		ve  *tls.CertificateVerificationError
		ae  tls.AlertError
	)
	if errors.As(err, &ua) || errors.As(err, &hn) || errors.As(err, &ci) || errors.As(err, &rec) ||
		errors.As(err, &ve) || errors.As(err, &ae) {
		return true
	}
	s := err.Error()
	return strings.Contains(s, "tls: ") || strings.Contains(s, "x509: ") || strings.Contains(s, "server gave HTTP response to HTTPS client")
}

// tlsMessage explains a failed handshake in the operator's words.
func tlsMessage(base *url.URL, err error) string {
	var ue *url.Error
	if errors.As(err, &ue) {
		err = ue.Err
	}
	var (
		ua  x509.UnknownAuthorityError
		hn  x509.HostnameError
		rec tls.RecordHeaderError
	)
	host := base.Host
	switch {
	case errors.As(err, &ua):
		return fmt.Sprintf("TLS: %s presented a certificate signed by an unknown authority (%v); name its CA with --rest-ca, a context's tls.ca, or Flink's %s", host, err, KeySSLRestTruststore)
	case errors.As(err, &hn):
		return fmt.Sprintf("TLS: %s presented a certificate for another name (%v); reach it by that name, or set %s: false as Flink allows", host, err, KeySSLVerifyHostname)
	case errors.As(err, &rec):
		return fmt.Sprintf("TLS: %s does not speak TLS (%v); use http:// for it", host, err)
	case strings.Contains(err.Error(), "server gave HTTP response to HTTPS client"):
		return fmt.Sprintf("TLS: %s answered in plain HTTP; use http:// for it", host)
	case strings.Contains(err.Error(), "certificate required") || strings.Contains(err.Error(), "bad certificate"):
		return fmt.Sprintf("TLS: %s requires a client certificate it trusts (mutual TLS: --rest-cert/--rest-key, a context's tls.cert/key, or Flink's %s) — %v", host, KeySSLRestKeystore, err)
	}
	return fmt.Sprintf("TLS handshake with %s failed: %v", host, err)
}
