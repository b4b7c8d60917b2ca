package storage

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net"
	"os"
	"os/exec"
	"strings"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/streaming"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/to"
	"github.com/Azure/azure-sdk-for-go/sdk/azidentity"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/blob"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/blockblob"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/container"
)

// Azure is one Azure storage account's Blob service (plain Blob storage or
// ADLS Gen2) seen as a filesystem, for abfs://, abfss://, wasb:// and
// wasbs:// URIs naming <container>@<account host>. Its semantics are
// objectFS's: directories are prefixes, no rename of directories, one
// named blob per delete. Large files are uploaded as staged blocks
// committed at Close (conditionally: If-None-Match * without Overwrite).
//
// ADLS Gen2 accounts with a hierarchical namespace are reached through
// their Blob endpoint, which serves them too; ckpt's directory markers
// ("dir/" blobs) are what Hadoop's connectors use on flat namespaces.
type Azure struct {
	*objectFS
	az *azureStore
}

type azureStore struct {
	settings AzureSettings
	svc      *azblob.Client
	// credFrom says where the credentials come from (never what they are).
	credFrom string
}

var _ FS = (*Azure)(nil)

// NewAzure makes the filesystem of the account host (as URIs name it). It
// does not contact the account; the first call does, bounded like every
// other by opts.Timeout.
func NewAzure(opts Options, host string) (*Azure, error) {
	timeout, err := resolveTimeout(opts.Timeout)
	if err != nil {
		return nil, err
	}
	set, err := ResolveAzureSettings(opts, host)
	if err != nil {
		return nil, err
	}
	copts := &azblob.ClientOptions{ClientOptions: azcore.ClientOptions{
		Retry: policy.RetryOptions{
			MaxRetries:    int32(set.MaxRetries),
			TryTimeout:    timeout,
			RetryDelay:    200 * time.Millisecond,
			MaxRetryDelay: 20 * time.Second,
		},
		Telemetry: policy.TelemetryOptions{Disabled: true},
	}}
	st := &azureStore{settings: set}
	switch {
	case set.Key != "":
		cred, err := azblob.NewSharedKeyCredential(set.Account, set.Key)
		if err != nil {
			return nil, fmt.Errorf("%s: %v", set.KeyFrom, err)
		}
		st.svc, err = azblob.NewClientWithSharedKeyCredential(set.ServiceURL, cred, copts)
		if err != nil {
			return nil, err
		}
		st.credFrom = "shared key from " + set.KeyFrom
	case set.ClientID != "":
		cred, err := azidentity.NewClientSecretCredential(set.TenantID, set.ClientID, set.ClientSecret, nil)
		if err != nil {
			return nil, fmt.Errorf("%s: %v", set.OAuthFrom, err)
		}
		st.svc, err = azblob.NewClient(set.ServiceURL, cred, copts)
		if err != nil {
			return nil, err
		}
		st.credFrom = "OAuth service principal from " + set.OAuthFrom
	default:
		cred, err := azidentity.NewDefaultAzureCredential(nil)
		if err != nil {
			return nil, fmt.Errorf("Azure default credential chain: %v", err)
		}
		st.svc, err = azblob.NewClient(set.ServiceURL, cred, copts)
		if err != nil {
			return nil, err
		}
		st.credFrom = "Azure default credential chain: " + azureChainSource()
	}
	return &Azure{objectFS: newObjectFS(st, timeout, 0), az: st}, nil
}

// azureChainSource says which link of Azure's default chain will answer,
// from what the environment holds (the chain itself does not tell).
func azureChainSource() string {
	switch {
	case os.Getenv("AZURE_CLIENT_ID") != "" && os.Getenv("AZURE_TENANT_ID") != "" && (os.Getenv("AZURE_CLIENT_SECRET") != "" || os.Getenv("AZURE_CLIENT_CERTIFICATE_PATH") != ""):
		return "service principal from AZURE_CLIENT_ID/AZURE_TENANT_ID (environment)"
	case os.Getenv("AZURE_FEDERATED_TOKEN_FILE") != "":
		return "workload identity (AZURE_FEDERATED_TOKEN_FILE)"
	}
	if _, err := exec.LookPath("az"); err == nil {
		return "managed identity, else the Azure CLI login (az)"
	}
	return "managed identity (no AZURE_* credentials in the environment, no az CLI on PATH)"
}

