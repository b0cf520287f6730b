// Package groth16 is snarkjs' Groth16 prover (src/groth16_prove.js) on gnark-crypto: the same maths, so a proof from
// here verifies against the same verification key, and with the same (r, s) it is the same proof.
//
//  1. A·w, B·w evaluated on the n-th roots of unity from the zkey's coefficient section (C = A∘B there: snarkjs
//     omits the C matrix because C·w = (A·w)∘(B·w) at every constraint of a satisfied R1CS);
//  2. each of A, B, C is interpolated (inverse FFT) and evaluated on the "odd" coset ω_{2n}·⟨ω_n⟩
//     (forward FFT with shift ω_{2n}, i.e. ffjavascript's Fr.w[log n + 1], or Fr.shift when log n = 28);
//  3. p_odd = A∘B − C there; the zkey's H section already holds the points that turn p_odd into H(τ)Z(τ)/δ;
//  4. multi-exponentiations A, B1 (G1), B2 (G2), C (private part of the witness), H (p_odd), then
//     πA = A + α + rδ, πB = B2 + β + sδ, πC = C + H + s·πA + r·(B1 + β + sδ) − rs·δ.
package groth16

import (
	"crypto/rand"
	"fmt"
	"math/big"
	"runtime"
	"sync"
	"time"

	"github.com/consensys/gnark-crypto/ecc"
	"github.com/consensys/gnark-crypto/ecc/bn254"
	"github.com/consensys/gnark-crypto/ecc/bn254/fr"
	"github.com/consensys/gnark-crypto/ecc/bn254/fr/fft"

	"github.com/proofbook/native/prover/internal/zkey"
)

// Proof is a Groth16 proof in affine coordinates.
type Proof struct {
	A, C bn254.G1Affine
	B    bn254.G2Affine
}

// Options of one proof.
type Options struct {
	// R, S fix the blinding randomness (tests and reproducibility); nil draws it from crypto/rand.
	R, S *fr.Element
	// Threads bounds the goroutines of each parallel step (0 = GOMAXPROCS).
	Threads int
	// Stage, when set, is told how long each step took.
	Stage func(name string, d time.Duration)
}

// InputError is a witness that does not fit the key.
type InputError struct{ Msg string }

func (e *InputError) Error() string { return e.Msg }

