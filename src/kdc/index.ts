/**
 * kerbside/kdc: the KDC — AS and TGS exchanges (RFC 4120 §3.1, §3.3) behind
 * one sans-IO request processor, pre-authentication as a registry, realm
 * policy, the lookaside cache, UDP/TCP transports, realm administration
 * helpers and a throwaway test realm.
 */

export { createKdc, type Kdc, type KdcConfig } from './processor.js';
export { serveKdc, TRANSPORT_DEFAULTS, type ServeOptions, type ListenAddress, type BoundAddress, type KdcServer, type KdcServerStats } from './serve.js';
export { addressGroup, type KdcPeer, type KdcRequestHandler, type KdcTransportKind, type TransportLimitKind } from './transport.js';
export {
  resolveRealmPolicy, DEFAULT_REALM_POLICY, DEFAULT_PERMITTED_ENCTYPES,
  type RealmPolicy, type RealmPolicyInput, type LockoutPolicy, type KdcLockoutPolicy, type LookasidePolicy,
} from './config.js';
export { LockoutGate, lockoutSource, type LockoutScope, type LockoutEvents, type LockoutAssessment } from './lockout.js';
export { KdcRequestError, KeyUnwrapError, KeyRecordMismatchError, type KdcRequestErrorOptions } from './errors.js';
export {
  preauthRegistry, DEFAULT_PREAUTH, etypeInfo2Mechanism, encryptedTimestampMechanism,
  type PreauthMechanism, type PreauthRegistry, type PreauthOutcome, type AsPreauthContext,
} from './preauth.js';
export {
  plainKeysForTests, masterKeyProtector, isLegacyWrappedKey, sealLegacyForTests, saltOf, SaltType,
  type KeyProtector, type KeyRecord, type MasterKeyProtectorOptions,
} from './keys.js';
export { LookasideCache, type LookasideStats } from './lookaside.js';
export type { PrincipalLookup } from './exchange.js';
export {
  KERBEROS_INFINITY, ticketEndtime, ticketRenewTill, renewedEndtime, chooseReplyKey, chooseSessionEnctype,
  chooseTicketKey, isPermittedEnctype, type EndtimeInput, type RenewTillInput,
} from './policy.js';
export {
  realmAdmin, createRealm,
  type RealmAdmin, type RealmAdminOptions, type AddPrincipalOptions, type RekeyOptions, type KeytabOptions,
  type KeyOptions, type PrincipalSettings,
} from './admin.js';
export {
  DEFAULT_PASSWORD_QUALITY, PasswordQualityError, characterClasses, checkPasswordQualityPolicy,
  type PasswordQualityPolicy, type PasswordRule,
} from './password-quality.js';
export { startTestRealm, type TestRealm, type TestRealmOptions, type TestRealmPrincipal } from './test-realm.js';
export { pkinitMechanism, type PkinitKdcOptions } from './pkinit.js';
