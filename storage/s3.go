package storage

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net"
	"path"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/smithy-go"

	"github.com/ckpt-dev/ckpt/internal/units"
)

// S3 is an S3 bucket (AWS or any S3-compatible endpoint) seen as a
// filesystem, for s3://, s3a:// and s3p:// URIs (Flink's three spellings
// of the same thing; each URI keeps its spelling in what S3 returns).
//
// Object stores have no directories and no rename, so the filesystem
// semantics are built like this, and nowhere else:
//   - a directory is a key prefix ending in "/": it exists while some
//     object has that prefix (MkdirAll puts a zero-byte "dir/" marker so an
//     empty one exists too, as Hadoop's S3A does);
//   - listings page through the prefix with a "/" delimiter, listPage keys
//     per request, so no listing is ever held whole;
//   - Create uploads the bytes straight to their key (one PUT, or a
//     multipart upload once they pass the part size) and the object becomes
//     visible whole, when Close completes the upload, or not at all. While
//     the upload runs, a zero-byte temporary marker (TempName) stands next
//     to it, so a crashed writer leaves the same trace it leaves on disk
//     and HDFS. Without Overwrite the final PUT is conditional
//     (If-None-Match: *): a target that appeared meanwhile wins;
//   - a snapshot is complete when its _metadata object is visible: the
//     engine writes it last, readers look for nothing else;
//   - Rename of a file is a server-side copy then a delete of that one
//     object: not atomic (a crash between the two leaves both names). A
//     directory is never renamed: that would copy every object below it,
//     so it is refused with errors.ErrUnsupported;
//   - Remove deletes one object: a file, or a directory's marker when no
//     other object has the directory's prefix (else ErrNotEmpty). Never a
//     prefix, never in bulk;
//   - there are no symbolic links: Lstat is Stat.
type S3 struct {
	client   *s3.Client
	settings S3Settings
	creds    aws.CredentialsProvider
	where    string // the endpoint, as errors name it
	timeout  time.Duration
	// partSize is the multipart part size: writes up to it are one PUT.
	partSize int
	// readChunk is how much one sequential Read fetches ahead.
	readChunk int
}

// S3 part sizes: S3 wants at least 5 MiB for every part but the last.
const (
	DefaultS3PartSize = 8 << 20
	minS3PartSize     = 5 << 20
	s3ReadChunk       = 4 << 20
	// maxS3CopySize is the largest object one CopyObject can copy.
	maxS3CopySize = 5 << 30
)

var _ FS = (*S3)(nil)

// NewS3 makes the S3 filesystem from opts (see ResolveS3Settings). It
// does not contact the endpoint; the first call does, bounded like every
// other by opts.Timeout (the HDFS timeout: CKPT_HDFS_TIMEOUT, else 30s).
func NewS3(ctx context.Context, opts Options) (*S3, error) {
	timeout, err := resolveTimeout(opts.Timeout)
	if err != nil {
		return nil, err
	}
	set, err := ResolveS3Settings(opts)
	if err != nil {
		return nil, err
	}
	loadOpts := []func(*config.LoadOptions) error{
		config.WithRetryer(func() aws.Retryer {
			return retry.NewStandard(func(o *retry.StandardOptions) {
				o.MaxAttempts = set.MaxAttempts
				o.MaxBackoff = 20 * time.Second
			})
		}),
	}
	if set.Region != "" {
		loadOpts = append(loadOpts, config.WithRegion(set.Region))
	}
	if set.AccessKey != "" {
		loadOpts = append(loadOpts, config.WithCredentialsProvider(
			credentials.NewStaticCredentialsProvider(set.AccessKey, set.SecretKey, set.SessionToken)))
	}
	cfg, err := config.LoadDefaultConfig(ctx, loadOpts...)
	if err != nil {
		return nil, fmt.Errorf("AWS configuration: %w", err)
	}
	if cfg.Region == "" {
		cfg.Region = "us-east-1"
	}
	s := &S3{settings: set, creds: cfg.Credentials, timeout: timeout, partSize: DefaultS3PartSize, readChunk: s3ReadChunk}
	s.client = s3.NewFromConfig(cfg, func(o *s3.Options) {
		if set.Endpoint != "" {
			o.BaseEndpoint = aws.String(set.Endpoint)
		}
		o.UsePathStyle = set.PathStyle
		// Only the checksums S3 requires: many S3-compatible stores reject
		// the SDK's newer default trailing checksums.
		o.RequestChecksumCalculation = aws.RequestChecksumCalculationWhenRequired
		o.ResponseChecksumValidation = aws.ResponseChecksumValidationWhenRequired
	})
	switch {
	case set.Endpoint != "":
		s.where = set.Endpoint
	case cfg.BaseEndpoint != nil:
		s.where = *cfg.BaseEndpoint
	default:
		s.where = "AWS S3 in " + cfg.Region
	}
	return s, nil
}

// Settings are the resolved settings this filesystem uses.
func (s *S3) Settings() S3Settings { return s.settings }

