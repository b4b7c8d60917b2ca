package flinkrest

import (
	"bytes"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/pavlo-v-chernykh/keystore-go/v4"
	"software.sslmate.com/src/go-pkcs12"
)

// Flink's keys for TLS on its REST endpoint (SecurityOptions, the same in
// 1.x and 2.x). Flink's CLI reads them from its configuration; ckpt reads
// the same keys (from --flink-conf-dir / $FLINK_CONF_DIR, -D, or a
// context), so an operator's existing setup reaches a TLS JobManager
// unchanged.
const (
	KeySSLRestEnabled            = "security.ssl.rest.enabled"
	KeySSLRestAuthentication     = "security.ssl.rest.authentication-enabled"
	KeySSLRestTruststore         = "security.ssl.rest.truststore"
	KeySSLRestTruststorePassword = "security.ssl.rest.truststore-password"
	KeySSLRestTruststoreType     = "security.ssl.rest.truststore-type"
	KeySSLRestKeystore           = "security.ssl.rest.keystore"
	KeySSLRestKeystorePassword   = "security.ssl.rest.keystore-password"
	KeySSLRestKeyPassword        = "security.ssl.rest.key-password"
	KeySSLRestKeystoreType       = "security.ssl.rest.keystore-type"
	KeySSLRestCertFingerprint    = "security.ssl.rest.cert.fingerprint"
	KeySSLVerifyHostname         = "security.ssl.verify-hostname"
)

// IsSecurityKey reports whether a Flink configuration key is one of the
// REST TLS keys above (the CLI hands such -D values to the client).
func IsSecurityKey(k string) bool {
	return strings.HasPrefix(k, "security.ssl.rest.") || k == KeySSLVerifyHostname
}

// TLSFiles names the files and settings a TLS connection to the REST
// endpoint uses. Either Flink's keystores (JKS or PKCS12, as Flink's
// security.ssl.rest.* keys name them) or PEM files (ckpt's own --rest-ca,
// --rest-cert, --rest-key and a context's tls: block), not both for one
// role.
type TLSFiles struct {
	// Trust: who signs the server's certificate. None = the system roots.
	CAFile             string // PEM
	Truststore         string // JKS or PKCS12
	TruststorePassword string
	// Client certificate (mutual TLS).
	CertFile, KeyFile string // PEM
	Keystore          string // JKS or PKCS12
	KeystorePassword  string
	KeyPassword       string // "" = the keystore's password
	// Fingerprints pin the server certificate (SHA-1 or SHA-256, hex, colons
	// optional): when set, as in Flink, they replace the trust store.
	Fingerprints []string
	// NoVerifyHostname checks the chain but not the host name (Flink's
	// security.ssl.verify-hostname: false).
	NoVerifyHostname bool
	// ServerName overrides the name the certificate must carry.
	ServerName string
}

// Empty reports whether no TLS setting is given.
func (f TLSFiles) Empty() bool {
	return f.CAFile == "" && f.Truststore == "" && f.CertFile == "" && f.KeyFile == "" && f.Keystore == "" &&
		len(f.Fingerprints) == 0 && !f.NoVerifyHostname && f.ServerName == ""
}

