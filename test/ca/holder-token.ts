/**
 * What an order's holder token is once the order is done, checked from outside the adapter: the PIN the SMS unlock
 * revealed opens the order's PKCS#11 token, whose private key is sensitive and was never extractable, and the
 * certificate the CA issued carries the public key read from that token. The tokens row holds no private key.
 */
import { X509Certificate } from 'node:crypto';
import { desc, eq } from 'drizzle-orm';
import * as graphene from 'graphene-pk11';
import { expect, inject } from 'vitest';
import { p256SpkiFromEcPoint } from '../../activities/ca/token.js';
import type { Database } from '../../db/client.js';
import { certificates, tokens } from '../../db/schema.js';
import { findTokenSlot, pkcs11Module } from '../../lib/pkcs11/module.js';

export async function expectHolderToken(db: Database, orderId: string, pin: string): Promise<void> {
  const [row] = await db.select().from(tokens).where(eq(tokens.orderId, orderId)).orderBy(desc(tokens.createdAt)).limit(1);
  const [certificate] = await db.select().from(certificates).where(eq(certificates.orderId, orderId)).orderBy(desc(certificates.createdAt)).limit(1);
  if (row?.tokenLabel == null || certificate?.pem == null) throw new Error(`order ${orderId} has no token or no certificate`);
  expect(row.encryptedPrivateKey).toBeNull();

  // Same module path as the stack's worker (one initialised module per process): it made the token, so it sees it.
  const slot = findTokenSlot(pkcs11Module(inject('pkcs11ModulePath')), row.tokenLabel);
  if (slot === undefined) throw new Error(`no PKCS#11 token labelled ${row.tokenLabel}`);
  const session = slot.open(graphene.SessionFlag.SERIAL_SESSION);
  let onToken: { spki: Buffer; sensitive: unknown; neverExtractable: unknown; extractable: unknown };
  try {
    session.login(pin, graphene.UserType.USER);
    const privateKeys = session.find({ class: graphene.ObjectClass.PRIVATE_KEY });
    const publicKeys = session.find({ class: graphene.ObjectClass.PUBLIC_KEY });
    expect([privateKeys.length, publicKeys.length]).toEqual([1, 1]);
    const [privateKey, publicKey] = [privateKeys.items(0), publicKeys.items(0)];
    const { sensitive, neverExtractable, extractable } = privateKey.getAttribute({ sensitive: null, neverExtractable: null, extractable: null });
    onToken = { spki: p256SpkiFromEcPoint(publicKey.getAttribute({ pointEC: null }).pointEC as Buffer), sensitive, neverExtractable, extractable };
    session.logout();
  } finally {
    session.close();
  }
  expect({ sensitive: onToken.sensitive, neverExtractable: onToken.neverExtractable, extractable: onToken.extractable }).toEqual({
    sensitive: true,
    neverExtractable: true,
    extractable: false,
  });
  const certified = new X509Certificate(certificate.pem).publicKey.export({ type: 'spki', format: 'der' });
  expect(certified.toString('base64')).toBe(onToken.spki.toString('base64'));
  expect(row.publicKeySpki).toBe(onToken.spki.toString('base64'));
}
