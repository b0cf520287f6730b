pragma circom 2.1.0;

// Genesis circuit of proofbook: a Poseidon hash chain.
//
// Statement: "I know a secret `preimage` such that applying Poseidon N times to it gives the public
// `digest`", bound to a public `nonce` (e.g. the market request id) so a proof made for one request
// cannot be replayed for another: changing the nonce invalidates the proof.
//
// Public signals, in snarkjs order (outputs first, then public inputs): [digest, nonce].
// Each chain step is domain-separated by its index: h[i+1] = Poseidon(h[i], i + 1), so the chain
// cannot be shortened or shifted by starting from an intermediate value with a different length.

include "circomlib/circuits/poseidon.circom";

template HashChain(N) {
    signal input preimage;   // private
    signal input nonce;      // public
    signal output digest;

    component step[N];
    signal h[N + 1];
    h[0] <== preimage;
    for (var i = 0; i < N; i++) {
        step[i] = Poseidon(2);
        step[i].inputs[0] <== h[i];
        step[i].inputs[1] <== i + 1;
        h[i + 1] <== step[i].out;
    }
    digest <== h[N];

    // Bind the nonce into the constraint system (a public input that appears in no constraint
    // could otherwise be changed without invalidating the proof).
    signal nonceSquared;
    nonceSquared <== nonce * nonce;
}

component main {public [nonce]} = HashChain(20);