// Settings are the resolved settings this filesystem uses.
func (a *Azure) Settings() AzureSettings { return a.az.settings }

// Endpoint is the Blob service endpoint, as errors name it.
func (a *Azure) Endpoint() string { return a.az.where() }

// CredentialSource says where the credentials come from.
func (a *Azure) CredentialSource(ctx context.Context) string { return a.az.credentialSource(ctx) }

func (z *azureStore) kind() string  { return "Azure Blob" }
func (z *azureStore) where() string { return strings.TrimSuffix(z.settings.ServiceURL, "/") }
func (z *azureStore) credentialSource(context.Context) string {
	return z.credFrom
}

func (z *azureStore) bucket(loc Location) (string, error) {
	switch loc.Scheme {
	case "abfs", "abfss", "wasb", "wasbs":
	default:
		return "", fmt.Errorf("not an Azure (abfs[s]://, wasb[s]://) URI")
	}
	c, host, err := azureAuthority(loc.Authority)
	if err != nil {
		return "", err
	}
	if acct, _, _ := strings.Cut(host, "."); acct != z.settings.Account {
		return "", fmt.Errorf("account %s is not this filesystem's (%s)", acct, z.settings.Account)
	}
	return c, nil
}

func (z *azureStore) container(name string) *container.Client {
	return z.svc.ServiceClient().NewContainerClient(name)
}

func azureCode(err error) (int, string) {
	var re *azcore.ResponseError
	if errors.As(err, &re) {
		return re.StatusCode, re.ErrorCode
	}
	return 0, ""
}

func (z *azureStore) head(ctx context.Context, bucket, key string) (objAttrs, bool, error) {
	p, err := z.container(bucket).NewBlobClient(key).GetProperties(ctx, nil)
	if err != nil {
		status, code := azureCode(err)
		if status == 404 && code != "ContainerNotFound" {
			return objAttrs{}, false, nil
		}
		return objAttrs{}, false, err
	}
	return objAttrs{key: key, size: deref64(p.ContentLength), mod: derefTime(p.LastModified), pin: etag(p.ETag)}, true, nil
}

func deref64(p *int64) int64 {
	if p == nil {
		return 0
	}
	return *p
}

func derefTime(p *time.Time) time.Time {
	if p == nil {
		return time.Time{}
	}
	return *p
}

func etag(e *azcore.ETag) string {
	if e == nil {
		return ""
	}
	return string(*e)
}

func (z *azureStore) list(ctx context.Context, bucket, prefix, delim, token string, max int) (objectPage, error) {
	c := z.container(bucket)
	var marker *string
	if token != "" {
		marker = &token
	}
	var pg objectPage
	add := func(items []*container.BlobItem) {
		for _, it := range items {
			if it == nil || it.Name == nil {
				continue
			}
			a := objAttrs{key: *it.Name}
			if p := it.Properties; p != nil {
				a.size, a.mod, a.pin = deref64(p.ContentLength), derefTime(p.LastModified), etag(p.ETag)
			}
			pg.objects = append(pg.objects, a)
		}
	}
	if delim == "" {
		resp, err := c.NewListBlobsFlatPager(&container.ListBlobsFlatOptions{Prefix: &prefix, Marker: marker, MaxResults: to.Ptr(int32(max))}).NextPage(ctx)
		if err != nil {
			return pg, err
		}
		if resp.Segment != nil {
			add(resp.Segment.BlobItems)
		}
		pg.next = strDeref(resp.NextMarker)
		return pg, nil
	}
	resp, err := c.NewListBlobsHierarchyPager(delim, &container.ListBlobsHierarchyOptions{Prefix: &prefix, Marker: marker, MaxResults: to.Ptr(int32(max))}).NextPage(ctx)
	if err != nil {
		return pg, err
	}
	if resp.Segment != nil {
		add(resp.Segment.BlobItems)
		for _, p := range resp.Segment.BlobPrefixes {
			if p != nil && p.Name != nil {
				pg.prefixes = append(pg.prefixes, *p.Name)
			}
		}
	}
	pg.next = strDeref(resp.NextMarker)
	return pg, nil
}

