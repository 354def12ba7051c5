/**
 * The names of the CA hierarchy: three families, each a root and an issuing CA. Pure data, so the certificates'
 * extensions, the public URLs, the API's read-only view and the hierarchy that makes the CAs share one list.
 */
export const CA_FAMILIES = ['tls', 'persons', 'seals'] as const;
export type CaFamily = (typeof CA_FAMILIES)[number];
export const CA_IDS = ['tls-root', 'tls-issuing', 'persons-root', 'persons-issuing', 'seals-root', 'seals-issuing'] as const;
export type CaId = (typeof CA_IDS)[number];
export const isCaId = (id: string): id is CaId => (CA_IDS as readonly string[]).includes(id);
