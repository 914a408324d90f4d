/**
 * NTLM (MS-NLMP) sans-IO core: message codecs and NTLMv2 cryptography.
 * Internal to gss until the SPNEGO wiring lands (issue 11); not exported from
 * src/gss/index.ts.
 */

export * from './errors.js';
export * from './messages.js';
export * from './crypto.js';
export * from './validator.js';
export * from './context.js';
