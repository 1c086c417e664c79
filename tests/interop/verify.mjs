// An independent verifier for Salus certificates: did-jwt-vc (did-jwt's EdDSA code, the
// DIF did-resolver and Ceramic's did:key resolver), plus the W3C Bitstring Status List
// v1.0 §3.2 validate algorithm written here with Node's own zlib. Nothing of Salus runs.
//
// stdin:  {"now": <unix seconds>,
//          "credentials": {"<name>": "<VC-JWT>", ...},
//          "status_lists": {"<statusListCredential URL>": "<VC-JWT>", ...}}
// stdout: {"credentials": {"<name>": {"verified", "error", "issuer", "subject", "type",
//                                     "status": [{"purpose", "index", "set", "error"}]}},
//          "status_lists": {"<url>": {"verified", "error", "issuer", "purpose", "height"}}}
import { gunzipSync } from 'node:zlib';
import { verifyCredential } from 'did-jwt-vc';
import { Resolver } from 'did-resolver';
import KeyResolver from 'key-did-resolver';

const resolver = new Resolver(KeyResolver.getResolver());

async function readStdin() {
  const chunks = [];
  for await (const chunk of process.stdin) chunks.push(chunk);
  return JSON.parse(Buffer.concat(chunks).toString('utf8'));
}

async function verify(jwt, now) {
  try {
    const result = await verifyCredential(jwt, resolver, { policies: { now } });
    return { verified: result.verified === true, error: null, vc: result.verifiableCredential, payload: result.payload };
  } catch (error) {
    return { verified: false, error: String(error && error.message ? error.message : error) };
  }
}

// BSL v1.0 §3.4: Multibase base64url ("u" prefix) of GZIP; §3.2 step 10: index 0 is the
// left-most bit.
function statusBit(list, entry) {
  const subject = list.credentialSubject;
  if (!list.type.includes('BitstringStatusListCredential')) throw new Error('not a BitstringStatusListCredential');
  if (list.id !== entry.statusListCredential) throw new Error('status list id differs from statusListCredential');
  if (subject.statusPurpose !== entry.statusPurpose) throw new Error('status purpose differs');
  if (!subject.encodedList.startsWith('u')) throw new Error('encodedList is not Multibase base64url');
  const bits = gunzipSync(Buffer.from(subject.encodedList.slice(1), 'base64url'));
  if (bits.length * 8 < 131072) throw new Error('STATUS_LIST_LENGTH_ERROR');
  const index = Number(entry.statusListIndex);
  if (!Number.isSafeInteger(index) || index < 0 || index >= bits.length * 8) throw new Error('RANGE_ERROR');
  return (bits[index >> 3] & (0x80 >> (index & 7))) !== 0;
}

const input = await readStdin();
const out = { credentials: {}, status_lists: {} };
const lists = {};
for (const [url, jwt] of Object.entries(input.status_lists || {})) {
  const result = await verify(jwt, input.now);
  lists[url] = result;
  const subject = result.vc ? result.vc.credentialSubject : {};
  out.status_lists[url] = {
    verified: result.verified,
    error: result.error,
    issuer: result.vc ? result.vc.issuer.id : null,
    purpose: subject.statusPurpose || null,
    height: result.payload ? result.payload.salus_height ?? null : null,
  };
}
for (const [name, jwt] of Object.entries(input.credentials || {})) {
  const result = await verify(jwt, input.now);
  const vc = result.vc;
  const status = [];
  if (vc && vc.credentialStatus) {
    const entries = Array.isArray(vc.credentialStatus) ? vc.credentialStatus : [vc.credentialStatus];
    for (const entry of entries) {
      const list = lists[entry.statusListCredential];
      let set = null;
      let error = null;
      if (!list) error = 'STATUS_RETRIEVAL_ERROR';
      else if (!list.verified) error = 'STATUS_VERIFICATION_ERROR: ' + list.error;
      else {
        try { set = statusBit(list.vc, entry); } catch (e) { error = String(e.message); }
      }
      status.push({ purpose: entry.statusPurpose, index: entry.statusListIndex, set, error });
    }
  }
  out.credentials[name] = {
    verified: result.verified,
    error: result.error,
    issuer: vc ? vc.issuer.id : null,
    subject: vc ? vc.credentialSubject.id ?? null : null,
    type: vc ? vc.type : null,
    status,
  };
}
process.stdout.write(JSON.stringify(out) + '\n');