// Endpoint is the endpoint as errors name it.
func (s *S3) Endpoint() string { return s.where }

// CredentialSource says where the credentials come from: the Flink key
// that set them, or which provider of the AWS default chain answered
// (environment, shared profile, web identity, instance role). Asking the
// chain may contact the instance metadata service.
func (s *S3) CredentialSource(ctx context.Context) string {
	if s.settings.AccessKey != "" {
		return "static keys from " + s.settings.KeysFrom
	}
	if s.creds == nil {
		return "none (anonymous)"
	}
	ctx, cancel := s.bound(ctx)
	defer cancel()
	c, err := s.creds.Retrieve(ctx)
	if err != nil {
		return "AWS default credential chain: no credentials found (" + firstLine(err.Error()) + ")"
	}
	return "AWS default credential chain: " + c.Source
}

func firstLine(s string) string {
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		return s[:i]
	}
	return s
}

func (s *S3) bound(ctx context.Context) (context.Context, context.CancelFunc) {
	if dl, ok := ctx.Deadline(); ok && time.Until(dl) <= s.timeout {
		return context.WithCancel(ctx)
	}
	return context.WithTimeout(ctx, s.timeout)
}

// call runs fn bounded by the timeout and turns its error into an *Error
// naming op, uri and the cause.
func (s *S3) call(ctx context.Context, op, uri string, loc Location, fn func(ctx context.Context) error) error {
	if err := ctx.Err(); err != nil {
		return &Error{Op: op, URI: uri, Err: err}
	}
	cctx, cancel := s.bound(ctx)
	defer cancel()
	start := time.Now()
	err := fn(cctx)
	if err == nil {
		return nil
	}
	var se *Error
	if errors.As(err, &se) {
		return err
	}
	return &Error{Op: op, URI: uri, Err: s.classify(ctx, err, loc.Authority, time.Since(start))}
}

// loc parses uri and checks it is an S3 URI.
func (s *S3) loc(op, uri string) (Location, error) {
	loc, err := Parse(uri)
	if err != nil {
		return loc, &Error{Op: op, URI: uri, Err: err}
	}
	if !isS3Scheme(loc.Scheme) {
		return loc, &Error{Op: op, URI: uri, Err: fmt.Errorf("not an s3:// URI")}
	}
	return loc, nil
}

func isS3Scheme(s string) bool { return s == "s3" || s == "s3a" || s == "s3p" }

// key is the object key of loc ("" for the bucket's root).
func s3Key(loc Location) string { return strings.TrimPrefix(loc.Path, "/") }

// dirPrefix is the prefix of everything below key.
func dirPrefix(key string) string {
	if key == "" {
		return ""
	}
	return key + "/"
}

// parentKey is the key of key's directory ("" for the bucket's root).
func parentKey(key string) string {
	if p := path.Dir(key); p != "." {
		return p
	}
	return ""
}

// s3Cause is a classified S3 failure: readable, and matching the fs
// sentinel it means.
type s3Cause struct {
	msg string
	is  error
	err error
}

func (e *s3Cause) Error() string        { return e.msg }
func (e *s3Cause) Unwrap() error        { return e.err }
func (e *s3Cause) Is(target error) bool { return e.is != nil && target == e.is }

// errIsDir is the cause when a file operation meets a directory.
var errIsDir = errors.New("is a directory")

