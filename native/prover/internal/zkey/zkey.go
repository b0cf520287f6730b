// Package zkey reads snarkjs Groth16 proving keys (.zkey) without copying them: point sections are reinterpreted in
// place as gnark-crypto affine points.
//
// Layout (snarkjs src/zkey_utils.js): 1 header (protocol, 1 = Groth16), 2 Groth header (n8q q n8r r nVars nPublic
// domainSize alpha1 beta1 beta2 gamma2 delta1 delta2), 3 IC, 4 coefficients of the A and B matrices, 5 A (G1),
// 6 B1 (G1), 7 B2 (G2), 8 C (G1, private variables only), 9 H (G1, at the odd roots of the 2n-th roots of unity),
// 10 contributions.
//
// Encodings: base-field coordinates are little-endian Montgomery form ("LEM"), which is exactly gnark-crypto's
// in-memory fp.Element on a little-endian machine, so G1Affine{X,Y} (64 bytes) and G2Affine{X.A0,X.A1,Y.A0,Y.A1}
// (128 bytes) match the file byte for byte; the point at infinity is all zeros in both. Matrix coefficients are
// stored as the integer c·R² mod r (R = 2^256), i.e. gnark's raw limbs hold the Montgomery form of c·R.
package zkey

import (
	"encoding/binary"
	"fmt"
	"math/big"
	"math/bits"
	"runtime"
	"unsafe"

	"github.com/consensys/gnark-crypto/ecc/bn254"
	"github.com/consensys/gnark-crypto/ecc/bn254/fp"
	"github.com/consensys/gnark-crypto/ecc/bn254/fr"

	"github.com/proofbook/native/prover/internal/binfile"
)

const (
	SecHeader   = 1
	SecGroth    = 2
	SecIC       = 3
	SecCoeffs   = 4
	SecA        = 5
	SecB1       = 6
	SecB2       = 7
	SecC        = 8
	SecH        = 9
	SecContribs = 10

	G1Size    = 64
	G2Size    = 128
	CoefSize  = 12 + 32
	MaxLogDom = 28 // BN254's scalar field has 2-adicity 28
)

// Coef is one entry of section 4: matrix (0 = A, 1 = B), constraint (row), signal (column), value (raw limbs).
type Coef struct {
	Matrix, Constraint, Signal uint32
	Value                      fr.Element // raw file limbs: the Montgomery form of value·R
}

// Key is a mapped proving key. Slices are views into the file; Close invalidates them.
type Key struct {
	f                                   *binfile.File
	NVars, NPublic, DomainSize, LogSize uint32
	Alpha1, Beta1, Delta1               bn254.G1Affine
	Beta2, Gamma2, Delta2               bn254.G2Affine
	IC, A, B1, C, H                     []bn254.G1Affine
	B2                                  []bn254.G2Affine
	coeffs                              []byte
	NCoeffs                             int
}

// Error is a malformed or unsupported proving key.
type Error struct{ Msg string }

func (e *Error) Error() string { return e.Msg }

func errf(path, f string, a ...any) error {
	return &Error{Msg: fmt.Sprintf("malformed zkey %s: %s", path, fmt.Sprintf(f, a...))}
}

// Open maps a .zkey and checks its header and every section's size against nVars, nPublic and domainSize.
func Open(path string) (*Key, error) {
	f, err := binfile.Open(path, "zkey")
	if err != nil {
		if fe, ok := err.(*binfile.FormatError); ok {
			return nil, &Error{Msg: "malformed zkey " + fe.Error()}
		}
		return nil, &Error{Msg: fmt.Sprintf("cannot read zkey: %v", err)}
	}
	k := &Key{f: f}
	if err := k.load(); err != nil {
		f.Close()
		return nil, err
	}
	return k, nil
}

func (k *Key) section(id uint32, want uint64, what string) ([]byte, error) {
	b, err := k.f.Section(id)
	if err != nil {
		return nil, errf(k.f.Path, "%s: %v", what, err)
	}
	if want != ^uint64(0) && uint64(len(b)) != want {
		return nil, errf(k.f.Path, "section %d (%s) is %d bytes, expected %d", id, what, len(b), want)
	}
	return b, nil
}

