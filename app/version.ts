/** Reported in ABCI Info and `proofbook status`. */
export const APP_VERSION = '0.1.0';
