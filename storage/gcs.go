package storage

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net"
	"strconv"
	"strings"
	"time"

	"cloud.google.com/go/storage"
	"github.com/googleapis/gax-go/v2"
	"google.golang.org/api/googleapi"
	"google.golang.org/api/iterator"
	"google.golang.org/api/option"
)

// GCS is Google Cloud Storage seen as a filesystem, for gs://bucket/key
// URIs. Its semantics are objectFS's: directories are prefixes, no rename
// of directories, one named object per delete. Large files go up as one
// resumable upload in chunks (gs.writer.chunk.size), finalized at Close —
// conditionally (the object must not exist) without Overwrite. Reads are
// pinned to the generation seen at Open.
type GCS struct {
	*objectFS
	g *gcsStore
}

type gcsStore struct {
	settings GCSSettings
	client   *storage.Client
	credFrom string
	timeout  time.Duration
}

var _ FS = (*GCS)(nil)

// NewGCS makes the GCS filesystem from opts (see ResolveGCSSettings). It
// does not contact the service; the first call does, bounded like every
// other by opts.Timeout.
func NewGCS(ctx context.Context, opts Options) (*GCS, error) {
	timeout, err := resolveTimeout(opts.Timeout)
	if err != nil {
		return nil, err
	}
	set, err := ResolveGCSSettings(opts)
	if err != nil {
		return nil, err
	}
	copts := []option.ClientOption{storage.WithJSONReads()}
	st := &gcsStore{settings: set, timeout: timeout}
	if set.Endpoint != "" {
		copts = append(copts, option.WithEndpoint(set.Endpoint+"storage/v1/"))
	}
	switch {
	case set.Anonymous:
		copts = append(copts, option.WithoutAuthentication())
		st.credFrom = "none (anonymous, " + set.AuthFrom + ")"
	case set.KeyFile != "":
		copts = append(copts, option.WithAuthCredentialsFile(option.ServiceAccount, set.KeyFile))
		st.credFrom = "service account key file from " + set.KeyFrom
	default:
		st.credFrom = gcsADCSource()
	}
	st.client, err = storage.NewClient(ctx, copts...)
	if err != nil {
		if strings.Contains(err.Error(), "credentials") {
			return nil, fmt.Errorf("no Google credentials (%s): set GOOGLE_APPLICATION_CREDENTIALS or fs.gs.auth.service.account.json.keyfile, run gcloud auth application-default login, or for a public bucket or an emulator set fs.gs.auth.type: UNAUTHENTICATED", firstLine(err.Error()))
		}
		return nil, fmt.Errorf("GCS client: %v", err)
	}
	st.client.SetRetry(
		storage.WithMaxAttempts(set.MaxAttempts),
		storage.WithBackoff(gax.Backoff{Initial: 200 * time.Millisecond, Max: 20 * time.Second, Multiplier: 2}),
		// Every write ckpt makes is conditional or harmless to repeat (a
		// marker, an overwrite with the same bytes), so all may be retried.
		storage.WithPolicy(storage.RetryAlways),
	)
	return &GCS{objectFS: newObjectFS(st, timeout, set.ChunkSize), g: st}, nil
}

// Settings are the resolved settings this filesystem uses.
func (g *GCS) Settings() GCSSettings { return g.g.settings }

// Endpoint is the service endpoint, as errors name it.
func (g *GCS) Endpoint() string { return g.g.where() }

// CredentialSource says where the credentials come from.
func (g *GCS) CredentialSource(ctx context.Context) string { return g.g.credentialSource(ctx) }

func (s *gcsStore) kind() string { return "GCS" }
func (s *gcsStore) where() string {
	if s.settings.Endpoint != "" {
		return strings.TrimSuffix(s.settings.Endpoint, "/")
	}
	return "https://storage.googleapis.com"
}
func (s *gcsStore) credentialSource(context.Context) string { return s.credFrom }

func (s *gcsStore) bucket(loc Location) (string, error) {
	if loc.Scheme != "gs" {
		return "", fmt.Errorf("not a gs:// URI")
	}
	return loc.Authority, nil
}

