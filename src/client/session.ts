/**
 * Logon sessions (docs/architecture.md "One idea"; docs/lessons.md "Long-running jobs"): one
 * principal's TGT and service tickets, each a held credential (lifecycle/)
 * with the session's credential source:
 *
 * - password or keytab/keys: renew while renew-till covers the next period,
 *   re-acquire from the source otherwise — unattended;
 * - an external cache (someone else's kinit): renew only; once renewal cannot
 *   extend it, `credential.cannot_refresh_unattended` is emitted before the
 *   TGT expires and callers then get `CannotRefreshUnattendedError`.
 *
 * Service tickets are refreshed the same way, lazily (when asked for). A
 * file-backed session writes its own cache atomically after every refresh
 * (with the KDC time offset in the header and X-CACHECONF refresh_time and
 * pa_type entries) and never writes a cache that belongs to another principal
 * or the external cache it borrows from. Keytabs are re-read at each
 * acquisition, so a rotated key is picked up.
 */

import {
  parseCcacheName, principalEquals, readCcache, ticketsOf, writeCcache, type Credential, type CredentialCache, type Principal,
} from '../files/index.js';
import type { EventSink } from '../events/index.js';
import {
  HeldCredential, type CredentialHorizon, type CredentialSource, type HeldCredentialStatus, type LifecycleEvent,
  type RefreshPolicyInput,
} from '../lifecycle/index.js';
import type { ClientKey, InitialCredential } from './as-exchange.js';
import { buildCache, cachedPaType, offsetFromHeader, readCcacheIfExists } from './cache.js';
import { PaType } from '../messages/index.js';
import { CacheInUseError, KeytabKeyMissingError, NoCredentialsError, PasswordIncorrectError } from './errors.js';
import { keytabKeys, type KerberosClient } from './kerberos-client.js';
import { loadAnchors, openX509Identity, parseX509Identity, requireAnchors } from './pkinit-identity.js';
import { pkinitAnchorsFor } from './config.js';
import { isTgsPrincipal, showPrincipal, tgsPrincipal } from './names.js';

export type SessionSource =
  | { readonly kind: 'password'; readonly password: string }
  /** A keytab name, re-read at every acquisition. */
  | { readonly kind: 'keytab'; readonly keytab: string }
  | { readonly kind: 'keys'; readonly keys: readonly ClientKey[] }
  /** Someone else's cache: its TGT is renewed, never re-acquired. It is read, never written. */
  | { readonly kind: 'ccache'; readonly ccache: string }
  /** A TGT a client delegated (GSS delegation, RFC 4121 §4.1.1): renewed while it can be, never re-acquired. */
  | { readonly kind: 'delegated'; readonly credential: Credential }
  /**
   * A smart card or certificate (PKINIT, docs/pkinit.md): `identity` in MIT's
   * X509_user_identity syntax (PKCS11:module_name=…:slotid=…, FILE:cert,key).
   * The PIN is asked for once, at logon, through `readPin`, used for that
   * logon and never kept: the TGT is renewed without the card until
   * renew-till, and re-acquiring it needs a person
   * (credential.cannot_refresh_unattended, "needs a smart-card PIN").
   */
  | {
    readonly kind: 'smartcard';
    readonly identity: string;
    readonly readPin: (prompt: string) => Promise<string>;
    /** Trust anchors for the KDC certificate (default: krb5.conf pkinit_anchors). */
    readonly anchors?: readonly Uint8Array[];
  };

export interface LogonSessionOptions {
  readonly client: KerberosClient;
  /** Required unless the source is a cache (then its default principal). */
  readonly principal?: Principal | string;
  readonly source: SessionSource;
  /** This session's own cache (FILE:…): written after each refresh; reused at open when it holds this principal's TGT. */
  readonly ccache?: string;
  /** TGT refresh policy (proactive). */
  readonly policy?: RefreshPolicyInput;
  /** Service ticket policy (lazy unless told otherwise). */
  readonly servicePolicy?: RefreshPolicyInput;
  /** Requested lifetimes, ms (default: from the client configuration). */
  readonly lifetime?: number;
  readonly renewLifetime?: number;
  readonly sink?: EventSink;
  readonly onEvent?: (event: LifecycleEvent) => void;
}

