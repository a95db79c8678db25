//go:build !unix

package node

import "os"

// mapFile reads a file whole where it cannot be mapped.
func mapFile(path string) (b []byte, release func(), err error) {
	b, err = os.ReadFile(path)
	return b, func() {}, err
}