func (s *S3) classify(ctx context.Context, err error, bucket string, took time.Duration) error {
	var c *s3Cause
	if errors.As(err, &c) || errors.Is(err, errNotDir) || errors.Is(err, errIsDir) || errors.Is(err, ErrNotEmpty) || errors.Is(err, errors.ErrUnsupported) {
		return err
	}
	if ctx.Err() != nil {
		return err // the caller cancelled: errors.Is(err, context.Canceled) holds
	}
	if errors.Is(err, context.DeadlineExceeded) {
		return &s3Cause{msg: fmt.Sprintf("no answer from S3 endpoint %s within %s (raise --hdfs-timeout / CKPT_HDFS_TIMEOUT if it is just slow)", s.where, took.Round(time.Millisecond)), err: err}
	}
	var ae smithy.APIError
	if errors.As(err, &ae) {
		code, msg := ae.ErrorCode(), ae.ErrorMessage()
		detail := code
		if msg != "" && msg != code {
			detail += ": " + msg
		}
		switch code {
		case "NoSuchBucket":
			return &s3Cause{msg: fmt.Sprintf("no such bucket %q at %s", bucket, s.where), is: fs.ErrNotExist, err: err}
		case "NoSuchKey", "NotFound":
			return &s3Cause{msg: "no such object", is: fs.ErrNotExist, err: err}
		case "AccessDenied", "Forbidden", "AllAccessDisabled", "AccountProblem":
			return &s3Cause{msg: fmt.Sprintf("access denied to bucket %q at %s (%s) with %s", bucket, s.where, detail, s.CredentialSource(context.Background())), is: fs.ErrPermission, err: err}
		case "InvalidAccessKeyId", "SignatureDoesNotMatch", "ExpiredToken", "InvalidToken", "TokenRefreshRequired":
			return &s3Cause{msg: fmt.Sprintf("credentials rejected by %s for bucket %q (%s); they are %s", s.where, bucket, detail, s.CredentialSource(context.Background())), is: fs.ErrPermission, err: err}
		case "PreconditionFailed":
			return &s3Cause{msg: "already exists", is: fs.ErrExist, err: err}
		case "PermanentRedirect", "AuthorizationHeaderMalformed", "IllegalLocationConstraintException":
			return &s3Cause{msg: fmt.Sprintf("bucket %q is not served by %s (%s): set s3.endpoint or the region (fs.s3a.endpoint.region)", bucket, s.where, detail), err: err}
		}
		var re *awshttp.ResponseError
		if errors.As(err, &re) {
			switch re.HTTPStatusCode() {
			case 404:
				return &s3Cause{msg: "no such object", is: fs.ErrNotExist, err: err}
			case 403:
				return &s3Cause{msg: fmt.Sprintf("access denied to bucket %q at %s with %s", bucket, s.where, s.CredentialSource(context.Background())), is: fs.ErrPermission, err: err}
			}
		}
		return &s3Cause{msg: fmt.Sprintf("S3 endpoint %s, bucket %q: %s", s.where, bucket, detail), err: err}
	}
	var oe *net.OpError
	var de *net.DNSError
	switch {
	case errors.As(err, &de):
		return &s3Cause{msg: fmt.Sprintf("cannot reach S3 endpoint %s for bucket %q: %v (check s3.endpoint and s3.path.style.access)", s.where, bucket, de), err: err}
	case errors.As(err, &oe):
		return &s3Cause{msg: fmt.Sprintf("cannot reach S3 endpoint %s for bucket %q: %v", s.where, bucket, oe), err: err}
	}
	if strings.Contains(err.Error(), "failed to refresh cached credentials") || strings.Contains(err.Error(), "failed to retrieve credentials") {
		return &s3Cause{msg: fmt.Sprintf("no AWS credentials for bucket %q: set s3.access-key/s3.secret-key, AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY or AWS_PROFILE (%s)", bucket, firstLine(err.Error())), is: fs.ErrPermission, err: err}
	}
	return err
}

func isNotFound(err error) bool {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		switch ae.ErrorCode() {
		case "NoSuchKey", "NotFound":
			return true
		case "NoSuchBucket":
			return false
		}
	}
	var re *awshttp.ResponseError
	return errors.As(err, &re) && re.HTTPStatusCode() == 404 && (ae == nil || ae.ErrorCode() != "NoSuchBucket")
}

// head describes the object key; found is false when there is none.
func (s *S3) head(ctx context.Context, bucket, key string) (out *s3.HeadObjectOutput, found bool, err error) {
	out, err = s.client.HeadObject(ctx, &s3.HeadObjectInput{Bucket: &bucket, Key: &key})
	if err != nil {
		if isNotFound(err) {
			return nil, false, nil
		}
		var re *awshttp.ResponseError
		if errors.As(err, &re) && re.HTTPStatusCode() == 403 {
			// A HEAD answer has no body, so no reason: a wrong secret and a
			// missing grant both read "Forbidden". A listing says which.
			_, lerr := s.client.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: &bucket, Prefix: &key, MaxKeys: aws.Int32(1)})
			var ae smithy.APIError
			if errors.As(lerr, &ae) && ae.ErrorCode() != "Forbidden" {
				return nil, false, lerr
			}
		}
		return nil, false, err
	}
	return out, true, nil
}

// hasMarker reports whether the directory key has its own marker object:
// one HEAD, which stores answer without scanning, where a listing may not.
func (s *S3) hasMarker(ctx context.Context, bucket, key string) (bool, error) {
	if key == "" {
		return false, nil
	}
	_, found, err := s.head(ctx, bucket, dirPrefix(key))
	return found, err
}

// dirExistsFast is dirExists trying the marker first: directories ckpt
// made (MkdirAll) have one.
func (s *S3) dirExistsFast(ctx context.Context, bucket, key string) (bool, error) {
	if ok, err := s.hasMarker(ctx, bucket, key); err != nil || ok {
		return ok, err
	}
	ok, _, err := s.dirExists(ctx, bucket, key)
	return ok, err
}

// dirExists reports whether the directory key exists: it has a marker or
// anything below it. It also reports a missing bucket (NoSuchBucket). The
// time is the marker's, or zero.
func (s *S3) dirExists(ctx context.Context, bucket, key string) (bool, time.Time, error) {
	out, err := s.client.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: &bucket, Prefix: aws.String(dirPrefix(key)), MaxKeys: aws.Int32(1)})
	if err != nil {
		return false, time.Time{}, err
	}
	if len(out.Contents) == 0 && len(out.CommonPrefixes) == 0 {
		return key == "", time.Time{}, nil // the bucket's root always exists
	}
	var mt time.Time
	if len(out.Contents) > 0 && aws.ToString(out.Contents[0].Key) == dirPrefix(key) {
		mt = aws.ToTime(out.Contents[0].LastModified)
	}
	return true, mt, nil
}

