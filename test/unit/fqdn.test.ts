import { describe, expect, it } from 'vitest';
import { checkDnsName, type NameRule } from '../../domain/rules/fqdn.js';

const label63 = 'a'.repeat(63);
/** 4 × 63 + 4 dots + "com": 259 characters of valid labels. */
const longName = `${label63}.${label63}.${label63}.${label63}.com`;
/** 3 × 63 + 3 dots + 57 + ".com" = 253 characters exactly. */
const longestName = `${label63}.${label63}.${label63}.${'b'.repeat(57)}.com`;

describe('checkDnsName accepts', () => {
  it.each([
    ['www.example.com', false, 'www.example.com'],
    ['Example.COM', false, 'example.com'],
    ['a.b.c.example.fr', false, 'a.b.c.example.fr'],
    ['shop.example.co.uk', false, 'shop.example.co.uk'],
    ['my-host1.example.org', false, 'my-host1.example.org'],
    ['xn--bcher-kva.example.com', false, 'xn--bcher-kva.example.com'],
    ['www.xn--mnchen-3ya.de', false, 'www.xn--mnchen-3ya.de'],
    ['123.example.com', false, '123.example.com'],
    [`${label63}.example.com`, false, `${label63}.example.com`],
    [longestName, false, longestName],
    // A private-section suffix is its operator's domain; a name below it is a subscriber's.
    ['github.io', false, 'github.io'],
    ['project.github.io', false, 'project.github.io'],
    ['*.example.com', true, '*.example.com'],
    ['*.Shop.Example.co.uk', true, '*.shop.example.co.uk'],
    ['*.project.github.io', true, '*.project.github.io'],
  ] as const)('%s (wildcards allowed: %s)', (name, wildcardAllowed, expected) => {
    expect(checkDnsName(name, { wildcardAllowed })).toEqual({ ok: true, name: expected });
  });
});

describe('checkDnsName refuses', () => {
  it.each<[string, boolean, NameRule]>([
    ['', true, 'name-empty'],
    [longName, true, 'name-too-long'],
    [`${longestName}x`, true, 'name-too-long'],
    ['www.example.com.', true, 'name-trailing-dot'],
    ['*.example.com.', true, 'name-trailing-dot'],
    ['192.0.2.10', true, 'name-ip-address'],
    ['2001:db8::1', true, 'name-ip-address'],
    ['[2001:db8::1]', true, 'name-ip-address'],
    ['::ffff:192.0.2.1', true, 'name-ip-address'],
    ['a..example.com', true, 'name-invalid'],
    ['.example.com', true, 'name-invalid'],
    ['-www.example.com', true, 'name-invalid'],
    ['www-.example.com', true, 'name-invalid'],
    ['under_score.example.com', true, 'name-invalid'],
    ['www.exam ple.com', true, 'name-invalid'],
    ['bücher.example.com', true, 'name-invalid'],
    [`${label63}a.example.com`, true, 'name-invalid'],
    ['ab--cd.example.com', true, 'name-invalid'],
    ['localhost', true, 'name-not-fqdn'],
    ['example', true, 'name-not-fqdn'],
    ['*', true, 'name-not-fqdn'],
    ['server.local', true, 'name-internal'],
    ['intranet.corp', true, 'name-internal'],
    ['host.lan', true, 'name-internal'],
    ['mail.internal', true, 'name-internal'],
    ['*.corp', true, 'name-internal'],
    ['printer.home.arpa', true, 'name-internal'],
    ['abcdefghijklmnop.onion', true, 'name-internal'],
    ['co.uk', true, 'name-public-suffix'],
    ['gouv.fr', true, 'name-public-suffix'],
    ['*.example.com', false, 'wildcard-not-allowed'],
    ['*.com', false, 'wildcard-not-allowed'],
    ['a.*.example.com', true, 'wildcard-not-leftmost'],
    ['a.*.example.com', false, 'wildcard-not-leftmost'],
    ['w*.example.com', true, 'wildcard-not-leftmost'],
    ['*.*.example.com', true, 'wildcard-not-leftmost'],
    ['www.example.*', true, 'wildcard-not-leftmost'],
    ['*.com', true, 'wildcard-on-public-suffix'],
    ['*.co.uk', true, 'wildcard-on-public-suffix'],
    ['*.github.io', true, 'wildcard-on-public-suffix'],
  ])('%s (wildcards allowed: %s): %s', (name, wildcardAllowed, rule) => {
    const result = checkDnsName(name, { wildcardAllowed });
    expect(result).toMatchObject({ ok: false, rule });
    if (!result.ok) expect(result.message.length).toBeGreaterThan(10);
  });

  it('says which name and what to do', () => {
    expect(checkDnsName('www.example.com.', { wildcardAllowed: false })).toEqual({
      ok: false,
      rule: 'name-trailing-dot',
      message: 'www.example.com.: remove the trailing dot (write the name without the DNS root)',
    });
  });
});