func strDeref(p *string) string {
	if p == nil {
		return ""
	}
	return *p
}

func (z *azureStore) readRange(ctx context.Context, bucket, key, pin string, off int64, dst []byte) error {
	opts := &blob.DownloadStreamOptions{Range: blob.HTTPRange{Offset: off, Count: int64(len(dst))}}
	if pin != "" {
		e := azcore.ETag(pin)
		opts.AccessConditions = &blob.AccessConditions{ModifiedAccessConditions: &blob.ModifiedAccessConditions{IfMatch: &e}}
	}
	resp, err := z.container(bucket).NewBlobClient(key).DownloadStream(ctx, opts)
	if err != nil {
		if status, _ := azureCode(err); status == 412 {
			return fmt.Errorf("the blob was replaced while being read (ETag %s no longer matches)", pin)
		}
		return err
	}
	defer resp.Body.Close()
	if _, err := io.ReadFull(resp.Body, dst); err != nil {
		return fmt.Errorf("reading %d bytes at %d: %w", len(dst), off, err)
	}
	return nil
}

func ifAbsentCond(ifAbsent bool) *blob.AccessConditions {
	if !ifAbsent {
		return nil
	}
	return &blob.AccessConditions{ModifiedAccessConditions: &blob.ModifiedAccessConditions{IfNoneMatch: to.Ptr(azcore.ETagAny)}}
}

func (z *azureStore) put(ctx context.Context, bucket, key string, data []byte, ifAbsent bool) error {
	_, err := z.container(bucket).NewBlockBlobClient(key).Upload(ctx, streaming.NopCloser(bytes.NewReader(data)), &blockblob.UploadOptions{AccessConditions: ifAbsentCond(ifAbsent)})
	return err
}

// azureUpload stages blocks and commits their list at the end; uncommitted
// blocks of an aborted upload are dropped by the service after a week.
type azureUpload struct {
	z        *azureStore
	bucket   string
	key      string
	ifAbsent bool
	ids      []string
}

func (z *azureStore) upload(bucket, key string, ifAbsent bool) objectUpload {
	return &azureUpload{z: z, bucket: bucket, key: key, ifAbsent: ifAbsent}
}

func (u *azureUpload) part(ctx context.Context, p []byte) error {
	// Block IDs must all have the same length.
	var raw [16]byte
	copy(raw[:], "ckpt-block-")
	binary.BigEndian.PutUint32(raw[12:], uint32(len(u.ids)))
	id := base64.StdEncoding.EncodeToString(raw[:])
	_, err := u.z.container(u.bucket).NewBlockBlobClient(u.key).StageBlock(ctx, id, streaming.NopCloser(bytes.NewReader(p)), nil)
	if err != nil {
		return err
	}
	u.ids = append(u.ids, id)
	return nil
}

func (u *azureUpload) commit(ctx context.Context) error {
	_, err := u.z.container(u.bucket).NewBlockBlobClient(u.key).CommitBlockList(ctx, u.ids, &blockblob.CommitBlockListOptions{AccessConditions: ifAbsentCond(u.ifAbsent)})
	return err
}

func (u *azureUpload) abort(context.Context) error { return nil }