func (s *S3) fileInfo(uri string, loc Location, size int64, mt time.Time) FileInfo {
	return FileInfo{URI: uri, Name: path.Base(loc.Path), Size: size, ModTime: mt, Mode: 0o644}
}

func (s *S3) dirInfo(uri string, loc Location, mt time.Time) FileInfo {
	name := path.Base(loc.Path)
	if loc.Path == "/" {
		name = loc.Authority
	}
	return FileInfo{URI: uri, Name: name, ModTime: mt, IsDir: true, Mode: fs.ModeDir | 0o755}
}

// stat finds uri as a file, else as a directory.
func (s *S3) stat(ctx context.Context, uri string, loc Location) (FileInfo, error) {
	key := s3Key(loc)
	if key != "" {
		h, found, err := s.head(ctx, loc.Authority, key)
		if err != nil {
			return FileInfo{}, err
		}
		if found {
			return s.fileInfo(uri, loc, aws.ToInt64(h.ContentLength), aws.ToTime(h.LastModified)), nil
		}
	}
	ok, mt, err := s.dirExists(ctx, loc.Authority, key)
	if err != nil {
		return FileInfo{}, err
	}
	if !ok {
		return FileInfo{}, &s3Cause{msg: "no such file or directory", is: fs.ErrNotExist}
	}
	return s.dirInfo(uri, loc, mt), nil
}

func (s *S3) Stat(ctx context.Context, uri string) (FileInfo, error) {
	loc, err := s.loc("stat", uri)
	if err != nil {
		return FileInfo{}, err
	}
	var fi FileInfo
	err = s.call(ctx, "stat", uri, loc, func(ctx context.Context) (err error) {
		fi, err = s.stat(ctx, uri, loc)
		return err
	})
	return fi, err
}

// Lstat is Stat: S3 has no symbolic links.
func (s *S3) Lstat(ctx context.Context, uri string) (FileInfo, error) {
	fi, err := s.Stat(ctx, uri)
	if se := (*Error)(nil); errors.As(err, &se) && se.Op == "stat" {
		se.Op = "lstat"
	}
	return fi, err
}

type s3Lister struct {
	s      *S3
	uri    string
	loc    Location
	prefix string
	token  *string
	more   bool
	first  []FileInfo // the page List fetched to tell a directory from the rest
	primed bool
}

func (s *S3) List(ctx context.Context, uri string) (Lister, error) {
	loc, err := s.loc("list", uri)
	if err != nil {
		return nil, err
	}
	key := s3Key(loc)
	l := &s3Lister{s: s, uri: uri, loc: loc, prefix: dirPrefix(key), more: true}
	err = s.call(ctx, "list", uri, loc, func(ctx context.Context) error {
		page, raw, err := l.fetch(ctx)
		if err != nil {
			return err
		}
		if raw == 0 && key != "" {
			// Nothing has the prefix: a file, or nothing at all.
			_, found, err := s.head(ctx, loc.Authority, key)
			if err != nil {
				return err
			}
			if found {
				return errNotDir
			}
			return &s3Cause{msg: "no such directory", is: fs.ErrNotExist}
		}
		l.first, l.primed = page, true
		return nil
	})
	if err != nil {
		return nil, err
	}
	return l, nil
}

// fetch gets the next page: entries, and how many keys S3 returned (the
// directory's own marker is one of them but not an entry).
func (l *s3Lister) fetch(ctx context.Context) ([]FileInfo, int, error) {
	out, err := l.s.client.ListObjectsV2(ctx, &s3.ListObjectsV2Input{
		Bucket:            &l.loc.Authority,
		Prefix:            &l.prefix,
		Delimiter:         aws.String("/"),
		MaxKeys:           aws.Int32(listPage),
		ContinuationToken: l.token,
	})
	if err != nil {
		return nil, 0, err
	}
	l.token = out.NextContinuationToken
	l.more = aws.ToBool(out.IsTruncated) && l.token != nil
	page := make([]FileInfo, 0, len(out.CommonPrefixes)+len(out.Contents))
	for _, p := range out.CommonPrefixes {
		name := strings.TrimSuffix(strings.TrimPrefix(aws.ToString(p.Prefix), l.prefix), "/")
		if name == "" {
			continue // "dir//x": an empty path element, unreachable by URI
		}
		sub := l.loc
		sub.Path = path.Join(l.loc.Path, name)
		page = append(page, l.s.dirInfo(sub.String(), sub, time.Time{}))
	}
	for _, o := range out.Contents {
		k := aws.ToString(o.Key)
		if k == l.prefix {
			continue // the directory's own marker
		}
		name := strings.TrimPrefix(k, l.prefix)
		sub := l.loc
		sub.Path = path.Join(l.loc.Path, name)
		page = append(page, l.s.fileInfo(sub.String(), sub, aws.ToInt64(o.Size), aws.ToTime(o.LastModified)))
	}
	return page, len(out.CommonPrefixes) + len(out.Contents), nil
}

