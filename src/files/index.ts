/**
 * kerbside/files: MIT-compatible keytabs (FILE format 0x0502; 0x0501 read),
 * credential caches (FILE format version 4; 3 read and written on request)
 * and krb5.conf / kdc.conf profiles. Codecs are pure (bytes in, bytes out);
 * the *-file functions do the I/O, replacing files atomically with mode 0600.
 */

export type { Principal } from './principal.js';
export { parsePrincipal, principalToString, principalEquals, NT_UNKNOWN, NT_PRINCIPAL, NT_SRV_INST } from './principal.js';

export type { KeytabEntry, KeytabMatch } from './keytab.js';
export {
  decodeKeytab, encodeKeytab, findKeytabEntries, removeKeytabEntries, defaultSalt,
  KEYTAB_VERSION_1, KEYTAB_VERSION_2,
} from './keytab.js';
export { keytabEntryFromKey, keytabEntriesFromPassword } from './keytab-keys.js';
export { readKeytab, writeKeytab, updateKeytab } from './keytab-file.js';

export type {
  CredentialCache, Credential, CcacheKey, CcacheAddress, CcacheAuthData, KdcTimeOffset, HeaderField,
} from './ccache.js';
export {
  decodeCcache, encodeCcache, newCcache, storeCredential, ticketsOf, isConfigEntry,
  getConfig, getConfigString, setConfig, listConfig, CcacheConfigKey,
  CCACHE_VERSION_3, CCACHE_VERSION_4, CONFIG_REALM, CONFIG_PREFIX,
} from './ccache.js';
export {
  readCcache, writeCcache, destroyCcache, ccacheFullName, listCcacheCollection, ccacheSupportsSwitch, switchCcache, newUniqueCcache, findCcacheFor,
} from './ccache-file.js';

export type { FileName, CcacheName, NameEnvironment } from './names.js';
export {
  parseCcacheName, parseKeytabName, SUPPORTED_CCACHE_TYPES, resolveCcacheName, resolveKeytabName, expandPathTokens,
  DEFAULT_CCACHE_NAME, DEFAULT_KEYTAB_NAME,
} from './names.js';

export type {
  ProfileEntry, ProfileFile, ProfileRelation, ProfileSection, ProfileReader, ProfileTree, ProfileInput, ProfileInputValue,
} from './profile.js';
export { Profile, parseProfile, loadProfile, formatProfile, isIncludableName, nodeProfileReader } from './profile.js';
export type { Libdefaults, RealmConfig, SimpleKrb5Conf } from './krb5-conf.js';
export {
  Krb5Config, loadKdcProfile, formatKrb5Conf, clientKrb5Conf, resolveEnctypeList, parseBoolean, parseInteger, splitList, DEFAULT_KRB5_CONFIG, searchHostRealm,
} from './krb5-conf.js';
export { parseDuration, formatDuration } from './deltat.js';

export type { FormatErrorReason } from './errors.js';
export {
  KeytabFormatError, CcacheFormatError, UnsupportedStorageTypeError, FileAccessError, ProfileSyntaxError, ProfileValueError,
} from './errors.js';

/** Whole-file reads and atomic replacement (temp file + rename, mode 0600 by default). */
export { readWholeFile, readFileIfExists, writeFileAtomic } from './fs.js';
export { statFile, sameStamp, type FileStamp } from './file-stamp.js';