// Prove computes a proof and the public signals (witness[1..nPublic]).
func Prove(k *zkey.Key, w []fr.Element, opt Options) (*Proof, []fr.Element, error) {
	if uint32(len(w)) != k.NVars {
		return nil, nil, &InputError{Msg: fmt.Sprintf("invalid witness length: the circuit has %d variables, the witness %d values", k.NVars, len(w))}
	}
	threads := opt.Threads
	if threads <= 0 {
		threads = runtime.GOMAXPROCS(0)
	}
	stage := opt.Stage
	if stage == nil {
		stage = func(string, time.Duration) {}
	}
	t := time.Now()
	lap := func(name string) { now := time.Now(); stage(name, now.Sub(t)); t = now }

	h, err := quotient(k, w, threads)
	if err != nil {
		return nil, nil, err
	}
	lap("quotient (buildABC + 6 FFTs)")

	cfg := ecc.MultiExpConfig{NbTasks: threads}
	var pa, pb1, pc, ph bn254.G1Jac
	var pb2 bn254.G2Jac
	msm1 := func(dst *bn254.G1Jac, pts []bn254.G1Affine, sc []fr.Element, name string) error {
		if _, err := dst.MultiExp(pts, sc, cfg); err != nil {
			return fmt.Errorf("multi-exponentiation %s: %w", name, err)
		}
		lap("msm " + name)
		return nil
	}
	if err := msm1(&pa, k.A, w, "A"); err != nil {
		return nil, nil, err
	}
	if err := msm1(&pb1, k.B1, w, "B1"); err != nil {
		return nil, nil, err
	}
	if _, err := pb2.MultiExp(k.B2, w, cfg); err != nil {
		return nil, nil, fmt.Errorf("multi-exponentiation B2: %w", err)
	}
	lap("msm B2 (G2)")
	if err := msm1(&pc, k.C, w[k.NPublic+1:], "C"); err != nil {
		return nil, nil, err
	}
	if err := msm1(&ph, k.H, h, "H"); err != nil {
		return nil, nil, err
	}

	var r, s fr.Element
	if opt.R != nil && opt.S != nil {
		r, s = *opt.R, *opt.S
	} else {
		if err := randomScalar(&r); err != nil {
			return nil, nil, err
		}
		if err := randomScalar(&s); err != nil {
			return nil, nil, err
		}
	}
	rb, sb := r.BigInt(new(big.Int)), s.BigInt(new(big.Int))
	var rs fr.Element
	rs.Mul(&r, &s).Neg(&rs)
	rsb := rs.BigInt(new(big.Int))

	var alpha, beta1, delta1 bn254.G1Jac
	alpha.FromAffine(&k.Alpha1)
	beta1.FromAffine(&k.Beta1)
	delta1.FromAffine(&k.Delta1)
	var beta2, delta2 bn254.G2Jac
	beta2.FromAffine(&k.Beta2)
	delta2.FromAffine(&k.Delta2)

	// πA = A + α + r·δ1
	var tmp bn254.G1Jac
	pa.AddAssign(&alpha)
	pa.AddAssign(tmp.ScalarMultiplication(&delta1, rb))
	// πB = B2 + β2 + s·δ2
	var tmp2 bn254.G2Jac
	pb2.AddAssign(&beta2)
	pb2.AddAssign(tmp2.ScalarMultiplication(&delta2, sb))
	// B1 + β1 + s·δ1
	pb1.AddAssign(&beta1)
	pb1.AddAssign(tmp.ScalarMultiplication(&delta1, sb))
	// πC = C + H + s·πA + r·B1' − rs·δ1
	pc.AddAssign(&ph)
	pc.AddAssign(tmp.ScalarMultiplication(&pa, sb))
	pc.AddAssign(tmp.ScalarMultiplication(&pb1, rb))
	pc.AddAssign(tmp.ScalarMultiplication(&delta1, rsb))

	p := &Proof{}
	p.A.FromJacobian(&pa)
	p.B.FromJacobian(&pb2)
	p.C.FromJacobian(&pc)
	lap("assemble")
	pub := append([]fr.Element(nil), w[1:k.NPublic+1]...)
	return p, pub, nil
}

func randomScalar(e *fr.Element) error {
	if _, err := e.SetRandom(); err != nil {
		return fmt.Errorf("randomness: %w", err)
	}
	if e.IsZero() { // negligible; keep the blinding non-trivial
		var b [1]byte
		_, _ = rand.Read(b[:])
		e.SetUint64(uint64(b[0]) + 1)
	}
	return nil
}

// rInv is R⁻¹ = 2^-256 mod r: a coefficient read raw from the zkey has the value c·R.
var rInv = func() fr.Element {
	R := new(big.Int).Lsh(big.NewInt(1), 256)
	R.ModInverse(R, fr.Modulus())
	var e fr.Element
	e.SetBigInt(R)
	return e
}()

// quotient returns p_odd = (A∘B − C) on the odd coset, the scalars of the H multi-exponentiation.
func quotient(k *zkey.Key, w []fr.Element, threads int) ([]fr.Element, error) {
	n := int(k.DomainSize)
	a := make([]fr.Element, n)
	b := make([]fr.Element, n)
	if err := buildAB(k, w, a, b, threads); err != nil {
		return nil, err
	}
	c := make([]fr.Element, n)
	parallel(n, threads, func(lo, hi int) {
		for i := lo; i < hi; i++ {
			a[i].Mul(&a[i], &rInv)
			b[i].Mul(&b[i], &rInv)
			c[i].Mul(&a[i], &b[i])
		}
	})

	domain := fft.NewDomain(uint64(n), fft.WithShift(oddShift(k.LogSize)))
	// Three polynomials at once, sharing the cores between them.
	per := max(1, threads/3)
	var wg sync.WaitGroup
	for _, v := range [][]fr.Element{a, b, c} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			domain.FFTInverse(v, fft.DIF, fft.WithNbTasks(per))
			domain.FFT(v, fft.DIT, fft.OnCoset(), fft.WithNbTasks(per))
		}()
	}
	wg.Wait()
	parallel(n, threads, func(lo, hi int) {
		for i := lo; i < hi; i++ {
			a[i].Mul(&a[i], &b[i]).Sub(&a[i], &c[i])
		}
	})
	return a, nil
}

