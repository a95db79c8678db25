//go:build !unix

package node

import "errors"

func freeDisk(string) (uint64, error) { return 0, errors.ErrUnsupported }
