package api

import (
	"google.golang.org/grpc"

	rpcv1 "github.com/caisse-coop/caisse/proto/caisse/rpc/v1"
)

// Backup implements rpcv1.OperatorServer: the backend writes the backup,
// the stream carries it in chunks of at most 64 KiB.
func (o *operator) Backup(r *rpcv1.BackupRequest, stream grpc.ServerStreamingServer[rpcv1.BackupChunk]) error {
	if err := o.b.Backup(stream.Context(), r, backupWriter{stream}); err != nil {
		return Status(err).Err()
	}
	return nil
}

type backupWriter struct {
	stream grpc.ServerStreamingServer[rpcv1.BackupChunk]
}

func (w backupWriter) Write(p []byte) (int, error) {
	const chunk = 64 << 10
	for off := 0; off < len(p); off += chunk {
		end := min(off+chunk, len(p))
		if err := w.stream.Send(&rpcv1.BackupChunk{Data: p[off:end]}); err != nil {
			return off, err
		}
	}
	return len(p), nil
}
