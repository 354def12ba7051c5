/**
 * Signing keys that live on a PKCS#11 token and never leave it: generated there (C_GenerateKeyPair) as token objects,
 * private, sensitive and non-extractable, found again by label, and signed with through the token. A key's label
 * names it for CertFlow (the CA or responder it belongs to), its CKA_ID is the SHA-1 of its public key (what
 * pkcs11-tool and OpenSSL's engines match certificates to keys with).
 */
import { createHash } from 'node:crypto';
import { AsnConvert } from '@peculiar/asn1-schema';
import { SubjectPublicKeyInfo, AlgorithmIdentifier } from '@peculiar/asn1-x509';
import * as graphene from 'graphene-pk11';

/** ECDSA P-384: the named-curve OID secp384r1 (1.3.132.0.34), DER, as CKA_EC_PARAMS and the SPKI carry it. */
const P384_PARAMS = Buffer.from('06052b81040022', 'hex');
const ID_EC_PUBLIC_KEY = '1.2.840.10045.2.1';

/**
 * The private half of a signing key pair generated on a token: a token object that is private (login to use),
 * sensitive (its value never readable) and non-extractable (never wrapped out), with sign as its only use. The CA's
 * keys and the holders' (activities/ca/token.ts) are made with it.
 */
export const SIGNING_PRIVATE_KEY = { token: true, private: true, sensitive: true, extractable: false, sign: true, decrypt: false, derive: false, unwrap: false } as const;

export interface TokenKeyAttributes {
  readonly label: string;
  readonly id: string;
  readonly token: boolean;
  readonly private: boolean;
  readonly sensitive: boolean;
  readonly extractable: boolean;
  readonly alwaysSensitive: boolean;
  readonly neverExtractable: boolean;
  /** Generated on the token itself (CKA_LOCAL), not imported. */
  readonly local: boolean;
}

/** The private key carrying `label`, or undefined; two keys under one label are refused (which would sign?). */
export function findPrivateKey(session: graphene.Session, label: string): graphene.PrivateKey | undefined {
  const found = session.find({ class: graphene.ObjectClass.PRIVATE_KEY, label });
  if (found.length > 1) throw new Error(`the token holds ${found.length} private keys labelled "${label}"`);
  return found.length === 0 ? undefined : found.items(0).toType<graphene.PrivateKey>();
}

function findPublicKey(session: graphene.Session, label: string): graphene.PublicKey | undefined {
  const found = session.find({ class: graphene.ObjectClass.PUBLIC_KEY, label });
  return found.length === 0 ? undefined : found.items(0).toType<graphene.PublicKey>();
}

/**
 * Generates an ECDSA P-384 key pair on the token under `label` and returns its public key (SPKI DER). The private
 * half is a token object that is private (login to use), sensitive (its value never readable) and non-extractable
 * (never wrapped out), with sign as its only use. An existing label is refused: a key is never replaced.
 */
export function generateSigningKey(session: graphene.Session, label: string): Buffer {
  if (findPrivateKey(session, label) !== undefined) throw new Error(`the token already holds a key labelled "${label}"`);
  const common = { keyType: graphene.KeyType.EC, token: true, label };
  const pair = session.generateKeyPair(
    graphene.KeyGenMechanism.EC,
    { ...common, class: graphene.ObjectClass.PUBLIC_KEY, private: false, verify: true, paramsEC: P384_PARAMS },
    { ...common, class: graphene.ObjectClass.PRIVATE_KEY, ...SIGNING_PRIVATE_KEY },
  );
  const spki = publicKeyInfo(pair.publicKey);
  // CKA_ID: the key identifier tools match certificates with, set once the public key is known.
  const id = createHash('sha1').update(ecPoint(pair.publicKey)).digest();
  pair.publicKey.setAttribute({ id });
  pair.privateKey.setAttribute({ id });
  return spki;
}

/** The public key of the pair labelled `label`, SPKI DER. */
export function publicKeyOf(session: graphene.Session, label: string): Buffer {
  const key = findPublicKey(session, label);
  if (key === undefined) throw new Error(`the token holds no public key labelled "${label}"`);
  return publicKeyInfo(key);
}

/** The private key's attributes as the token reports them. */
export function keyAttributes(session: graphene.Session, label: string): TokenKeyAttributes {
  const key = findPrivateKey(session, label);
  if (key === undefined) throw new Error(`the token holds no private key labelled "${label}"`);
  const a = key.getAttribute({
    label: null,
    id: null,
    token: null,
    private: null,
    sensitive: null,
    extractable: null,
    alwaysSensitive: null,
    neverExtractable: null,
    local: null,
  }) as Record<string, unknown>;
  return {
    label: String(a.label),
    id: (a.id as Buffer).toString('hex'),
    token: a.token === true,
    private: a.private === true,
    sensitive: a.sensitive === true,
    extractable: a.extractable === true,
    alwaysSensitive: a.alwaysSensitive === true,
    neverExtractable: a.neverExtractable === true,
    local: a.local === true,
  };
}

/** Labels of the private keys on the token. */
export function privateKeyLabels(session: graphene.Session): string[] {
  const found = session.find({ class: graphene.ObjectClass.PRIVATE_KEY });
  return Array.from({ length: found.length }, (_, i) => String(found.items(i).getAttribute({ label: null }).label));
}

/** The EC point (uncompressed, 04‖X‖Y) out of CKA_EC_POINT, which PKCS#11 wraps in a DER OCTET STRING. */
function ecPoint(key: graphene.PublicKey): Buffer {
  const raw = key.getAttribute('pointEC') as Buffer;
  // OCTET STRING: 0x04, then a one-byte length (97 bytes for P-384).
  if (raw.length > 2 && raw.readUInt8(0) === 0x04 && raw.readUInt8(1) === raw.length - 2) return raw.subarray(2);
  return raw;
}

function publicKeyInfo(key: graphene.PublicKey): Buffer {
  const params = key.getAttribute('paramsECDSA') as Buffer;
  if (!params.equals(P384_PARAMS)) throw new Error(`token key ${String(key.getAttribute({ label: null }).label)} is not on P-384`);
  const point = ecPoint(key);
  const spki = new SubjectPublicKeyInfo({
    algorithm: new AlgorithmIdentifier({ algorithm: ID_EC_PUBLIC_KEY, parameters: new Uint8Array(P384_PARAMS).buffer }),
    subjectPublicKey: new Uint8Array(point).buffer,
  });
  return Buffer.from(AsnConvert.serialize(spki));
}
