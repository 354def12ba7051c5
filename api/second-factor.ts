/**
 * The cryptography of the staff second factor (issue 16 item 6): TOTP (RFC 6238: HMAC-SHA-1, 6 digits, 30-second
 * steps, one step of clock drift either way) through otpauth; the enrolment's otpauth:// URI and its QR code (an SVG
 * data URL, drawn by qrcode on the server: the page's CSP allows data: images); recovery codes. The secret is sealed
 * (AES-256-GCM under `derive('second-factor')`, the user id as purpose) before it reaches the database; recovery
 * codes are kept as an HMAC-SHA-256 under `derive('second-factor-recovery')` (60 random bits each, and typing them is
 * rate-limited, so a slow hash would add nothing).
 */
import { createHmac, randomInt } from 'node:crypto';
import { Secret, TOTP } from 'otpauth';
import QRCode from 'qrcode';
import { seal, unseal } from '../config/secrets.js';

const ISSUER = 'CertFlow';
const DIGITS = 6;
const PERIOD = 30;
/** Codes of the step before and after are accepted too (a phone's clock a little off). */
const WINDOW = 1;
export const RECOVERY_CODE_COUNT = 10;
/** Crockford-like: no 0/O, 1/I/L, so that a code copied from paper reads back. */
const RECOVERY_ALPHABET = 'ABCDEFGHJKMNPQRSTUVWXYZ23456789';
const RECOVERY_LENGTH = 12;

export interface SecondFactorKeys {
  /** `secrets.derive('second-factor')`: seals the TOTP secrets. */
  readonly seal: Buffer;
  /** `secrets.derive('second-factor-recovery')`: the HMAC of the recovery codes. */
  readonly recovery: Buffer;
}

export const secondFactorKeys = (derive: (purpose: string) => Buffer): SecondFactorKeys => ({
  seal: derive('second-factor'),
  recovery: derive('second-factor-recovery'),
});

const purposeOf = (userId: string): string => `second-factor:${userId}`;

const totpOf = (secretBase32: string, label: string): TOTP =>
  new TOTP({ issuer: ISSUER, label, algorithm: 'SHA1', digits: DIGITS, period: PERIOD, secret: Secret.fromBase32(secretBase32) });

export interface Enrolment {
  /** Base32, for typing into an app by hand. */
  readonly secret: string;
  readonly otpauthUri: string;
  /** `data:image/svg+xml;base64,…` of the URI's QR code. */
  readonly qrCode: string;
  readonly sealedSecret: string;
}

/** A new 160-bit secret (RFC 4226's recommended length) for `userId`, labelled with the account's address. */
export async function newEnrolment(keys: SecondFactorKeys, userId: string, label: string): Promise<Enrolment> {
  const secret = new Secret({ size: 20 }).base32;
  const otpauthUri = totpOf(secret, label).toString();
  const svg = await QRCode.toString(otpauthUri, { type: 'svg', errorCorrectionLevel: 'M', margin: 2 });
  return {
    secret,
    otpauthUri,
    qrCode: `data:image/svg+xml;base64,${Buffer.from(svg).toString('base64')}`,
    sealedSecret: seal(keys.seal, secret, purposeOf(userId)),
  };
}

/** A 6-digit code as typed (spaces allowed): the digits, or undefined when it cannot be a TOTP code. */
export function totpCodeOf(typed: string): string | undefined {
  const digits = typed.replace(/\s/g, '');
  return /^\d{6}$/.test(digits) ? digits : undefined;
}

/** The time step `code` belongs to when it is right at `now` (within the window), else undefined. */
export function checkTotp(keys: SecondFactorKeys, userId: string, sealedSecret: string, code: string, now: number = Date.now()): number | undefined {
  const secret = unseal(keys.seal, sealedSecret, purposeOf(userId)).toString('utf8');
  const totp = totpOf(secret, userId);
  const delta = totp.validate({ token: code, timestamp: now, window: WINDOW });
  return delta === null ? undefined : totp.counter({ timestamp: now }) + delta;
}

/** Fresh recovery codes as shown (XXXX-XXXX-XXXX), once. */
export function newRecoveryCodes(): string[] {
  return Array.from({ length: RECOVERY_CODE_COUNT }, () => {
    const chars = Array.from({ length: RECOVERY_LENGTH }, () => RECOVERY_ALPHABET[randomInt(RECOVERY_ALPHABET.length)]).join('');
    return `${chars.slice(0, 4)}-${chars.slice(4, 8)}-${chars.slice(8)}`;
  });
}

/** The stored form of a recovery code: case, spaces and dashes do not matter; bound to its account. */
export function recoveryCodeHash(keys: SecondFactorKeys, userId: string, typed: string): string {
  const normalised = typed.toUpperCase().replace(/[\s-]/g, '');
  return createHmac('sha256', keys.recovery).update(`${userId}:${normalised}`).digest('base64url');
}
