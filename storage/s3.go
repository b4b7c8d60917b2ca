package storage

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net"
	"strings"
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
// Its semantics are objectFS's — directories are prefixes with "dir/"
// markers (as Hadoop's S3A makes them), no rename of directories, one
// named object per delete, an object visible whole when Close completes
// its upload or not at all — and this file only says how S3 does each
// request: a PUT, or a multipart upload once the bytes pass the part
// size; conditional writes with If-None-Match: *; ranged GETs pinned with
// If-Match to the ETag seen at Open; server-side copies of up to 5 GiB.
type S3 struct {
	*objectFS
	st *s3Store
	// client is the SDK client (tests reach the bucket behind ckpt's back
	// with it).
	client *s3.Client
}

// s3Store is S3's requests (objectStore).
type s3Store struct {
	client   *s3.Client
	settings S3Settings
	creds    aws.CredentialsProvider
	endpoint string // the endpoint, as errors name it
	timeout  time.Duration
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
	st := &s3Store{settings: set, creds: cfg.Credentials, timeout: timeout}
	st.client = s3.NewFromConfig(cfg, func(o *s3.Options) {
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
		st.endpoint = set.Endpoint
	case cfg.BaseEndpoint != nil:
		st.endpoint = *cfg.BaseEndpoint
	default:
		st.endpoint = "AWS S3 in " + cfg.Region
	}
	o := newObjectFS(st, timeout, DefaultS3PartSize)
	o.readChunk = s3ReadChunk
	return &S3{objectFS: o, st: st, client: st.client}, nil
}

// Settings are the resolved settings this filesystem uses.
func (s *S3) Settings() S3Settings { return s.st.settings }

// Endpoint is the endpoint as errors name it.
func (s *S3) Endpoint() string { return s.st.endpoint }

// CredentialSource says where the credentials come from: the Flink key
// that set them, or which provider of the AWS default chain answered
// (environment, shared profile, web identity, instance role). Asking the
// chain may contact the instance metadata service.
func (s *S3) CredentialSource(ctx context.Context) string { return s.st.credentialSource(ctx) }

func (s *s3Store) kind() string  { return "S3" }
func (s *s3Store) where() string { return s.endpoint }

func (s *s3Store) credentialSource(ctx context.Context) string {
	if s.settings.AccessKey != "" {
		return "static keys from " + s.settings.KeysFrom
	}
	if s.creds == nil {
		return "none (anonymous)"
	}
	if _, ok := ctx.Deadline(); !ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, s.timeout)
		defer cancel()
	}
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

func isS3Scheme(s string) bool { return s == "s3" || s == "s3a" || s == "s3p" }

func (s *s3Store) bucket(loc Location) (string, error) {
	if !isS3Scheme(loc.Scheme) {
		return "", fmt.Errorf("not an s3:// URI")
	}
	return loc.Authority, nil
}

// errIsDir is the cause when a file operation meets a directory.
var errIsDir = errors.New("is a directory")

