// Command testsetup writes a TEST-ONLY, INSECURE Groth16 proving key for a circom .r1cs, with toxic waste derived
// from a public seed (see internal/setup). For benchmarks and tests only: anyone knowing the seed can forge proofs.
//
//	testsetup <circuit.r1cs> <out.zkey> <seed>
package main

import (
	"fmt"
	"os"
	"time"

	"github.com/proofbook/native/prover/internal/r1cs"
	"github.com/proofbook/native/prover/internal/setup"
)

func main() {
	if len(os.Args) != 4 {
		fmt.Fprintln(os.Stderr, "usage: testsetup <circuit.r1cs> <out.zkey> <seed>   (TEST-ONLY, INSECURE: the seed is the toxic waste)")
		os.Exit(2)
	}
	t0 := time.Now()
	sys, err := r1cs.Read(os.Args[1])
	if err != nil {
		fmt.Fprintf(os.Stderr, "testsetup: %v\n", err)
		os.Exit(3)
	}
	tmp := os.Args[2] + ".tmp"
	if err := setup.Write(tmp, sys, setup.FromSeed(os.Args[3])); err != nil {
		fmt.Fprintf(os.Stderr, "testsetup: %v\n", err)
		os.Remove(tmp)
		os.Exit(1)
	}
	if err := os.Rename(tmp, os.Args[2]); err != nil {
		fmt.Fprintf(os.Stderr, "testsetup: %v\n", err)
		os.Exit(1)
	}
	fmt.Fprintf(os.Stderr, "testsetup: %d constraints, %d wires, domain %d: %s in %.1fs (TEST-ONLY key)\n",
		len(sys.Constraints), sys.NWires, setup.DomainSize(sys), os.Args[2], time.Since(t0).Seconds())
}
