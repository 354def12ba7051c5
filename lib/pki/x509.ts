/**
 * @peculiar/x509, set up once for the whole CA. Its dependency injection (tsyringe) needs a Reflect polyfill loaded
 * before it, and it signs through whatever WebCrypto it is given: Node's own, so keys never leave the process.
 * Every file of the CA imports x509 from here, never from the package, so the order of these imports holds.
 */
import 'reflect-metadata';
import { webcrypto } from 'node:crypto';
import * as x509 from '@peculiar/x509';

x509.cryptoProvider.set(webcrypto);

export { x509 };
export const subtle = webcrypto.subtle;
export type CryptoKey = webcrypto.CryptoKey;

export const toBase64 = (data: ArrayBuffer | Uint8Array): string => Buffer.from(data instanceof ArrayBuffer ? new Uint8Array(data) : data).toString('base64');