func (k *Key) load() error {
	p := k.f.Path
	h, err := k.section(SecHeader, 4, "header")
	if err != nil {
		return err
	}
	if proto := binary.LittleEndian.Uint32(h); proto != 1 {
		return errf(p, "protocol %d is not Groth16 (1)", proto)
	}
	g, err := k.section(SecGroth, ^uint64(0), "Groth16 header")
	if err != nil {
		return err
	}
	const grothLen = 4 + 32 + 4 + 32 + 4 + 4 + 4 + 3*G1Size + 3*G2Size
	if len(g) != grothLen {
		return errf(p, "Groth16 header is %d bytes, expected %d (only BN254 keys are supported)", len(g), grothLen)
	}
	if n8q := binary.LittleEndian.Uint32(g); n8q != 32 {
		return errf(p, "base field element size %d, expected 32 (BN254)", n8q)
	}
	if q := new(big.Int).SetBytes(reverse(g[4:36])); q.Cmp(fp.Modulus()) != 0 {
		return errf(p, "base field modulus is not BN254's")
	}
	if n8r := binary.LittleEndian.Uint32(g[36:]); n8r != 32 {
		return errf(p, "scalar field element size %d, expected 32 (BN254)", n8r)
	}
	if r := new(big.Int).SetBytes(reverse(g[40:72])); r.Cmp(fr.Modulus()) != 0 {
		return errf(p, "scalar field modulus is not BN254's")
	}
	k.NVars = binary.LittleEndian.Uint32(g[72:])
	k.NPublic = binary.LittleEndian.Uint32(g[76:])
	k.DomainSize = binary.LittleEndian.Uint32(g[80:])
	if k.NVars == 0 || k.NPublic >= k.NVars {
		return errf(p, "nVars %d / nPublic %d are inconsistent", k.NVars, k.NPublic)
	}
	if k.DomainSize < 2 || k.DomainSize&(k.DomainSize-1) != 0 || k.DomainSize > 1<<MaxLogDom {
		return errf(p, "domain size %d is not a power of two in [2, 2^%d]", k.DomainSize, MaxLogDom)
	}
	k.LogSize = uint32(bits.TrailingZeros32(k.DomainSize))
	o := 84
	k.Alpha1 = g1s(g[o:])[0]
	k.Beta1 = g1s(g[o+G1Size:])[0]
	k.Beta2 = g2s(g[o+2*G1Size:])[0]
	k.Gamma2 = g2s(g[o+2*G1Size+G2Size:])[0]
	k.Delta1 = g1s(g[o+2*G1Size+2*G2Size:])[0]
	k.Delta2 = g2s(g[o+3*G1Size+2*G2Size:])[0]
	for name, pt := range map[string]*bn254.G1Affine{"alpha1": &k.Alpha1, "beta1": &k.Beta1, "delta1": &k.Delta1} {
		if !pt.IsOnCurve() || pt.IsInfinity() {
			return errf(p, "%s is not a point of BN254 G1", name)
		}
	}
	for name, pt := range map[string]*bn254.G2Affine{"beta2": &k.Beta2, "gamma2": &k.Gamma2, "delta2": &k.Delta2} {
		if !pt.IsOnCurve() || pt.IsInfinity() {
			return errf(p, "%s is not a point of BN254 G2", name)
		}
	}

	nv, np, n := uint64(k.NVars), uint64(k.NPublic), uint64(k.DomainSize)
	var b []byte
	if b, err = k.section(SecIC, (np+1)*G1Size, "IC"); err != nil {
		return err
	}
	k.IC = g1s(b)
	if b, err = k.section(SecA, nv*G1Size, "A points"); err != nil {
		return err
	}
	k.A = g1s(b)
	if b, err = k.section(SecB1, nv*G1Size, "B1 points"); err != nil {
		return err
	}
	k.B1 = g1s(b)
	if b, err = k.section(SecB2, nv*G2Size, "B2 points"); err != nil {
		return err
	}
	k.B2 = g2s(b)
	if b, err = k.section(SecC, (nv-np-1)*G1Size, "C points"); err != nil {
		return err
	}
	k.C = g1s(b)
	if b, err = k.section(SecH, n*G1Size, "H points"); err != nil {
		return err
	}
	k.H = g1s(b)
	if b, err = k.section(SecCoeffs, ^uint64(0), "coefficients"); err != nil {
		return err
	}
	if len(b) < 4 {
		return errf(p, "coefficient section is shorter than its count")
	}
	nc := uint64(binary.LittleEndian.Uint32(b))
	if uint64(len(b)) != 4+nc*CoefSize {
		return errf(p, "coefficient section is %d bytes, expected %d for %d coefficients", len(b), 4+nc*CoefSize, nc)
	}
	k.coeffs, k.NCoeffs = b[4:], int(nc)
	return nil
}

// Coef decodes coefficient i (bounds are the caller's: i < NCoeffs).
func (k *Key) Coef(i int) Coef {
	e := k.coeffs[i*CoefSize : (i+1)*CoefSize]
	var c Coef
	c.Matrix = binary.LittleEndian.Uint32(e)
	c.Constraint = binary.LittleEndian.Uint32(e[4:])
	c.Signal = binary.LittleEndian.Uint32(e[8:])
	for j := 0; j < 4; j++ {
		c.Value[j] = binary.LittleEndian.Uint64(e[12+8*j:])
	}
	return c
}

// Close unmaps the key.
func (k *Key) Close() error { return k.f.Close() }

// unalignedOK: architectures whose loads tolerate 8-byte-misaligned uint64s; elsewhere a misaligned section is copied.
var unalignedOK = runtime.GOARCH == "amd64" || runtime.GOARCH == "arm64" || runtime.GOARCH == "386"

func aligned(b []byte) bool {
	return len(b) == 0 || uintptr(unsafe.Pointer(&b[0]))%8 == 0
}

func g1s(b []byte) []bn254.G1Affine {
	n := len(b) / G1Size
	if n == 0 {
		return nil
	}
	if !aligned(b) && !unalignedOK {
		b = append(make([]byte, 0, len(b)), b...)
	}
	return unsafe.Slice((*bn254.G1Affine)(unsafe.Pointer(&b[0])), n)
}

func g2s(b []byte) []bn254.G2Affine {
	n := len(b) / G2Size
	if n == 0 {
		return nil
	}
	if !aligned(b) && !unalignedOK {
		b = append(make([]byte, 0, len(b)), b...)
	}
	return unsafe.Slice((*bn254.G2Affine)(unsafe.Pointer(&b[0])), n)
}

func reverse(b []byte) []byte {
	out := make([]byte, len(b))
	for i := range b {
		out[len(b)-1-i] = b[i]
	}
	return out
}

func init() {
	// The zero-copy reinterpretation relies on these layouts.
	if unsafe.Sizeof(bn254.G1Affine{}) != G1Size || unsafe.Sizeof(bn254.G2Affine{}) != G2Size {
		panic("unexpected gnark-crypto point layout")
	}
	var x uint16 = 1
	if *(*byte)(unsafe.Pointer(&x)) != 1 {
		panic("the zkey reader needs a little-endian machine")
	}
}
