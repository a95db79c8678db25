package badgerstore

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"strings"

	"github.com/dgraph-io/badger/v4"
)

// slogAdapter passes badger's log messages to a *slog.Logger, with the
// attribute component=badger. Badger's Info messages are routine (tables
// opened, compactions run, files replayed): they go to slog at Debug level,
// so that a node logging at Info shows only badger's warnings and errors.
type slogAdapter struct {
	l *slog.Logger
}

var _ badger.Logger = slogAdapter{}

// defaultLogger writes badger's warnings and errors to standard error and
// drops the rest. The node replaces it with WithLogger.
func defaultLogger() *slog.Logger {
	return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
}

func (s slogAdapter) Errorf(format string, args ...any) { s.log(slog.LevelError, format, args) }

func (s slogAdapter) Warningf(format string, args ...any) { s.log(slog.LevelWarn, format, args) }

func (s slogAdapter) Infof(format string, args ...any) { s.log(slog.LevelDebug, format, args) }

func (s slogAdapter) Debugf(format string, args ...any) { s.log(slog.LevelDebug, format, args) }

func (s slogAdapter) log(level slog.Level, format string, args []any) {
	ctx := context.Background()
	if !s.l.Enabled(ctx, level) {
		return // do not format what nobody reads
	}
	s.l.Log(ctx, level, strings.TrimSpace(fmt.Sprintf(format, args...)), "component", "badger")
}