func (s *gcsStore) obj(bucket, key string) *storage.ObjectHandle {
	return s.client.Bucket(bucket).Object(key)
}

func gcsAttrs(a *storage.ObjectAttrs) objAttrs {
	return objAttrs{key: a.Name, size: a.Size, mod: a.Updated, pin: strconv.FormatInt(a.Generation, 10)}
}

func (s *gcsStore) head(ctx context.Context, bucket, key string) (objAttrs, bool, error) {
	a, err := s.obj(bucket, key).Attrs(ctx)
	if errors.Is(err, storage.ErrObjectNotExist) {
		return objAttrs{}, false, nil
	}
	if err != nil {
		return objAttrs{}, false, err
	}
	return gcsAttrs(a), true, nil
}

func (s *gcsStore) list(ctx context.Context, bucket, prefix, delim, token string, max int) (objectPage, error) {
	q := &storage.Query{Prefix: prefix, Delimiter: delim, Projection: storage.ProjectionNoACL}
	var attrs []*storage.ObjectAttrs
	next, err := iterator.NewPager(s.client.Bucket(bucket).Objects(ctx, q), max, token).NextPage(&attrs)
	if err != nil {
		return objectPage{}, err
	}
	pg := objectPage{next: next}
	for _, a := range attrs {
		if a.Prefix != "" {
			pg.prefixes = append(pg.prefixes, a.Prefix)
			continue
		}
		pg.objects = append(pg.objects, gcsAttrs(a))
	}
	return pg, nil
}

func (s *gcsStore) readRange(ctx context.Context, bucket, key, pin string, off int64, dst []byte) error {
	o := s.obj(bucket, key)
	if gen, err := strconv.ParseInt(pin, 10, 64); err == nil && gen > 0 {
		o = o.Generation(gen)
	}
	r, err := o.NewRangeReader(ctx, off, int64(len(dst)))
	if err != nil {
		if errors.Is(err, storage.ErrObjectNotExist) && pin != "" {
			if _, found, herr := s.head(ctx, bucket, key); herr == nil && found {
				return fmt.Errorf("the object was replaced while being read (generation %s is gone)", pin)
			}
		}
		return err
	}
	defer r.Close()
	if _, err := io.ReadFull(r, dst); err != nil {
		return fmt.Errorf("reading %d bytes at %d: %w", len(dst), off, err)
	}
	return nil
}

func (s *gcsStore) put(ctx context.Context, bucket, key string, data []byte, ifAbsent bool) error {
	o := s.obj(bucket, key)
	if ifAbsent {
		o = o.If(storage.Conditions{DoesNotExist: true})
	}
	w := o.NewWriter(ctx)
	w.ChunkSize = 0 // one request
	if _, err := w.Write(data); err != nil {
		w.Close()
		return err
	}
	return w.Close()
}

// gcsUpload is one resumable upload: the library sends each chunk as it
// fills and finalizes the object at Close. Cancelling its context
// abandons it; nothing becomes visible.
type gcsUpload struct {
	s      *gcsStore
	bucket string
	key    string
	cond   bool
	w      *storage.Writer
	cancel context.CancelFunc
}

func (s *gcsStore) upload(bucket, key string, ifAbsent bool) objectUpload {
	return &gcsUpload{s: s, bucket: bucket, key: key, cond: ifAbsent}
}

func (u *gcsUpload) part(_ context.Context, p []byte) error {
	if u.w == nil {
		// The upload outlives any one call: its own context, cancelled by
		// abort; each chunk is bounded by ChunkTransferTimeout.
		ctx, cancel := context.WithCancel(context.Background())
		o := u.s.obj(u.bucket, u.key)
		if u.cond {
			o = o.If(storage.Conditions{DoesNotExist: true})
		}
		u.w, u.cancel = o.NewWriter(ctx), cancel
		u.w.ChunkSize = u.s.settings.ChunkSize
		u.w.ChunkTransferTimeout = u.s.timeout
		u.w.ChunkRetryDeadline = u.s.timeout
	}
	_, err := u.w.Write(p)
	return err
}

