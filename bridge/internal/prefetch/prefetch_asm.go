//go:build amd64 || arm64

package prefetch

// spans hints the lines of the n spans at s (assembly).
//
//go:noescape
func spans(s *span, n int)