func (s *s3Store) classify(err error, bucket string) error {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		code, msg := ae.ErrorCode(), ae.ErrorMessage()
		detail := code
		if msg != "" && msg != code {
			detail += ": " + msg
		}
		switch code {
		case "NoSuchBucket":
			return &objCause{msg: fmt.Sprintf("no such bucket %q at %s", bucket, s.endpoint), is: fs.ErrNotExist, err: err}
		case "NoSuchKey", "NotFound":
			return &objCause{msg: "no such object", is: fs.ErrNotExist, err: err}
		case "AccessDenied", "Forbidden", "AllAccessDisabled", "AccountProblem":
			return &objCause{msg: fmt.Sprintf("access denied to bucket %q at %s (%s) with %s", bucket, s.endpoint, detail, s.credentialSource(context.Background())), is: fs.ErrPermission, err: err}
		case "InvalidAccessKeyId", "SignatureDoesNotMatch", "ExpiredToken", "InvalidToken", "TokenRefreshRequired":
			return &objCause{msg: fmt.Sprintf("credentials rejected by %s for bucket %q (%s); they are %s", s.endpoint, bucket, detail, s.credentialSource(context.Background())), is: fs.ErrPermission, err: err}
		case "PreconditionFailed":
			return &objCause{msg: "already exists", is: fs.ErrExist, err: err}
		case "PermanentRedirect", "AuthorizationHeaderMalformed", "IllegalLocationConstraintException":
			return &objCause{msg: fmt.Sprintf("bucket %q is not served by %s (%s): set s3.endpoint or the region (fs.s3a.endpoint.region)", bucket, s.endpoint, detail), err: err}
		}
		var re *awshttp.ResponseError
		if errors.As(err, &re) {
			switch re.HTTPStatusCode() {
			case 404:
				return &objCause{msg: "no such object", is: fs.ErrNotExist, err: err}
			case 403:
				return &objCause{msg: fmt.Sprintf("access denied to bucket %q at %s with %s", bucket, s.endpoint, s.credentialSource(context.Background())), is: fs.ErrPermission, err: err}
			}
		}
		return &objCause{msg: fmt.Sprintf("S3 endpoint %s, bucket %q: %s", s.endpoint, bucket, detail), err: err}
	}
	var oe *net.OpError
	var de *net.DNSError
	switch {
	case errors.As(err, &de):
		return &objCause{msg: fmt.Sprintf("cannot reach S3 endpoint %s for bucket %q: %v (check s3.endpoint and s3.path.style.access)", s.endpoint, bucket, de), err: err}
	case errors.As(err, &oe):
		return &objCause{msg: fmt.Sprintf("cannot reach S3 endpoint %s for bucket %q: %v", s.endpoint, bucket, oe), err: err}
	}
	if strings.Contains(err.Error(), "failed to refresh cached credentials") || strings.Contains(err.Error(), "failed to retrieve credentials") {
		return &objCause{msg: fmt.Sprintf("no AWS credentials for bucket %q: set s3.access-key/s3.secret-key, AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY or AWS_PROFILE (%s)", bucket, firstLine(err.Error())), is: fs.ErrPermission, err: err}
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

func (s *s3Store) head(ctx context.Context, bucket, key string) (objAttrs, bool, error) {
	out, err := s.client.HeadObject(ctx, &s3.HeadObjectInput{Bucket: &bucket, Key: &key})
	if err != nil {
		if isNotFound(err) {
			return objAttrs{}, false, nil
		}
		var re *awshttp.ResponseError
		if errors.As(err, &re) && re.HTTPStatusCode() == 403 {
			// A HEAD answer has no body, so no reason: a wrong secret and a
			// missing grant both read "Forbidden". A listing says which.
			_, lerr := s.client.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: &bucket, Prefix: &key, MaxKeys: aws.Int32(1)})
			var ae smithy.APIError
			if errors.As(lerr, &ae) && ae.ErrorCode() != "Forbidden" {
				return objAttrs{}, false, lerr
			}
		}
		return objAttrs{}, false, err
	}
	return objAttrs{key: key, size: aws.ToInt64(out.ContentLength), mod: aws.ToTime(out.LastModified), pin: aws.ToString(out.ETag)}, true, nil
}

func (s *s3Store) list(ctx context.Context, bucket, prefix, delim, token string, max int) (objectPage, error) {
	in := &s3.ListObjectsV2Input{Bucket: &bucket, Prefix: &prefix, MaxKeys: aws.Int32(int32(max))}
	if delim != "" {
		in.Delimiter = &delim
	}
	if token != "" {
		in.ContinuationToken = &token
	}
	out, err := s.client.ListObjectsV2(ctx, in)
	if err != nil {
		return objectPage{}, err
	}
	pg := objectPage{objects: make([]objAttrs, 0, len(out.Contents))}
	for _, o := range out.Contents {
		pg.objects = append(pg.objects, objAttrs{key: aws.ToString(o.Key), size: aws.ToInt64(o.Size), mod: aws.ToTime(o.LastModified), pin: aws.ToString(o.ETag)})
	}
	for _, p := range out.CommonPrefixes {
		pg.prefixes = append(pg.prefixes, aws.ToString(p.Prefix))
	}
	if aws.ToBool(out.IsTruncated) {
		pg.next = aws.ToString(out.NextContinuationToken)
	}
	return pg, nil
}

