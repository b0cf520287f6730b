/**
 * Application errors: every rejection the state machine produces carries a (codespace, code) pair that ends up in
 * the ABCI result and a message that tells the user what to do. Handlers throw `AppError`; the tx pipeline and the
 * query router turn it into a result code — no exception ever crosses the ABCI boundary.
 *
 * The `sdk` codespace reuses the Cosmos SDK's numbers (types/errors/errors.go) so Cosmos tooling reads them as usual.
 */
export class AppError extends Error {
  constructor(
    readonly codespace: string,
    readonly code: number,
    message: string,
    /** gRPC status code for query answers (5 = NotFound, 3 = InvalidArgument, …). */
    readonly grpcCode: number = 3,
  ) {
    super(message);
    this.name = 'AppError';
  }
}

/** A registered error kind: call it with a message to get an `AppError` to throw. */
export interface ErrorKind {
  readonly codespace: string;
  readonly code: number;
  readonly description: string;
  (message?: string): AppError;
  is(err: unknown): boolean;
}

const registry = new Map<string, ErrorKind>();

export function registerError(codespace: string, code: number, description: string, grpcCode = 3): ErrorKind {
  const id = `${codespace}:${code}`;
  if (registry.has(id)) throw new Error(`error ${id} registered twice`);
  if (code <= 1 && codespace !== 'sdk') throw new Error('codes 0 and 1 are reserved');
  const make = ((message?: string) =>
    new AppError(codespace, code, message ? `${message}: ${description}` : description, grpcCode)) as ErrorKind;
  Object.defineProperties(make, {
    codespace: { value: codespace },
    code: { value: code },
    description: { value: description },
    is: { value: (err: unknown) => err instanceof AppError && err.codespace === codespace && err.code === code },
  });
  registry.set(id, make);
  return make;
}

export const GRPC = { OK: 0, InvalidArgument: 3, NotFound: 5, AlreadyExists: 6, PermissionDenied: 7, ResourceExhausted: 8, FailedPrecondition: 9, Unimplemented: 12, Internal: 13 } as const;

export const ErrInternal = registerError('sdk', 1, 'internal error', GRPC.Internal);
export const ErrTxDecode = registerError('sdk', 2, 'tx parse error');
export const ErrInvalidSequence = registerError('sdk', 3, 'invalid sequence');
export const ErrUnauthorized = registerError('sdk', 4, 'unauthorized', GRPC.PermissionDenied);
export const ErrInsufficientFunds = registerError('sdk', 5, 'insufficient funds', GRPC.FailedPrecondition);
export const ErrUnknownRequest = registerError('sdk', 6, 'unknown request', GRPC.Unimplemented);
export const ErrInvalidAddress = registerError('sdk', 7, 'invalid address');
export const ErrInvalidPubKey = registerError('sdk', 8, 'invalid pubkey');
export const ErrUnknownAddress = registerError('sdk', 9, 'unknown address', GRPC.NotFound);
export const ErrInvalidCoins = registerError('sdk', 10, 'invalid coins');
export const ErrOutOfGas = registerError('sdk', 11, 'out of gas', GRPC.ResourceExhausted);
export const ErrMemoTooLarge = registerError('sdk', 12, 'memo too large');
export const ErrInsufficientFee = registerError('sdk', 13, 'insufficient fee');
export const ErrTooManySignatures = registerError('sdk', 14, 'maximum number of signatures exceeded');
export const ErrNoSignatures = registerError('sdk', 15, 'no signatures supplied');
export const ErrInvalidRequest = registerError('sdk', 18, 'invalid request');
export const ErrTxTooLarge = registerError('sdk', 21, 'tx too large');
export const ErrInvalidChainId = registerError('sdk', 28, 'invalid chain-id');
export const ErrTxTimeoutHeight = registerError('sdk', 30, 'tx timeout height');
export const ErrUnknownExtensionOptions = registerError('sdk', 31, 'unknown extension options');
export const ErrWrongSequence = registerError('sdk', 32, 'incorrect account sequence');
export const ErrNotFound = registerError('sdk', 38, 'not found', GRPC.NotFound);
export const ErrInvalidGasLimit = registerError('sdk', 41, 'invalid gas limit');

/** Converts anything thrown by a handler into an AppError; non-AppErrors are bugs and become code 1. */
export function toAppError(err: unknown): AppError {
  if (err instanceof AppError) return err;
  const msg = err instanceof Error ? err.message : String(err);
  return ErrInternal(msg);
}
