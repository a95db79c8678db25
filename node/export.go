package node

import (
	"context"
	"io"

	rpcv1 "github.com/caisse-coop/caisse/proto/caisse/rpc/v1"
)

// Export writes the accounts in the requested format.
func (b *backend) Export(ctx context.Context, r *rpcv1.ExportRequest, w io.Writer) error {
	return invalid("export format %q: not available yet", r.GetFormat())
}
