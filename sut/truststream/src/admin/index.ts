/**
 * What the harness calls on the service's database (on its own connection): API tokens and the
 * reader's database role. The service itself never creates either.
 */
export { createToken, revokeToken, revokeAllTokens, TokenError, type CreatedToken } from './tokens.js';
export { createReaderRole, READER_ROLE, type ReaderRole } from './reader-role.js';
export { tokenHash } from '../domain/token-hash.js';
