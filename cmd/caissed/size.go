package main

import (
	"fmt"

	"github.com/dustin/go-humanize"
)

// sizeFlag is a size in bytes, written as people write sizes: 256MiB,
// 1GB, 512000; 0 turns off what it bounds.
type sizeFlag uint64

func (s *sizeFlag) String() string { return humanize.IBytes(uint64(*s)) }

func (s *sizeFlag) Set(v string) error {
	n, err := humanize.ParseBytes(v)
	if err != nil {
		return fmt.Errorf("size %q: want bytes, or a number with a unit (256MiB, 1GB)", v)
	}
	*s = sizeFlag(n)
	return nil
}
