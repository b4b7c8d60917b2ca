// Package testpki makes a throwaway certificate authority for tests: a CA,
// a server certificate for the names asked, a client certificate, and
// another CA that signs nothing the tests trust — as PEM files in a
// directory the test owns.
package testpki

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// PKI is a CA with its certificates.
type PKI struct {
	Dir         string
	CAFile      string // PEM of the CA
	OtherCAFile string // PEM of a CA nobody uses
	CertFile    string // PEM client certificate signed by the CA
	KeyFile     string // its PKCS#8 key
	Server      tls.Certificate
	Pool        *x509.CertPool // the CA, for servers checking client certificates
}

// New makes a PKI whose server certificate carries names (IP addresses or
// DNS names).
func New(t testing.TB, names ...string) *PKI {
	t.Helper()
	p := &PKI{Dir: t.TempDir()}
	now := time.Now()
	ca, caKey := cert(t, &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "ckpt test CA"},
		NotBefore: now.Add(-time.Hour), NotAfter: now.Add(24 * time.Hour), IsCA: true, BasicConstraintsValid: true,
		KeyUsage: x509.KeyUsageCertSign}, nil, nil)
	p.CAFile = filepath.Join(p.Dir, "ca.pem")
	writePEM(t, p.CAFile, "CERTIFICATE", ca.Raw)
	p.Pool = x509.NewCertPool()
	p.Pool.AddCert(ca)

	st := &x509.Certificate{SerialNumber: big.NewInt(2), Subject: pkix.Name{CommonName: "jobmanager"},
		NotBefore: now.Add(-time.Hour), NotAfter: now.Add(24 * time.Hour), ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}
	for _, n := range names {
		if ip := net.ParseIP(n); ip != nil {
			st.IPAddresses = append(st.IPAddresses, ip)
		} else {
			st.DNSNames = append(st.DNSNames, n)
		}
	}
	sc, sk := cert(t, st, ca, caKey)
	p.Server = tls.Certificate{Certificate: [][]byte{sc.Raw}, PrivateKey: sk, Leaf: sc}

	cc, ck := cert(t, &x509.Certificate{SerialNumber: big.NewInt(3), Subject: pkix.Name{CommonName: "ops"},
		NotBefore: now.Add(-time.Hour), NotAfter: now.Add(24 * time.Hour), ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}}, ca, caKey)
	p.CertFile, p.KeyFile = filepath.Join(p.Dir, "ops.pem"), filepath.Join(p.Dir, "ops-key.pem")
	writePEM(t, p.CertFile, "CERTIFICATE", cc.Raw)
	kder, err := x509.MarshalPKCS8PrivateKey(ck)
	if err != nil {
		t.Fatal(err)
	}
	writePEM(t, p.KeyFile, "PRIVATE KEY", kder)

	other, _ := cert(t, &x509.Certificate{SerialNumber: big.NewInt(9), Subject: pkix.Name{CommonName: "another CA"},
		NotBefore: now.Add(-time.Hour), NotAfter: now.Add(24 * time.Hour), IsCA: true, BasicConstraintsValid: true,
		KeyUsage: x509.KeyUsageCertSign}, nil, nil)
	p.OtherCAFile = filepath.Join(p.Dir, "other-ca.pem")
	writePEM(t, p.OtherCAFile, "CERTIFICATE", other.Raw)
	return p
}

// ServerTLS is a server configuration presenting the server certificate;
// mutual requires a client certificate the CA signed.
func (p *PKI) ServerTLS(mutual bool) *tls.Config {
	c := &tls.Config{Certificates: []tls.Certificate{p.Server}, MinVersion: tls.VersionTLS12}
	if mutual {
		c.ClientAuth = tls.RequireAndVerifyClientCert
		c.ClientCAs = p.Pool
	}
	return c
}

func cert(t testing.TB, tmpl, parent *x509.Certificate, parentKey any) (*x509.Certificate, *ecdsa.PrivateKey) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	if parent == nil {
		parent, parentKey = tmpl, key
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, parent, &key.PublicKey, parentKey)
	if err != nil {
		t.Fatal(err)
	}
	c, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return c, key
}

func writePEM(t testing.TB, name, typ string, der []byte) {
	t.Helper()
	if err := os.WriteFile(name, pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
}
