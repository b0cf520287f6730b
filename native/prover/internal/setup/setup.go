// Package setup is a TEST-ONLY, INSECURE Groth16 setup: it derives the toxic waste (τ, α, β, γ, δ) from a public
// seed and writes a snarkjs-compatible .zkey directly, in seconds instead of the ~20 minutes snarkjs' powers of tau
// take for 2^16 on two cores. Anyone who knows the seed can forge proofs for the key. It exists so the benchmark can
// build large proving keys deterministically; never use its keys for anything of value.
//
// The key is what snarkjs' `zkey new` (src/zkey_new.js) would produce from a ceremony with these secrets and then a
// contribution of δ (γ stays at the generator's multiple as in snarkjs keys: here γ is secret too, which is allowed):
//
//	A_s = u_s(τ)·G1, B1_s = v_s(τ)·G1, B2_s = v_s(τ)·G2              u, v, w: the QAP polynomials of column s
//	IC_s = (β·u_s(τ) + α·v_s(τ) + w_s(τ))/γ·G1  for s ≤ nPublic       with snarkjs' extra rows A[nC+s][s] = 1
//	C_s  = (β·u_s(τ) + α·v_s(τ) + w_s(τ))/δ·G1  for s > nPublic
//	H_i  = L^{2n}_{2i+1}(τ)/δ·G1                                      Lagrange basis of the 2n-th roots, odd indices
//
// u_s(τ) = Σ_c A[c][s]·L^n_c(τ) on snarkjs' domain (ffjavascript's ω, which is gnark-crypto's fr.Generator).
package setup

import (
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"io"
	"math/big"
	"runtime"
	"sync"
	"unsafe"

	"github.com/consensys/gnark-crypto/ecc/bn254"
	"github.com/consensys/gnark-crypto/ecc/bn254/fp"
	"github.com/consensys/gnark-crypto/ecc/bn254/fr"

	"github.com/proofbook/native/prover/internal/binfile"
	"github.com/proofbook/native/prover/internal/r1cs"
)

// Secrets is the toxic waste.
type Secrets struct{ Tau, Alpha, Beta, Gamma, Delta fr.Element }

// FromSeed derives the secrets from a public seed (sha256(seed ‖ label) mod r, never zero).
func FromSeed(seed string) Secrets {
	d := func(label string) fr.Element {
		for i := 0; ; i++ {
			h := sha256.Sum256([]byte(fmt.Sprintf("proofbook test-only groth16 setup|%s|%s|%d", seed, label, i)))
			var e fr.Element
			e.SetBytes(h[:])
			if !e.IsZero() {
				return e
			}
		}
	}
	return Secrets{Tau: d("tau"), Alpha: d("alpha"), Beta: d("beta"), Gamma: d("gamma"), Delta: d("delta")}
}

// DomainSize is snarkjs' choice: the smallest power of two ≥ nConstraints + nPublic + 1.
func DomainSize(s *r1cs.System) uint64 {
	m := uint64(len(s.Constraints)) + uint64(s.NPublic()) + 1
	n := uint64(2)
	for n < m {
		n <<= 1
	}
	return n
}

// lagrange returns L_j(τ) for the domain of size n (ω = fr.Generator(n)) at the indices j = first, first+step, ….
func lagrange(tau fr.Element, n uint64, first, step uint64) ([]fr.Element, error) {
	w, err := fr.Generator(n)
	if err != nil {
		return nil, err
	}
	count := (n - first + step - 1) / step
	// L_j(τ) = (τ^n − 1)/n · ω^j/(τ − ω^j)
	var zn, nInv fr.Element
	zn.Exp(tau, new(big.Int).SetUint64(n))
	zn.Sub(&zn, new(fr.Element).SetOne())
	nInv.SetUint64(n).Inverse(&nInv)
	zn.Mul(&zn, &nInv)
	den := make([]fr.Element, count)
	num := make([]fr.Element, count)
	var wj, wstep fr.Element
	wj.Exp(w, new(big.Int).SetUint64(first))
	wstep.Exp(w, new(big.Int).SetUint64(step))
	for i := range den {
		den[i].Sub(&tau, &wj)
		if den[i].IsZero() {
			return nil, fmt.Errorf("τ is a root of unity; pick another seed")
		}
		num[i].Mul(&zn, &wj)
		wj.Mul(&wj, &wstep)
	}
	inv := fr.BatchInvert(den)
	for i := range num {
		num[i].Mul(&num[i], &inv[i])
	}
	return num, nil
}

