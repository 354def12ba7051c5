/** The client's file name, kept as metadata only: no path, no control character, bounded. */
import { describe, expect, it } from 'vitest';
import { sanitizeFileName } from '../../api/multipart.js';

describe('sanitizeFileName', () => {
  it.each([
    ['../../etc/passwd', 'passwd'],
    ['/etc/passwd', 'passwd'],
    ['C:\\Users\\me\\Documents\\kbis.pdf', 'kbis.pdf'],
    ['..\\..\\boot.ini', 'boot.ini'],
    ['dir/sub/', null],
    ['..', null],
    ['.', null],
    ['', null],
    ['   ', null],
    ['a\u0000b\u0007c\u001b[31m.pdf', 'abc[31m.pdf'],
    ['line\r\nbreak.png', 'linebreak.png'],
    ['del\u007f\u0085.jpg', 'del.jpg'],
    // A right-to-left override would display this as "invoiceexe.pdf".
    ['invoice\u202Efdp.exe', 'invoicefdp.exe'],
    ['pièce d’identité.pdf', 'pièce d’identité.pdf'],
    ['../\u0000../etc/passwd', 'passwd'],
  ])('%j → %j', (input, expected) => {
    expect(sanitizeFileName(input)).toBe(expected);
  });

  it('keeps no name when there is none', () => {
    expect(sanitizeFileName(undefined)).toBeNull();
    expect(sanitizeFileName(null)).toBeNull();
  });

  it('keeps at most 255 characters, never splitting a character in two', () => {
    expect(sanitizeFileName(`${'a'.repeat(300)}.pdf`)).toBe('a'.repeat(255));
    const emoji = sanitizeFileName('😀'.repeat(300));
    expect(Array.from(emoji ?? '')).toHaveLength(255);
    expect(emoji).toBe('😀'.repeat(255));
  });
});