export interface LogonSessionStatus {
  readonly principal: string;
  readonly source: string;
  readonly ccache?: string;
  readonly tgt: HeldCredentialStatus;
  readonly services: readonly HeldCredentialStatus[];
}

export class LogonSession {
  readonly principal: Principal;
  readonly ccache: string | undefined;
  readonly #client: KerberosClient;
  readonly #options: LogonSessionOptions;
  readonly #tgt: HeldCredential<Credential>;
  readonly #services = new Map<string, HeldCredential<Credential>>();
  #paType = 0;
  #writes: Promise<void> = Promise.resolve();
  #closed = false;

  private constructor(options: LogonSessionOptions, principal: Principal, initial: Credential | undefined, source: CredentialSource<Credential>) {
    this.#client = options.client;
    this.#options = options;
    this.principal = principal;
    this.ccache = options.ccache;
    this.#tgt = new HeldCredential<Credential>({
      name: `TGT for ${showPrincipal(principal)}`,
      source,
      horizon: (c) => this.#horizon(c),
      clock: options.client.clock,
      random: options.client.random,
      ...(options.policy !== undefined ? { policy: options.policy } : {}),
      ...this.#eventOptions(),
      ...(initial !== undefined ? { initial } : {}),
      onUpdate: () => this.#persist(),
    });
  }

  /**
   * Opens a session. With a cache source, the cache's TGT is loaded (and its
   * KDC time offset adopted); with a file-backed session whose own cache
   * already holds a usable TGT of this principal, that TGT is reused.
   * Nothing is requested from the KDC until the first `tgt()`.
   */
  static async open(options: LogonSessionOptions): Promise<LogonSession> {
    const client = options.client;
    const src = options.source;
    if (src.kind === 'delegated') {
      const tgt = src.credential;
      if (!isTgsPrincipal(tgt.server)) {
        throw new NoCredentialsError(`the credential delegated by ${showPrincipal(tgt.client)} is a ticket for ${showPrincipal(tgt.server)}, not a TGT`, {
          hint: 'the client must forward its TGT (for example curl --delegation always, with a forwardable TGT from kinit -f)',
        });
      }
      return new LogonSession(options, tgt.client, tgt, {
        description: `credentials delegated by ${showPrincipal(tgt.client)}`,
        unattended: false,
        renew: (current) => client.renew(current),
      });
    }
    if (src.kind === 'ccache') {
      const borrowed = await readCcache(src.ccache);
      const principal = options.principal === undefined ? borrowed.defaultPrincipal : client.principal(options.principal);
      if (options.ccache !== undefined && samePath(options.ccache, src.ccache)) {
        throw new CacheInUseError(`the session for ${showPrincipal(principal)} would write into the cache it borrows from (${src.ccache})`, {
          hint: 'give the session its own cache, or none',
          detail: { ccache: src.ccache },
        });
      }
      const tgt = findTgt(borrowed, principal);
      if (tgt === undefined) {
        throw new NoCredentialsError(`the cache ${src.ccache} holds no TGT for ${showPrincipal(principal)}`, {
          hint: `run kinit ${showPrincipal(principal)} first`, detail: { ccache: src.ccache },
        });
      }
      adoptOffset(client, borrowed);
      // docs/lessons.md "Refresher": a PKINIT TGT cannot be re-acquired without the card's PIN; say so in every message.
      const pkinit = cachedPaType(borrowed) === PaType.PA_PK_AS_REQ;
      const session = new LogonSession(options, principal, tgt, {
        description: `external cache ${src.ccache}${pkinit ? ' (obtained with a smart card: re-acquisition needs a smart-card PIN)' : ''}`,
        unattended: false,
        renew: (current) => client.renew(current),
      });
      return session;
    }
    if (options.principal === undefined) throw new NoCredentialsError('a logon session needs a principal');
    const principal = client.principal(options.principal);
    if (src.kind === 'smartcard') {
      // The interactive logon happens now, with the PIN; afterwards only renewal (no card, no PIN).
      const opened = await openX509Identity(parseX509Identity(src.identity), { readPin: src.readPin, clock: client.clock });
      let r: InitialCredential;
      try {
        const anchors = src.anchors ?? await loadAnchors(pkinitAnchorsFor(client.config, principal.realm));
        requireAnchors(anchors, principal.realm);
        r = await client.getInitialCredentials({
          client: principal, certificate: { signer: opened.signer, chain: opened.chain, anchors, description: opened.description },
          ...(options.lifetime !== undefined ? { lifetime: options.lifetime } : {}),
          ...(options.renewLifetime !== undefined ? { renewLifetime: options.renewLifetime } : {}),
        });
      } finally {
        await opened.close();
      }
      const session = new LogonSession(options, principal, r.credential, {
        description: `smart card ${opened.description} (re-acquisition needs a smart-card PIN)`,
        unattended: false,
        renew: (current) => client.renew(current),
      });
      session.#paType = r.paType;
      await session.#persist();
      return session;
    }
    let initial: Credential | undefined;
    let paType = 0;
    if (options.ccache !== undefined) {
      const own = await readCcacheIfExists(options.ccache);
      if (own !== undefined) {
        if (!principalEquals(own.defaultPrincipal, principal)) {
          throw cacheOfOther(options.ccache, principal, own.defaultPrincipal);
        }
        adoptOffset(client, own);
        const tgt = findTgt(own, principal);
        if (tgt !== undefined && tgt.endtime.getTime() - client.timeOffset > client.clock.now()) {
          initial = tgt;
          paType = cachedPaType(own) ?? 0;
        }
      }
    }
    // Keytab keys are loaded now and reloaded when the KDC no longer accepts them (key rotation).
    let keys = src.kind === 'keytab' ? await keytabKeys(src.keytab, principal) : src.kind === 'keys' ? src.keys : undefined;
    const initialCredentials = (): Promise<InitialCredential> => client.getInitialCredentials({
      client: principal,
      ...(src.kind === 'password' ? { password: src.password } : { keys: keys!, keysFrom: describeSource(src) }),
      ...(options.lifetime !== undefined ? { lifetime: options.lifetime } : {}),
      ...(options.renewLifetime !== undefined ? { renewLifetime: options.renewLifetime } : {}),
    });
    const session: LogonSession = new LogonSession(options, principal, initial, {
      description: describeSource(src),
      unattended: true,
      acquire: async () => {
        let r: InitialCredential;
        try {
          r = await initialCredentials();
        } catch (err) {
          if (src.kind !== 'keytab' || !(err instanceof PasswordIncorrectError || err instanceof KeytabKeyMissingError)) throw err;
          keys = await keytabKeys(src.keytab, principal);
          r = await initialCredentials();
        }
        session.#paType = r.paType;
        return r.credential;
      },
      renew: (current) => client.renew(current),
    });
    session.#paType = paType;
    return session;
  }

  /** A usable TGT (refreshed first when due, or when it has less than `minRemaining` ms left). */
  tgt(options: { readonly minRemaining?: number } = {}): Promise<Credential> {
    return this.#tgt.get(options);
  }

  /** A usable ticket for `service` ("HTTP/host" or "HTTP/host@REALM"), fetched or refreshed lazily. */
  async serviceTicket(service: Principal | string, options: { readonly minRemaining?: number } = {}): Promise<Credential> {
    const server = this.#client.principal(service);
    if (isTgsPrincipal(server) && server.components[1] === this.principal.realm && server.realm === this.principal.realm) return this.tgt(options);
    const name = showPrincipal(server);
    let held = this.#services.get(name);
    if (held === undefined) {
      held = new HeldCredential<Credential>({
        name: `${name} for ${showPrincipal(this.principal)}`,
        source: {
          description: `TGS with the TGT of ${showPrincipal(this.principal)}`,
          // It can act whenever the TGT can; a TGT that cannot be refreshed fails with its own cause.
          unattended: true,
          acquire: async () => this.#client.getServiceTicket(await this.tgt(), server),
        },
        horizon: (c) => this.#horizon(c),
        clock: this.#client.clock,
        random: this.#client.random,
        policy: { proactive: false, ...this.#options.servicePolicy },
        ...this.#eventOptions(),
        onUpdate: () => this.#persist(),
      });
      this.#services.set(name, held);
    }
    // A service ticket ends no later than the TGT it comes from: make the TGT last first.
    if (options.minRemaining !== undefined) await this.tgt(options);
    return held.get(options);
  }

  /** The configuration of the session's client (realms and their KDCs), e.g. to tell whether Kerberos applies to a host. */
  get clientConfig(): KerberosClient['config'] {
    return this.#client.config;
  }

  status(): LogonSessionStatus {
    return {
      principal: showPrincipal(this.principal),
      source: this.#tgt.source.description,
      ...(this.ccache !== undefined ? { ccache: this.ccache } : {}),
      tgt: this.#tgt.status(),
      services: [...this.#services.values()].map((s) => s.status()),
    };
  }

  /** Stops refreshing; waits for a cache write under way. The cache file stays. */
  async close(): Promise<void> {
    this.#closed = true;
    this.#tgt.close();
    for (const s of this.#services.values()) s.close();
    await this.#writes;
  }

  /** Local-clock horizon of a ticket whose times are the KDC's. */
  #horizon(c: Credential): CredentialHorizon {
    const offset = this.#client.timeOffset;
    return {
      startTime: (c.starttime ?? c.authtime).getTime() - offset,
      endTime: c.endtime.getTime() - offset,
      ...(c.renewTill !== undefined ? { renewTill: c.renewTill.getTime() - offset } : {}),
    };
  }

  #eventOptions(): { sink?: EventSink; onEvent?: (e: LifecycleEvent) => void } {
    return {
      ...(this.#options.sink !== undefined ? { sink: this.#options.sink } : {}),
      ...(this.#options.onEvent !== undefined ? { onEvent: this.#options.onEvent } : {}),
    };
  }

  /** Writes the session's cache (serialised: one write at a time, each replacing the file atomically). */
  #persist(): Promise<void> {
    const name = this.ccache;
    if (name === undefined || this.#closed) return Promise.resolve();
    const write = this.#writes.then(async () => {
      const existing = await readCcacheIfExists(name);
      if (existing !== undefined && !principalEquals(existing.defaultPrincipal, this.principal)) {
        throw cacheOfOther(name, this.principal, existing.defaultPrincipal);
      }
      await writeCcache(name, this.#snapshot());
    });
    // A failed write must not block later ones; the failure reaches the refresher as update_failed.
    this.#writes = write.catch(() => {});
    return write;
  }

  #snapshot(): CredentialCache {
    const credentials: Credential[] = [];
    for (const held of [this.#tgt, ...this.#services.values()]) {
      const c = held.peek();
      if (c !== undefined) credentials.push(c);
    }
    const next = this.#tgt.status().nextAttemptAt;
    return buildCache({
      principal: this.principal,
      offset: this.#client.timeOffset,
      credentials,
      paType: this.#paType,
      ...(next !== undefined ? { refreshTime: next } : {}),
    });
  }
}

function describeSource(src: SessionSource): string {
  switch (src.kind) {
    case 'password': return 'password';
    case 'keytab': return `keytab ${src.keytab}`;
    case 'keys': return 'stored keys';
    case 'ccache': return `external cache ${src.ccache}`;
    case 'delegated': return `credentials delegated by ${showPrincipal(src.credential.client)}`;
    case 'smartcard': return `smart card ${src.identity}`;
  }
}

function findTgt(cache: CredentialCache, principal: Principal): Credential | undefined {
  const want = tgsPrincipal(principal.realm);
  return ticketsOf(cache).find((c) => principalEquals(c.client, principal) && principalEquals(c.server, want));
}

function adoptOffset(client: KerberosClient, cache: CredentialCache): void {
  if (cache.kdcTimeOffset !== undefined && client.timeOffset === 0) client.timeOffset = offsetFromHeader(cache);
}

function samePath(a: string, b: string): boolean {
  return JSON.stringify(parseCcacheName(a)) === JSON.stringify(parseCcacheName(b));
}

function cacheOfOther(name: string, principal: Principal, holder: Principal): CacheInUseError {
  return new CacheInUseError(`the cache ${name} holds credentials of ${showPrincipal(holder)}, not of ${showPrincipal(principal)}; the session will not overwrite it`, {
    hint: 'give each session (and each job) its own cache',
    detail: { ccache: name, holder: showPrincipal(holder), principal: showPrincipal(principal) },
  });
}