// Write builds the proving key of sys under sec and writes it to path in snarkjs' format.
func Write(path string, sys *r1cs.System, sec Secrets) error {
	n := DomainSize(sys)
	if n > 1<<27 {
		return fmt.Errorf("circuit too large for this setup (domain %d)", n)
	}
	nVars := uint64(sys.NWires)
	nPub := uint64(sys.NPublic())
	nC := uint64(len(sys.Constraints))
	L, err := lagrange(sec.Tau, n, 0, 1)
	if err != nil {
		return err
	}
	u := make([]fr.Element, nVars)
	v := make([]fr.Element, nVars)
	w := make([]fr.Element, nVars)
	var t fr.Element
	acc := func(dst []fr.Element, terms []r1cs.Term, c uint64) {
		for _, term := range terms {
			t.Mul(&term.Coef, &L[c])
			dst[term.Wire].Add(&dst[term.Wire], &t)
		}
	}
	for c, con := range sys.Constraints {
		acc(u, con.A, uint64(c))
		acc(v, con.B, uint64(c))
		acc(w, con.C, uint64(c))
	}
	for s := uint64(0); s <= nPub; s++ {
		u[s].Add(&u[s], &L[nC+s])
	}
	var gInv, dInv fr.Element
	gInv.Inverse(&sec.Gamma)
	dInv.Inverse(&sec.Delta)
	k := make([]fr.Element, nVars) // (β·u + α·v + w)/γ or /δ
	for s := range k {
		var x, y fr.Element
		x.Mul(&sec.Beta, &u[s])
		y.Mul(&sec.Alpha, &v[s])
		k[s].Add(&x, &y).Add(&k[s], &w[s])
		if uint64(s) <= nPub {
			k[s].Mul(&k[s], &gInv)
		} else {
			k[s].Mul(&k[s], &dInv)
		}
	}
	H, err := lagrange(sec.Tau, 2*n, 1, 2)
	if err != nil {
		return err
	}
	for i := range H {
		H[i].Mul(&H[i], &dInv)
	}

	_, _, g1, g2 := bn254.Generators()
	mul1 := func(e fr.Element) bn254.G1Affine {
		var p bn254.G1Affine
		p.ScalarMultiplication(&g1, e.BigInt(new(big.Int)))
		return p
	}
	mul2 := func(e fr.Element) bn254.G2Affine {
		var p bn254.G2Affine
		p.ScalarMultiplication(&g2, e.BigInt(new(big.Int)))
		return p
	}
	pA := batchG1(&g1, u)
	pB1 := batchG1(&g1, v)
	pB2 := batchG2(&g2, v)
	pK := batchG1(&g1, k)
	pH := batchG1(&g1, H)
	fix1 := func(pts []bn254.G1Affine, sc []fr.Element) {
		for i := range sc {
			if sc[i].IsZero() {
				pts[i] = bn254.G1Affine{}
			}
		}
	}
	fix1(pA, u)
	fix1(pB1, v)
	fix1(pK, k)
	for i := range v {
		if v[i].IsZero() {
			pB2[i] = bn254.G2Affine{}
		}
	}

	out, err := binfile.Create(path, "zkey", 1, 10)
	if err != nil {
		return err
	}
	le32 := func(x uint32) []byte { b := make([]byte, 4); binary.LittleEndian.PutUint32(b, x); return b }
	out.Section(1, 4, func(o io.Writer) { o.Write(le32(1)) })
	grothLen := uint64(4 + 32 + 4 + 32 + 4 + 4 + 4 + 3*64 + 3*128)
	out.Section(2, grothLen, func(o io.Writer) {
		o.Write(le32(32))
		o.Write(leBytes(fp.Modulus()))
		o.Write(le32(32))
		o.Write(leBytes(fr.Modulus()))
		o.Write(le32(uint32(nVars)))
		o.Write(le32(uint32(nPub)))
		o.Write(le32(uint32(n)))
		a1, b1, d1 := mul1(sec.Alpha), mul1(sec.Beta), mul1(sec.Delta)
		b2, c2, d2 := mul2(sec.Beta), mul2(sec.Gamma), mul2(sec.Delta)
		o.Write(g1Bytes([]bn254.G1Affine{a1, b1}))
		o.Write(g2Bytes([]bn254.G2Affine{b2, c2}))
		o.Write(g1Bytes([]bn254.G1Affine{d1}))
		o.Write(g2Bytes([]bn254.G2Affine{d2}))
	})
	out.Section(3, (nPub+1)*64, func(o io.Writer) { o.Write(g1Bytes(pK[:nPub+1])) })
	// Coefficients: per constraint its A then B entries, then the public-input rows, as zkey_new.js writes them.
	// Value: the integer c·R² mod r, i.e. the raw limbs of gnark's element c·R.
	var R fr.Element
	R.SetBigInt(new(big.Int).Lsh(big.NewInt(1), 256))
	var nCoef uint64
	for _, con := range sys.Constraints {
		nCoef += uint64(len(con.A) + len(con.B))
	}
	nCoef += nPub + 1
	out.Section(4, 4+nCoef*44, func(o io.Writer) {
		o.Write(le32(uint32(nCoef)))
		buf := make([]byte, 44)
		put := func(m, c, s uint32, val fr.Element) {
			binary.LittleEndian.PutUint32(buf, m)
			binary.LittleEndian.PutUint32(buf[4:], c)
			binary.LittleEndian.PutUint32(buf[8:], s)
			var e fr.Element
			e.Mul(&val, &R)
			for j := 0; j < 4; j++ {
				binary.LittleEndian.PutUint64(buf[12+8*j:], e[j])
			}
			o.Write(buf)
		}
		for c, con := range sys.Constraints {
			for _, term := range con.A {
				put(0, uint32(c), term.Wire, term.Coef)
			}
			for _, term := range con.B {
				put(1, uint32(c), term.Wire, term.Coef)
			}
		}
		var one fr.Element
		one.SetOne()
		for s := uint64(0); s <= nPub; s++ {
			put(0, uint32(nC+s), uint32(s), one)
		}
	})
	out.Section(5, nVars*64, func(o io.Writer) { o.Write(g1Bytes(pA)) })
	out.Section(6, nVars*64, func(o io.Writer) { o.Write(g1Bytes(pB1)) })
	out.Section(7, nVars*128, func(o io.Writer) { o.Write(g2Bytes(pB2)) })
	out.Section(8, (nVars-nPub-1)*64, func(o io.Writer) { o.Write(g1Bytes(pK[nPub+1:])) })
	out.Section(9, n*64, func(o io.Writer) { o.Write(g1Bytes(pH)) })
	// Contributions: a zero circuit hash and no contributions (snarkjs' prover does not read this section).
	out.Section(10, 64+4, func(o io.Writer) { o.Write(make([]byte, 64)); o.Write(le32(0)) })
	return out.Close()
}

