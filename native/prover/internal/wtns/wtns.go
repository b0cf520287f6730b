// Package wtns reads snarkjs/circom witness files (.wtns): section 1 = n8 u32, prime (n8 bytes LE), nWitness u32;
// section 2 = nWitness field elements, 32-byte little-endian in standard (not Montgomery) form.
package wtns

import (
	"encoding/binary"
	"fmt"
	"math/big"
	"runtime"
	"sync"

	"github.com/consensys/gnark-crypto/ecc/bn254/fr"

	"github.com/proofbook/native/prover/internal/binfile"
)

// Error is a malformed or unsupported witness file.
type Error struct{ Msg string }

func (e *Error) Error() string { return e.Msg }

// Read loads a witness as field elements (gnark's Montgomery representation), rejecting values ≥ r.
func Read(path string) ([]fr.Element, error) {
	f, err := binfile.Open(path, "wtns")
	if err != nil {
		if fe, ok := err.(*binfile.FormatError); ok {
			return nil, &Error{Msg: "malformed wtns " + fe.Error()}
		}
		return nil, &Error{Msg: fmt.Sprintf("cannot read wtns: %v", err)}
	}
	defer f.Close()
	bad := func(m string, a ...any) error {
		return &Error{Msg: fmt.Sprintf("malformed wtns %s: %s", path, fmt.Sprintf(m, a...))}
	}
	h, err := f.Section(1)
	if err != nil {
		return nil, bad("%v", err)
	}
	if len(h) != 4+32+4 {
		return nil, bad("header section is %d bytes, expected 40 (a BN254 witness)", len(h))
	}
	if n8 := binary.LittleEndian.Uint32(h); n8 != 32 {
		return nil, bad("field element size %d, expected 32", n8)
	}
	q := make([]byte, 32)
	for i := 0; i < 32; i++ {
		q[31-i] = h[4+i]
	}
	if new(big.Int).SetBytes(q).Cmp(fr.Modulus()) != 0 {
		return nil, bad("the witness field is not BN254's scalar field")
	}
	n := int(binary.LittleEndian.Uint32(h[36:]))
	d, err := f.Section(2)
	if err != nil {
		return nil, bad("%v", err)
	}
	if len(d) != n*32 {
		return nil, bad("witness section is %d bytes, expected %d for %d values", len(d), n*32, n)
	}
	out := make([]fr.Element, n)
	var mu sync.Mutex
	var firstBad = -1
	parallel(n, func(lo, hi int) {
		for i := lo; i < hi; i++ {
			e, err := fr.LittleEndian.Element((*[32]byte)(d[i*32 : i*32+32]))
			if err != nil {
				mu.Lock()
				if firstBad < 0 || i < firstBad {
					firstBad = i
				}
				mu.Unlock()
				return
			}
			out[i] = e
		}
	})
	if firstBad >= 0 {
		return nil, bad("value %d is not a canonical field element (≥ r)", firstBad)
	}
	if n > 0 && !out[0].IsOne() {
		return nil, bad("value 0 must be the constant 1, got %s", out[0].String())
	}
	return out, nil
}

func parallel(n int, f func(lo, hi int)) {
	t := runtime.GOMAXPROCS(0)
	if n < 1<<12 || t == 1 {
		f(0, n)
		return
	}
	var wg sync.WaitGroup
	chunk := (n + t - 1) / t
	for lo := 0; lo < n; lo += chunk {
		hi := min(lo+chunk, n)
		wg.Add(1)
		go func() { defer wg.Done(); f(lo, hi) }()
	}
	wg.Wait()
}
