/**
 * NTLM (MS-NLMP), sans-IO: message codecs, NTLMv2 cryptography, validators
 * and the GSS mechanism (NtlmInitiator, NtlmAcceptor, NtlmContext).
 * src/gss/index.ts exports the mechanism by name and all of this as `ntlm`.
 */

export * from './errors.js';
export * from './messages.js';
export * from './crypto.js';
export * from './validator.js';
export * from './context.js';
