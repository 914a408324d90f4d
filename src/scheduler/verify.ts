/**
 * Definition-time checks of a task's credential (docs/scheduler.md "Bad
 * input"): a keytab must hold keys for the run-as principal, and a stored
 * password must log on at the KDC — the way Windows checks the password
 * when a task is registered. Failures are InvalidTaskError with the cause.
 */

import { keytabKeys, type KerberosClient } from '../client/index.js';
import { KerbsideError } from '../core/errors.js';
import type { CredentialInput, CredentialVerifier } from './admin.js';
import { InvalidTaskError } from './errors.js';

export function kdcVerifier(clientFor: (krb5Config: string | undefined) => Promise<KerberosClient>): CredentialVerifier {
  return async (principal: string, credential: CredentialInput, krb5Config: string | undefined) => {
    if (credential.kind === 'session') return;
    const client = await clientFor(krb5Config);
    const who = client.principal(principal);
    try {
      if (credential.kind === 'keytab') await keytabKeys(credential.keytab, who);
      else await client.getInitialCredentials({ client: who, password: credential.password });
    } catch (err) {
      const what = credential.kind === 'keytab' ? `the keytab ${credential.keytab}` : 'the stored password';
      throw new InvalidTaskError(`${what} does not log ${principal} on: ${err instanceof KerbsideError ? err.message : String(err)}`, {
        hint: err instanceof KerbsideError && err.hint !== undefined
          ? `${err.hint} (to define the task anyway, e.g. while the KDC is down, use --no-verify)`
          : 'check the account name, the password or keytab, and that the KDC is reachable (--no-verify skips this check)',
        cause: err, detail: { principal },
      });
    }
  };
}