// TLSFromFlinkConf reads Flink's REST TLS keys from conf. enabled is the
// value of security.ssl.rest.enabled: a target given without a scheme is
// then reached over https, as Flink's CLI does. The keystore is used only
// with security.ssl.rest.authentication-enabled (mutual TLS), as in Flink.
func TLSFromFlinkConf(conf map[string]string) (files TLSFiles, enabled bool, err error) {
	if v, ok := conf[KeySSLRestEnabled]; ok {
		if enabled, err = strconv.ParseBool(strings.TrimSpace(v)); err != nil {
			return files, false, fmt.Errorf("%s: %q is not true or false", KeySSLRestEnabled, v)
		}
	}
	files.Truststore = conf[KeySSLRestTruststore]
	files.TruststorePassword = conf[KeySSLRestTruststorePassword]
	mutual := false
	if v, ok := conf[KeySSLRestAuthentication]; ok {
		if mutual, err = strconv.ParseBool(strings.TrimSpace(v)); err != nil {
			return files, false, fmt.Errorf("%s: %q is not true or false", KeySSLRestAuthentication, v)
		}
	}
	if mutual {
		files.Keystore = conf[KeySSLRestKeystore]
		files.KeystorePassword = conf[KeySSLRestKeystorePassword]
		files.KeyPassword = conf[KeySSLRestKeyPassword]
		if files.Keystore == "" {
			return files, false, fmt.Errorf("%s is true but %s names no keystore", KeySSLRestAuthentication, KeySSLRestKeystore)
		}
	}
	if v := strings.TrimSpace(conf[KeySSLRestCertFingerprint]); v != "" {
		for _, fp := range strings.Split(v, ",") {
			if fp = strings.TrimSpace(fp); fp != "" {
				files.Fingerprints = append(files.Fingerprints, fp)
			}
		}
	}
	if v, ok := conf[KeySSLVerifyHostname]; ok {
		b, perr := strconv.ParseBool(strings.TrimSpace(v))
		if perr != nil {
			return files, false, fmt.Errorf("%s: %q is not true or false", KeySSLVerifyHostname, v)
		}
		files.NoVerifyHostname = !b
	}
	return files, enabled, nil
}

// Merge fills what f leaves unset from other (f wins).
func (f TLSFiles) Merge(other TLSFiles) TLSFiles {
	if f.CAFile == "" && f.Truststore == "" {
		f.CAFile, f.Truststore, f.TruststorePassword = other.CAFile, other.Truststore, other.TruststorePassword
	}
	if f.CertFile == "" && f.KeyFile == "" && f.Keystore == "" {
		f.CertFile, f.KeyFile = other.CertFile, other.KeyFile
		f.Keystore, f.KeystorePassword, f.KeyPassword = other.Keystore, other.KeystorePassword, other.KeyPassword
	}
	if len(f.Fingerprints) == 0 {
		f.Fingerprints = other.Fingerprints
	}
	f.NoVerifyHostname = f.NoVerifyHostname || other.NoVerifyHostname
	if f.ServerName == "" {
		f.ServerName = other.ServerName
	}
	return f
}

// maxTLSFile bounds a certificate, key or keystore file.
const maxTLSFile = 1 << 20

