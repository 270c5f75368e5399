//go:build packetdebug

package packet

import "testing"

func TestBufDoubleReleasePanics(t *testing.T) {
	b := Get()
	b.SetBytes([]byte{1, 2, 3})
	b.Ref()
	b.Release()
	b.Release()
	if b.Data[0] != 0xdb {
		t.Errorf("released Data[0] = %#x, want poison 0xdb", b.Data[0])
	}
	defer func() {
		if recover() == nil {
			t.Fatal("double Release did not panic in a packetdebug build")
		}
	}()
	b.Release()
}