func (l *s3Lister) Next(ctx context.Context) ([]FileInfo, error) {
	if l.primed {
		l.primed = false
		page := l.first
		l.first = nil
		if !l.more {
			return page, io.EOF
		}
		if len(page) > 0 {
			return page, nil
		}
	}
	for l.more {
		var page []FileInfo
		err := l.s.call(ctx, "list", l.uri, l.loc, func(ctx context.Context) (err error) {
			page, _, err = l.fetch(ctx)
			return err
		})
		if err != nil {
			return nil, err
		}
		if !l.more {
			return page, io.EOF
		}
		if len(page) > 0 {
			return page, nil
		}
	}
	return nil, io.EOF
}

func (l *s3Lister) Close() error { return nil }

// s3File reads one object: ranged GETs pinned to the ETag seen at Open,
// so an object replaced while it is read fails loudly instead of mixing
// two versions.
type s3File struct {
	*rangedFile
	s    *S3
	uri  string
	loc  Location
	key  string
	etag *string
}

// fetch reads len(dst) bytes at off with one ranged GET, pinned to the
// ETag seen at Open.
func (f *s3File) fetch(dst []byte, off int64) error {
	return f.s.call(context.Background(), "read", f.uri, f.loc, func(ctx context.Context) error {
		out, err := f.s.client.GetObject(ctx, &s3.GetObjectInput{
			Bucket:  &f.loc.Authority,
			Key:     &f.key,
			Range:   aws.String(fmt.Sprintf("bytes=%d-%d", off, off+int64(len(dst))-1)),
			IfMatch: f.etag,
		})
		if err != nil {
			var ae smithy.APIError
			if errors.As(err, &ae) && ae.ErrorCode() == "PreconditionFailed" {
				return fmt.Errorf("the object was replaced while being read (ETag %s no longer matches)", aws.ToString(f.etag))
			}
			return err
		}
		defer out.Body.Close()
		if _, err := io.ReadFull(out.Body, dst); err != nil {
			return fmt.Errorf("reading %d bytes at %d: %w", len(dst), off, err)
		}
		return nil
	})
}