// Config builds the tls.Config the files describe. Every error names the
// file and what is wrong with it; passwords never appear in messages.
func (f TLSFiles) Config() (*tls.Config, error) {
	cfg := &tls.Config{MinVersion: tls.VersionTLS12, ServerName: f.ServerName}
	if f.CAFile != "" && f.Truststore != "" {
		return nil, fmt.Errorf("TLS: both a CA file (%s) and a truststore (%s) given; name one", f.CAFile, f.Truststore)
	}
	var roots *x509.CertPool
	switch {
	case f.CAFile != "":
		b, err := readSmall(f.CAFile, maxTLSFile)
		if err != nil {
			return nil, fmt.Errorf("TLS CA file: %w", err)
		}
		roots = x509.NewCertPool()
		if !roots.AppendCertsFromPEM(b) {
			return nil, fmt.Errorf("TLS CA file %s: no PEM certificate in it", f.CAFile)
		}
	case f.Truststore != "":
		certs, err := readTruststore(f.Truststore, f.TruststorePassword)
		if err != nil {
			return nil, err
		}
		roots = x509.NewCertPool()
		for _, c := range certs {
			roots.AddCert(c)
		}
	}
	cfg.RootCAs = roots

	switch {
	case f.Keystore != "" && (f.CertFile != "" || f.KeyFile != ""):
		return nil, fmt.Errorf("TLS: both a keystore (%s) and PEM client certificate files given; name one", f.Keystore)
	case f.CertFile != "" || f.KeyFile != "":
		if f.CertFile == "" || f.KeyFile == "" {
			return nil, fmt.Errorf("TLS client certificate: give both the certificate and the key file (have %q and %q)", f.CertFile, f.KeyFile)
		}
		cb, err := readSmall(f.CertFile, maxTLSFile)
		if err != nil {
			return nil, fmt.Errorf("TLS client certificate: %w", err)
		}
		kb, err := readSmall(f.KeyFile, maxTLSFile)
		if err != nil {
			return nil, fmt.Errorf("TLS client key: %w", err)
		}
		pair, err := tls.X509KeyPair(cb, kb)
		if err != nil {
			return nil, fmt.Errorf("TLS client certificate %s / key %s: %v", f.CertFile, f.KeyFile, err)
		}
		cfg.Certificates = []tls.Certificate{pair}
	case f.Keystore != "":
		pair, err := readKeystore(f.Keystore, f.KeystorePassword, f.KeyPassword)
		if err != nil {
			return nil, err
		}
		cfg.Certificates = []tls.Certificate{pair}
	}

	if len(f.Fingerprints) > 0 {
		want := make(map[string]bool, len(f.Fingerprints))
		for _, fp := range f.Fingerprints {
			h := strings.ToLower(strings.NewReplacer(":", "", " ", "").Replace(fp))
			if _, err := hex.DecodeString(h); err != nil || (len(h) != 40 && len(h) != 64) {
				return nil, fmt.Errorf("%s: %q is not a SHA-1 or SHA-256 fingerprint", KeySSLRestCertFingerprint, fp)
			}
			want[h] = true
		}
		// Pinned: the server's own certificate must carry one of the
		// fingerprints; the trust store is not consulted (as in Flink).
		cfg.InsecureSkipVerify = true
		cfg.VerifyPeerCertificate = func(raw [][]byte, _ [][]*x509.Certificate) error {
			if len(raw) == 0 {
				return errors.New("the server sent no certificate")
			}
			s1, s256 := sha1.Sum(raw[0]), sha256.Sum256(raw[0])
			if want[hex.EncodeToString(s1[:])] || want[hex.EncodeToString(s256[:])] {
				return nil
			}
			return fmt.Errorf("the server's certificate (SHA-1 %s) matches no fingerprint in %s",
				colonHex(s1[:]), KeySSLRestCertFingerprint)
		}
		return cfg, nil
	}
	if f.NoVerifyHostname {
		// The chain is still verified against the roots; only the name
		// check is left out, as Flink's verify-hostname: false does.
		cfg.InsecureSkipVerify = true
		cfg.VerifyPeerCertificate = func(raw [][]byte, _ [][]*x509.Certificate) error {
			certs := make([]*x509.Certificate, 0, len(raw))
			for _, r := range raw {
				c, err := x509.ParseCertificate(r)
				if err != nil {
					return err
				}
				certs = append(certs, c)
			}
			if len(certs) == 0 {
				return errors.New("the server sent no certificate")
			}
			inter := x509.NewCertPool()
			for _, c := range certs[1:] {
				inter.AddCert(c)
			}
			_, err := certs[0].Verify(x509.VerifyOptions{Roots: roots, Intermediates: inter})
			return err
		}
	}
	return cfg, nil
}

func colonHex(b []byte) string {
	s := strings.ToUpper(hex.EncodeToString(b))
	var out strings.Builder
	for i := 0; i < len(s); i += 2 {
		if i > 0 {
			out.WriteByte(':')
		}
		out.WriteString(s[i : i+2])
	}
	return out.String()
}

// jksMagic starts a Java KeyStore (JKS) file; PKCS12 files are DER (0x30).
var jksMagic = []byte{0xfe, 0xed, 0xfe, 0xed}

