/**
 * NTLM test vectors (data, hex). Sources:
 *
 * - [MS-NLMP] §4.2.1 (common values) and §4.2.4 (NTLMv2 authentication), as
 *   transcribed in gss-ntlmssp tests/ntlmssptest.c (gssapi/gss-ntlmssp,
 *   "Test Data as per para 4.2 of MS-NLMP": T_NTLMv2, T_RandomSessionKey,
 *   T_GSSWRAPEXv2) and in Chromium net/ntlm/ntlm_test_data.h
 *   (kChallengeMsgFromSpecV2, kExpectedNtlmHashV2, kExpectedProofFromSpecV2,
 *   kExpectedSessionBaseKeyFromSpecV2, kExpectedTempFromSpecV2).
 * - MIC and channel bindings: Chromium net/ntlm/ntlm_test_data.h
 *   (kExpectedNegotiateMsg, kExpectedAuthenticateMsgSpecResponseV2,
 *   kExpectedMicV2, kExpectedSessionBaseKeyWithClientTimestampV2,
 *   kExpectedProofSpecResponseWithClientTimestampV2, kClientTimestamp,
 *   kExpectedTargetInfoSpecResponseV2). [MS-NLMP] has no MIC example; these
 *   are Chromium's, computed from the §4.2.4 inputs.
 */

/** §4.2.1 common values. */
export const COMMON = Object.freeze({
  user: 'User',
  domain: 'Domain',
  password: 'Password',
  serverName: 'Server',
  workstation: 'COMPUTER',
  randomSessionKey: '55555555555555555555555555555555',
  time: 0n,
  clientChallenge: 'aaaaaaaaaaaaaaaa',
  serverChallenge: '0123456789abcdef',
});

/** §4.2.4 NTLMv2 authentication. */
export const V2 = Object.freeze({
  /** §4.2.4.1.1 NTOWFv2 (= LMOWFv2). */
  responseKeyNT: '0c868a403bfd7a93a3001ef22ef02e3f',
  /** §4.2.4.1.2 */
  sessionBaseKey: '8de40ccadbc14a82f15cb0ad0de95ca3',
  /** §4.2.4.1.3 temp (the blob after NTProofStr). */
  temp: '01010000000000000000000000000000' + 'aaaaaaaaaaaaaaaa' + '00000000'
    + '02000c0044006f006d00610069006e0001000c0053006500720076006500720000000000' + '00000000',
  /** The CHALLENGE's TargetInfo (MsvAvNbDomainName "Domain", MsvAvNbComputerName "Server", EOL). */
  targetInfo: '02000c0044006f006d00610069006e0001000c0053006500720076006500720000000000',
  /** §4.2.4.2.1 LMv2 response. */
  lmv2Response: '86c35097ac9cec102554764a57cccc19aaaaaaaaaaaaaaaa',
  /** §4.2.4.2.2 NTProofStr. */
  ntProofStr: '68cd0ab851e51c96aabc927bebef6a1c',
  /** §4.2.4.2.3 EncryptedRandomSessionKey = RC4K(KeyExchangeKey, RandomSessionKey). */
  encryptedSessionKey: 'c5dad2544fc9799094ce1ce90bc9d03e',
  /** §4.2.4.3 CHALLENGE_MESSAGE (flags 0xe28a8233). */
  challenge: '4e544c4d53535000020000000c000c003800000033828ae20123456789abcdef00000000000000002400240044000000060070170000000f53006500720076006500720002000c0044006f006d00610069006e0001000c0053006500720076006500720000000000',
  /** §4.2.4.3 AUTHENTICATE_MESSAGE (flags 0xe2888235, Version 5.1.2600, no MIC). */
  authenticate: '4e544c4d5353500003000000180018006c00000054005400840000000c000c00480000000800080054000000100010005c00000010001000d8000000358288e20501280a0000000f44006f006d00610069006e00550073006500720043004f004d005000550054004500520086c35097ac9cec102554764a57cccc19aaaaaaaaaaaaaaaa68cd0ab851e51c96aabc927bebef6a1c01010000000000000000000000000000aaaaaaaaaaaaaaaa0000000002000c0044006f006d00610069006e0001000c005300650072007600650072000000000000000000c5dad2544fc9799094ce1ce90bc9d03e',
  /** §4.2.4.4 GSS_WrapEx: keys from ExportedSessionKey 0x55…, "Plaintext" in UTF-16LE, sequence number 0. */
  clientSealKey: '59f600973cc4960a25480a7c196e4c58',
  clientSignKey: '4788dc861b4782f35d43fd98fe1a2d39',
  plaintext: '50006c00610069006e007400650078007400',
  sealed: '54e50165bf1936dc996020c1811b0f06fb5f',
  signature: '010000007fb38ec5c55d497600000000',
});

/** Chromium's MIC vector over its own NEGOTIATE, the §4.2.4.3 CHALLENGE and its AUTHENTICATE (MIC at 72). */
export const CHROMIUM = Object.freeze({
  negotiate: '4e544c4d53535000010000000782080000000000200000000000000020000000',
  authenticate: '4e544c4d535350000300000018001800580000008a008a00700000000c000c00fa0000000800080006010000100010000e0100000000000058000000038208000000000000000000f7361633f0ad9bdf4a7c421bc6b824a30000000000000000000000000000000000000000000000008c0260dbef690662af9c42d50782d2ed0101000000000000800bc8fd00d4d201aaaaaaaaaaaaaaaa0000000002000c0044006f006d00610069006e0001000c0053006500720076006500720006000400020000000a0010006586e99d81c2fc984e47172fd4dd03100900160048005400540050002f00530065007200760065007200000000000000000044006f006d00610069006e00550073006500720043004f004d0050005500540045005200',
  /** The client's TargetInfo: the server's pairs plus MsvAvFlags (MIC present), MsvAvChannelBindings, MsvAvTargetName "HTTP/Server". */
  targetInfo: '02000c0044006f006d00610069006e0001000c0053006500720076006500720006000400020000000a0010006586e99d81c2fc984e47172fd4dd03100900160048005400540050002f0053006500720076006500720000000000',
  /** Tue, 23 May 2017 20:13:07 UTC as FILETIME. */
  clientTimestamp: 131400439870000000n,
  ntProofStr: '8c0260dbef690662af9c42d50782d2ed',
  sessionBaseKey: '623dbd071be7a530b6a95c2eb4982470',
  mic: 'f7361633f0ad9bdf4a7c421bc6b824a3',
  channelBindingsHash: '6586e99d81c2fc984e47172fd4dd0310',
});
