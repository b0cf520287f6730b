// Command prover is proofbook's native Groth16 prover for snarkjs proving keys, with rapidsnark's command-line contract:
//
//	prover [flags] <circuit.zkey> <witness.wtns> <proof.json> <public.json>
//
// Exit codes: 0 proof written; 2 usage; 3 unreadable or malformed zkey; 4 unreadable or malformed wtns;
// 5 the witness does not fit the key; 6 the proof does not verify (witness does not satisfy the circuit, or a
// corrupt key); 7 cannot write the outputs; 8 unsupported device; 1 anything else.
package main

import (
	"errors"
	"flag"
	"fmt"
	"math/big"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"time"

	"github.com/consensys/gnark-crypto/ecc/bn254/fr"

	"github.com/proofbook/native/prover/internal/groth16"
	"github.com/proofbook/native/prover/internal/wtns"
	"github.com/proofbook/native/prover/internal/zkey"
)

const (
	exitOK       = 0
	exitOther    = 1
	exitUsage    = 2
	exitZkey     = 3
	exitWtns     = 4
	exitMismatch = 5
	exitNoVerify = 6
	exitOutput   = 7
	exitNoDevice = 8
)

func main() { os.Exit(run(os.Args[1:])) }

func run(args []string) int {
	fs := flag.NewFlagSet("prover", flag.ContinueOnError)
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "usage: prover [flags] <circuit.zkey> <witness.wtns> <proof.json> <public.json>\n")
		fs.PrintDefaults()
	}
	threads := fs.Int("threads", 0, "cores to use (0 = all)")
	rs := fs.String("randomness", "", "fixed blinding `r,s` (decimal field elements) for reproducible proofs; TESTS ONLY: a proof with known r,s reveals the witness")
	noVerify := fs.Bool("no-verify", false, "skip the self-check of the proof against the key's verification key (≈ 2 ms)")
	verbose := fs.Bool("v", false, "print the time of each step on stderr")
	device := fs.String("device", "cpu", "cpu (this build has no GPU support: see docs/worker.md)")
	if err := fs.Parse(args); err != nil {
		return exitUsage
	}
	if fs.NArg() != 4 {
		fs.Usage()
		return exitUsage
	}
	if *device != "cpu" {
		fmt.Fprintf(os.Stderr, "prover: device %q is not available: this build only has the CPU path\n", *device)
		return exitNoDevice
	}
	if *threads > 0 {
		runtime.GOMAXPROCS(*threads)
	}
	zkeyPath, wtnsPath, proofPath, publicPath := fs.Arg(0), fs.Arg(1), fs.Arg(2), fs.Arg(3)
	opt := groth16.Options{Threads: *threads}
	if *rs != "" {
		r, s, err := parseRS(*rs)
		if err != nil {
			fmt.Fprintf(os.Stderr, "prover: --randomness: %v\n", err)
			return exitUsage
		}
		opt.R, opt.S = r, s
	}
	t0 := time.Now()
	if *verbose {
		opt.Stage = func(name string, d time.Duration) { fmt.Fprintf(os.Stderr, "prover: %-30s %8.1f ms\n", name, ms(d)) }
	}

	k, err := zkey.Open(zkeyPath)
	if err != nil {
		fmt.Fprintf(os.Stderr, "prover: %v\n", err)
		return exitZkey
	}
	defer k.Close()
	w, err := wtns.Read(wtnsPath)
	if err != nil {
		fmt.Fprintf(os.Stderr, "prover: %v\n", err)
		return exitWtns
	}
	if *verbose {
		fmt.Fprintf(os.Stderr, "prover: %d variables, %d public, domain 2^%d, %d coefficients, %d threads; read in %.1f ms\n",
			k.NVars, k.NPublic, k.LogSize, k.NCoeffs, runtime.GOMAXPROCS(0), ms(time.Since(t0)))
	}
	proof, pub, err := groth16.Prove(k, w, opt)
	if err != nil {
		fmt.Fprintf(os.Stderr, "prover: %v\n", err)
		var ie *groth16.InputError
		var ze *zkey.Error
		switch {
		case errors.As(err, &ie):
			return exitMismatch
		case errors.As(err, &ze):
			return exitZkey
		}
		return exitOther
	}
	if !*noVerify {
		t := time.Now()
		ok, err := groth16.Verify(k, proof, pub)
		if err != nil || !ok {
			fmt.Fprintf(os.Stderr, "prover: the proof does not verify against the key's verification key: the witness does not satisfy the circuit, or the zkey is corrupt%s\n", errSuffix(err))
			return exitNoVerify
		}
		if *verbose {
			fmt.Fprintf(os.Stderr, "prover: %-30s %8.1f ms\n", "self-check (pairing)", ms(time.Since(t)))
		}
	}
	pj, err := groth16.ProofJSON(proof)
	if err == nil {
		err = writeAtomic(proofPath, pj)
	}
	if err == nil {
		var pubj []byte
		if pubj, err = groth16.PublicJSON(pub); err == nil {
			err = writeAtomic(publicPath, pubj)
		}
	}
	if err != nil {
		fmt.Fprintf(os.Stderr, "prover: cannot write outputs: %v\n", err)
		return exitOutput
	}
	if *verbose {
		fmt.Fprintf(os.Stderr, "prover: total %.1f ms\n", ms(time.Since(t0)))
		var ru syscall.Rusage
		if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) == nil {
			fmt.Fprintf(os.Stderr, "prover: peak RSS %.1f MiB\n", float64(ru.Maxrss)/1024) // Linux reports KiB
		}
	}
	return exitOK
}

func errSuffix(err error) string {
	if err == nil {
		return ""
	}
	return ": " + err.Error()
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

func parseRS(v string) (*fr.Element, *fr.Element, error) {
	parts := strings.Split(v, ",")
	if len(parts) != 2 {
		return nil, nil, fmt.Errorf("want two decimal numbers r,s")
	}
	var out [2]*fr.Element
	for i, p := range parts {
		b, ok := new(big.Int).SetString(strings.TrimSpace(p), 10)
		if !ok || b.Sign() < 0 || b.Cmp(fr.Modulus()) >= 0 {
			return nil, nil, fmt.Errorf("%q is not a field element", p)
		}
		out[i] = new(fr.Element).SetBigInt(b)
	}
	return out[0], out[1], nil
}

// writeAtomic writes via a temporary file and a rename, so a reader never sees half a proof.
func writeAtomic(path string, data []byte) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return err
	}
	if _, err := tmp.Write(append(data, '\n')); err != nil {
		tmp.Close()
		os.Remove(tmp.Name())
		return err
	}
	if err := tmp.Close(); err != nil {
		os.Remove(tmp.Name())
		return err
	}
	return os.Rename(tmp.Name(), path)
}