// readTruststore returns the certificates a Java trust store trusts: its
// trusted-certificate entries and, as Java's trust managers do, the
// certificates of its key entries. The format is recognised from the
// bytes (Flink's *-type keys may say either; Java reads both alike).
func readTruststore(name, password string) ([]*x509.Certificate, error) {
	b, err := readSmall(name, maxTLSFile)
	if err != nil {
		return nil, fmt.Errorf("TLS truststore: %w", err)
	}
	if bytes.HasPrefix(b, jksMagic) {
		ks := keystore.New()
		if err := ks.Load(bytes.NewReader(b), []byte(password)); err != nil {
			return nil, fmt.Errorf("TLS truststore %s (JKS): %v (wrong %s?)", name, err, KeySSLRestTruststorePassword)
		}
		var out []*x509.Certificate
		for _, alias := range ks.Aliases() {
			var raw []byte
			if e, err := ks.GetTrustedCertificateEntry(alias); err == nil {
				raw = e.Certificate.Content
			} else if chain, err := ks.GetPrivateKeyEntryCertificateChain(alias); err == nil && len(chain) > 0 {
				raw = chain[0].Content
			}
			if raw == nil {
				continue
			}
			c, err := x509.ParseCertificate(raw)
			if err != nil {
				return nil, fmt.Errorf("TLS truststore %s: entry %q: %v", name, alias, err)
			}
			out = append(out, c)
		}
		if len(out) == 0 {
			return nil, fmt.Errorf("TLS truststore %s: no certificate in it", name)
		}
		return out, nil
	}
	certs, err := pkcs12.DecodeTrustStore(b, password)
	if err == nil && len(certs) > 0 {
		return certs, nil
	}
	// A PKCS12 file made by openssl (no Java trust attribute) or a
	// keystore used as its own truststore: its certificates are trusted.
	if _, cert, cas, err2 := pkcs12.DecodeChain(b, password); err2 == nil {
		return append([]*x509.Certificate{cert}, cas...), nil
	}
	if err == nil {
		err = errors.New("no certificate in it")
	}
	return nil, fmt.Errorf("TLS truststore %s: neither JKS nor a readable PKCS12 file: %v (wrong %s?)", name, err, KeySSLRestTruststorePassword)
}

// readKeystore returns the client certificate and key of a Java key store
// (the first key entry, as a single-key keystore has).
func readKeystore(name, storePassword, keyPassword string) (tls.Certificate, error) {
	var none tls.Certificate
	if keyPassword == "" {
		keyPassword = storePassword
	}
	b, err := readSmall(name, maxTLSFile)
	if err != nil {
		return none, fmt.Errorf("TLS keystore: %w", err)
	}
	if bytes.HasPrefix(b, jksMagic) {
		ks := keystore.New()
		if err := ks.Load(bytes.NewReader(b), []byte(storePassword)); err != nil {
			return none, fmt.Errorf("TLS keystore %s (JKS): %v (wrong %s?)", name, err, KeySSLRestKeystorePassword)
		}
		for _, alias := range ks.Aliases() {
			if !ks.IsPrivateKeyEntry(alias) {
				continue
			}
			e, err := ks.GetPrivateKeyEntry(alias, []byte(keyPassword))
			if err != nil {
				return none, fmt.Errorf("TLS keystore %s: key %q: %v (wrong %s?)", name, alias, err, KeySSLRestKeyPassword)
			}
			key, err := x509.ParsePKCS8PrivateKey(e.PrivateKey)
			if err != nil {
				return none, fmt.Errorf("TLS keystore %s: key %q: %v", name, alias, err)
			}
			var cert tls.Certificate
			for _, c := range e.CertificateChain {
				cert.Certificate = append(cert.Certificate, c.Content)
			}
			cert.PrivateKey = key
			return cert, nil
		}
		return none, fmt.Errorf("TLS keystore %s: no private key entry in it", name)
	}
	key, leaf, cas, err := pkcs12.DecodeChain(b, storePassword)
	if err != nil {
		return none, fmt.Errorf("TLS keystore %s: neither JKS nor a readable PKCS12 file: %v (wrong %s?)", name, err, KeySSLRestKeystorePassword)
	}
	cert := tls.Certificate{PrivateKey: key, Leaf: leaf, Certificate: [][]byte{leaf.Raw}}
	for _, c := range cas {
		cert.Certificate = append(cert.Certificate, c.Raw)
	}
	return cert, nil
}
