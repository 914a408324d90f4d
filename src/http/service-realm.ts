/**
 * The realm for a service principal named without one ('HTTP/web.example.test'):
 * krb5.conf's default_realm, read once, as MIT's krb5_parse_name appends it.
 * The acceptor falls back to the keytab's only realm for that name (see
 * Krb5AcceptorOptions.defaultRealm in kerbside/gss).
 */

import { loadClientConfig } from '../client/index.js';

export interface ServiceRealmOptions {
  /** Use this realm; krb5.conf is not read. */
  readonly defaultRealm?: string;
  /** krb5.conf path(s); default KRB5_CONFIG, else /etc/krb5.conf (missing files are skipped, as MIT does). */
  readonly krb5Config?: string | readonly string[];
  /** Default process.env (for KRB5_CONFIG). */
  readonly env?: Readonly<Record<string, string | undefined>>;
}

/** A memoised lookup of the default realm; undefined when krb5.conf names none. */
export function serviceDefaultRealm(options: ServiceRealmOptions = {}): () => Promise<string | undefined> {
  if (options.defaultRealm !== undefined) {
    const realm = options.defaultRealm;
    return () => Promise.resolve(realm);
  }
  let pending: Promise<string | undefined> | undefined;
  return () => {
    pending ??= loadClientConfig(options.krb5Config, { env: options.env ?? process.env }).then(
      (c) => c.defaultRealm,
      (err: unknown) => {
        pending = undefined;
        throw err;
      },
    );
    return pending;
  };
}