// oddShift is the coset generator snarkjs uses: ω_{2n} (ffjavascript Fr.w[log n + 1]), or Fr.shift = 25 when
// n = 2^28 already uses the largest 2-adic subgroup.
func oddShift(logN uint32) fr.Element {
	var s fr.Element
	if logN >= zkey.MaxLogDom {
		s.SetUint64(25)
		return s
	}
	g, err := fr.Generator(uint64(1) << (logN + 1))
	if err != nil {
		panic(err)
	}
	return g
}

// buildAB accumulates out[m][constraint] += coef·w[signal] (with the coefficient's extra factor R, removed later).
// snarkjs writes the coefficients ordered by constraint, so the list is cut at constraint boundaries and each
// goroutine owns a disjoint range of rows; any other order is valid too and is summed on one goroutine.
func buildAB(k *zkey.Key, w []fr.Element, a, b []fr.Element, threads int) error {
	nc := k.NCoeffs
	sorted := true
	var last uint32
	for i := 0; i < nc; i++ {
		c := k.Coef(i)
		if c.Matrix > 1 {
			return &zkey.Error{Msg: fmt.Sprintf("malformed zkey: coefficient %d names matrix %d (only A=0 and B=1 exist)", i, c.Matrix)}
		}
		if c.Constraint >= k.DomainSize {
			return &zkey.Error{Msg: fmt.Sprintf("malformed zkey: coefficient %d names constraint %d outside the domain of %d", i, c.Constraint, k.DomainSize)}
		}
		if c.Signal >= k.NVars {
			return &zkey.Error{Msg: fmt.Sprintf("malformed zkey: coefficient %d names signal %d of %d", i, c.Signal, k.NVars)}
		}
		if c.Constraint < last {
			sorted = false
		}
		last = c.Constraint
	}
	out := [2][]fr.Element{a, b}
	run := func(lo, hi int) {
		var t fr.Element
		for i := lo; i < hi; i++ {
			c := k.Coef(i)
			t.Mul(&c.Value, &w[c.Signal])
			dst := &out[c.Matrix][c.Constraint]
			dst.Add(dst, &t)
		}
	}
	if !sorted || threads == 1 || nc < 1<<12 {
		run(0, nc)
		return nil
	}
	cuts := []int{0}
	for t := 1; t < threads; t++ {
		i := max(nc*t/threads, cuts[len(cuts)-1])
		for i < nc && i > 0 && k.Coef(i).Constraint == k.Coef(i-1).Constraint {
			i++
		}
		cuts = append(cuts, i)
	}
	cuts = append(cuts, nc)
	var wg sync.WaitGroup
	for j := 0; j+1 < len(cuts); j++ {
		if cuts[j] == cuts[j+1] {
			continue
		}
		wg.Add(1)
		go func(lo, hi int) { defer wg.Done(); run(lo, hi) }(cuts[j], cuts[j+1])
	}
	wg.Wait()
	return nil
}

func parallel(n, threads int, f func(lo, hi int)) {
	if n < 1<<12 || threads <= 1 {
		f(0, n)
		return
	}
	var wg sync.WaitGroup
	chunk := (n + threads - 1) / threads
	for lo := 0; lo < n; lo += chunk {
		hi := min(lo+chunk, n)
		wg.Add(1)
		go func() { defer wg.Done(); f(lo, hi) }()
	}
	wg.Wait()
}
