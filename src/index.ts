/**
 * kerbside: a Kerberos realm in pure TypeScript. The root entry re-exports the
 * foundation; each area also has its own subpath (`kerbside/crypto`, …).
 */
export * from './core/index.js';
