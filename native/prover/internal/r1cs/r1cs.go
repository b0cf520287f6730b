// Package r1cs reads circom's .r1cs files (iden3 container "r1cs", version 1): section 1 header
// (n8, prime, nWires, nPubOut, nPubIn, nPrvIn, nLabels u64, nConstraints), section 2 constraints (for each: the
// linear combinations A, B, C as nTerms u32 then nTerms × (wire u32, coefficient n8 bytes LE, standard form)).
package r1cs

import (
	"encoding/binary"
	"fmt"
	"math/big"

	"github.com/consensys/gnark-crypto/ecc/bn254/fr"

	"github.com/proofbook/native/prover/internal/binfile"
)

// Term is coef·wire.
type Term struct {
	Wire uint32
	Coef fr.Element
}

// Constraint is A·B = C over the wires.
type Constraint struct{ A, B, C []Term }

// System is a parsed constraint system.
type System struct {
	NWires, NPubOut, NPubIn, NPrvIn uint32
	Constraints                     []Constraint
}

// NPublic is the count of public signals (outputs first, then public inputs), not counting the constant 1.
func (s *System) NPublic() uint32 { return s.NPubOut + s.NPubIn }

// Read parses an .r1cs file over BN254.
func Read(path string) (*System, error) {
	f, err := binfile.Open(path, "r1cs")
	if err != nil {
		return nil, err
	}
	defer f.Close()
	h, err := f.Section(1)
	if err != nil {
		return nil, err
	}
	if len(h) < 4 || binary.LittleEndian.Uint32(h) != 32 || len(h) != 4+32+4*4+8+4 {
		return nil, fmt.Errorf("%s: not a BN254 r1cs header", path)
	}
	q := make([]byte, 32)
	for i := range q {
		q[31-i] = h[4+i]
	}
	if new(big.Int).SetBytes(q).Cmp(fr.Modulus()) != 0 {
		return nil, fmt.Errorf("%s: the r1cs is not over BN254's scalar field", path)
	}
	s := &System{
		NWires:  binary.LittleEndian.Uint32(h[36:]),
		NPubOut: binary.LittleEndian.Uint32(h[40:]),
		NPubIn:  binary.LittleEndian.Uint32(h[44:]),
		NPrvIn:  binary.LittleEndian.Uint32(h[48:]),
	}
	nc := binary.LittleEndian.Uint32(h[60:])
	d, err := f.Section(2)
	if err != nil {
		return nil, err
	}
	pos := 0
	u32 := func() (uint32, error) {
		if pos+4 > len(d) {
			return 0, fmt.Errorf("%s: truncated constraint section", path)
		}
		v := binary.LittleEndian.Uint32(d[pos:])
		pos += 4
		return v, nil
	}
	lc := func() ([]Term, error) {
		n, err := u32()
		if err != nil {
			return nil, err
		}
		if uint64(n)*36 > uint64(len(d)-pos) {
			return nil, fmt.Errorf("%s: truncated linear combination", path)
		}
		out := make([]Term, n)
		for i := range out {
			w, _ := u32()
			if w >= s.NWires {
				return nil, fmt.Errorf("%s: wire %d out of range", path, w)
			}
			e, err := fr.LittleEndian.Element((*[32]byte)(d[pos : pos+32]))
			if err != nil {
				return nil, fmt.Errorf("%s: coefficient: %v", path, err)
			}
			pos += 32
			out[i] = Term{Wire: w, Coef: e}
		}
		return out, nil
	}
	s.Constraints = make([]Constraint, nc)
	for i := range s.Constraints {
		c := &s.Constraints[i]
		if c.A, err = lc(); err != nil {
			return nil, err
		}
		if c.B, err = lc(); err != nil {
			return nil, err
		}
		if c.C, err = lc(); err != nil {
			return nil, err
		}
	}
	return s, nil
}
