#!/usr/bin/python3
"""MIT GSS-API peer for kerbside's interop tests (python3-gssapi, Debian).

Reads one JSON request per line on stdin, writes one JSON reply per line on
stdout. Tokens and messages are base64. The environment (KRB5_CONFIG,
KRB5CCNAME, KRB5_KTNAME) selects the realm, the initiator's ccache and the
acceptor's keytab.

  {"op": "init", "mech": "krb5"|"spnego", "target": "HTTP/host@REALM",
   "flags": ["mutual", ...], "cb": b64?}          -> {"token", "complete"}
  {"op": "accept", "cb": b64?}                     -> {}
  {"op": "step", "token": b64}                     -> {"token", "complete"}
  {"op": "info"}                                   -> {"initiator", "target", "flags", "mech", "delegated"}
  {"op": "wrap", "msg": b64, "conf": bool}         -> {"token", "encrypted"}
  {"op": "unwrap", "token": b64}                   -> {"msg", "encrypted"}
  {"op": "mic", "msg": b64}                        -> {"token"}
  {"op": "verify", "msg": b64, "token": b64}       -> {"ok": true}
Errors: {"error": text, "maj": n, "min": n}.
"""
import base64
import json
import sys

import gssapi
from gssapi.raw import ChannelBindings

MECHS = {
    'krb5': gssapi.OID.from_int_seq('1.2.840.113554.1.2.2'),
    'spnego': gssapi.OID.from_int_seq('1.3.6.1.5.5.2'),
}
FLAGS = {
    'deleg': gssapi.RequirementFlag.delegate_to_peer,
    'mutual': gssapi.RequirementFlag.mutual_authentication,
    'replay': gssapi.RequirementFlag.replay_detection,
    'sequence': gssapi.RequirementFlag.out_of_sequence_detection,
    'conf': gssapi.RequirementFlag.confidentiality,
    'integ': gssapi.RequirementFlag.integrity,
}


def dec(value):
    return base64.b64decode(value) if value else None


def enc(value):
    return None if value is None else base64.b64encode(value).decode()


def bindings(req):
    data = dec(req.get('cb'))
    return None if data is None else ChannelBindings(application_data=data)


def main():
    ctx = None
    for line in sys.stdin:
        req = json.loads(line)
        op = req['op']
        try:
            if op == 'init':
                name = gssapi.Name(req['target'], gssapi.NameType.kerberos_principal)
                ctx = gssapi.SecurityContext(
                    name=name, mech=MECHS[req['mech']], usage='initiate',
                    flags=[FLAGS[f] for f in req.get('flags', [])], channel_bindings=bindings(req))
                out = ctx.step()
                res = {'token': enc(out), 'complete': ctx.complete}
            elif op == 'accept':
                ctx = gssapi.SecurityContext(usage='accept', channel_bindings=bindings(req))
                res = {}
            elif op == 'step':
                out = ctx.step(dec(req['token']))
                res = {'token': enc(out), 'complete': ctx.complete}
            elif op == 'info':
                deleg = ctx.delegated_creds if ctx.usage == 'accept' else None
                res = {
                    'initiator': str(ctx.initiator_name), 'target': str(ctx.target_name),
                    'flags': int(ctx.actual_flags), 'mech': str(ctx.mech),
                    'delegated': None if deleg is None else str(deleg.name),
                }
            elif op == 'wrap':
                w = ctx.wrap(dec(req['msg']) or b'', req['conf'])
                res = {'token': enc(w.message), 'encrypted': w.encrypted}
            elif op == 'unwrap':
                u = ctx.unwrap(dec(req['token']))
                res = {'msg': enc(u.message), 'encrypted': u.encrypted}
            elif op == 'mic':
                res = {'token': enc(ctx.get_signature(dec(req['msg']) or b''))}
            elif op == 'verify':
                ctx.verify_signature(dec(req['msg']) or b'', dec(req['token']))
                res = {'ok': True}
            else:
                res = {'error': 'unknown op ' + op}
        except gssapi.exceptions.GSSError as ex:
            res = {'error': str(ex), 'maj': ex.maj_code, 'min': ex.min_code}
        except Exception as ex:  # report, keep serving
            res = {'error': repr(ex)}
        sys.stdout.write(json.dumps(res) + '\n')
        sys.stdout.flush()


if __name__ == '__main__':
    main()
