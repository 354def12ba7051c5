/**
 * External account binding (RFC 8555 §7.3.4): newAccount's payload carries a JWS, MAC'd with the EAB key's HMAC key,
 * whose protected header names the key (`kid`) and the newAccount URL and whose payload is the account's own public
 * key. The key must be CertFlow's, not revoked, and its organisation still validated by the RA (an approved review
 * of an OV order within the reuse period of BR §4.2.1); every refusal naming a key of ours goes into the audit trail.
 */
import { flattenedVerify } from 'jose';
import { findEabKey, openEabKey, organisationValidated, recordEabRefusal, type AcmeEabKeyRow } from '../../db/acme.js';
import type { Database } from '../../db/client.js';
import { isAcmeProduct } from '../../domain/acme.js';
import { isPublicJwk, parseJws, thumbprintOf } from './jws.js';
import { AcmeProblem } from './problem.js';

const MAC_ALGORITHMS = ['HS256', 'HS384', 'HS512'];

export async function verifyExternalAccountBinding(
  db: Database,
  sealKey: Buffer,
  binding: unknown,
  expected: { readonly url: string; readonly thumbprint: string },
  now = new Date(),
): Promise<AcmeEabKeyRow> {
  if (binding === undefined) {
    throw new AcmeProblem(400, 'externalAccountRequired', 'This server requires an external account binding: ask your organisation admin for an EAB key.');
  }
  const { jws, header } = parseJws(binding, 'externalAccountBinding');
  if (!MAC_ALGORITHMS.includes(header.alg)) throw AcmeProblem.malformed(`externalAccountBinding must be MAC'd (${MAC_ALGORITHMS.join(', ')}), not ${header.alg}.`);
  if (header.nonce !== undefined) throw AcmeProblem.malformed('externalAccountBinding must not carry a nonce.');
  if (typeof header.kid !== 'string' || header.kid === '') throw AcmeProblem.malformed('externalAccountBinding has no kid.');
  const kid = header.kid;
  const refuse = async (reason: string, detail: string): Promise<never> => {
    await recordEabRefusal(db, kid, reason);
    throw AcmeProblem.unauthorized(detail);
  };
  if (header.url !== expected.url) throw AcmeProblem.unauthorized(`externalAccountBinding's url must be ${expected.url}.`);
  const row = await findEabKey(db, kid);
  // An unknown kid is no key of ours: nothing to record against an organisation.
  if (row === undefined) throw AcmeProblem.unauthorized('The external account binding is not valid.');
  let payload: Uint8Array;
  try {
    payload = (await flattenedVerify(jws, openEabKey(sealKey, row), { algorithms: [header.alg] })).payload;
  } catch {
    return refuse('bad-mac', 'The external account binding is not valid.');
  }
  if (row.revokedAt !== null) return refuse('revoked', 'The external account binding key has been revoked.');
  let boundKey: unknown;
  try {
    boundKey = JSON.parse(Buffer.from(payload).toString('utf8'));
  } catch {
    boundKey = undefined;
  }
  if (!isPublicJwk(boundKey) || (await thumbprintOf(boundKey)) !== expected.thumbprint) {
    return refuse('other-key', "externalAccountBinding's payload must be the account's own public key (the outer JWS's jwk).");
  }
  if (!isAcmeProduct(row.product)) return refuse('product', `The key's product ${row.product} is not sold over ACME.`);
  if (!(await organisationValidated(db, row.organisationId, now))) {
    return refuse('organisation-not-validated', "The RA's validation of your organisation is missing or too old to be reused: order once through the customer area.");
  }
  return row;
}