func (u *gcsUpload) commit(context.Context) error {
	if u.w == nil {
		return errors.New("no upload started")
	}
	err := u.w.Close()
	u.cancel()
	return err
}

func (u *gcsUpload) abort(context.Context) error {
	if u.cancel != nil {
		u.cancel()
	}
	return nil
}

func (s *gcsStore) remove(ctx context.Context, bucket, key string) error {
	err := s.obj(bucket, key).Delete(ctx)
	if errors.Is(err, storage.ErrObjectNotExist) {
		return nil
	}
	return err
}

func (s *gcsStore) copy(ctx context.Context, bucket, from, target string, srcAttrs objAttrs) error {
	pin := srcAttrs.pin
	src := s.obj(bucket, from)
	if gen, err := strconv.ParseInt(pin, 10, 64); err == nil && gen > 0 {
		src = src.If(storage.Conditions{GenerationMatch: gen})
	}
	dst := s.obj(bucket, target).If(storage.Conditions{DoesNotExist: true})
	_, err := dst.CopierFrom(src).Run(ctx)
	return err
}

func (s *gcsStore) classify(err error, bucket string) error {
	where := s.where()
	if errors.Is(err, storage.ErrBucketNotExist) {
		return &objCause{msg: fmt.Sprintf("no such bucket %q at %s", bucket, where), is: fs.ErrNotExist, err: err}
	}
	if errors.Is(err, storage.ErrObjectNotExist) {
		return &objCause{msg: "no such object", is: fs.ErrNotExist, err: err}
	}
	var ge *googleapi.Error
	if errors.As(err, &ge) {
		reason := ""
		if len(ge.Errors) > 0 {
			reason = ge.Errors[0].Reason
		}
		detail := strings.TrimSpace(reason + ": " + ge.Message)
		detail = strings.Trim(detail, ": ")
		if detail == "" {
			detail = fmt.Sprintf("HTTP %d", ge.Code)
		}
		switch {
		case ge.Code == 404 && (strings.Contains(strings.ToLower(ge.Message), "bucket") || reason == "notFound" && strings.Contains(ge.Message, bucket)):
			return &objCause{msg: fmt.Sprintf("no such bucket %q at %s", bucket, where), is: fs.ErrNotExist, err: err}
		case ge.Code == 404:
			return &objCause{msg: "no such object", is: fs.ErrNotExist, err: err}
		case ge.Code == 412:
			return &objCause{msg: "already exists", is: fs.ErrExist, err: err}
		case ge.Code == 401:
			return &objCause{msg: fmt.Sprintf("credentials rejected by %s for bucket %q (%s); they are %s", where, bucket, detail, s.credFrom), is: fs.ErrPermission, err: err}
		case ge.Code == 403:
			return &objCause{msg: fmt.Sprintf("access denied to bucket %q at %s (%s) with %s", bucket, where, detail, s.credFrom), is: fs.ErrPermission, err: err}
		}
		return &objCause{msg: fmt.Sprintf("GCS %s, bucket %q: %s", where, bucket, detail), err: err}
	}
	var de *net.DNSError
	var oe *net.OpError
	switch {
	case errors.As(err, &de):
		return &objCause{msg: fmt.Sprintf("cannot reach GCS endpoint %s for bucket %q: %v (check fs.gs.storage.root.url)", where, bucket, de), err: err}
	case errors.As(err, &oe):
		return &objCause{msg: fmt.Sprintf("cannot reach GCS endpoint %s for bucket %q: %v", where, bucket, oe), err: err}
	}
	if strings.Contains(err.Error(), "credentials") {
		return &objCause{msg: fmt.Sprintf("no Google credentials for bucket %q: set GOOGLE_APPLICATION_CREDENTIALS, fs.gs.auth.service.account.json.keyfile, or run gcloud auth application-default login (%s)", bucket, firstLine(err.Error())), is: fs.ErrPermission, err: err}
	}
	return err
}
