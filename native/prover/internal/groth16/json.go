package groth16

import (
	"encoding/json"
	"math/big"

	"github.com/consensys/gnark-crypto/ecc/bn254/fp"
	"github.com/consensys/gnark-crypto/ecc/bn254/fr"
)

// snarkjsProof is proof.json as snarkjs writes it (projective coordinates with z = 1, field order x.c0, x.c1).
type snarkjsProof struct {
	PiA      [3]string    `json:"pi_a"`
	PiB      [3][2]string `json:"pi_b"`
	PiC      [3]string    `json:"pi_c"`
	Protocol string       `json:"protocol"`
	Curve    string       `json:"curve"`
}

func dec(e *fp.Element) string { return e.BigInt(new(big.Int)).String() }

// ProofJSON renders the proof in snarkjs' format (JSON.stringify(proof, null, 1)).
func ProofJSON(p *Proof) ([]byte, error) {
	sp := snarkjsProof{
		PiA:      [3]string{dec(&p.A.X), dec(&p.A.Y), "1"},
		PiB:      [3][2]string{{dec(&p.B.X.A0), dec(&p.B.X.A1)}, {dec(&p.B.Y.A0), dec(&p.B.Y.A1)}, {"1", "0"}},
		PiC:      [3]string{dec(&p.C.X), dec(&p.C.Y), "1"},
		Protocol: "groth16",
		Curve:    "bn128",
	}
	return json.MarshalIndent(sp, "", " ")
}

// PublicJSON renders public.json: the public signals as decimal strings.
func PublicJSON(pub []fr.Element) ([]byte, error) {
	s := make([]string, len(pub))
	for i := range pub {
		s[i] = pub[i].BigInt(new(big.Int)).String()
	}
	return json.MarshalIndent(s, "", " ")
}
