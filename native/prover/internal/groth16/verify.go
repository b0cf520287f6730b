package groth16

import (
	"fmt"
	"math/big"

	"github.com/consensys/gnark-crypto/ecc/bn254"
	"github.com/consensys/gnark-crypto/ecc/bn254/fr"

	"github.com/proofbook/native/prover/internal/zkey"
)

// Verify checks e(πA, πB) = e(α, β)·e(Σ pub_i·IC_i, γ)·e(πC, δ) with the verification key held in the zkey.
// The prover runs it on every proof it writes (≈ 2 ms), so a corrupt key or a witness that does not satisfy the
// circuit is reported instead of silently producing a proof nobody accepts.
func Verify(k *zkey.Key, p *Proof, pub []fr.Element) (bool, error) {
	if len(pub) != int(k.NPublic) {
		return false, fmt.Errorf("%d public signals, the key expects %d", len(pub), k.NPublic)
	}
	var vkx bn254.G1Jac
	vkx.FromAffine(&k.IC[0])
	var t bn254.G1Jac
	for i := range pub {
		var ic bn254.G1Jac
		ic.FromAffine(&k.IC[i+1])
		vkx.AddAssign(t.ScalarMultiplication(&ic, pub[i].BigInt(new(big.Int))))
	}
	var x, negA bn254.G1Affine
	x.FromJacobian(&vkx)
	negA.Neg(&p.A)
	return bn254.PairingCheck(
		[]bn254.G1Affine{negA, k.Alpha1, x, p.C},
		[]bn254.G2Affine{p.B, k.Beta2, k.Gamma2, k.Delta2},
	)
}
