/** Certificate serial numbers (BR §7.1: at least 64 bits of CSPRNG output, positive, unique per issuer). */
import { randomBytes } from 'node:crypto';

export const SERIAL_BYTES = 16;

/**
 * 16 random bytes with the top bit cleared (a DER INTEGER that is positive without a leading zero) and the next bit
 * set, so the serial is always exactly 16 bytes (32 hex digits): its first byte is never zero, its DER is minimal
 * and the hex we store is the one X.509 parsers print. That leaves 126 random bits.
 */
export function randomSerial(): string {
  const bytes = randomBytes(SERIAL_BYTES);
  bytes.writeUInt8((bytes.readUInt8(0) & 0x7f) | 0x40, 0);
  return bytes.toString('hex');
}