func (s *s3Store) readRange(ctx context.Context, bucket, key, pin string, off int64, dst []byte) error {
	in := &s3.GetObjectInput{Bucket: &bucket, Key: &key, Range: aws.String(fmt.Sprintf("bytes=%d-%d", off, off+int64(len(dst))-1))}
	if pin != "" {
		in.IfMatch = &pin
	}
	out, err := s.client.GetObject(ctx, in)
	if err != nil {
		var ae smithy.APIError
		if errors.As(err, &ae) && ae.ErrorCode() == "PreconditionFailed" {
			return fmt.Errorf("the object was replaced while being read (ETag %s no longer matches)", pin)
		}
		return err
	}
	defer out.Body.Close()
	if _, err := io.ReadFull(out.Body, dst); err != nil {
		return fmt.Errorf("reading %d bytes at %d: %w", len(dst), off, err)
	}
	return nil
}

func ifNoneMatch(ifAbsent bool) *string {
	if ifAbsent {
		return aws.String("*")
	}
	return nil
}

func (s *s3Store) put(ctx context.Context, bucket, key string, data []byte, ifAbsent bool) error {
	_, err := s.client.PutObject(ctx, &s3.PutObjectInput{
		Bucket: &bucket, Key: &key, Body: bytes.NewReader(data),
		ContentLength: aws.Int64(int64(len(data))), IfNoneMatch: ifNoneMatch(ifAbsent),
	})
	return err
}

// s3Upload is one multipart upload, started with its first part.
type s3Upload struct {
	s        *s3Store
	bucket   string
	key      string
	ifAbsent bool
	id       *string
	parts    []types.CompletedPart
}

func (s *s3Store) upload(bucket, key string, ifAbsent bool) objectUpload {
	return &s3Upload{s: s, bucket: bucket, key: key, ifAbsent: ifAbsent}
}

func (u *s3Upload) part(ctx context.Context, p []byte) error {
	if u.id == nil {
		out, err := u.s.client.CreateMultipartUpload(ctx, &s3.CreateMultipartUploadInput{Bucket: &u.bucket, Key: &u.key})
		if err != nil {
			return err
		}
		u.id = out.UploadId
	}
	n := int32(len(u.parts) + 1)
	out, err := u.s.client.UploadPart(ctx, &s3.UploadPartInput{
		Bucket: &u.bucket, Key: &u.key, UploadId: u.id, PartNumber: &n,
		Body: bytes.NewReader(p), ContentLength: aws.Int64(int64(len(p))),
	})
	if err != nil {
		return err
	}
	u.parts = append(u.parts, types.CompletedPart{ETag: out.ETag, PartNumber: &n})
	return nil
}

func (u *s3Upload) commit(ctx context.Context) error {
	_, err := u.s.client.CompleteMultipartUpload(ctx, &s3.CompleteMultipartUploadInput{
		Bucket: &u.bucket, Key: &u.key, UploadId: u.id,
		MultipartUpload: &types.CompletedMultipartUpload{Parts: u.parts},
		IfNoneMatch:     ifNoneMatch(u.ifAbsent),
	})
	return err
}

// abort drops the parts sent: an incomplete multipart upload is otherwise
// kept (and billed) until a lifecycle rule removes it.
func (u *s3Upload) abort(ctx context.Context) error {
	if u.id == nil {
		return nil
	}
	_, err := u.s.client.AbortMultipartUpload(ctx, &s3.AbortMultipartUploadInput{Bucket: &u.bucket, Key: &u.key, UploadId: u.id})
	return err
}

func (s *s3Store) remove(ctx context.Context, bucket, key string) error {
	_, err := s.client.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: &bucket, Key: &key})
	return err
}

func (s *s3Store) copy(ctx context.Context, bucket, from, to string, src objAttrs) error {
	if src.size > maxS3CopySize {
		return fmt.Errorf("%s is %s, more than one S3 copy can move (5 GiB): %w", from, units.Bytes(src.size), errors.ErrUnsupported)
	}
	in := &s3.CopyObjectInput{
		Bucket: &bucket, Key: &to,
		CopySource:  aws.String(bucket + "/" + from),
		IfNoneMatch: aws.String("*"),
	}
	if src.pin != "" {
		in.CopySourceIfMatch = aws.String(src.pin)
	}
	_, err := s.client.CopyObject(ctx, in)
	return err
}