// batchG1 is gnark-crypto's fixed-base batch multiplication, split across the cores.
func batchG1(base *bn254.G1Affine, sc []fr.Element) []bn254.G1Affine {
	out := make([]bn254.G1Affine, len(sc))
	chunks(len(sc), func(lo, hi int) { copy(out[lo:hi], bn254.BatchScalarMultiplicationG1(base, sc[lo:hi])) })
	return out
}

func batchG2(base *bn254.G2Affine, sc []fr.Element) []bn254.G2Affine {
	out := make([]bn254.G2Affine, len(sc))
	chunks(len(sc), func(lo, hi int) { copy(out[lo:hi], bn254.BatchScalarMultiplicationG2(base, sc[lo:hi])) })
	return out
}

func chunks(n int, f func(lo, hi int)) {
	t := runtime.GOMAXPROCS(0)
	step := max(1, (n+t-1)/t)
	var wg sync.WaitGroup
	for lo := 0; lo < n; lo += step {
		wg.Add(1)
		go func(lo, hi int) { defer wg.Done(); f(lo, hi) }(lo, min(lo+step, n))
	}
	wg.Wait()
}

func leBytes(x *big.Int) []byte {
	b := make([]byte, 32)
	x.FillBytes(b)
	for i, j := 0, 31; i < j; i, j = i+1, j-1 {
		b[i], b[j] = b[j], b[i]
	}
	return b
}

// g1Bytes views points as their zkey encoding (gnark's in-memory layout is snarkjs' LEM layout).
func g1Bytes(p []bn254.G1Affine) []byte {
	if len(p) == 0 {
		return nil
	}
	return unsafe.Slice((*byte)(unsafe.Pointer(&p[0])), len(p)*64)
}

func g2Bytes(p []bn254.G2Affine) []byte {
	if len(p) == 0 {
		return nil
	}
	return unsafe.Slice((*byte)(unsafe.Pointer(&p[0])), len(p)*128)
}
