#!/usr/bin/python3
"""gss-ntlmssp driven through python3-gssapi for src/testing/gss-ntlmssp.ts.

Usage: gss-ntlmssp.py initiate ntlm|spnego USER SERVICE [BINDINGS-HEX]
       gss-ntlmssp.py accept ntlm|spnego [BINDINGS-HEX]
  BINDINGS-HEX: channel-binding application data (e.g. tls-server-end-point:...).
  The credentials file is named by NTLM_USER_FILE (lines DOMAIN:user:password),
  which gss-ntlmssp reads on both sides.

Protocol on stdin/stdout, one line each, hex payloads:
  out:  token HEX      a context token to pass to the peer
        complete NAME  the context is established (NAME: the peer's name as GSS sees it)
  in:   token HEX      the peer's token
  then per-message calls, each answered by one line:
        mic HEX -> mic HEX ; verify MSG TOK -> ok ; wrap HEX -> wrapped HEX ; unwrap HEX -> plain HEX
  any failure: "error TEXT" and exit status 1.
"""

import sys

import gssapi
import gssapi.raw as raw

NTLM = gssapi.OID.from_int_seq('1.3.6.1.4.1.311.2.2.10')
SPNEGO = gssapi.OID.from_int_seq('1.3.6.1.5.5.2')


def say(*parts):
    sys.stdout.write(' '.join(parts) + '\n')
    sys.stdout.flush()


def read():
    line = sys.stdin.readline()
    if line == '':
        sys.exit(0)
    return line.split()


def establish(ctx):
    while not ctx.complete:
        token = ctx.step(bytes.fromhex(read()[1]))
        if token:
            say('token', token.hex())


def main():
    role, which = sys.argv[1], sys.argv[2]
    mech = NTLM if which == 'ntlm' else SPNEGO
    flags = [gssapi.RequirementFlag.integrity, gssapi.RequirementFlag.confidentiality,
             gssapi.RequirementFlag.replay_detection, gssapi.RequirementFlag.out_of_sequence_detection]
    cb_hex = sys.argv[5] if role == 'initiate' and len(sys.argv) > 5 else sys.argv[3] if role == 'accept' and len(sys.argv) > 3 else ''
    cb = raw.ChannelBindings(application_data=bytes.fromhex(cb_hex)) if cb_hex else None
    if role == 'initiate':
        user, service = sys.argv[3], sys.argv[4]
        name = gssapi.Name(user, gssapi.NameType.user)
        cred = gssapi.Credentials(name=name, usage='initiate', mechs=[mech])
        if which == 'spnego':
            # Offer only NTLM inside SPNEGO (there is no Kerberos ticket here anyway).
            raw.set_neg_mechs(cred, [NTLM])
        target = gssapi.Name(service, gssapi.NameType.hostbased_service)
        ctx = gssapi.SecurityContext(name=target, creds=cred, mech=mech, usage='initiate', flags=flags, channel_bindings=cb)
        say('token', ctx.step().hex())
        establish(ctx)
        say('complete', str(ctx.target_name))
    else:
        cred = gssapi.Credentials(usage='accept', mechs=[mech])
        if which == 'spnego':
            raw.set_neg_mechs(cred, [NTLM])
        ctx = gssapi.SecurityContext(creds=cred, usage='accept', channel_bindings=cb)
        establish(ctx)
        say('complete', str(ctx.initiator_name))
    while True:
        words = read()
        if words[0] == 'mic':
            say('mic', ctx.get_signature(bytes.fromhex(words[1])).hex())
        elif words[0] == 'verify':
            ctx.verify_signature(bytes.fromhex(words[1]), bytes.fromhex(words[2]))
            say('ok')
        elif words[0] == 'wrap':
            say('wrapped', ctx.wrap(bytes.fromhex(words[1]), True).message.hex())
        elif words[0] == 'unwrap':
            say('plain', ctx.unwrap(bytes.fromhex(words[1])).message.hex())
        else:
            raise ValueError('unknown command ' + words[0])


try:
    main()
except Exception as e:  # noqa: BLE001 - reported to the TypeScript side
    say('error', type(e).__name__, str(e).replace('\n', ' '))
    sys.exit(1)