func (z *azureStore) remove(ctx context.Context, bucket, key string) error {
	_, err := z.container(bucket).NewBlobClient(key).Delete(ctx, nil)
	if status, code := azureCode(err); status == 404 && code == "BlobNotFound" {
		return nil
	}
	return err
}

func (z *azureStore) copy(ctx context.Context, bucket, from, target string, srcAttrs objAttrs) error {
	pin := srcAttrs.pin
	src := z.container(bucket).NewBlobClient(from).URL()
	opts := &blob.StartCopyFromURLOptions{AccessConditions: ifAbsentCond(true)}
	if pin != "" {
		e := azcore.ETag(pin)
		opts.SourceModifiedAccessConditions = &blob.SourceModifiedAccessConditions{SourceIfMatch: &e}
	}
	dst := z.container(bucket).NewBlobClient(target)
	resp, err := dst.StartCopyFromURL(ctx, src, opts)
	if err != nil {
		return err
	}
	status := resp.CopyStatus
	for status != nil && *status == blob.CopyStatusTypePending {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(200 * time.Millisecond):
		}
		p, err := dst.GetProperties(ctx, nil)
		if err != nil {
			return err
		}
		status = p.CopyStatus
	}
	if status != nil && *status != blob.CopyStatusTypeSuccess {
		return fmt.Errorf("server-side copy of %s ended %s", from, *status)
	}
	return nil
}

func (z *azureStore) classify(err error, bucket string) error {
	status, code := azureCode(err)
	where := fmt.Sprintf("account %s at %s", z.settings.Account, z.where())
	switch {
	case code == "ContainerNotFound":
		return &objCause{msg: fmt.Sprintf("no such container %q in %s", bucket, where), is: fs.ErrNotExist, err: err}
	case code == "BlobNotFound" || (status == 404 && code == ""):
		return &objCause{msg: "no such blob", is: fs.ErrNotExist, err: err}
	case code == "BlobAlreadyExists" || code == "TargetConditionNotMet" || (status == 412 && code == "ConditionNotMet") || status == 409 && code == "":
		return &objCause{msg: "already exists", is: fs.ErrExist, err: err}
	case code == "AuthenticationFailed" || code == "InvalidAuthenticationInfo":
		return &objCause{msg: fmt.Sprintf("credentials rejected by %s for container %q (%s); they are %s", where, bucket, code, z.credFrom), is: fs.ErrPermission, err: err}
	case status == 403:
		if code == "" {
			code = "Forbidden"
		}
		return &objCause{msg: fmt.Sprintf("access denied to container %q in %s (%s) with %s", bucket, where, code, z.credFrom), is: fs.ErrPermission, err: err}
	case status != 0:
		if code == "" {
			code = fmt.Sprintf("HTTP %d", status)
		}
		return &objCause{msg: fmt.Sprintf("Azure Blob %s, container %q: %s", where, bucket, code), err: err}
	}
	var de *net.DNSError
	var oe *net.OpError
	switch {
	case errors.As(err, &de):
		return &objCause{msg: fmt.Sprintf("cannot reach Azure Blob endpoint %s for container %q: %v (check the account name and fs.azure.abfs.endpoint)", z.where(), bucket, de), err: err}
	case errors.As(err, &oe):
		return &objCause{msg: fmt.Sprintf("cannot reach Azure Blob endpoint %s for container %q: %v", z.where(), bucket, oe), err: err}
	}
	var ae *azidentity.AuthenticationFailedError
	if errors.As(err, &ae) || strings.Contains(err.Error(), "DefaultAzureCredential") || strings.Contains(err.Error(), "CredentialUnavailable") {
		return &objCause{msg: fmt.Sprintf("no Azure credentials for container %q: set fs.azure.account.key.%s.dfs.core.windows.net, AZURE_STORAGE_KEY, or log in (%s)", bucket, z.settings.Account, firstLine(err.Error())), is: fs.ErrPermission, err: err}
	}
	return err
}