func (s *S3) Open(ctx context.Context, uri string) (File, error) {
	loc, err := s.loc("open", uri)
	if err != nil {
		return nil, err
	}
	key := s3Key(loc)
	var f *s3File
	err = s.call(ctx, "open", uri, loc, func(ctx context.Context) error {
		if key == "" {
			return errIsDir
		}
		h, found, err := s.head(ctx, loc.Authority, key)
		if err != nil {
			return err
		}
		if !found {
			ok, _, err := s.dirExists(ctx, loc.Authority, key)
			if err != nil {
				return err
			}
			if ok {
				return errIsDir
			}
			return &s3Cause{msg: "no such file", is: fs.ErrNotExist}
		}
		f = &s3File{s: s, uri: uri, loc: loc, key: key, etag: h.ETag}
		f.rangedFile = &rangedFile{uri: uri, size: aws.ToInt64(h.ContentLength), chunk: s.readChunk, fetch: f.fetch}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return f, nil
}

// s3Writer uploads one object; see S3 for how it stays invisible until Close.
type s3Writer struct {
	s         *S3
	uri       string
	loc       Location
	key       string
	tmpKey    string
	overwrite bool

	buf      bytes.Buffer
	uploadID *string
	parts    []types.CompletedPart
	closed   bool
	aborted  bool
	err      error // the first failure; Close reports it
}

func (s *S3) Create(ctx context.Context, uri string, opts CreateOptions) (Writer, error) {
	loc, err := s.loc("create", uri)
	if err != nil {
		return nil, err
	}
	key := s3Key(loc)
	w := &s3Writer{s: s, uri: uri, loc: loc, key: key, overwrite: opts.Overwrite}
	err = s.call(ctx, "create", uri, loc, func(ctx context.Context) error {
		if key == "" {
			return errIsDir
		}
		parent := path.Dir(key)
		if parent == "." {
			parent = ""
		}
		ok, err := s.dirExistsFast(ctx, loc.Authority, parent)
		if err != nil {
			return err
		}
		if !ok {
			return &s3Cause{msg: fmt.Sprintf("parent directory %s does not exist", Dir(uri)), is: fs.ErrNotExist}
		}
		if !opts.Overwrite {
			if _, found, err := s.head(ctx, loc.Authority, key); err != nil {
				return err
			} else if found {
				return &s3Cause{msg: "already exists", is: fs.ErrExist}
			}
		}
		w.tmpKey = path.Join(parent, TempName(path.Base(key)))
		_, err = s.client.PutObject(ctx, &s3.PutObjectInput{Bucket: &loc.Authority, Key: &w.tmpKey, Body: bytes.NewReader(nil), ContentLength: aws.Int64(0)})
		return err
	})
	if err != nil {
		return nil, err
	}
	return w, nil
}

func (w *s3Writer) Write(b []byte) (int, error) {
	if w.closed || w.aborted {
		return 0, &Error{Op: "write", URI: w.uri, Err: fs.ErrClosed}
	}
	if w.err != nil {
		return 0, w.err
	}
	w.buf.Write(b)
	for w.buf.Len() >= w.s.partSize {
		if err := w.uploadPart(w.buf.Next(w.s.partSize)); err != nil {
			w.err = err
			return len(b), err
		}
	}
	return len(b), nil
}

// uploadPart sends p as the next part, starting the multipart upload on
// the first one.
func (w *s3Writer) uploadPart(p []byte) error {
	return w.s.call(context.Background(), "write", w.uri, w.loc, func(ctx context.Context) error {
		if w.uploadID == nil {
			out, err := w.s.client.CreateMultipartUpload(ctx, &s3.CreateMultipartUploadInput{Bucket: &w.loc.Authority, Key: &w.key})
			if err != nil {
				return err
			}
			w.uploadID = out.UploadId
		}
		n := int32(len(w.parts) + 1)
		out, err := w.s.client.UploadPart(ctx, &s3.UploadPartInput{
			Bucket: &w.loc.Authority, Key: &w.key, UploadId: w.uploadID, PartNumber: &n,
			Body: bytes.NewReader(p), ContentLength: aws.Int64(int64(len(p))),
		})
		if err != nil {
			return err
		}
		w.parts = append(w.parts, types.CompletedPart{ETag: out.ETag, PartNumber: &n})
		return nil
	})
}

func (w *s3Writer) Close() error {
	if w.closed {
		return w.err
	}
	if w.aborted {
		return &Error{Op: "close", URI: w.uri, Err: fs.ErrClosed}
	}
	w.closed = true
	if w.err == nil {
		w.err = w.finish()
	}
	if w.err != nil {
		w.abortUpload()
	}
	w.removeTmp()
	return w.err
}

func (w *s3Writer) finish() error {
	var ifNoneMatch *string
	if !w.overwrite {
		ifNoneMatch = aws.String("*")
	}
	if w.uploadID == nil {
		return w.s.call(context.Background(), "close", w.uri, w.loc, func(ctx context.Context) error {
			body := w.buf.Bytes()
			_, err := w.s.client.PutObject(ctx, &s3.PutObjectInput{
				Bucket: &w.loc.Authority, Key: &w.key, Body: bytes.NewReader(body),
				ContentLength: aws.Int64(int64(len(body))), IfNoneMatch: ifNoneMatch,
			})
			return err
		})
	}
	if w.buf.Len() > 0 {
		if err := w.uploadPart(w.buf.Next(w.buf.Len())); err != nil {
			return err
		}
	}
	return w.s.call(context.Background(), "close", w.uri, w.loc, func(ctx context.Context) error {
		_, err := w.s.client.CompleteMultipartUpload(ctx, &s3.CompleteMultipartUploadInput{
			Bucket: &w.loc.Authority, Key: &w.key, UploadId: w.uploadID,
			MultipartUpload: &types.CompletedMultipartUpload{Parts: w.parts},
			IfNoneMatch:     ifNoneMatch,
		})
		return err
	})
}

func (w *s3Writer) abortUpload() {
	if w.uploadID == nil {
		return
	}
	w.s.call(context.Background(), "abort", w.uri, w.loc, func(ctx context.Context) error {
		_, err := w.s.client.AbortMultipartUpload(ctx, &s3.AbortMultipartUploadInput{Bucket: &w.loc.Authority, Key: &w.key, UploadId: w.uploadID})
		return err
	})
	w.uploadID = nil
}

// removeTmp deletes the temporary marker. Failing that, it stays behind
// as a recognised leftover (IsTemporary), as after a crash.
func (w *s3Writer) removeTmp() error {
	return w.s.call(context.Background(), "abort", w.uri, w.loc, func(ctx context.Context) error {
		_, err := w.s.client.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: &w.loc.Authority, Key: &w.tmpKey})
		return err
	})
}

func (w *s3Writer) Abort() error {
	if w.closed && w.err == nil {
		return nil
	}
	if w.aborted {
		return nil
	}
	w.aborted = true
	w.buf = bytes.Buffer{}
	w.abortUpload()
	if w.closed {
		return nil // Close already removed the marker
	}
	return w.removeTmp()
}

func (s *S3) putMarker(ctx context.Context, bucket, key string) error {
	_, err := s.client.PutObject(ctx, &s3.PutObjectInput{Bucket: &bucket, Key: aws.String(key), Body: bytes.NewReader(nil), ContentLength: aws.Int64(0)})
	return err
}

