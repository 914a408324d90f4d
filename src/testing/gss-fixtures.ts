/**
 * Test fixtures for gss/ (not used by production code): service keys as
 * keytab entries and service tickets minted directly with them, so the
 * mechanism can be tested without a KDC. Tickets are built exactly as a KDC
 * builds them (RFC 4120 §5.3: EncTicketPart encrypted with the service key,
 * key usage 2).
 */

import type { RandomSource } from '../core/random.js';
import { encrypt, generateKey, KeyUsage } from '../crypto/index.js';
import { parsePrincipal, type Credential, type KeytabEntry, type Principal } from '../files/index.js';
import { EncTicketPart, NameType, Ticket, TicketFlags } from '../messages/index.js';

export const REALM = 'EXAMPLE.TEST';
export const SERVICE = 'HTTP/web.example.test@EXAMPLE.TEST';
export const CLIENT = 'alice@EXAMPLE.TEST';

/** A random service key as a keytab entry. */
export function serviceKey(random: RandomSource, options: { principal?: string; kvno?: number; enctype?: number } = {}): KeytabEntry {
  const enctype = options.enctype ?? 18;
  const key = generateKey(enctype, random, { allowWeak: true });
  return {
    principal: { ...parsePrincipal(options.principal ?? SERVICE), nameType: NameType.NT_SRV_INST },
    timestamp: new Date(Date.UTC(2026, 0, 1)),
    kvno: options.kvno ?? 1,
    enctype,
    key: key.keyvalue,
  };
}

export interface MintOptions {
  readonly service: KeytabEntry;
  /** The ticket's server name when it differs from the key's principal (aliases, wrong-SPN tests). */
  readonly server?: string;
  readonly client?: string;
  /** Clock time of issue (ms). */
  readonly now: number;
  readonly lifetimeMs?: number;
  readonly sessionEnctype?: number;
  /** Put no kvno in the ticket's enc-part. */
  readonly noKvno?: boolean;
  readonly flags?: number;
  readonly random: RandomSource;
}

/** A service ticket for `service`, as a ccache credential (what the initiator takes). */
export function mintTicket(o: MintOptions): Credential {
  const client = parsePrincipal(o.client ?? CLIENT);
  const server: Principal = o.server === undefined ? o.service.principal : { ...parsePrincipal(o.server), nameType: NameType.NT_SRV_INST };
  const session = generateKey(o.sessionEnctype ?? 18, o.random, { allowWeak: true });
  const authtime = new Date(o.now - (o.now % 1000));
  const endtime = new Date(authtime.getTime() + (o.lifetimeMs ?? 10 * 3600_000));
  const flags = o.flags ?? (TicketFlags.forwardable | TicketFlags.preAuthent | TicketFlags.initial) >>> 0;
  const enc = EncTicketPart.encode({
    flags,
    key: { keytype: session.enctype, keyvalue: session.keyvalue },
    crealm: client.realm,
    cname: { nameType: client.nameType, nameString: [...client.components] },
    transited: { trType: 1, contents: new Uint8Array(0) },
    authtime,
    endtime,
  });
  const ticket = Ticket.encode({
    tktVno: 5,
    realm: server.realm,
    sname: { nameType: server.nameType, nameString: [...server.components] },
    encPart: {
      etype: o.service.enctype,
      ...(o.noKvno === true ? {} : { kvno: o.service.kvno }),
      cipher: encrypt({ enctype: o.service.enctype, keyvalue: o.service.key }, KeyUsage.KDC_REP_TICKET, enc, o.random),
    },
  });
  return {
    client, server, key: session, authtime, endtime, isSkey: false, ticketFlags: flags,
    addresses: [], authdata: [], ticket, secondTicket: new Uint8Array(0),
  };
}
