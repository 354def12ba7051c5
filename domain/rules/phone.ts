/** E.164: a plus sign, a country code that does not start with 0, at most 15 digits in all. */
export const E164 = /^\+[1-9]\d{6,14}$/;
export const isE164 = (value: string): boolean => E164.test(value);