// MkdirAll puts a marker for uri unless it exists as a directory already.
// Every ancestor up to the first existing directory is checked not to be a
// file; the ancestors themselves need no markers (they exist through it).
func (s *S3) MkdirAll(ctx context.Context, uri string) error {
	loc, err := s.loc("mkdir", uri)
	if err != nil {
		return err
	}
	key := s3Key(loc)
	return s.call(ctx, "mkdir", uri, loc, func(ctx context.Context) error {
		// From the leaf up: no file may stand where a directory is asked
		// for; the first existing ancestor directory ends the climb. A
		// marker (one HEAD, which every store answers without scanning)
		// proves a directory; only one without a marker costs a listing.
		// A new directory below one ckpt made costs three requests.
		if key == "" {
			_, _, err := s.dirExists(ctx, loc.Authority, "") // the bucket's root: exists if the bucket does
			return err
		}
		for k := key; k != ""; k = parentKey(k) {
			if k != key {
				// An ancestor only has to exist, and not as a file.
				if ok, err := s.hasMarker(ctx, loc.Authority, k); err != nil {
					return err
				} else if ok {
					break
				}
			}
			if _, found, err := s.head(ctx, loc.Authority, k); err != nil {
				return err
			} else if found {
				c := loc
				c.Path = "/" + k
				return &s3Cause{msg: fmt.Sprintf("%s is a file", c), is: errNotDir}
			}
			if k != key {
				if ok, _, err := s.dirExists(ctx, loc.Authority, k); err != nil {
					return err
				} else if ok {
					break
				}
			}
		}
		// The leaf gets its marker even when it exists already (through its
		// own marker or objects below it): putting an empty marker again
		// changes nothing, and costs less than asking first.
		return s.putMarker(ctx, loc.Authority, dirPrefix(key))
	})
}

// Rename copies the one object at from to to and deletes from. It is not
// atomic: a crash between the two leaves both. Directories are refused.
func (s *S3) Rename(ctx context.Context, from, to string) error {
	fl, err := s.loc("rename", from)
	if err != nil {
		return err
	}
	tl, err := s.loc("rename", to)
	if err != nil {
		return err
	}
	if tl.Authority != fl.Authority {
		return &Error{Op: "rename", URI: from, Err: fmt.Errorf("target %s is in another bucket", to)}
	}
	fk, tk := s3Key(fl), s3Key(tl)
	var conflict bool
	err = s.call(ctx, "rename", from, fl, func(ctx context.Context) error {
		h, found, err := s.head(ctx, fl.Authority, fk)
		if err != nil {
			return err
		}
		if !found {
			if ok, _, err := s.dirExists(ctx, fl.Authority, fk); err != nil {
				return err
			} else if ok {
				return fmt.Errorf("renaming a directory on S3 would copy every object below it; ckpt does not: %w", errors.ErrUnsupported)
			}
			return &s3Cause{msg: "no such file", is: fs.ErrNotExist}
		}
		if size := aws.ToInt64(h.ContentLength); size > maxS3CopySize {
			return fmt.Errorf("%s is %s, more than one S3 copy can move (5 GiB): %w", from, units.Bytes(size), errors.ErrUnsupported)
		}
		if _, found, err := s.head(ctx, tl.Authority, tk); err != nil {
			return err
		} else if found {
			conflict = true
			return &s3Cause{msg: fmt.Sprintf("target %s already exists", to), is: fs.ErrExist}
		}
		if ok, _, err := s.dirExists(ctx, tl.Authority, tk); err != nil {
			return err
		} else if ok {
			conflict = true
			return &s3Cause{msg: fmt.Sprintf("target %s already exists", to), is: fs.ErrExist}
		}
		_, err = s.client.CopyObject(ctx, &s3.CopyObjectInput{
			Bucket: &tl.Authority, Key: &tk,
			CopySource:        aws.String(fl.Authority + "/" + fk),
			CopySourceIfMatch: h.ETag,
			IfNoneMatch:       aws.String("*"),
		})
		if err != nil {
			return err
		}
		_, err = s.client.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: &fl.Authority, Key: &fk})
		return err
	})
	if conflict {
		var se *Error
		if errors.As(err, &se) {
			se.URI = to
		}
	}
	return err
}

// Remove deletes the one object at uri, or the marker of the empty
// directory uri. A directory that anything else has the prefix of is
// ErrNotEmpty; nothing below it is touched.
func (s *S3) Remove(ctx context.Context, uri string) error {
	loc, err := s.loc("remove", uri)
	if err != nil {
		return err
	}
	key := s3Key(loc)
	if key == "" {
		return &Error{Op: "remove", URI: uri, Err: errors.New("refusing to remove the root of a bucket")}
	}
	return s.call(ctx, "remove", uri, loc, func(ctx context.Context) error {
		_, found, err := s.head(ctx, loc.Authority, key)
		if err != nil {
			return err
		}
		if found {
			_, err := s.client.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: &loc.Authority, Key: &key})
			return err
		}
		marker := dirPrefix(key)
		out, err := s.client.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: &loc.Authority, Prefix: &marker, MaxKeys: aws.Int32(2)})
		if err != nil {
			return err
		}
		hasMarker := false
		for _, o := range out.Contents {
			if aws.ToString(o.Key) != marker {
				return ErrNotEmpty
			}
			hasMarker = true
		}
		if len(out.CommonPrefixes) > 0 {
			return ErrNotEmpty
		}
		if !hasMarker {
			return nil // missing: not an error
		}
		_, err = s.client.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: &loc.Authority, Key: &marker})
		return err
	})
}

func (s *S3) Walk(ctx context.Context, uri string, fn WalkFunc) error {
	root, err := s.Stat(ctx, uri)
	if err != nil {
		if se := (*Error)(nil); errors.As(err, &se) {
			se.Op = "walk"
		}
		return err
	}
	return walkTree(ctx, s, root, fn)
}

var _ Summarizer = (*S3)(nil)

// s3SummaryWorkers is how many subtrees Summary lists at once.
const s3SummaryWorkers = 8

// Summary totals uri without a listing per directory: one listing of
// uri's prefix with a "/" delimiter gives its own files and its
// subdirectories, and each subdirectory's whole subtree is then listed
// flat (no delimiter: listPage keys per request, however deep), up to
// s3SummaryWorkers subtrees at once — a job's checkpoint directory has
// shared/, taskowned/ and its chk-N side by side, a checkpoint root its
// jobs. Pages are added up as they come: no listing is held whole; only
// the set of a subtree's directory names is kept, never its objects.
func (s *S3) Summary(ctx context.Context, uri string) (Usage, error) {
	fi, err := s.Stat(ctx, uri)
	if err != nil {
		return Usage{}, err
	}
	if !fi.IsDir {
		return Usage{Files: 1, Bytes: fi.Size}, nil
	}
	loc, _ := s.loc("du", uri)
	prefix := dirPrefix(s3Key(loc))
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()

	var (
		mu    sync.Mutex
		total = Usage{Dirs: 1}
		first error
		wg    sync.WaitGroup
	)
	fail := func(err error) {
		mu.Lock()
		if first == nil {
			first = err
			cancel()
		}
		mu.Unlock()
	}
	subtrees := make(chan string)
	for range s3SummaryWorkers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for sub := range subtrees {
				u, err := s.summarizeFlat(ctx, uri, loc, sub)
				if err != nil {
					fail(err)
					continue
				}
				mu.Lock()
				total.Files += u.Files
				total.Bytes += u.Bytes
				total.Dirs += u.Dirs
				mu.Unlock()
			}
		}()
	}
	var token *string
	for {
		var out *s3.ListObjectsV2Output
		err := s.call(ctx, "du", uri, loc, func(ctx context.Context) (err error) {
			out, err = s.client.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: &loc.Authority, Prefix: &prefix,
				Delimiter: aws.String("/"), MaxKeys: aws.Int32(listPage), ContinuationToken: token})
			return err
		})
		if err != nil {
			fail(err)
			break
		}
		mu.Lock()
		for _, o := range out.Contents {
			if aws.ToString(o.Key) == prefix {
				continue // uri's own marker
			}
			total.Files++
			total.Bytes += aws.ToInt64(o.Size)
		}
		mu.Unlock()
		sent := true
		for _, p := range out.CommonPrefixes {
			select {
			case subtrees <- aws.ToString(p.Prefix):
			case <-ctx.Done():
				sent = false
			}
			if !sent {
				break
			}
		}
		if !sent || !aws.ToBool(out.IsTruncated) || out.NextContinuationToken == nil {
			break
		}
		token = out.NextContinuationToken
	}
	close(subtrees)
	wg.Wait()
	if first != nil {
		return Usage{}, first
	}
	return total, nil
}

// summarizeFlat totals the subtree below prefix (a directory's key prefix,
// ending in "/") with one flat listing; the directory itself counts.
func (s *S3) summarizeFlat(ctx context.Context, uri string, loc Location, prefix string) (Usage, error) {
	dirs := map[string]bool{}
	u := Usage{Dirs: 1}
	var token *string
	for {
		var out *s3.ListObjectsV2Output
		err := s.call(ctx, "du", uri, loc, func(ctx context.Context) (err error) {
			out, err = s.client.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: &loc.Authority, Prefix: &prefix, MaxKeys: aws.Int32(listPage), ContinuationToken: token})
			return err
		})
		if err != nil {
			return u, err
		}
		for _, o := range out.Contents {
			rel := strings.TrimPrefix(aws.ToString(o.Key), prefix)
			if rel == "" {
				continue // the directory's own marker
			}
			isMarker := strings.HasSuffix(rel, "/")
			rel = strings.TrimSuffix(rel, "/")
			if !isMarker {
				u.Files++
				u.Bytes += aws.ToInt64(o.Size)
				rel = path.Dir(rel)
			}
			for d := rel; d != "." && d != "" && !dirs[d]; d = path.Dir(d) {
				dirs[d] = true
			}
		}
		if !aws.ToBool(out.IsTruncated) || out.NextContinuationToken == nil {
			break
		}
		token = out.NextContinuationToken
	}
	u.Dirs += int64(len(dirs))
	return u, nil
}
